"""The reference client against the emulator: it does what the documents ask of a client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from trackmock.clients.tracker import (
    AccountDisabledError,
    AuthError,
    AutoDispositionError,
    ConflictError,
    ForbiddenError,
    FormDataError,
    NotFoundError,
    TrackerClient,
    ValidationError,
    form_data_problems,
)
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, DOC_CASE_NUMBER, DOC_ITEM, MIKE, Api, admin_item, new_case

REQUIRED = {"accept", "authorization", "organizationid", "officeid", "statictoken", "content-type"}


def _sent(tracker: EmulatorHandle, method: str) -> list[dict[str, Any]]:
    return tracker.control.journal(method=method, path_prefix="/api/")


def _client(tracker: EmulatorHandle, tmp_path: Path, token: str | None = None) -> TrackerClient:
    return TrackerClient(
        tracker.url,
        token or tracker.credentials["token"],
        1,
        1,
        clock=tracker.clock,
        cursor_path=tmp_path / "cursor.sqlite3",
    )


@pytest.mark.behaviour("TR-01", "TR-03", "TR-04", "TR-05", "TR-09")
def test_every_call_carries_the_required_headers(
    make_emulator: Callable[..., EmulatorHandle], tmp_path: Path
) -> None:
    # The journal masks credentials; this test reads what the client really sent.
    tracker = make_emulator("tracker", journal_secrets=True)
    client = _client(tracker, tmp_path)
    assert client.get_case_by_number(DOC_CASE_NUMBER)["id"] == DOC_CASE
    client.create_case(new_case())
    for entry in _sent(tracker, "GET") + _sent(tracker, "POST"):
        headers = {name.lower(): value for name, value in entry["request"]["headers"].items()}
        assert headers.keys() >= REQUIRED
        assert headers["authorization"] == f"Bearer {tracker.credentials['token']}"
        assert headers["statictoken"] == "true"
        assert headers["accept"] == "application/json"
        expected = "application/json" if entry["method"] == "POST" else "application/x-www-form"
        assert headers["content-type"].startswith(expected)


@pytest.mark.behaviour("TR-18", "TR-19")
def test_an_edit_is_get_change_put_with_form_data_as_an_array(
    tracker: EmulatorHandle, client: TrackerClient
) -> None:
    def change(case: dict[str, Any]) -> None:
        case["offenseDescription"] = "Public Intoxication at a shopping mall"

    edited = client.edit_case(DOC_CASE_NUMBER, change)
    assert edited["formData"] is None  # as read; sent as []
    (put,) = _sent(tracker, "PUT")
    assert put["status"] == 204
    assert b'"formData":[]' in put["request"]["body"].encode().replace(b" ", b"")
    assert client.get_case(DOC_CASE)["offenseDescription"] == edited["offenseDescription"]
    assert client.warnings == []


@pytest.mark.behaviour("TR-17")
def test_a_v99_case_is_sent_as_v100(client: TrackerClient) -> None:
    case = client.get_case_by_number(DOC_CASE_NUMBER)
    del case["caseOfficerIds"]
    case["caseOfficerId"] = 1
    client.update_case(case)
    assert client.get_case(DOC_CASE)["caseOfficerIds"] == [1]
    created = client.create_case({**new_case(), "caseOfficerId": MIKE, "caseOfficerIds": None})
    assert created["caseOfficerIds"] == [MIKE]


@pytest.mark.behaviour("TR-20", "TR-21")
def test_form_data_is_checked_against_the_form_then_added(
    tracker: EmulatorHandle, client: TrackerClient
) -> None:
    with pytest.raises(FormDataError, match="'9' is not one of"):
        client.add_form_data(DOC_CASE_NUMBER, "Precinct2", {"field8538": "9"})
    with pytest.raises(FormDataError, match="nope is not a field"):
        client.add_form_data(DOC_CASE_NUMBER, 911, {"nope": "1"})
    assert _sent(tracker, "PUT") == []
    client.add_form_data(DOC_CASE_NUMBER, "Precinct2", {"field8538": "2"})
    client.add_form_data(DOC_CASE_NUMBER, 759, {"field733": "3"})
    client.add_form_data(DOC_CASE_NUMBER, "Precinct2", {"field8538": "4"})  # replaces its entry
    case = client.get_case_by_number(DOC_CASE_NUMBER)
    assert sorted((e["formId"], e["data"]) for e in case["formData"]) == [
        (759, '{"field733":"3"}'),
        (911, '{"field8538":"4"}'),
    ]
    assert case["formDataAmount"] == 2
    with pytest.raises(NotFoundError):
        client.add_form_data(DOC_CASE_NUMBER, "No such form", {})
    assert client.warnings == []


def test_form_data_problems_mirror_the_emulators_check() -> None:
    form = {
        "id": 830,
        "name": "state lab form",
        "schema": '{"fields":[{"type":"email","name":"e"}]}',
    }
    assert form_data_problems(form, {"e": "a@b.co"}) == []
    assert form_data_problems(form, {"e": "nobody"}) == ["e: 'nobody' is not an e-mail address"]
    assert form_data_problems({"id": 1, "schema": "x"}, {}) == ["form 1 has no readable schema"]


@pytest.mark.behaviour("TR-22")
def test_a_tag_is_added_by_name_or_id(client: TrackerClient) -> None:
    client.add_tag(DOC_CASE_NUMBER, "Test Tag")
    client.add_tag(DOC_CASE_NUMBER, 2390)
    client.add_tag(DOC_CASE_NUMBER, "Test Tag")  # already there: unchanged
    case = client.get_case_by_number(DOC_CASE_NUMBER)
    assert [t["tagModelId"] for t in case["tags"]] == [2388, 2390]
    assert case["tagsAmount"] == 2
    with pytest.raises(NotFoundError):
        client.add_tag(DOC_CASE_NUMBER, "Missing")


@pytest.mark.behaviour("TR-23", "TR-25", "TR-26")
def test_missing_auto_disposition_settings_are_fixed_as_the_seed_shows(
    tracker: EmulatorHandle, client: TrackerClient, tmp_path: Path
) -> None:
    bomb = new_case(offenseTypeId=178)
    with pytest.raises(AutoDispositionError) as caught:
        client.create_case(bomb)
    assert caught.value.errors == ["Offense Type and Auto Disposition Settings are not found"]
    limited = _client(tracker, tmp_path, tracker.credentials["limitedToken"])
    with pytest.raises(ForbiddenError, match="orgAdmin"):
        limited.fix_auto_disposition()
    assert client.fix_auto_disposition() == ["Bomb Threat"]
    assert client.create_case(bomb)["offenseType"] == "Bomb Threat"
    assert client.fix_auto_disposition() == []
    (put,) = [e for e in _sent(tracker, "PUT") if e["status"] == 204]
    assert "Bomb Threat" in put["request"]["body"]
    assert "Arson" not in put["request"]["body"]  # only the offense types that lacked settings


@pytest.mark.behaviour("TR-10", "TR-11", "TR-12")
def test_persons_on_cases(client: TrackerClient) -> None:
    jane = client.create_person(
        {"firstName": "Jane", "lastName": "Roe", "personTypeId": 3},
        {"line1": "412 York Street", "city": "Newport", "stateId": 18, "addressTypeId": 1},
        case_id=DOC_CASE,
    )
    john = client.create_person({"firstName": "John", "lastName": "Roe"})
    client.add_person_to_case(DOC_CASE, john["id"], 1, "Seen leaving")
    people = client.case_people(DOC_CASE)
    assert [(p["person"]["name"], p["type"]) for p in people] == [
        ("Jane Roe", "Witness"),
        ("John Roe", "Suspect"),
    ]
    with pytest.raises(ConflictError):
        client.create_person({"firstName": "Jane", "lastName": "Roe"})
    with pytest.raises(ConflictError):
        client.add_person_to_case(DOC_CASE, john["id"], 1)
    jane["alias"] = "JR"
    client.update_person(jane)
    assert client.get_person(jane["id"])["alias"] == "JR"
    assert client.get_case(DOC_CASE)["peopleAmount"] == 2


@pytest.mark.behaviour("TR-08")
def test_users(client: TrackerClient) -> None:
    user = client.create_user({"firstName": "Ann", "lastName": "Lee", "email": "ann@example.com"})
    assert client.get_user(user["id"]) == user
    with pytest.raises(ConflictError):
        client.create_user({"firstName": "A", "lastName": "L", "email": "ANN@example.com"})
    with pytest.raises(ValidationError) as caught:
        client.create_user({"firstName": "A", "lastName": "L", "email": "x@y.z", "groups": [2]})
    assert "user.groups" in caught.value.model_state


@pytest.mark.behaviour("TR-15", "TR-16")
def test_item_history_resumes_from_the_last_good_id(
    tracker: EmulatorHandle, client: TrackerClient, tmp_path: Path
) -> None:
    first = client.item_history()
    assert [r["seqOrgItemHistoryId"] for r in first] == [1, 2]
    started = tracker.clock.now()
    assert client.item_history() == []
    assert tracker.clock.now() - started == pytest.approx(600)  # waited for the interval
    made = admin_item(tracker, fullLocation="Lab/Intake", locationId=505)
    tracker.control.call("PUT", f"items/{made['item']['id']}", json={"item": {"make": "Buck"}})
    restarted = _client(tracker, tmp_path)
    new = restarted.item_history()
    assert [(r["seqOrgItemHistoryId"], r["historyType"]) for r in new] == [(3, 1), (4, 2)]
    chain = restarted.chain_of_custody(new[0]["item"]["id"])
    assert [c["transactionType"] for c in chain] == ["Check In"]
    assert restarted.get_item(DOC_ITEM)["id"] == DOC_ITEM
    with pytest.raises(NotFoundError):
        restarted.chain_of_custody(new[0]["historyId"])  # a nested id
    assert client.warnings == restarted.warnings == []


def test_the_same_get_waits_a_minute(tracker: EmulatorHandle, client: TrackerClient) -> None:
    started = tracker.clock.now()
    client.get_case(DOC_CASE)
    client.get_case(DOC_CASE)
    client.list_tags()
    assert tracker.clock.now() - started == pytest.approx(61)
    assert client.warnings == []


@pytest.mark.behaviour("TR-01", "TR-02", "TR-07")
def test_refusals_become_typed_errors(
    tracker: EmulatorHandle, client: TrackerClient, tmp_path: Path
) -> None:
    with pytest.raises(AuthError) as caught:
        _client(tracker, tmp_path, "nope").list_tags()
    assert caught.value.status == 401
    with pytest.raises(NotFoundError):
        client.get_case_by_number("2018-0521-99")
    with pytest.raises(ConflictError):
        client.create_case(new_case(DOC_CASE_NUMBER))
    with pytest.raises(ForbiddenError, match="organization 2"):
        TrackerClient(
            tracker.url, tracker.credentials["token"], 2, 2, clock=tracker.clock
        ).list_tags()
    with pytest.raises(ValidationError) as invalid:
        client.update_case({"id": DOC_CASE})
    assert "case" in invalid.value.model_state
    raw = Api(tracker)
    for _ in range(11):
        raw.get("/api/races")
    with pytest.raises(AccountDisabledError):
        client.list_tags()
