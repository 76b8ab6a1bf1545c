"""Property-based tests: the feed seen through restarting clients, case PUT round trips, and
bad bodies that never break the emulator."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)
from trackmock.clients.tracker import TrackerClient
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, DOC_ITEM, MIKE, Api

FIXTURE_RECORDS = 2
LOCATIONS = [(501, "Evidence Room/Shelf A1"), (504, "Vault/Drawer 1"), (505, "Lab/Intake")]
USERS = [1, MIKE, 12701]


class FeedMachine(RuleBasedStateMachine):
    """Item creates, edits and custody moves interleaved with client polls and restarts."""

    items = Bundle("items")

    def __init__(self, tracker: EmulatorHandle) -> None:
        super().__init__()
        self.tracker = tracker
        tracker.reset()
        self.folder = tempfile.TemporaryDirectory()
        self.client = self._client()
        self.produced = list(range(1, FIXTURE_RECORDS + 1))
        self.seen: list[int] = []
        self.checked_out: dict[int, bool] = {DOC_ITEM: False}
        self.clients: list[TrackerClient] = [self.client]

    def _client(self) -> TrackerClient:
        creds = self.tracker.credentials
        return TrackerClient(
            self.tracker.url,
            creds["token"],
            1,
            1,
            clock=self.tracker.clock,
            cursor_path=Path(self.folder.name) / "cursor.sqlite3",
        )

    def _produced(self, answer: dict[str, Any]) -> None:
        self.produced.append(answer["history"]["seqOrgItemHistoryId"])

    @rule(target=items, location=st.sampled_from(LOCATIONS), user=st.sampled_from(USERS))
    def create_item(self, location: tuple[int, str], user: int) -> int:
        body = {
            "item": {
                "primaryCaseId": DOC_CASE,
                "locationId": location[0],
                "fullLocation": location[1],
            },
            "userId": user,
        }
        answer = self.tracker.control.call("POST", "items", json=body)
        self._produced(answer)
        self.checked_out[answer["item"]["id"]] = False
        return int(answer["item"]["id"])

    @rule(item=items, text=st.text(max_size=20))
    def edit_item(self, item: int, text: str) -> None:
        body = {"item": {"description": text}}
        self._produced(self.tracker.control.call("PUT", f"items/{item}", json=body))

    @rule(item=items, user=st.sampled_from(USERS), location=st.sampled_from(LOCATIONS))
    def move_custody(self, item: int, user: int, location: tuple[int, str]) -> None:
        if self.checked_out[item]:
            move = {
                "transactionType": "Check In",
                "toLocationId": location[0],
                "toLocation": location[1],
            }
        else:
            move = {"transactionType": "Check Out", "toUserId": user}
        self._produced(self.tracker.control.call("POST", f"items/{item}/custody", json=move))
        self.checked_out[item] = not self.checked_out[item]

    @rule()
    def poll(self) -> None:
        records = self.client.item_history()
        self.seen += [r["seqOrgItemHistoryId"] for r in records]

    @rule()
    def restart_client(self) -> None:
        self.client = self._client()
        self.clients.append(self.client)

    @rule(seconds=st.floats(min_value=0, max_value=1200))
    def time_passes(self, seconds: float) -> None:
        self.tracker.clock.advance(seconds)

    @rule(item=consumes(items))
    def forget_item(self, item: int) -> None:
        """Stop touching an item (it stays in the feed)."""

    @invariant()
    def seen_once_in_order_with_no_gap(self) -> None:
        assert self.seen == list(range(1, len(self.seen) + 1))
        assert self.seen == self.produced[: len(self.seen)]

    @invariant()
    def the_client_never_trips_the_polling_rule(self) -> None:
        assert all(client.warnings == [] for client in self.clients)

    def teardown(self) -> None:
        try:
            self.poll()
            assert self.seen == self.produced
            tokens = self.tracker.control.call("GET", "tokens")
            assert all(t["violations"] == 0 and not t["disabled"] for t in tokens)
        finally:
            self.folder.cleanup()


@pytest.mark.behaviour("TR-07", "TR-15")
def test_clients_see_every_history_record_once_in_order(tracker: EmulatorHandle) -> None:
    run_state_machine_as_test(
        lambda: FeedMachine(tracker),
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )


FORMS = {
    34: st.fixed_dictionaries(
        {
            "field3377": st.sampled_from(["1", "2", "3"]),
            "field9715": st.sampled_from(["1", "2", "3"]),
        }
    ),
    759: st.fixed_dictionaries({"field733": st.sampled_from(["1", "2", "3"])}),
    830: st.fixed_dictionaries({"field2866": st.text(max_size=10)}),
    911: st.fixed_dictionaries({"field8538": st.sampled_from(["", "1", "2", "3", "4"])}),
}
TAGS = {2388: "Test Tag", 2389: "Test Tag 2", 2390: "Test Tag 3", 2391: "Test Tag 4"}
dates = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
texts = st.none() | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@st.composite
def form_data(draw: st.DrawFn) -> list[dict[str, Any]]:
    forms = draw(st.lists(st.sampled_from(sorted(FORMS)), unique=True, max_size=4))
    return [
        {"formId": form, "data": json.dumps(draw(FORMS[form]), separators=(",", ":"))}
        for form in forms
    ]


WRITABLE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "caseNumber": st.text(
        st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20
    ),
    "caseOfficerIds": st.lists(st.sampled_from(USERS), max_size=3),
    "offenseTypeId": st.sampled_from([1, 2, 3, 74]),
    "offenseDescription": texts,
    "offenseLocation": texts,
    "offenseDate": dates,
    "followUpDate": dates,
    "active": st.booleans(),
    "formData": form_data(),
    "tags": st.lists(st.sampled_from(sorted(TAGS)), unique=True, max_size=4).map(
        lambda ids: [{"tagModelId": i, "name": TAGS[i]} for i in ids]
    ),
    "closedDate": dates,
    "reviewDate": dates,
    "reviewDateNotes": texts,
    "isRestricted": st.booleans(),
}
WRITABLE = st.fixed_dictionaries(WRITABLE_FIELDS)


@pytest.mark.behaviour("TR-18", "TR-19", "TR-21", "TR-22", "TR-27")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=WRITABLE)
def test_any_case_put_round_trips(tracker: EmulatorHandle, changes: dict[str, Any]) -> None:
    tracker.reset()
    api = Api(tracker)
    before = api.case()
    answer = api.put(f"/api/cases/{DOC_CASE}", {**before, **changes})
    assert answer.status_code == 204, answer.text
    after = api.case(changes["caseNumber"])
    for field, sent in changes.items():
        if field == "formData":
            stored = [(e["formId"], e["data"]) for e in after["formData"] or []]
            assert stored == [(e["formId"], e["data"]) for e in sent]
        else:
            assert after[field] == sent, field
    assert after["formDataAmount"] == len(changes["formData"])
    assert after["tagsAmount"] == len(changes["tags"])
    assert after["peopleAmount"] == 0
    changed = [
        f for f in changes if (before[f] or [] if f == "formData" else before[f]) != changes[f]
    ]
    assert after["historiesAmount"] == len(changed)
    counts = {t["id"]: t["casesCount"] for t in api.get("/api/tags").json()}
    base = {2388: 2, 2389: 1, 2390: 1, 2391: 0}
    assert counts == {i: base[i] + any(t["tagModelId"] == i for t in changes["tags"]) for i in TAGS}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.behaviour("TR-18")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from([*sorted(WRITABLE_FIELDS), "id", "extra"]),
    value=json_values,
)
def test_bad_case_bodies_are_refused_and_change_nothing(
    tracker: EmulatorHandle, field: str, value: Any
) -> None:
    tracker.reset()
    api = Api(tracker)
    before = api.case()
    answer = api.put(f"/api/cases/{DOC_CASE}", {**before, "formData": [], field: value})
    assert answer.status_code in (204, 400, 409), answer.text
    if answer.status_code != 204:
        assert "message" in answer.json() or "autoDispoErrors" in answer.json()
        assert api.case() == before
