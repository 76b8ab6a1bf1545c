"""``trackmock probe`` against the default emulators: no drift, only reads, each vendor's pacing
kept on the emulator clock (no test waits a second of real time), skipped operations with
their reasons, exit statuses by what was found."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from trackmock.cli import build_parser
from trackmock.live.command import run
from trackmock.live.vendors import vendor
from trackmock.pytest_plugin import EmulatorHandle

VENDORS = ("tracker", "trackops", "track")


def _probe(
    handle: EmulatorHandle, tmp_path: Path, *extra: str, credentials: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any], str]:
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps(credentials or handle.credentials))
    report = tmp_path / "report.json"
    argv = [
        "probe", "--vendor", handle.vendor, "--base-url", handle.url, "--credentials", str(creds),
        "--report", str(report), "--format", "json", *extra,
    ]  # fmt: skip
    if handle.ca_cert:
        argv += ["--ca-cert", handle.ca_cert]
    code = run(build_parser().parse_args(argv), handle.clock)
    text = report.read_text() if report.exists() else ""
    return code, json.loads(text) if text else {}, text


def _findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for op in report["operations"] for f in op["findings"]]


def _epoch(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_default_emulator_shows_no_drift_and_is_only_read(
    vendor: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    handle: EmulatorHandle = request.getfixturevalue(vendor)
    code, report, _ = _probe(handle, tmp_path)
    assert _findings(report) == []
    # Every read the contract has is called, but for the few whose values no record gives.
    assert report["summary"]["exchanges"] >= {"tracker": 15, "trackops": 60, "track": 9}[vendor]
    calls = handle.control.journal(kind="http")
    assert [(e["path"], e["status"]) for e in calls if e["status"] >= 400] == []
    methods = {(e["method"], e["path"]) for e in calls}
    writes = {(m, p) for m, p in methods if m != "GET"}
    assert writes <= {("POST", "/api/session")}, "the probe only reads (and logs in)"
    assert code == 0


def test_track_socket_stays_open_on_the_clock_and_its_ping_is_answered(
    track: EmulatorHandle, tmp_path: Path
) -> None:
    before = track.clock.now()
    code, report, _ = _probe(track, tmp_path, "--seconds", "35")
    assert track.clock.now() - before >= 35
    assert report["summary"]["frames"] >= 5
    pongs = [e for e in track.control.journal(kind="ws-in") if e["body"].startswith("pong ")]
    assert len(pongs) == 1
    assert any("1 PING answered" in note for note in report["notes"])
    assert code == 0


def test_trackops_gets_at_most_one_request_a_second_and_429_is_waited_out(
    trackops: EmulatorHandle, tmp_path: Path
) -> None:
    trackops.control.add_fault(
        action="status",
        status=429,
        path="/api/v1/cases",
        headers={"Retry-After": "7"},
        times=1,
    )
    code, report, _ = _probe(trackops, tmp_path)
    calls = [e for e in trackops.control.journal(kind="http") if e["path"].startswith("/api/")]
    times = [_epoch(e) for e in calls]
    assert all(later - earlier >= 1 for earlier, later in itertools.pairwise(times))
    refused = [i for i, e in enumerate(calls) if e["status"] == 429]
    assert len(refused) == 1
    again = calls[refused[0] + 1]
    assert again["path"] == "/api/v1/cases"
    assert _epoch(again) - _epoch(calls[refused[0]]) >= 7
    assert _findings(report) == []
    assert code == 0


def test_tracker_never_gets_the_same_get_twice_within_61_seconds(
    tracker: EmulatorHandle, tmp_path: Path
) -> None:
    code, report, _ = _probe(tracker, tmp_path)
    gets = [(e["path"], e["query"]) for e in tracker.control.journal(kind="http", method="GET")]
    assert len(gets) == len(set(gets)), "one probe asks each GET once"
    assert (_findings(report), code) == ([], 0)
    # Asked for the same GET again, the probe's session waits it out on the clock.
    tracker.clock.advance(61)  # a new session knows nothing of the probe's own GETs
    session = vendor("tracker", tracker.credentials, tracker.clock, tracker.verify)
    url = tracker.url_for("/api/groups")
    first = session.send("GET", url)
    second = session.send("GET", url)
    times = [_epoch(e) for e in tracker.control.journal(kind="http", path="/api/groups")]
    assert times[-1] - times[-2] >= 61
    for answer in (first, second):
        assert answer.status_code == 200
        assert "X-Polling-Warning" not in answer.headers


def test_operations_it_cannot_safely_reach_are_skipped_with_the_reason(
    trackops: EmulatorHandle, tmp_path: Path
) -> None:
    _, report, _ = _probe(trackops, tmp_path)
    skipped = report["summary"]["skipped"]
    assert any(reason.startswith("downloadFile: needs query parameter") for reason in skipped)
    assert skipped["not a read (POST)"] >= 1


def test_breaking_drift_is_exit_1(tracker: EmulatorHandle, tmp_path: Path) -> None:
    tracker.control.add_fault(
        action="status", status=200, path="/api/groups", body=[{"unexpected": 1}], times=1
    )
    code, report, _ = _probe(tracker, tmp_path)
    kinds = {(f["kind"], f["breaking"]) for f in _findings(report)}
    assert ("missing-required-field", True) in kinds
    assert code == 1


def test_a_refused_login_is_exit_2_and_no_secret_is_printed(
    track: EmulatorHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = {**track.credentials, "password": "not-the-password-123"}
    code, _, _ = _probe(track, tmp_path, credentials=wrong)
    err = capsys.readouterr().err
    assert code == 2
    assert "login" in err
    assert "not-the-password-123" not in err


def test_no_secret_reaches_the_report(tracker: EmulatorHandle, tmp_path: Path) -> None:
    _, _, text = _probe(tracker, tmp_path)
    assert tracker.credentials["token"] not in text
