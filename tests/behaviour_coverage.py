"""Behaviour coverage of the documented vendor behaviours (a pytest plugin of our own tests).

``pytest --behaviour-coverage`` prints, for every ID in ``contracts/behaviours.yaml``, the
tests that name it (``@pytest.mark.behaviour("TR-18")``), and fails the run when an ID has none
or a test names an ID that does not exist. A full run (no selection) checks the same and fails
on a gap. When only part of the suite runs (``pytest tests/tracker --behaviour-coverage``), the
report covers the vendors whose IDs the selected tests name, not every vendor.

Under pytest-xdist each worker collects the whole selection and hands its report to the
controller, which prints it and fails the run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import pytest
import yaml
from trackmock.core.paths import contracts_dir

OPTION = "--behaviour-coverage"
_KEY = pytest.StashKey["Report"]()
_OUTPUT_KEY = "behaviour_coverage"
"""The key of a pytest-xdist worker's report in its ``workeroutput``."""


def behaviours() -> dict[str, str]:
    """Every documented behaviour ID and its vendor, in the file's order."""
    data = yaml.safe_load((contracts_dir() / "behaviours.yaml").read_text())
    return {row["id"]: row["vendor"] for row in data["behaviours"]}


def coverage(items: list[pytest.Item]) -> dict[str, list[str]]:
    """Behaviour ID -> the tests (without parameters) that name it."""
    covered: dict[str, list[str]] = defaultdict(list)
    for item in items:
        for marker in item.iter_markers("behaviour"):
            for behaviour in marker.args:
                name = item.nodeid.split("[")[0]
                if name not in covered[behaviour]:
                    covered[behaviour].append(name)
    return covered


@dataclass
class Report:
    """What the coverage check found for one selection of tests."""

    header: str
    lines: list[str]
    problems: list[str]


def build_report(covered: dict[str, list[str]], known: dict[str, str], *, whole: bool) -> Report:
    """The report of ``covered`` against the ``known`` IDs: all of them for the ``whole``
    suite, else those of the vendors the selected tests name."""
    if whole:
        vendors = sorted(set(known.values()))
    else:
        vendors = sorted({known[bid] for bid in covered if bid in known})
    in_scope = [bid for bid, vendor in known.items() if vendor in vendors]
    lines = []
    for bid in in_scope:
        tests = covered.get(bid, [])
        lines.append(f"{bid:<7} {len(tests):>3}  {', '.join(tests) or '-- NONE --'}")
    problems = [f"{bid}: no test covers it" for bid in in_scope if not covered.get(bid)]
    problems += [
        f"{bid}: named by a test but not in behaviours.yaml" for bid in covered if bid not in known
    ]
    uncovered = sum(1 for bid in in_scope if not covered.get(bid))
    scope = "" if whole else f" ({', '.join(vendors) or 'no vendor'}: the selected tests' vendors)"
    header = f"behaviour coverage{scope}: {len(in_scope) - uncovered}/{len(in_scope)} IDs covered"
    return Report(header, lines, problems)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        action="store_true",
        help="print which tests cover each behaviour ID; fail when one has none",
    )


def _whole_suite(config: pytest.Config) -> bool:
    everything = not config.args or config.args == [str(config.rootpath / "tests")]
    return everything and not (config.getoption("-k") or config.getoption("-m"))


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    whole = _whole_suite(config)
    if config.getoption(OPTION) or whole:
        config.stash[_KEY] = build_report(coverage(items), behaviours(), whole=whole)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the pytest-xdist controller: every worker collects the same tests; keep one report."""
    report = getattr(node, "workeroutput", {}).get(_OUTPUT_KEY)
    if report is not None:
        node.config.stash[_KEY] = Report(**report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report = session.config.stash.get(_KEY, None)
    if report is None:
        return
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_OUTPUT_KEY] = asdict(report)
    if report.problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(_KEY, None)
    if report is None:
        return
    if config.getoption(OPTION):
        terminalreporter.write_line(report.header)
        for line in report.lines:
            terminalreporter.write_line(line)
    if report.problems:
        terminalreporter.write_line("behaviour coverage gaps:", red=True)
        for problem in report.problems:
            terminalreporter.write_line(f"  {problem}", red=True)
