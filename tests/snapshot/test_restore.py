"""Restore is all or nothing: refusals in the control API's error shape with the state
unchanged; every cached answer follows the restored state; snapshots stay out of the journal
and behind the admin token."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import requests
from trackmock.core.journal import WITHHELD
from trackmock.pytest_plugin import EmulatorHandle
from websockets.exceptions import ConnectionClosed

from ..track.helpers import WAIT, frame, login, open_socket
from .vendors import TRACK_DEVICE, TRACK_USERS, TRACKER_ITEM, TRACKOPS_AUTH, TrackerDriver

VENDORS = ["tracker", "trackops", "track"]
Change = Callable[[dict[str, Any]], None]


def _post(handle: EmulatorHandle, body: Any) -> requests.Response:
    return handle.control.http.post(
        handle.control.base_url + "/__admin/snapshot", json=body, timeout=30
    )


def _set(path: list[Any], value: Any) -> Change:
    def change(snapshot: dict[str, Any]) -> None:
        target = snapshot
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _last_table_record_broken(snapshot: dict[str, Any]) -> None:
    """The last record of the last table a snapshot holds becomes a string: everything before
    it checks, so a restore that applied as it went would have changed the state already."""
    tables = []

    def walk(value: Any) -> None:
        if (
            isinstance(value, list)
            and value
            and all(
                isinstance(row, list) and len(row) == 2 and isinstance(row[1], dict)
                for row in value
            )
        ):
            tables.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(snapshot["state"])
    tables[-1][-1][1] = "not a record"


def _store(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The part of the state a vendor's store holds (Trackops keeps its rate limit beside)."""
    state: dict[str, Any] = snapshot["state"]
    return state.get("store", state)


BAD: dict[str, tuple[Change, str]] = {
    "another vendor": (
        lambda s: s.update(vendor="tracker" if s["vendor"] == "track" else "track"),
        "this is a snapshot of 'track",
    ),
    "another version": (_set(["version"], 2), "snapshot version 2 cannot be read"),
    "another format": (_set(["format"], "har"), "format"),
    "a clock that is not one": (_set(["clock", "epoch"], "noon"), "clock.epoch"),
    "an unknown part": (_set(["state", "surprise"], 1), "state: unknown surprise"),
    "a broken record, last": (_last_table_record_broken, "expected an object, found str"),
    "a missing part": (lambda s: _store(s).pop("sequences"), ": missing sequences"),
    "a sequence that is not a number": (
        lambda s: _store(s)["sequences"].update(x="7"),
        ".sequences['x']: expected an integer",
    ),
}


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_snapshot_is_refused_and_changes_nothing(
    request: pytest.FixtureRequest, vendor: str, case: str
) -> None:
    handle: EmulatorHandle = request.getfixturevalue(f"trackmock_{vendor}")
    fixtures = handle.snapshot()
    handle.clock.advance(3600)
    _change_something(handle)
    before = handle.snapshot()
    assert before["state"] != fixtures["state"]
    change, message = BAD[case]
    bad = copy.deepcopy(fixtures)
    change(bad)
    answer = _post(handle, bad)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["status"] == 400
    assert message in error["message"]
    assert handle.snapshot() == before


@pytest.mark.parametrize("body", [[], "snapshot", {"format": "trackmock-snapshot"}])
def test_a_body_that_is_no_snapshot_is_refused(
    trackmock_tracker: EmulatorHandle, body: Any
) -> None:
    before = trackmock_tracker.snapshot()
    answer = _post(trackmock_tracker, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"]
    assert trackmock_tracker.snapshot() == before


def test_another_vendors_snapshot_is_refused(
    trackmock_tracker: EmulatorHandle, trackmock_track: EmulatorHandle
) -> None:
    before = trackmock_tracker.snapshot()
    answer = _post(trackmock_tracker, trackmock_track.snapshot())
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "this is a snapshot of 'track'; this emulator is 'tracker'"
    )
    assert trackmock_tracker.snapshot() == before


def test_a_trackops_account_the_emulator_lacks_is_refused(
    trackmock_trackops: EmulatorHandle,
) -> None:
    snapshot = trackmock_trackops.snapshot()
    snapshot["state"]["store"]["tenants"][0]["key"] = "nosuchaccount"
    answer = _post(trackmock_trackops, snapshot)
    assert answer.status_code == 400
    assert "no tenant 'nosuchaccount'" in answer.json()["error"]["message"]


def _change_something(handle: EmulatorHandle) -> None:
    if handle.vendor == "tracker":
        handle.control.call("PUT", f"items/{TRACKER_ITEM}", json={"item": {"make": "Changed"}})
    elif handle.vendor == "trackops":
        handle.control.call("PATCH", "trackops/records/clients/1", json={"phone": "555-0123"})
    else:
        handle.control.call("PUT", "devices/794513675", json={"status": "offline"})


READS: dict[str, tuple[str, dict[str, Any]]] = {
    "tracker": (f"/api/items/{TRACKER_ITEM}", {}),
    "trackops": ("/api/v1/clients/1", {"auth": TRACKOPS_AUTH}),
    "track": ("/api/devices", {"auth": TRACK_USERS[1]}),
}


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_cached_answer_follows_the_restored_state(
    request: pytest.FixtureRequest, vendor: str
) -> None:
    """A hot GET answered before the restore (its encoding cached) answers the restored
    records after it."""
    handle: EmulatorHandle = request.getfixturevalue(f"trackmock_{vendor}")
    path, options = READS[vendor]

    def read() -> bytes:
        handle.clock.advance(61)  # clear of Trackops' rate limit and Tracker's polling rule
        headers = TrackerDriver(handle).headers("GET") if vendor == "tracker" else {}
        answer = requests.get(
            handle.url_for(path), headers=headers, verify=handle.verify, timeout=30, **options
        )
        assert answer.status_code == 200, answer.text
        return answer.content

    original = read()
    snapshot = handle.snapshot()
    _change_something(handle)
    changed = read()
    assert changed != original
    assert read() == changed  # answered from the cache
    handle.restore(snapshot)
    assert read() == original


@pytest.mark.parametrize("vendor", VENDORS)
def test_snapshots_stay_out_of_the_journal(
    make_emulator: Callable[..., EmulatorHandle], vendor: str
) -> None:
    """Even where control calls are journaled and secrets shown: a snapshot holds every token,
    password and session (Tracker's and Trackops' run on the emulator's worker thread)."""
    handle = make_emulator(vendor, journal_secrets=True, journal_admin=True)
    snapshot = handle.snapshot()
    handle.restore(snapshot)
    bad = copy.deepcopy(snapshot)
    bad["version"] = 9
    assert _post(handle, bad).status_code == 400
    entries = handle.control.journal(path="/__admin/snapshot")
    assert [e["method"] for e in entries] == ["GET", "POST", "POST"]
    for entry in entries:
        assert entry["note"] == WITHHELD
        assert entry["request"].get("body", "") == ""
        assert entry["response"].get("body", "") == ""
    secret = {"tracker": "3f9a6c2e-5b1d-4e8a", "trackops": TRACKOPS_AUTH[1]}.get(
        vendor, TRACK_USERS[0][1]
    )
    assert secret in str(snapshot)
    assert secret not in str(entries)


def test_snapshots_need_the_admin_token(make_emulator: Callable[..., EmulatorHandle]) -> None:
    handle = make_emulator("tracker", admin_token="s3cret-admin")
    assert requests.get(handle.url_for("/__admin/snapshot"), timeout=30).status_code == 401
    refused = requests.post(handle.url_for("/__admin/snapshot"), json={}, timeout=30)
    assert refused.status_code == 401
    assert handle.snapshot()["vendor"] == "tracker"  # the handle sends the token


def test_a_restore_keeps_the_running_settings_and_names_those_that_differ(
    trackmock_tracker: EmulatorHandle, make_emulator: Callable[..., EmulatorHandle]
) -> None:
    other = make_emulator("tracker", seed=5, tracker={"polling_rule": False})
    restored = other.restore(trackmock_tracker.snapshot())
    assert restored["settings_differ"] == ["seed", "tracker.polling_rule"]
    assert other.snapshot()["settings"]["seed"] == 5
    assert other.snapshot()["state"] == trackmock_tracker.snapshot()["state"]


def test_a_restore_closes_open_sockets_and_keeps_their_session(
    trackmock_track: EmulatorHandle,
) -> None:
    """The sockets were fed the state being replaced: closed (1012), as on a reset. The web
    session that opened one is in the snapshot: a new socket opens with the same cookie."""
    http = login(trackmock_track)
    snapshot = trackmock_track.snapshot()
    with open_socket(trackmock_track, http) as ws:
        trackmock_track.restore(snapshot)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012
    with open_socket(trackmock_track, http) as ws:
        trackmock_track.control.call("POST", "positions", json={"deviceId": TRACK_DEVICE})
        assert list(frame(ws)) == ["devices"]
