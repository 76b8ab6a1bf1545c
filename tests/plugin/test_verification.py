"""Verification helpers: ``handle.assert_received`` (WireMock's ``verify``), the control
calls ``GET /__admin/journal/count`` and ``GET /__admin/unmatched``, and ``handle.unmatched()``."""

from __future__ import annotations

import pytest
import requests
from trackmock.core.clock import Clock
from trackmock.core.journal import Journal, Query
from trackmock.pytest_plugin import EmulatorHandle
from trackmock.verification import NotReceived


def get(handle: EmulatorHandle, path: str, method: str = "GET") -> int:
    return requests.request(method, handle.url_for(path), timeout=10).status_code


def test_counts_what_was_received(trackmock_track: EmulatorHandle) -> None:
    for _ in range(3):
        get(trackmock_track, "/api/devices")
    get(trackmock_track, "/api/positions")
    assert trackmock_track.assert_received("GET", "/api/devices", times=3) == 3
    assert trackmock_track.assert_received("get", "/api/*", at_least=4) == 4
    assert trackmock_track.assert_received(None, "/api/positions") == 1
    assert trackmock_track.assert_received("GET", "/api/devices", status=401, times=3) == 3
    assert trackmock_track.assert_received("POST", "/api/devices", times=0) == 0


def test_too_few_lists_the_near_misses_closest_first(trackmock_track: EmulatorHandle) -> None:
    get(trackmock_track, "/api/device")  # the classic: a letter short
    get(trackmock_track, "/api/devices", method="DELETE")
    get(trackmock_track, "/api/beacons")
    get(trackmock_track, "/api/devices/1", method="PUT")  # differs in two ways: not near
    with pytest.raises(NotReceived) as failure:
        trackmock_track.assert_received("GET", "/api/devices", times=1)
    lines = str(failure.value).splitlines()
    assert lines[0] == (
        "expected GET /api/devices exactly 1 time(s); the emulator received it 0 time(s)"
    )
    assert lines[1] == "near misses (closest first):"
    assert lines[2].endswith(" DELETE /api/devices -> 405: method is DELETE")
    assert lines[3].endswith(
        " GET /api/device -> 404: path /api/device does not match /api/devices"
    )
    assert lines[4].endswith(
        "GET /api/beacons -> 401: path /api/beacons does not match /api/devices"
    )
    assert len(lines) == 5


def test_too_many_lists_what_was_received(trackmock_track: EmulatorHandle) -> None:
    get(trackmock_track, "/api/devices")
    get(trackmock_track, "/api/devices")
    with pytest.raises(
        NotReceived, match=r"exactly 1 time\(s\); the emulator received it 2"
    ) as err:
        trackmock_track.assert_received("GET", "/api/devices", times=1)
    assert "received (the last ones):" in str(err.value)
    assert str(err.value).count("GET /api/devices -> 401") == 2
    assert "near misses" not in str(err.value)


def test_nothing_close_says_so(trackmock_track: EmulatorHandle) -> None:
    with pytest.raises(NotReceived, match="no near misses"):
        trackmock_track.assert_received("POST", "/api/session")


def test_times_and_at_least_are_checked(trackmock_track: EmulatorHandle) -> None:
    with pytest.raises(TypeError, match="times or at_least, not both"):
        trackmock_track.assert_received("GET", "/api/*", times=1, at_least=1)
    with pytest.raises(ValueError, match="times must be an integer of 0 or more"):
        trackmock_track.assert_received("GET", "/api/*", times=-1)


def test_the_count_control_call(trackmock_track: EmulatorHandle) -> None:
    get(trackmock_track, "/api/devices")
    get(trackmock_track, "/api/positions")
    url = trackmock_track.url_for("/__admin/journal/count")
    answer = requests.get(url, params={"method": "GET", "path": "/api/devices"}, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 1
    assert [m["reason"] for m in body["near_misses"]] == ["path is /api/positions"]
    assert body["near_misses"][0]["entry"]["status"] == 401
    none = requests.get(url, params={"path_pattern": "/nothing*", "near": 0}, timeout=10)
    assert none.json() == {"count": 0, "near_misses": []}
    bad = requests.get(url, params={"status": "abc"}, timeout=10)
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["message"]
    listed = trackmock_track.control.journal(path_pattern="/api/pos*")
    assert [entry["path"] for entry in listed] == ["/api/positions"]


def test_unmatched_lists_wrong_urls_and_methods(trackmock_track: EmulatorHandle) -> None:
    get(trackmock_track, "/api/devices")  # served (401 without a session): not unmatched
    get(trackmock_track, "/api/devicez")
    get(trackmock_track, "/api/positions", method="DELETE")
    get(trackmock_track, "/__admin/nothing")  # the control API is not journaled by default
    found = trackmock_track.unmatched()
    assert [(e["method"], e["path"], e["status"], e["reason"]) for e in found] == [
        ("GET", "/api/devicez", 404, "no operation at this path"),
        ("DELETE", "/api/positions", 405, "no DELETE operation at this path (it has GET)"),
    ]
    raw = requests.get(trackmock_track.url_for("/__admin/unmatched"), timeout=10).json()
    assert raw == {"entries": found}
    trackmock_track.reset()
    assert trackmock_track.unmatched() == []


def test_near_misses_fail_one_request_criterion_only() -> None:
    journal = Journal(Clock(frozen=True))
    journal.record("http", method="GET", path="/api/cases/1", status=200)
    journal.record("http", method="POST", path="/api/cases", status=201)
    journal.record("http", method="POST", path="/api/case", status=404)
    journal.record("ws-out", path="/api/socket", connection=1)
    result = journal.count(Query(kind="http", method="POST", path_pattern="/api/cases"))
    assert result.count == 1
    assert [(entry.id, reason) for entry, reason in result.near_misses] == [
        (3, "path /api/case does not match /api/cases"),
    ]
    everything = journal.count(Query(method="POST"), near=10)
    assert everything.count == 2
    # No path asked for: every miss is as close, the latest first.
    assert [entry.id for entry, _ in everything.near_misses] == [4, 1]
    assert journal.count(Query(method="POST"), near=0).near_misses == []
