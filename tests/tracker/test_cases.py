"""Cases (SAFE Edit a Case): create, read, whole-object update, form data, tags and counters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from trackmock.core.paths import fixtures_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, DOC_CASE_NUMBER, MIKE, Api, new_case

FIXTURES = fixtures_dir() / "tracker"
PRECINCT = {
    "formId": 911,
    "formName": "Precinct2",
    "data": '{"field8538":"2"}',
    "entityId": "2933671",
    "dateFields": [],
}


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _history(tracker: EmulatorHandle, case_id: int = DOC_CASE) -> list[dict[str, Any]]:
    return tracker.control.call("GET", f"cases/{case_id}/history")  # type: ignore[no-any-return]


@pytest.mark.behaviour("TR-09", "TR-17", "TR-19")
def test_a_case_by_number_is_the_seeds_record(api: Api) -> None:
    answer = api.get("/api/cases/getByNumber", params={"value": DOC_CASE_NUMBER})
    assert answer.status_code == 200
    assert answer.json() == _fixture("cases")[0]
    assert answer.json()["caseOfficerIds"] == [MIKE]
    assert "caseOfficerId" not in answer.json()
    assert answer.json()["formData"] is None
    assert api.get(f"/api/cases/{DOC_CASE}").json() == answer.json()
    missing = api.get("/api/cases/getByNumber", params={"value": "2018-0521-99"})
    assert missing.status_code == 404
    assert missing.json() == {"message": "No case with number 2018-0521-99 was found."}
    assert api.get("/api/cases/getByNumber").status_code == 400


@pytest.mark.behaviour("TR-09", "TR-14", "TR-27")
def test_a_posted_case_is_found_by_its_number(tracker: EmulatorHandle, api: Api) -> None:
    mike = api.as_token(tracker.credentials["limitedToken"])
    created = mike.post("/api/cases", new_case(tags=[{"tagModelId": 2389, "name": "x"}]))
    assert created.status_code == 200, created.text
    case = created.json()
    assert case["id"] == DOC_CASE + 1
    assert case["creatorId"] == MIKE
    assert case["creator"] == "API User"
    assert case["createdDate"] == "2025-02-21T10:00:00.000Z"
    assert case["offenseDate"] == "2025-02-21T10:00:00.000Z"  # defaults to server time
    assert case["caseOfficers"] == ["Mike Singleton"]
    assert case["offenseType"] == "Alcohol Related"
    assert case["tags"] == [{"tagModelId": 2389, "name": "Test Tag 2"}]
    assert (case["tagsAmount"], case["historiesAmount"], case["peopleAmount"]) == (1, 1, 0)
    assert case["formData"] is None
    assert api.case("2025-0221-01") == case
    assert [h["userName"] for h in _history(tracker, case["id"])] == ["API User"]
    duplicate = api.post("/api/cases", new_case())
    assert duplicate.status_code == 409
    assert duplicate.json() == {"message": "Case number 2025-0221-01 already exists."}


@pytest.mark.behaviour("TR-09")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"caseOfficerIds": [404]}, "case.caseOfficerIds[0]"),
        ({"offenseTypeId": 5}, "case.offenseTypeId"),
        ({"tags": [{"tagModelId": 1, "name": "x"}]}, "case.tags[0].tagModelId"),
        ({"caseNumber": ""}, "case.caseNumber"),
        ({"offenseDate": "yesterday"}, "case.offenseDate"),
        ({"formData": [{"formId": 1, "data": "{}"}]}, "case.formData[0].formId"),
    ],
)
def test_a_bad_case_is_refused_naming_the_field(
    tracker: EmulatorHandle, api: Api, change: dict[str, Any], field: str
) -> None:
    refused = api.post("/api/cases", new_case(**change))
    assert refused.status_code == 400
    assert field in refused.json()["modelState"], refused.json()
    assert api.post("/api/cases/search", {}).json()["count"] == 1  # nothing stored


@pytest.mark.behaviour("TR-18", "TR-27")
def test_put_of_the_whole_case_answers_204_with_no_body(tracker: EmulatorHandle, api: Api) -> None:
    case = api.case()
    case["formData"] = []
    case["offenseDescription"] = "Public Intoxication at a shopping mall"
    case["historiesAmount"] = 14  # what the vendor document sends: counters are the server's
    case["peopleAmount"] = 1
    answer = api.put(f"/api/cases/{DOC_CASE}", case)
    assert answer.status_code == 204
    assert answer.content == b""
    assert "Content-Type" not in answer.headers
    after = api.case()
    assert after["offenseDescription"] == "Public Intoxication at a shopping mall"
    assert (after["historiesAmount"], after["peopleAmount"]) == (1, 0)
    assert _history(tracker)[0]["change"] == "offenseDescription changed"
    unchanged = api.put(f"/api/cases/{DOC_CASE}", {**after, "formData": []})
    assert unchanged.status_code == 204
    assert api.case()["historiesAmount"] == 1


@pytest.mark.behaviour("TR-18")
def test_put_refusals(api: Api) -> None:
    case = {**api.case(), "formData": []}
    other = api.post("/api/cases", new_case()).json()
    wrong_id = api.put(f"/api/cases/{other['id']}", case)
    assert wrong_id.status_code == 400
    assert "case.id" in wrong_id.json()["modelState"]
    missing = api.put("/api/cases/999", {**case, "id": 999})
    assert missing.status_code == 404
    taken = api.put(f"/api/cases/{DOC_CASE}", {**case, "caseNumber": other["caseNumber"]})
    assert taken.status_code == 409
    incomplete = api.put(f"/api/cases/{DOC_CASE}", {"id": DOC_CASE})
    assert incomplete.status_code == 400
    assert api.case() == {**case, "formData": None}


@pytest.mark.behaviour("TR-18")
def test_a_refusal_of_a_7_mb_body_does_not_echo_it(api: Api) -> None:
    case = api.case()
    case["offenseDescription"] = 12  # a type error the refusal names...
    case["caseNumber"] = "c" * 7_000_000  # ...next to a value too large to quote whole
    refused = api.put(f"/api/cases/{DOC_CASE}", case)
    assert refused.status_code == 400, refused.text[:200]
    assert len(refused.content) < 4000
    assert api.case()["caseNumber"] == DOC_CASE_NUMBER  # nothing stored


def test_a_changed_number_moves_the_case(api: Api) -> None:
    case = {**api.case(), "formData": [], "caseNumber": "2018-0521-02"}
    assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204
    assert api.case("2018-0521-02")["id"] == DOC_CASE
    assert api.get("/api/cases/getByNumber", params={"value": DOC_CASE_NUMBER}).status_code == 404


@pytest.mark.behaviour("TR-19")
def test_a_null_form_data_is_refused_with_a_message_asking_for_an_array(api: Api) -> None:
    case = api.case()
    assert case["formData"] is None
    case["offenseDescription"] = "changed"
    refused = api.put(f"/api/cases/{DOC_CASE}", case)
    assert refused.status_code == 400
    assert refused.json() == {
        "message": "The request is invalid.",
        "modelState": {
            "case.formData": ["formData must be an array; send [] when the case has no form data."]
        },
    }
    assert api.case()["offenseDescription"] == "Public Intoxication"
    assert api.put(f"/api/cases/{DOC_CASE}", {**case, "formData": []}).status_code == 204


@pytest.mark.behaviour("TR-17")
def test_the_v99_case_officer_id_is_refused_naming_the_v100_field(api: Api) -> None:
    case = {**api.case(), "formData": []}
    v99 = {k: v for k, v in case.items() if k != "caseOfficerIds"} | {"caseOfficerId": MIKE}
    message = "caseOfficerId was replaced in v100 by caseOfficerIds, an array of user ids."
    for body in (v99, {**case, "caseOfficerId": MIKE}):
        refused = api.put(f"/api/cases/{DOC_CASE}", body)
        assert refused.status_code == 400
        assert refused.json()["modelState"]["case.caseOfficerId"] == [message]
    created = api.post("/api/cases", new_case(caseOfficerId=MIKE))
    assert created.status_code == 400
    assert created.json()["modelState"]["case.caseOfficerId"] == [message]


@pytest.mark.behaviour("TR-17")
def test_lenient_mode_ignores_the_v99_field_beside_the_v100_one(make_emulator: Any) -> None:
    for settings in ({"strict": False}, {"tracker": {"refuse_v99_fields": False}}):
        api = Api(make_emulator("tracker", **settings))
        case = {**api.case(), "formData": [], "caseOfficerId": 1}
        assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204
        assert api.case()["caseOfficerIds"] == [MIKE]


@pytest.mark.behaviour("TR-20")
def test_forms_by_type_with_their_schema_as_a_json_string(api: Api) -> None:
    forms = api.get("/api/forms", params={"formType": "Cases"}).json()
    assert forms == _fixture("forms")
    assert [f["id"] for f in forms] == [34, 759, 830, 911]
    fields = json.loads(forms[3]["schema"])["fields"]
    assert {"type", "name", "displayName", "options"} <= fields[0].keys()
    assert fields[0]["name"] == "field8538"
    assert api.get("/api/forms", params={"formType": "All"}).json() == forms
    assert api.get("/api/forms").json() == forms
    assert api.get("/api/forms", params={"formType": "Items"}).json() == []
    assert api.get("/api/forms", params={"formType": "People"}).json() == []
    assert api.get("/api/forms", params={"formType": "Other"}).status_code == 400


@pytest.mark.behaviour("TR-21", "TR-27")
def test_form_data_is_added_by_a_case_put(tracker: EmulatorHandle, api: Api) -> None:
    case = api.case()
    case["formData"] = [PRECINCT]
    assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204
    after = api.case()
    (entry,) = after["formData"]
    assert entry["formId"] == 911
    assert entry["formName"] == "Precinct2"
    assert entry["data"] == '{"field8538":"2"}'
    assert entry["entityId"] == DOC_CASE
    assert (entry["organizationId"], entry["officeId"], entry["active"]) == (1, 1, True)
    assert len(entry["id"]) == 24
    assert after["formDataAmount"] == 1
    assert after["historiesAmount"] == 1
    # Sent back as read (the vendor document's third PUT), the entry keeps its id; [] removes it.
    assert api.put(f"/api/cases/{DOC_CASE}", after).status_code == 204
    assert api.case()["formData"] == [entry]
    assert api.put(f"/api/cases/{DOC_CASE}", {**after, "formData": []}).status_code == 204
    assert api.case()["formData"] is None
    assert api.case()["formDataAmount"] == 0


@pytest.mark.behaviour("TR-21")
def test_the_seeds_own_put_bodies_are_accepted(api: Api) -> None:
    seed_bodies = json.loads(
        (fixtures_dir().parent / "contracts/tracker/schemas/CaseUpdate.json").read_text()
    )["examples"]
    for body in seed_bodies:
        answer = api.put(f"/api/cases/{DOC_CASE}", body)
        assert answer.status_code == 204, answer.text
    after = api.case()
    assert after["offenseDescription"] == "Public Intoxication at a train station, again"
    assert [e["formId"] for e in after["formData"]] == [911]
    assert after["tags"] == [{"tagModelId": 2388, "name": "Test Tag"}]


@pytest.mark.behaviour("TR-21")
@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('{"field9999":"1"}', "field9999 is not a field of form 911"),
        ('{"field8538":"7"}', "'7' is not one of its options' values"),
        ("not json", "data must be a JSON string of an object"),
        ('["field8538"]', "data must be a JSON string of an object"),
        ('{"field8538":{"value":"1"}}', "takes a single value"),
    ],
)
def test_form_data_must_fit_the_forms_schema(api: Api, data: str, problem: str) -> None:
    case = api.case()
    case["formData"] = [{**PRECINCT, "data": data}]
    refused = api.put(f"/api/cases/{DOC_CASE}", case)
    assert refused.status_code == 400
    (messages,) = refused.json()["modelState"].values()
    assert problem in messages[0]
    assert api.case()["formData"] is None


@pytest.mark.behaviour("TR-21")
def test_form_data_entry_checks(api: Api) -> None:
    case = api.case()
    checks = [
        ([PRECINCT, PRECINCT], "case.formData[1].formId"),
        ([{**PRECINCT, "entityId": 1}], "case.formData[0].entityId"),
        ([{**PRECINCT, "formId": 34, "data": '{"field3377":"2","field9715":"3"}'}], None),
        ([{"formId": 830, "data": '{"field2868":"nobody"}'}], "case.formData[0].data"),
    ]
    for entries, field in checks:
        answer = api.put(f"/api/cases/{DOC_CASE}", {**case, "formData": entries})
        if field is None:
            assert answer.status_code == 204, answer.text
        else:
            assert answer.status_code == 400
            assert field in answer.json()["modelState"]


@pytest.mark.behaviour("TR-21")
def test_the_form_check_can_be_turned_off(make_emulator: Any) -> None:
    api = Api(make_emulator("tracker", tracker={"form_data_check": False}))
    case = {**api.case(), "formData": [{**PRECINCT, "data": '{"anything":"7"}'}]}
    assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204


@pytest.mark.behaviour("TR-22")
def test_tags_are_added_by_a_put_and_their_case_counts_follow(api: Api) -> None:
    assert api.get("/api/tags").json() == _fixture("tags")
    case = {**api.case(), "formData": [], "tags": [{"tagModelId": 2388, "name": "Test Tag"}]}
    assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204
    after = api.case()
    assert after["tags"] == [{"tagModelId": 2388, "name": "Test Tag"}]
    assert after["tagsAmount"] == 1
    counts = {t["id"]: t["casesCount"] for t in api.get("/api/tags").json()}
    assert counts == {2388: 3, 2389: 1, 2390: 1, 2391: 0}
    swapped = {**after, "formData": [], "tags": [{"tagModelId": 2391, "name": "Test Tag 4"}]}
    assert api.put(f"/api/cases/{DOC_CASE}", swapped).status_code == 204
    counts = {t["id"]: t["casesCount"] for t in api.get("/api/tags").json()}
    assert counts == {2388: 2, 2389: 1, 2390: 1, 2391: 1}
    unknown = {**swapped, "tags": [{"tagModelId": 1, "name": "Nope"}]}
    refused = api.put(f"/api/cases/{DOC_CASE}", unknown)
    assert refused.status_code == 400
    assert "case.tags[0].tagModelId" in refused.json()["modelState"]


@pytest.mark.behaviour("TR-27")
def test_every_change_adds_a_history_record(tracker: EmulatorHandle, api: Api) -> None:
    case = {**api.case(), "formData": [PRECINCT]}
    case |= {"offenseLocation": "Cincinnati, OH, USA", "tags": [{"tagModelId": 2390, "name": ""}]}
    assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204
    assert api.case()["historiesAmount"] == 3
    changes = [h["change"] for h in _history(tracker)]
    assert changes == ["offenseLocation changed", "formData changed", "tags changed"]
    assert {h["userName"] for h in _history(tracker)} == {"API User"}


def test_search_typeahead_and_most_recent(tracker: EmulatorHandle, api: Api) -> None:
    for n in range(1, 13):
        assert api.post("/api/cases", new_case(f"2025-{n:04d}")).status_code == 200
    page = api.post(
        "/api/cases/search",
        {"search": "2025-", "orderBy": "caseNumber", "orderByAsc": False, "pageSize": 5},
    ).json()
    assert page["count"] == 12
    assert [c["caseNumber"] for c in page["data"]][:2] == ["2025-0012", "2025-0011"]
    assert api.post("/api/cases/search", {"orderBy": "nope"}).status_code == 400
    assert api.post("/api/cases/search", {"pageSize": 101}).status_code == 400
    typeahead = api.get("/api/cases/typeahead", params={"search": "2025-000"}).json()
    assert next(c["text"] for c in typeahead["cases"]) == "2025-0009"
    assert len(typeahead["cases"]) == 9
    recent = api.get("/api/cases/mostRecent").json()["cases"]
    assert len(recent) == 10
    assert recent[0]["text"] == "2025-0012"
