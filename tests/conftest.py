"""The project's own test configuration: behaviour coverage of the documented vendor
behaviours (``contracts/behaviours.yaml``), and the
``--schemathesis-long`` switch of tests/contract/test_schemathesis.py.

``pytest --behaviour-coverage`` prints, for every ID in ``contracts/behaviours.yaml``, the
tests that name it (``@pytest.mark.behaviour("TR-18")``), and fails when an ID has none or a
test names an ID that does not exist. A full run (no selection) checks the same and fails on
a gap.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
import yaml
from trackmock.core.paths import contracts_dir

_REPORT_KEY = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--behaviour-coverage",
        action="store_true",
        help="print which tests cover each behaviour ID; fail when one has none",
    )
    parser.addoption(
        "--schemathesis-long",
        action="store_true",
        help="run tests/contract/test_schemathesis.py long (more examples; docs/conformance.md)",
    )


def behaviour_ids() -> list[str]:
    data = yaml.safe_load((contracts_dir() / "behaviours.yaml").read_text())
    return [row["id"] for row in data["behaviours"]]


def coverage(items: list[pytest.Item]) -> dict[str, list[str]]:
    covered: dict[str, list[str]] = defaultdict(list)
    for item in items:
        for marker in item.iter_markers("behaviour"):
            for behaviour in marker.args:
                name = item.nodeid.split("[")[0]
                if name not in covered[behaviour]:
                    covered[behaviour].append(name)
    return covered


def _problems(covered: dict[str, list[str]]) -> list[str]:
    known = behaviour_ids()
    problems = [f"{bid}: no test covers it" for bid in known if not covered.get(bid)]
    problems += [
        f"{bid}: named by a test but not in behaviours.yaml" for bid in covered if bid not in known
    ]
    return problems


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    full_run = not config.args or config.args == [str(config.rootpath / "tests")]
    selected = config.getoption("-k") or config.getoption("-m")
    if not config.getoption("--behaviour-coverage") and not (full_run and not selected):
        return
    covered = coverage(items)
    lines = []
    for bid in behaviour_ids():
        tests = covered.get(bid, [])
        lines.append(f"{bid:<7} {len(tests):>3}  {', '.join(tests) or '-- NONE --'}")
    config.stash[_REPORT_KEY] = lines + _problems(covered)
    if config.getoption("--behaviour-coverage"):
        problems = _problems(covered)
        known = len(behaviour_ids())
        uncovered = sum(1 for problem in problems if "no test" in problem)
        header = f"behaviour coverage: {known - uncovered}/{known} IDs covered"
        print("\n" + header + "\n" + "\n".join(lines))
        if problems:
            raise pytest.UsageError("behaviour coverage has gaps:\n" + "\n".join(problems))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report = session.config.stash.get(_REPORT_KEY, None)
    if report is None or session.config.getoption("--behaviour-coverage"):
        return
    gaps = [line for line in report if ": no test covers it" in line or "not in behaviours" in line]
    if gaps:
        print("\nbehaviour coverage gaps:\n" + "\n".join(gaps))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
