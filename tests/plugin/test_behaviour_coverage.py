"""The project's behaviour-coverage check (``tests/behaviour_coverage.py``): per vendor when
part of the suite runs, and judged on the controller under pytest-xdist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.behaviour_coverage import behaviours, build_report

from .project import run_pytest, write

ROOT = Path(__file__).resolve().parents[2]


def test_a_subset_reports_only_the_vendors_its_tests_name() -> None:
    known = {"TR-01": "tracker", "TR-02": "tracker", "TO-01": "trackops", "SF-01": "track"}
    report = build_report({"TR-01": ["tests/tracker/test_a.py::test_a"]}, known, whole=False)
    assert (
        report.header
        == "behaviour coverage (tracker: the selected tests' vendors): 1/2 IDs covered"
    )
    assert [line.split()[0] for line in report.lines] == ["TR-01", "TR-02"]
    assert report.problems == ["TR-02: no test covers it"]


def test_the_whole_suite_reports_every_vendor_and_unknown_ids() -> None:
    known = {"TR-01": "tracker", "TO-01": "trackops"}
    report = build_report({"TR-01": ["t"], "XX-09": ["u"]}, known, whole=True)
    assert report.header == "behaviour coverage: 1/2 IDs covered"
    assert report.problems == [
        "TO-01: no test covers it",
        "XX-09: named by a test but not in behaviours.yaml",
    ]


def test_pytest_tests_tracker_reports_tracker_ids_only() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/tracker", "--behaviour-coverage", "--collect-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    tracker_ids = [bid for bid, vendor in behaviours().items() if vendor == "tracker"]
    assert f"(tracker: the selected tests' vendors): {len(tracker_ids)}/" in run.stdout
    listed = [
        line.split()[0] for line in run.stdout.splitlines() if line[:3] in ("TR-", "TO-", "SF-")
    ]
    assert listed == tracker_ids


GAPS = {
    "test_named.py": """
        import pytest

        @pytest.mark.behaviour("TR-01")
        def test_one():
            pass

        @pytest.mark.behaviour("XX-99")
        def test_unknown():
            pass
    """
}


def test_under_xdist_the_controller_prints_the_report_and_fails_on_a_gap(tmp_path: Path) -> None:
    write(tmp_path, GAPS)
    plugin = ["-p", "tests.behaviour_coverage", "--behaviour-coverage"]
    env = {"PYTHONPATH": str(ROOT)}
    for workers in ([], ["-n", "2"]):
        run = run_pytest(tmp_path, *plugin, *workers, env=env)
        assert run.returncode == 1, run.stdout
        assert "behaviour coverage (tracker: the selected tests' vendors): 1/" in run.stdout
        assert re.search(r"^TR-01 +1  test_named.py::test_one$", run.stdout, re.MULTILINE)
        assert "XX-99: named by a test but not in behaviours.yaml" in run.stdout
        assert "2 passed" in run.stdout
