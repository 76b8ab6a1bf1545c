"""The API's writes: validated, next id, the emulator's clock, the caller recorded (TO-03)."""

from __future__ import annotations

from typing import Any

import pytest
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import TOKEN, Api, contract, error_of

NCHARLES = ("ncharles/token", TOKEN)
NOW = "2025-02-21T10:00:01Z"
"""The frozen test clock after the raw caller's first one-second step."""


def _example(operation_id: str) -> Any:
    """The contract's own example body of a create."""
    spec = contract()
    operation = spec.operations[operation_id]
    raw = spec.resolve(spec.location("paths", operation.path, "post"))
    content = raw["requestBody"]["content"]["application/json"]
    if "examples" in content:
        return next(iter(content["examples"].values()))["value"]
    schema, _ = spec.deref(content["schema"], operation.body["application/json"])
    return schema["examples"][0]


CREATES = [
    ("createCase", "/api/v1/cases", "cases"),
    ("createCaseUpdate", "/api/v1/case/updates", "case/updates"),
    ("createSubject", "/api/v1/subjects", "subjects"),
    ("createClientContact", "/api/v1/client/contacts", "client/contacts"),
    ("createStaffEmployee", "/api/v1/staff/employees", "staff"),
    ("createEvent", "/api/v1/events", "events"),
]


@pytest.mark.behaviour("TO-03", "TO-06")
@pytest.mark.parametrize(("operation_id", "path", "read"), CREATES)
def test_the_documents_example_creates_a_record_by_the_caller(
    api: Api, operation_id: str, path: str, read: str
) -> None:
    before = api.get(f"/api/v1/{read}?mode=count").json()["record_count"]
    response = api.post(path, _example(operation_id), auth=NCHARLES)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["created_by_id"] == 4, "ncharles is staff 4: history names the caller"
    assert made["created_at"] == made["updated_at"] == "2025-02-21T10:00:02Z"
    assert api.get(f"/api/v1/{read}/{made['id']}").json()["id"] == made["id"]
    assert api.get(f"/api/v1/{read}?mode=count").json()["record_count"] == before + 1
    newest = api.get(f"/api/v1/{read}?per_page=1").json()[0]
    assert newest["id"] == made["id"], "the next id: newest first"


@pytest.mark.behaviour("TO-03")
def test_a_new_case_brings_its_subjects_and_status_history(api: Api) -> None:
    case = api.post("/api/v1/cases", _example("createCase")).json()
    assert case["case_number"] == f"19-{case['id']:04d}", "year of created_on, then the id"
    assert case["client_location_id"] == 5, "the primary contact's location"
    assert case["case_status_id"] == 1
    subjects = api.get(f"/api/v1/subjects?case={case['id']}").json()
    assert [s["name"] for s in subjects] == ["John B Doe"]
    assert case["primary_subject_id"] == subjects[0]["id"]
    history = api.get(f"/api/v1/cases/status_history/{case['id']}").json()
    assert [(h["case_status_id"], h["changed_by_id"]) for h in history] == [(1, 1)]
    changes = api.get(f"/api/v1/case/status_changes?case={case['id']}").json()
    assert [(c["from_case_status_id"], c["to_case_status_id"]) for c in changes] == [(None, 1)]


@pytest.mark.behaviour("TO-06")
def test_times_given_with_an_offset_are_stored_in_utc(api: Api) -> None:
    body = {"title": "Deposition", "start_at": "2025-03-01T09:00:00-07:00", "user_ids": [1]}
    event = api.post("/api/v1/events", body).json()
    assert event["start_at"] == "2025-03-01T16:00:00Z"
    update = api.post(
        "/api/v1/case/updates",
        {"casefile_id": 2, "access_group_id": 2, "content": "Called the witness."},
    ).json()
    assert update["activity_at"] == update["created_at"], "activity defaults to now"


UPDATE = {"casefile_id": 2, "access_group_id": 1}
EMPLOYEE = {"client_id": 1, "role_id": 3}
EVENT = {"title": "x", "start_at": "2025-03-01T10:00:00Z"}
BAD_BODIES = [
    ("/api/v1/cases", {"casefile": {"client_id": 4}}, "$.casefile.case_type_id"),
    ("/api/v1/cases", {"casefile": {"case_type_id": 1, "client_id": 99}}, "$.casefile.client_id"),
    (
        "/api/v1/cases",
        {"casefile": {"case_type_id": 1, "client_id": 1, "primary_contact_id": 2}},
        "$.casefile.primary_contact_id",
    ),
    (
        "/api/v1/cases",
        {"casefile": {"case_type_id": 1, "client_id": 4, "case_services_list": [1, 77]}},
        "$.casefile.case_services_list",
    ),
    ("/api/v1/case/updates", {"casefile_id": 999, "access_group_id": 1}, "$.casefile_id"),
    ("/api/v1/case/updates", {"casefile_id": 1, "access_group_id": 9}, "$.access_group_id"),
    ("/api/v1/case/updates", {**UPDATE, "subject_id": 1}, "$.subject_id"),
    ("/api/v1/subjects", {"casefile_id": 1, "subject_type_id": 1}, "$.custom_fields"),
    (
        "/api/v1/subjects",
        {"casefile_id": 1, "subject_type_id": 1, "custom_fields": [{"id": 42, "value": "x"}]},
        "$.custom_fields[0].id",
    ),
    ("/api/v1/client/contacts", {"client_id": 99, "role_id": 11}, "$.client_id"),
    ("/api/v1/client/contacts", {"client_id": 1, "role_id": 1}, "$.role_id"),
    ("/api/v1/staff/employees", {**EMPLOYEE, "username": "samspade"}, "$.username"),
    ("/api/v1/staff/employees", {"client_id": 7, "role_id": 3}, "$.client_id"),
    ("/api/v1/events", {"title": "x"}, "$.start_at"),
    ("/api/v1/events", {**EVENT, "end_at": "2025-03-01T09:00:00Z"}, "$.end_at"),
    ("/api/v1/events", {"title": "x", "start_at": "2025-02-30T10:00:00Z"}, "$.start_at"),
    ("/api/v1/events", "not an object", "$"),
]  # fmt: skip


@pytest.mark.behaviour("TO-11")
@pytest.mark.parametrize(("path", "body", "parameter"), BAD_BODIES)
def test_a_bad_body_is_a_400_naming_the_field_and_changes_nothing(
    trackops: EmulatorHandle, api: Api, path: str, body: Any, parameter: str
) -> None:
    before = {name: len(api.records(name)) for name in ("cases", "subjects", "case_updates")}
    response = api.post(path, body)
    assert response.status_code == 400, response.text
    assert error_of(response)["parameter"] == parameter
    after = {name: len(api.records(name)) for name in before}
    assert after == before, "state unchanged"


def test_a_body_that_is_not_json_is_a_400(api: Api) -> None:
    response = api.request(
        "POST", "/api/v1/events", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    text = api.request("POST", "/api/v1/events", data=b"x", headers={"Content-Type": "text/plain"})
    assert text.status_code == 400


@pytest.mark.behaviour("TO-02")
def test_a_new_full_access_employee_with_a_login_can_use_the_api(api: Api) -> None:
    body = {"client_id": 2, "role_id": 3, "first_name": "Jim", "last_name": "Rockford"}
    made = api.post("/api/v1/staff/employees", {**body, "username": "jrockford"}).json()
    assert made["access_level"] == "limited_access", "the safer default"
    refused = api.get("/api/v1/clients", auth=("jrockford/token", TOKEN))
    assert refused.status_code == 403
    full = {**body, "username": "tmagnum", "access_level": "full_access"}
    assert api.post("/api/v1/staff/employees", full).status_code == 201
    assert api.get("/api/v1/clients", auth=("tmagnum/token", TOKEN)).status_code == 200


def test_a_client_contact_is_created_at_a_client_location(api: Api) -> None:
    made = api.post("/api/v1/client/contacts", _example("createClientContact")).json()
    assert (made["client_id"], made["client_location_id"]) == (4, 5)
    assert made["field_values"] is None, "expanded only when asked"


@pytest.mark.behaviour("TO-06", "TO-11")
def test_extreme_times_are_stored_in_utc_or_refused(api: Api) -> None:
    early = api.post("/api/v1/events", {"title": "x", "start_at": "0706-06-01t03:39:43z"})
    assert early.json()["start_at"] == "0706-06-01T03:39:43Z"
    late = api.post("/api/v1/events", {"title": "x", "start_at": "9999-12-31T23:59:59-23:59"})
    assert late.status_code == 400
    assert error_of(late)["parameter"] == "$.start_at"
    odd = api.get("/api/v1/events", params={"start_to": "9999-12-31T23:59:59-23:59"})
    assert odd.status_code == 400
    assert error_of(odd)["parameter"] == "start_to"
    far = api.get("/api/v1/events", params={"title": "x", "page": 10**30})
    assert far.json() == []


def test_ids_sent_as_whole_floats_are_checked_and_stored_as_integers(api: Api) -> None:
    missing = api.post("/api/v1/case/updates", {"casefile_id": 999.0, "access_group_id": 1})
    assert missing.status_code == 400
    assert error_of(missing)["parameter"] == "$.casefile_id"
    made = api.post("/api/v1/case/updates", {"casefile_id": 2.0, "access_group_id": 1.0}).json()
    assert (made["casefile_id"], made["access_group_id"]) == (2, 1)
    assert isinstance(made["casefile_id"], int)
