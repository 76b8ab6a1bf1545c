"""``trackmock check`` and ``trackmock diff`` on the command line: formats, exit codes, help,
and the v100 worked example of docs/drift.md."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from trackmock.cli import main

from .support import example_entries, run_cli, write_har

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drift"
CAPTURES = FIXTURES / "captures"


@pytest.mark.parametrize("capture", ["tracker-v99-getByNumber.har", "tracker-v99-getByNumber.txt"])
def test_a_pre_v100_capture_is_breaking_drift_against_todays_contract(capture: str) -> None:
    code, out, _ = run_cli("check", "--vendor", "tracker", "--format", "json", CAPTURES / capture)
    assert code == 1
    (operation,) = json.loads(out)["operations"]
    found = {(f["kind"], f["path"], f["breaking"]) for f in operation["findings"]}
    assert operation["operation"] == "getCaseByNumber"
    assert found == {
        ("missing-required-field", "caseOfficerIds", True),
        ("undocumented-field", "caseOfficerId", False),
    }


def test_the_same_capture_matches_the_v99_contract_and_v100_breaks_it() -> None:
    capture = CAPTURES / "tracker-v99-getByNumber.har"
    v99 = FIXTURES / "tracker-v99"
    assert run_cli("check", "--vendor", "tracker", "--contracts", v99, capture)[0] == 0
    code, out, _ = run_cli("diff", v99, FIXTURES / "tracker-v100")
    assert code == 1
    assert "BREAKING  field-renamed: response 200: caseOfficerId: renamed to caseOfficerIds" in out


def test_the_text_report_groups_findings_per_operation(tmp_path: Path) -> None:
    capture = CAPTURES / "tracker-v99-getByNumber.har"
    code, out, _ = run_cli("check", "--vendor", "tracker", capture, capture)
    assert code == 1
    assert "getCaseByNumber  GET /api/cases/getByNumber  (2 seen)" in out
    assert "BREAKING  missing-required-field: caseOfficerIds: a required field is missing" in out
    assert "(2x, tracker-v99-getByNumber.har entry 1, tracker-v99-getByNumber.har entry 1)" in out
    assert "the contract renamed it caseOfficerIds (x-renamed-from)" in out
    assert out.rstrip().splitlines()[-1].startswith("Result: breaking drift (1 breaking, 1 info")


def test_junit_has_a_failed_case_per_drifting_operation(tmp_path: Path) -> None:
    report = tmp_path / "drift.xml"
    clean = write_har(tmp_path / "clean.har", example_entries("tracker"))
    code, out, _ = run_cli(
        "check", "--vendor", "tracker", "--format", "junit", "--output", report,
        CAPTURES / "tracker-v99-getByNumber.har", clean,
    )  # fmt: skip
    assert (code, out) == (1, "")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == ["getCaseByNumber GET /api/cases/getByNumber"]
    assert int(suite.get("tests", "0")) > 1
    assert "caseOfficerIds" in (failed[0].find("failure").text or "")  # type: ignore[union-attr]


def test_no_drift_exits_0_and_unusable_input_exits_2_without_a_report(tmp_path: Path) -> None:
    clean = write_har(tmp_path / "clean.har", example_entries("track"))
    code, out, _ = run_cli("check", "--vendor", "track", clean)
    assert code == 0
    assert "Result: no breaking drift" in out
    broken = tmp_path / "broken.har"
    broken.write_text("{")
    report = tmp_path / "report.json"
    code, out, err = run_cli("check", "--vendor", "track", "--output", report, clean, broken)
    assert (code, out) == (2, "")
    assert "broken.har: not valid JSON" in err
    assert not report.exists()
    named = tmp_path / "getCaseByNumbr.json"
    named.write_text("{}")
    code, _, err = run_cli("check", "--vendor", "tracker", named)
    assert code == 2
    assert "did you mean getCaseByNumber" in err
    assert run_cli("diff", tmp_path / "nothing", FIXTURES / "tracker-v100")[0] == 2


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("check", ["--vendor", "--contracts", "--format", "--output", "FILE", "Exit status"]),
        ("diff", ["OLD", "NEW", "--format", "--output", "Exit status"]),
    ],
)
def test_help_explains_every_option(
    command: str, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    for option in options:
        assert option in text
