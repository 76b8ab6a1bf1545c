"""Persons on cases (TR-10..TR-12), user accounts (TR-08) and the lookups."""

from __future__ import annotations

import json
from typing import Any

import pytest
from trackmock.core.paths import fixtures_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, MIKE, Api

JANE = {
    "id": 0,
    "businessName": None,
    "firstName": "Jane",
    "middleName": None,
    "lastName": "Roe",
    "email": "jane.roe@example.com",
    "driverLicence": "R123-456-789",
    "raceId": 1,
    "genderId": 2,
    "dob": "1986-03-14T00:00:00Z",
    "active": True,
    "deceased": False,
    "juvenile": False,
    "personTypeId": 3,
}
HOME = {
    "id": 0,
    "entityId": 0,
    "line1": "412 York Street",
    "city": "Newport",
    "zip": "41071",
    "stateId": 18,
    "addressTypeId": 1,
    "countryId": 1,
    "isDefaultAddress": True,
}


def _person(**fields: Any) -> dict[str, Any]:
    return {**JANE, **fields}


@pytest.mark.behaviour("TR-10", "TR-12", "TR-27")
def test_a_person_with_an_address_is_entered_on_a_case(tracker: EmulatorHandle, api: Api) -> None:
    created = api.post("/api/people", {"person": JANE, "address": HOME, "caseId": DOC_CASE})
    assert created.status_code == 200, created.text
    person = created.json()
    assert person["id"] > 0
    assert person["name"] == "Jane Roe"
    assert person["organizationId"] == 1
    (address,) = person["addresses"]
    assert address["entityId"] == person["id"]
    assert address["id"] > 0
    assert address["line1"] == "412 York Street"
    assert api.get(f"/api/people/{person['id']}").json() == person
    people = api.get(f"/api/cases/{DOC_CASE}/people").json()
    assert [(p["personId"], p["typeId"], p["type"]) for p in people] == [
        (person["id"], 3, "Witness")
    ]
    assert people[0]["person"] == person
    case = api.case()
    assert (case["peopleAmount"], case["historiesAmount"]) == (1, 1)


@pytest.mark.behaviour("TR-10")
@pytest.mark.parametrize(
    ("person", "address", "status", "field"),
    [
        (_person(id=5), HOME, 400, "model.person.id"),
        (_person(firstName=None, lastName=None), None, 400, "model.person"),
        (_person(raceId=99), None, 400, "model.person.raceId"),
        (_person(genderId=None), None, 400, "model.person.genderId"),
        (_person(personTypeId=42), None, 400, "model.person.personTypeId"),
        (JANE, {**HOME, "addressTypeId": 9}, 400, "model.address.addressTypeId"),
        (JANE, {**HOME, "stateId": 99}, 400, "model.address.stateId"),
        (JANE, {k: v for k, v in HOME.items() if k != "addressTypeId"}, 400, "model.address"),
        ({k: v for k, v in JANE.items() if k != "juvenile"}, None, 400, "model.person"),
    ],
)
def test_a_person_needs_the_documented_fields(
    api: Api, person: dict[str, Any], address: Any, status: int, field: str
) -> None:
    refused = api.post("/api/people", {"person": person, "address": address})
    assert refused.status_code == status, refused.text
    assert field in refused.json()["modelState"], refused.json()


@pytest.mark.behaviour("TR-10")
def test_a_business_needs_no_first_and_last_name(api: Api) -> None:
    business = _person(firstName=None, lastName=None, businessName="Acme Pawn", driverLicence=None)
    created = api.post("/api/people", {"person": business})
    assert created.status_code == 200, created.text
    assert created.json()["name"] == "Acme Pawn"
    assert created.json()["addresses"] == []


@pytest.mark.behaviour("TR-10")
@pytest.mark.parametrize(
    "twin",
    [
        _person(firstName="Janet", driverLicence="r123-456-789"),
        _person(driverLicence="X-1", firstName=" jane ", lastName="ROE"),
        _person(firstName=None, lastName=None, businessName="Acme Pawn", driverLicence=None),
    ],
)
def test_duplicates_are_refused(api: Api, twin: dict[str, Any]) -> None:
    assert api.post("/api/people", {"person": JANE}).status_code == 200
    business = _person(firstName=None, lastName=None, businessName="acme pawn", driverLicence=None)
    assert api.post("/api/people", {"person": business}).status_code == 200
    refused = api.post("/api/people", {"person": twin})
    assert refused.status_code == 409
    assert "already exists" in refused.json()["message"]


@pytest.mark.behaviour("TR-10")
def test_duplicate_detection_is_a_setting(make_emulator: Any) -> None:
    api = Api(make_emulator("tracker", tracker={"person_duplicate_check": False}))
    assert api.post("/api/people", {"person": JANE}).status_code == 200
    assert api.post("/api/people", {"person": JANE}).status_code == 200


@pytest.mark.behaviour("TR-10")
def test_an_entry_to_an_unknown_case_stores_nothing(api: Api) -> None:
    refused = api.post("/api/people", {"person": JANE, "caseId": 999})
    assert refused.status_code == 404
    assert api.post("/api/people", {"person": JANE}).status_code == 200  # no duplicate left


@pytest.mark.behaviour("TR-11", "TR-12")
def test_an_existing_person_is_put_on_an_existing_case(tracker: EmulatorHandle, api: Api) -> None:
    person = api.post("/api/people", {"person": JANE}).json()
    assert api.get(f"/api/cases/{DOC_CASE}/people").json() == []
    link = {"personId": person["id"], "typeId": 2, "notes": "Called it in"}
    added = api.post(f"/api/people/addPersonToCase/{DOC_CASE}", link)
    assert added.status_code == 200, added.text
    assert added.json()["type"] == "Victim"
    assert added.json()["person"] == person
    tracker.clock.advance(61)
    people = api.get(f"/api/cases/{DOC_CASE}/people").json()
    assert people == [added.json()]
    assert api.case()["peopleAmount"] == 1
    again = api.post(f"/api/people/addPersonToCase/{DOC_CASE}", link)
    assert again.status_code == 409
    assert api.post("/api/people/addPersonToCase/999", link).status_code == 404
    assert (
        api.post(f"/api/people/addPersonToCase/{DOC_CASE}", {**link, "personId": 1}).status_code
        == 404
    )
    assert (
        api.post(f"/api/people/addPersonToCase/{DOC_CASE}", {**link, "typeId": 99}).status_code
        == 400
    )
    assert api.get("/api/cases/999/people").status_code == 404


@pytest.mark.behaviour("TR-10")
def test_a_person_is_updated_as_a_whole_record(tracker: EmulatorHandle, api: Api) -> None:
    person = api.post("/api/people", {"person": JANE, "address": HOME}).json()
    other = api.post("/api/people", {"person": _person(firstName="John", driverLicence=None)})
    tracker.clock.advance(5)
    changed = {
        **person,
        "middleName": "Q",
        "addresses": [
            *person["addresses"],
            {**HOME, "line1": "9 Elm", "line2": None, "date": None},
        ],
    }
    assert api.put(f"/api/people/{person['id']}", changed).status_code == 204
    after = api.get(f"/api/people/{person['id']}").json()
    assert after["middleName"] == "Q"
    assert after["updatedDateTime"] == "2025-02-21T10:00:05.000Z"
    assert after["createDateTime"] == person["createDateTime"]
    assert [a["line1"] for a in after["addresses"]] == ["412 York Street", "9 Elm"]
    assert all(a["id"] > 0 and a["entityId"] == person["id"] for a in after["addresses"])
    clash = {**after, "firstName": "John"}
    assert api.put(f"/api/people/{person['id']}", clash).status_code == 409
    assert api.put(f"/api/people/{other.json()['id']}", after).status_code == 400
    assert api.put("/api/people/1", {**after, "id": 1}).status_code == 404


def test_person_typeahead_and_email_in_use(api: Api) -> None:
    for n in range(12):
        body = _person(firstName=f"Jane{n}", driverLicence=f"D{n}", email=f"j{n}@example.com")
        assert api.post("/api/people", {"person": body}).status_code == 200
    found = api.get("/api/people/typeahead", params={"search": "roe"}).json()
    assert len(found["people"]) == 10
    assert found["peopleCountLimitExceeded"] is True
    assert found["people"][0]["text"] == "Roe, Jane0 (j0@example.com)"
    one = api.get("/api/people/typeahead", params={"search": "jane11"}).json()
    assert one == {"people": [one["people"][0]], "peopleCountLimitExceeded": False}
    assert api.get("/api/people/isemailalreadyinuse/J3@example.com/").json() is True
    assert api.get("/api/people/isemailalreadyinuse/nobody@example.com/").json() is False


@pytest.mark.behaviour("TR-08")
def test_users_are_created_and_read_by_user_id(tracker: EmulatorHandle, api: Api) -> None:
    body = {
        "firstName": "Ann",
        "lastName": "Lee",
        "organizationId": 1,
        "officeId": 175,
        "email": "ann.lee@example.com",
        "groups": [69],
    }
    created = api.post("/api/users/", body)
    assert created.status_code == 200, created.text
    user = created.json()
    assert user["id"] == 20002  # after the last user of the fixtures
    assert len(user["guid"]) == 36
    assert user["groups"] == [69]
    assert api.get(f"/api/users/{user['id']}").json() == user
    assert api.get(f"/api/users/{MIKE}").json()["lastName"] == "Singleton"
    assert api.get("/api/users/999").status_code == 404
    found = api.get("/api/users/typeahead", params={"search": "le"}).json()
    assert found == {"users": [{"id": user["id"], "text": "Ann Lee"}], "usersCount": 1}


@pytest.mark.behaviour("TR-08")
def test_user_emails_are_unique_across_the_system(tracker: EmulatorHandle, api: Api) -> None:
    body = {"firstName": "A", "lastName": "B", "organizationId": 1, "officeId": 1}
    taken = api.post("/api/users/", {**body, "email": "Dana.Whitfield@example.org"})
    assert taken.status_code == 409  # a user of organization 2
    assert "already in use" in taken.json()["message"]
    mike = api.as_token(tracker.credentials["limitedToken"])
    assert mike.post("/api/users/", {**body, "email": "x@example.com"}).status_code == 403
    for change, field in (
        ({"organizationId": 2}, "user.organizationId"),
        ({"officeId": 2}, "user.officeId"),
        ({"groups": [5]}, "user.groups"),
    ):
        refused = api.post("/api/users/", {**body, "email": "x@example.com", **change})
        assert refused.status_code == 400
        assert field in refused.json()["modelState"]
    assert api.post("/api/users/", {**body, "email": "not-an-email"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "fixture"),
    [
        ("races", "races"),
        ("genders", "genders"),
        ("personTypes", "personTypes"),
        ("addresstypes", "addressTypes"),
        ("states", "states"),
    ],
)
def test_lookups(api: Api, path: str, fixture: str) -> None:
    expected = json.loads((fixtures_dir() / f"tracker/{fixture}.json").read_text())
    assert api.get(f"/api/{path}").json() == expected


def test_offense_types_offices_and_groups(api: Api) -> None:
    every = api.get("/api/offensetypes").json()
    assert [t["id"] for t in every] == [1, 2, 3, 5, 74, 178]
    mine = api.get("/api/offensetypes", params={"belongToOrganization": "true"}).json()
    assert [t["id"] for t in mine] == [1, 2, 3, 74, 178]
    assert [o["id"] for o in api.get("/api/offices").json()] == [1, 175]
    assert [g["id"] for g in api.get("/api/groups").json()] == [1, 43, 68, 69, 76, 1387, 1388, 1389]


@pytest.mark.behaviour("TR-08", "TR-10", "TR-21")
def test_person_form_data_must_name_a_people_form(api: Api) -> None:
    entry = {"formId": 911, "data": '{"field8538":"2"}'}
    person = api.post("/api/people", {"person": _person(formData=[entry])})
    assert person.status_code == 400
    assert (
        "is not a People form" in person.json()["modelState"]["model.person.formData[0].formId"][0]
    )
    user = {"firstName": "A", "lastName": "B", "organizationId": 1, "officeId": 1}
    user |= {"email": "a.b@example.com", "personFormData": [entry]}
    refused = api.post("/api/users/", user)
    assert refused.status_code == 400
    assert "user.personFormData[0].formId" in refused.json()["modelState"]
    assert api.post("/api/people", {"person": JANE}).json()["formData"] == []
