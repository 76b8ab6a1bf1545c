"""A restore checks every record against the contract schema its table names: a hand-edited
record the emulator could not read is refused with its path, and the state stays as it was,
every read still answering."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from trackmock.pytest_plugin import EmulatorHandle

from .test_restore import _post
from .vendors import DRIVERS, reads

Edit = tuple[list[Any], str, Any]
"""Where a record is (a path into the snapshot), the field changed, its new value (``DROP``
deletes it)."""

DROP = object()
TRACKER_CASES = ["state", "tenants", 0, "cases", 0, 1]
TRACKOPS = ["state", "store", "tenants", 0, "tables"]

EDITS: dict[str, dict[str, tuple[Edit, str]]] = {
    "tracker": {
        # The repro: GET /api/cases/mostRecent answered 500 after this restored.
        "a case without its caseNumber": (
            (TRACKER_CASES, "caseNumber", DROP),
            "state.tenants[0].cases[0][1]: not a Case record: missing field 'caseNumber'",
        ),
        "a case number that is a number": (
            (TRACKER_CASES, "caseNumber", 20250221),
            "state.tenants[0].cases[0][1].caseNumber: not a Case record: expected string, "
            "found integer",
        ),
        "an item feed record whose item lacks its id": (
            (["state", "tenants", 0, "history", 0, 1, "item"], "id", DROP),
            "state.tenants[0].history[0][1].item: not a ItemHistory record: missing field 'id'",
        ),
        "an office without its name": (
            (["state", "tenants", 0, "offices", "1"], "name", DROP),
            "state.tenants[0].offices['1']: not a Office record: missing field 'name'",
        ),
    },
    "trackops": {
        "a case without its case_number": (
            ([*TRACKOPS, "cases", 0, 1], "case_number", DROP),
            "state.store.tenants[0].tables.cases[0][1]: not a Case record: missing field "
            "'case_number'",
        ),
        "a client whose name is a number": (
            ([*TRACKOPS, "clients", 0, 1], "name", 7),
            "state.store.tenants[0].tables.clients[0][1].name: not a Client record: expected "
            "string, found integer",
        ),
    },
    "track": {
        "a device without its uniqueId": (
            (["state", "devices", 0, 1], "uniqueId", DROP),
            "state.devices[0][1]: not a Device record: missing field 'uniqueId'",
        ),
        "a position time written as text": (
            # Stored timestamps are epoch milliseconds (x-stored-as), not the written form.
            (["state", "positions", 0, 1], "fixTime", "2025-02-21T10:00:00.000+00:00"),
            "state.positions[0][1].fixTime: not a Position record: expected integer, found string",
        ),
        "a position whose latitude is text": (
            (["state", "positions", 0, 1], "latitude", "52.5"),
            "state.positions[0][1].latitude: not a Position record: expected number, found string",
        ),
    },
}
CASES = [(vendor, case) for vendor, cases in EDITS.items() for case in sorted(cases)]


def _edited(snapshot: dict[str, Any], edit: Edit) -> dict[str, Any]:
    path, name, value = edit
    bad = copy.deepcopy(snapshot)
    record = bad
    for part in path:
        record = record[part]
    assert name in record, f"the fixtures changed: {name} is not in the record"
    if value is DROP:
        del record[name]
    else:
        record[name] = value
    return bad


def _statuses(handle: EmulatorHandle) -> list[int]:
    """The status of every read of the vendor, an hour on (past every polling rule's window,
    so that reading twice answers the same)."""
    handle.clock.advance(3600)
    return [answer.status for answer in reads(DRIVERS[handle.vendor](handle), [])]


@pytest.mark.parametrize(("vendor", "case"), CASES)
def test_a_record_not_of_its_schema_is_refused_and_changes_nothing(
    request: pytest.FixtureRequest, vendor: str, case: str
) -> None:
    handle: EmulatorHandle = request.getfixturevalue(f"trackmock_{vendor}")
    answered = _statuses(handle)
    before = handle.snapshot()
    edit, message = EDITS[vendor][case]
    answer = _post(handle, _edited(before, edit))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["status"] == 400
    assert error["message"] == message
    assert handle.snapshot() == before
    # Every read answers as it did before (most 200; none 500).
    assert _statuses(handle) == answered
    assert answered.count(200) > len(answered) // 2


def test_the_most_recent_case_still_answers_after_a_refused_restore(
    trackmock_tracker: EmulatorHandle,
) -> None:
    """The issue's repro: a case stripped of its ``caseNumber`` is refused, and the case
    list answers the old state."""
    driver = DRIVERS["tracker"](trackmock_tracker)
    first = driver.api("GET", "/api/cases/mostRecent")  # type: ignore[attr-defined]
    before = trackmock_tracker.snapshot()
    edit, _ = EDITS["tracker"]["a case without its caseNumber"]
    assert _post(trackmock_tracker, _edited(before, edit)).status_code == 400
    again = driver.api("GET", "/api/cases/mostRecent")  # type: ignore[attr-defined]
    assert (first.status, again.status) == (200, 200)
    assert again.body == first.body


@pytest.mark.parametrize("vendor", sorted(EDITS))
def test_extra_fields_of_a_stored_record_restore(
    request: pytest.FixtureRequest, vendor: str
) -> None:
    """A schema lists what a record must hold; a field it does not list is the emulator's
    business (stored records may carry their own), so it restores."""
    handle: EmulatorHandle = request.getfixturevalue(f"trackmock_{vendor}")
    snapshot = handle.snapshot()
    edit, _ = EDITS[vendor][min(EDITS[vendor])]
    extra = _edited(snapshot, (edit[0], edit[1], DROP))
    record = extra
    for part in edit[0]:
        record = record[part]
    record.update({edit[1]: copy.deepcopy(_field(snapshot, edit)), "x-note": "kept"})
    assert _post(handle, extra).status_code == 200
    assert handle.snapshot()["state"] == extra["state"]


def _field(snapshot: dict[str, Any], edit: Edit) -> Any:
    record = snapshot
    for part in edit[0]:
        record = record[part]
    return record[edit[1]]


def test_a_token_without_its_user_is_refused(trackmock_tracker: EmulatorHandle) -> None:
    """Every authenticated call reads its token's ``userId``: a token record is a
    StaticToken (named on ``Account.token``'s type hint)."""
    before = trackmock_tracker.snapshot()
    key = sorted(before["state"]["accounts"])[0]
    edit = (["state", "accounts", key, "token"], "userId", DROP)
    answer = _post(trackmock_tracker, _edited(before, edit))
    assert answer.status_code == 400
    position = list(before["state"]["accounts"]).index(key)
    # The accounts are keyed by their token: the refusal names the entry, not the secret.
    assert answer.json()["error"]["message"] == (
        f"state.accounts[entry {position}].token: not a StaticToken record: missing field 'userId'"
    )
    assert key not in answer.text
    assert trackmock_tracker.snapshot() == before
