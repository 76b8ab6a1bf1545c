"""Headers and tokens on every operation (TR-01..05), scoping (TR-02), both hosts (TR-28)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from trackmock.core.contracts import Contract
from trackmock.core.paths import contracts_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, DOC_CASE_NUMBER, Api, new_case

CONTRACT = Contract.from_path(contracts_dir() / "tracker" / "openapi.yaml")
OPERATIONS = sorted(CONTRACT.operations.values(), key=lambda op: op.id)
PATH_VALUES = {"email": "someone@example.com"}
ORG2_TOKEN = "c5e8a1f3-9b2d-4c6e-8f0a-1b3d5f7a9c22"

# Each wrong request: the headers it changes, the status and a part of the message.
REFUSALS: list[tuple[str, dict[str, Any], int, str]] = [
    ("no token", {"Authorization": None}, 401, "Send Authorization: Bearer"),
    ("not bearer", {"Authorization": "Basic abc"}, 401, "Send Authorization: Bearer"),
    ("unknown token", {"Authorization": "Bearer nope"}, 401, "not a known static token"),
    ("no StaticToken", {"StaticToken": None}, 401, "StaticToken: true"),
    ("StaticToken false", {"StaticToken": "false"}, 401, "StaticToken: true"),
    ("wrong organization", {"OrganizationId": "2"}, 403, "no access to organization 2"),
    ("unknown organization", {"OrganizationId": "77"}, 403, "no access to organization 77"),
    ("wrong office", {"OfficeId": "999"}, 403, "Office 999 is not an office"),
    ("other org's office", {"OfficeId": "2"}, 403, "Office 2 is not an office"),
    ("no OrganizationId", {"OrganizationId": None}, 400, "The request is invalid."),
    ("bad OfficeId", {"OfficeId": "one"}, 400, "The request is invalid."),
    ("no Accept", {"Accept": None}, 400, "Accept: application/json is required."),
    ("Accept */*", {"Accept": "*/*"}, 400, "Accept: application/json is required."),
]


def _path(operation: Any) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), operation.path)


@pytest.mark.behaviour("TR-01", "TR-02", "TR-03", "TR-04", "TR-05")
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.id)
def test_every_operation_refuses_each_wrong_header(api: Api, operation: Any) -> None:
    path = _path(operation)
    body = None if operation.method == "GET" else {}
    for name, headers, status, message in REFUSALS:
        answer = api.request(operation.method, path, body, headers=headers)
        assert answer.status_code == status, (name, answer.text)
        assert message in answer.json()["message"], (name, answer.text)
        assert "modelState" in answer.json() or status != 400 or "Accept" in message
    if operation.method == "GET":
        answer = api.request("GET", path, headers={"Content-Type": None})
        assert answer.status_code == 400
        assert "x-www-form-urlencoded is required" in answer.json()["message"]


@pytest.mark.behaviour("TR-01", "TR-03", "TR-04", "TR-05")
def test_the_documented_headers_are_enough(api: Api) -> None:
    answer = api.get("/api/cases/getByNumber", params={"value": DOC_CASE_NUMBER})
    assert answer.status_code == 200
    assert answer.json()["id"] == DOC_CASE
    # Header names are case-insensitive: SAFE C# client sends OrganizationID and OfficeID.
    spelled = api.request(
        "GET",
        "/api/tags",
        headers={"OrganizationId": None, "OfficeId": None, "OrganizationID": "1", "OfficeID": "1"},
    )
    assert spelled.status_code == 200


@pytest.mark.behaviour("TR-05")
def test_bodies_are_json_and_other_media_types_are_refused(api: Api) -> None:
    case = api.case()
    case["formData"] = []
    form = api.request(
        "PUT",
        f"/api/cases/{DOC_CASE}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data="id=2933671",
    )
    assert form.status_code == 415
    assert "application/x-www-form-urlencoded" in form.json()["message"]
    assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204


@pytest.mark.behaviour("TR-03")
def test_tokens_are_generated_per_user(tracker: EmulatorHandle, api: Api) -> None:
    made = tracker.control.call("POST", "tokens", json={"userId": 1, "reservedLicense": True})
    assert made["userId"] == 1
    assert made["organizationId"] == 1
    jack = api.as_token(made["token"])
    assert jack.get("/api/users/1").status_code == 200
    assert jack.get("/api/users/1", headers={"StaticToken": None}).status_code == 401


@pytest.mark.behaviour("TR-01", "TR-02", "TR-03", "TR-04", "TR-05")
def test_lenient_mode_relaxes_headers_but_not_tokens(make_emulator: Any) -> None:
    lenient = Api(make_emulator("tracker", strict=False))
    relaxed = {
        "Accept": None,
        "Content-Type": None,
        "StaticToken": None,
        "OrganizationId": None,
        "OfficeId": None,
    }
    answer = lenient.get(
        "/api/cases/getByNumber", params={"value": DOC_CASE_NUMBER}, headers=relaxed
    )
    assert answer.status_code == 200
    assert answer.json()["organizationId"] == 1
    refused = lenient.get("/api/tags", headers={**relaxed, "Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert lenient.get("/api/tags", headers={"StaticToken": "false"}).status_code == 401
    assert lenient.get("/api/tags", headers={"OrganizationId": "2"}).status_code == 403


@pytest.mark.behaviour("TR-02")
def test_data_is_scoped_to_the_organization(tracker: EmulatorHandle, api: Api) -> None:
    other = api.as_token(ORG2_TOKEN, OrganizationId="2", OfficeId="2")
    assert other.get(f"/api/cases/{DOC_CASE}").status_code == 404
    assert other.get("/api/cases/getByNumber", params={"value": DOC_CASE_NUMBER}).status_code == 404
    assert other.get("/api/tags").json() == []
    assert other.get("/api/items/seqOrgItemHistoryId/1").status_code == 204
    assert other.get("/api/items/4932605").status_code == 404
    assert other.get("/api/users/12659").status_code == 404
    created = other.post(
        "/api/cases", new_case(DOC_CASE_NUMBER, caseOfficerIds=[20001], offenseTypeId=5)
    )
    assert created.status_code == 200, created.text
    assert created.json()["organizationId"] == 2
    # The same number lives on in organization 1, untouched.
    assert api.case()["id"] == DOC_CASE


@pytest.mark.behaviour("TR-02")
def test_cases_are_scoped_to_the_office(tracker: EmulatorHandle, api: Api) -> None:
    office175 = api.as_token(tracker.credentials["token"], OfficeId="175")
    assert office175.get(f"/api/cases/{DOC_CASE}").status_code == 404
    created = office175.post("/api/cases", new_case())
    assert created.status_code == 200, created.text
    assert created.json()["officeId"] == 175
    assert created.json()["officeName"] == "175 Office"
    assert api.get(f"/api/cases/{created.json()['id']}").status_code == 404
    assert office175.get(f"/api/cases/{created.json()['id']}").status_code == 200


@pytest.mark.behaviour("TR-02")
def test_office_scope_can_be_turned_off(make_emulator: Any) -> None:
    handle = make_emulator("tracker", tracker={"office_scope": False})
    office175 = Api(handle, OfficeId="175")
    assert office175.get(f"/api/cases/{DOC_CASE}").status_code == 200


@pytest.mark.behaviour("TR-28")
@pytest.mark.parametrize("host", ["secure.trackerproducts.com", "securelb.trackerproducts.com"])
def test_the_same_api_answers_on_both_hosts(api: Api, host: str) -> None:
    answer = api.get("/api/tags", headers={"Host": host})
    assert answer.status_code == 200
    assert [tag["id"] for tag in answer.json()] == [2388, 2389, 2390, 2391]


@pytest.mark.behaviour("TR-28")
def test_the_contract_lists_both_hosts() -> None:
    urls = [server["url"] for server in CONTRACT.document["servers"]]
    assert urls == ["https://securelb.trackerproducts.com", "https://secure.trackerproducts.com"]


def test_unknown_paths_and_methods_answer_in_the_vendor_shape(api: Api) -> None:
    missing = api.get("/api/nothing")
    assert missing.status_code == 404
    assert "No HTTP resource" in missing.json()["message"]
    wrong = api.request("DELETE", f"/api/cases/{DOC_CASE}")
    assert wrong.status_code == 405
    assert "DELETE" in wrong.json()["message"]
