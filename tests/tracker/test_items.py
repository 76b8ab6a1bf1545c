"""Items (SAFE API Overview): no creation through the API (TR-13), the history feed (TR-15),
chain of custody (TR-16), and the control actions that stand in for SAFE's UI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from trackmock.control import ControlError
from trackmock.core.paths import fixtures_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, DOC_ITEM, MIKE, Api, admin_item

SHELF = {"toLocationId": 501, "toLocation": "Evidence Room/Shelf A1"}


def _feed(api: Api, number: int) -> Any:
    answer = api.get(f"/api/items/seqOrgItemHistoryId/{number}")
    return None if answer.status_code == 204 else answer.json()


@pytest.mark.behaviour("TR-13")
def test_items_cannot_be_created_through_the_api(api: Api) -> None:
    for body in ({}, {"description": "Knife", "primaryCaseId": DOC_CASE}, None):
        refused = api.post("/api/items", body)
        assert refused.status_code == 405
        assert "Item entry or Data Import" in refused.json()["message"]
    assert _feed(api, 3) is None


@pytest.mark.behaviour("TR-15")
def test_the_feed_serves_the_fixtures_then_no_response(api: Api) -> None:
    expected = json.loads((fixtures_dir() / "tracker/itemHistory.json").read_text())
    first = _feed(api, 1)
    assert first == {"historyType": "Create", "item": [expected[0]]}
    assert _feed(api, 2) == {"historyType": "Update", "item": [expected[1]]}
    end = api.get("/api/items/seqOrgItemHistoryId/3")
    assert end.status_code == 204
    assert end.content == b""
    assert api.get("/api/items/seqOrgItemHistoryId/0").status_code == 400


@pytest.mark.behaviour("TR-14", "TR-15")
def test_each_create_and_update_gets_the_next_number(tracker: EmulatorHandle, api: Api) -> None:
    made = admin_item(tracker, fullLocation="Evidence Room/Shelf A1", locationId=501)
    item = made["item"]
    assert made["history"]["seqOrgItemHistoryId"] == 3
    assert made["history"]["historyType"] == 1
    assert made["history"]["historyUserName"] == "Jack Sparrow"  # the UI user, not 'API User'
    assert (item["id"], item["sequentialCaseId"], item["barcode"]) == (DOC_ITEM + 1, 2, "4932606")
    assert item["primaryCaseNumber"] == "2018-0521-01"
    assert item["status"] == "Checked In"
    edited = tracker.control.call(
        "PUT",
        f"items/{item['id']}",
        json={"item": {"description": "Kitchen knife"}, "userId": MIKE},
    )
    assert edited["history"]["seqOrgItemHistoryId"] == 4
    assert edited["history"]["historyUserName"] == "Mike Singleton"
    created, updated = _feed(api, 3), _feed(api, 4)
    assert created["historyType"] == "Create"
    assert created["item"][0]["item"]["description"] == "Knife"  # as that change left it
    assert updated["historyType"] == "Update"
    assert updated["item"][0]["item"]["description"] == "Kitchen knife"
    assert updated["item"][0]["entity"] == updated["item"][0]["item"]
    assert _feed(api, 5) is None
    case = api.case()
    assert case["items"] == [DOC_ITEM, item["id"]]
    assert case["nextItemId"] == "3"


@pytest.mark.behaviour("TR-15")
def test_numbers_are_per_organization(tracker: EmulatorHandle) -> None:
    other = Api(tracker, "c5e8a1f3-9b2d-4c6e-8f0a-1b3d5f7a9c22", OrganizationId="2", OfficeId="2")
    case = other.post(
        "/api/cases",
        {
            "caseNumber": "CC-1",
            "caseOfficerIds": [20001],
            "offenseTypeId": 5,
            "active": True,
            "formData": [],
            "tags": [],
        },
    ).json()
    made = tracker.control.call("POST", "items", json={"item": {"primaryCaseId": case["id"]}})
    assert made["history"]["seqOrgItemHistoryId"] == 1
    assert made["item"]["sequentialOrgId"] == 1
    assert _feed(other, 1)["item"][0]["item"]["id"] == made["item"]["id"]
    assert _feed(Api(tracker), 3) is None


@pytest.mark.behaviour("TR-16")
def test_chain_of_custody_by_the_root_item_id(tracker: EmulatorHandle, api: Api) -> None:
    expected = json.loads((fixtures_dir() / "tracker/custody.json").read_text())
    assert api.get(f"/api/items/{DOC_ITEM}/coc").json() == expected
    history = _feed(api, 1)["item"][0]
    nested = api.get(f"/api/items/{history['historyId']}/coc")
    assert nested.status_code == 404
    assert f"use the root-level item id ({DOC_ITEM})" in nested.json()["message"]
    unknown = api.get("/api/items/2/coc")
    assert unknown.status_code == 404
    assert "not a nested id" in unknown.json()["message"]


@pytest.mark.behaviour("TR-15", "TR-16")
def test_custody_moves_are_recorded_and_change_the_item(tracker: EmulatorHandle, api: Api) -> None:
    item_id = admin_item(tracker, **{"fullLocation": "Lab/Intake", "locationId": 505})["item"]["id"]
    moves: list[dict[str, Any]] = [
        {"transactionType": "Check Out", "toUserId": MIKE, "notes": "To the lab"},
        {"transactionType": "Transfer", "toUserId": 1},
        {"transactionType": "Check In", **SHELF},
        {"transactionType": "Move", "toLocationId": 504, "toLocation": "Vault/Drawer 1"},
    ]
    for move in moves:
        moved = tracker.control.call("POST", f"items/{item_id}/custody", json=move)
        assert moved["custody"]["transactionType"] == move["transactionType"]
        assert moved["history"]["historyType"] == 2
    chain = api.get(f"/api/items/{item_id}/coc").json()
    assert [c["transactionType"] for c in chain] == [
        "Check In",
        "Check Out",
        "Transfer",
        "Check In",
        "Move",
    ]
    assert (chain[1]["toUser"], chain[1]["fromLocation"], chain[1]["notes"]) == (
        "Mike Singleton",
        "Lab/Intake",
        "To the lab",
    )
    assert (chain[2]["fromUser"], chain[2]["toUser"]) == ("Mike Singleton", "Jack Sparrow")
    assert (chain[4]["fromLocation"], chain[4]["toLocation"]) == (
        "Evidence Room/Shelf A1",
        "Vault/Drawer 1",
    )
    item = api.get(f"/api/items/{item_id}").json()
    assert (item["location"], item["fullLocation"], item["status"]) == (
        "Drawer 1",
        "Vault/Drawer 1",
        "Checked In",
    )
    assert [_feed(api, n)["historyType"] for n in range(3, 8)] == ["Create"] + ["Update"] * 4


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("items", {"item": {"primaryCaseId": 999}}, 400),
        ("items", {"item": {}}, 400),
        (f"items/{DOC_ITEM}", {"item": {"statusId": 7}}, 400),
        ("items", {"item": {"primaryCaseId": DOC_CASE, "recoveredById": 999}}, 400),
        ("items", {"item": {"primaryCaseId": DOC_CASE, "description": 5}}, 400),
        ("items", {"item": {"primaryCaseId": DOC_CASE}, "userId": 999}, 400),
        (f"items/{DOC_ITEM}", {"item": {"primaryCaseId": 1}}, 400),
        ("items/1", {"item": {}}, 404),
        (f"items/{DOC_ITEM}/custody", {"transactionType": "Check In", **SHELF}, 400),
        (f"items/{DOC_ITEM}/custody", {"transactionType": "Transfer", "toUserId": 1}, 400),
        (f"items/{DOC_ITEM}/custody", {"transactionType": "Check Out"}, 400),
        (f"items/{DOC_ITEM}/custody", {"transactionType": "Move"}, 400),
        (f"items/{DOC_ITEM}/custody", {"transactionType": "Lost"}, 400),
        ("items/1/custody", {"transactionType": "Move", **SHELF}, 404),
    ],
)
def test_bad_control_actions_change_nothing(
    tracker: EmulatorHandle, api: Api, path: str, body: dict[str, Any], status: int
) -> None:
    method = "PUT" if path.count("/") == 1 and not path.endswith("custody") else "POST"
    with pytest.raises(ControlError, match=f": {status} "):
        tracker.control.call(method, path, json=body)
    assert _feed(api, 3) is None
    assert len(api.get(f"/api/items/{DOC_ITEM}/coc").json()) == 2


def test_an_item_and_the_items_of_a_case(tracker: EmulatorHandle, api: Api) -> None:
    person = api.post(
        "/api/people",
        {
            "person": {
                "id": 0,
                "firstName": "Jo",
                "lastName": "Doe",
                "raceId": 1,
                "genderId": 1,
                "active": True,
                "deceased": False,
                "juvenile": False,
            }
        },
    ).json()
    for n in range(5):
        admin_item(tracker, description=f"Item {n}", peopleIds=[person["id"]] if n == 0 else [])
    item = api.get(f"/api/items/{DOC_ITEM}").json()
    assert item == json.loads((fixtures_dir() / "tracker/items.json").read_text())[0]
    with_people = api.get(
        f"/api/items/{DOC_ITEM + 1}", params={"includePeople": "true", "count": "true"}
    )
    assert with_people.json()["people"] == [person]
    assert with_people.json()["peopleNames"] == ["Jo Doe"]
    assert api.get("/api/items/1").status_code == 404
    page = api.post(
        f"/api/cases/{DOC_CASE}/items",
        {"orderBy": "description", "orderByAsc": False, "pageSize": 2, "pageNumber": 2},
    ).json()
    assert page["totalCount"] == 6
    assert [i["description"] for i in page["entities"]] == ["Item 2", "Item 1"]
    assert api.post(f"/api/cases/{DOC_CASE}/items", {"pageSize": 101}).status_code == 400
    assert api.post(f"/api/cases/{DOC_CASE}/items", {"orderBy": "x"}).status_code == 400
    assert api.post("/api/cases/999/items", {}).status_code == 404
