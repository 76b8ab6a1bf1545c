"""Auto disposition (SAFE Edit a Case "Possible Error Scenarios", TR-23..TR-26)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from trackmock.core.paths import fixtures_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, Api, new_case

AUTO_DISPO = {"autoDispoErrors": ["Offense Type and Auto Disposition Settings are not found"]}
BOMB_THREAT = 178
GROUPS = {
    "listPermissionGroupIds": [1, 68, 69, 1387, 1388, 1389],
    "createPermissionGroupIds": [1, 68, 69, 1387, 1389],
    "updatePermissionGroupIds": [43, 68, 69, 1387, 1389],
}


def _seed_put(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings PUT of SAFE Edit a Case: only the offense type without settings, and the
    three arrays."""
    missing = next(s for s in settings["settings"] if s["offenseTypeId"] == BOMB_THREAT)
    return {
        "isAutoDispositionOn": True,
        "officeAutoDispositionReviewers": settings["officeAutoDispositionReviewers"],
        "settings": [{**missing, "daysToFollowUp": 100, "organizationId": 1}],
        **GROUPS,
    }


@pytest.mark.behaviour("TR-23", "TR-24", "TR-25")
def test_missing_settings_fail_case_writes_until_they_are_added(
    tracker: EmulatorHandle, api: Api
) -> None:
    refused = api.post("/api/cases", new_case(offenseTypeId=BOMB_THREAT))
    assert refused.status_code == 400
    assert refused.json() == AUTO_DISPO
    case = {**api.case(), "formData": [], "offenseTypeId": BOMB_THREAT}
    assert api.put(f"/api/cases/{DOC_CASE}", case).json() == AUTO_DISPO
    assert api.case()["offenseTypeId"] == 74  # unchanged
    settings = api.get("/api/autoDisposition/settings/").json()
    put = api.put("/api/autoDisposition/settings/", _seed_put(settings))
    assert put.status_code == 204
    assert api.post("/api/cases", new_case(offenseTypeId=BOMB_THREAT)).status_code == 200
    assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204
    tracker.clock.advance(61)
    after = api.get("/api/autoDisposition/settings/").json()
    bomb = next(s for s in after["settings"] if s["offenseTypeId"] == BOMB_THREAT)
    assert bomb["id"] > 4
    assert (bomb["daysToFollowUp"], bomb["organizationId"]) == (100, 1)
    others = [s for s in after["settings"] if s["offenseTypeId"] != BOMB_THREAT]
    assert others == [s for s in settings["settings"] if s["offenseTypeId"] != BOMB_THREAT]


@pytest.mark.behaviour("TR-24")
def test_the_settings_show_a_zero_row_for_an_offense_type_without_settings(api: Api) -> None:
    settings = api.get("/api/autoDisposition/settings/").json()
    organization = json.loads((fixtures_dir() / "tracker/organizations.json").read_text())[0]
    assert settings == organization["autoDisposition"]
    bomb = next(s for s in settings["settings"] if s["offenseTypeId"] == BOMB_THREAT)
    assert (bomb["id"], bomb["daysToFollowUp"], bomb["organizationId"]) == (0, 0, 0)
    assert bomb["offenseType"]["name"] == "Bomb Threat"
    assert settings["isAutoDispositionOn"] is True


@pytest.mark.behaviour("TR-25")
def test_the_settings_put_needs_an_org_admin_and_the_three_arrays(
    tracker: EmulatorHandle, api: Api
) -> None:
    body = _seed_put(api.get("/api/autoDisposition/settings/").json())
    mike = api.as_token(tracker.credentials["limitedToken"])
    refused = mike.put("/api/autoDisposition/settings/", body)
    assert refused.status_code == 403
    assert refused.json() == {"message": "This action requires a user with orgAdmin permissions."}
    for array in GROUPS:
        missing = api.put(
            "/api/autoDisposition/settings/", {k: v for k, v in body.items() if k != array}
        )
        assert missing.status_code == 400
        assert array in missing.text
    wrong_group = api.put(
        "/api/autoDisposition/settings/", {**body, "createPermissionGroupIds": [43]}
    )
    assert wrong_group.status_code == 400
    assert "settings.createPermissionGroupIds" in wrong_group.json()["modelState"]
    wrong_type = {**body, "settings": [{**body["settings"][0], "offenseTypeId": 5}]}
    assert api.put("/api/autoDisposition/settings/", wrong_type).status_code == 400
    assert api.post("/api/cases", new_case(offenseTypeId=BOMB_THREAT)).json() == AUTO_DISPO


@pytest.mark.behaviour("TR-26")
@pytest.mark.parametrize(
    ("access_type", "fixture"),
    [
        (1, "autoDispositionGroupsList"),
        (4, "autoDispositionGroupsCreate"),
        (3, "autoDispositionGroupsUpdate"),
    ],
)
def test_groups_by_access_type(api: Api, access_type: int, fixture: str) -> None:
    groups = api.get(f"/api/autoDisposition/{access_type}/groups/").json()
    assert groups == json.loads((fixtures_dir() / f"tracker/{fixture}.json").read_text())
    assert all(set(g) == {"id", "text"} for g in groups)
    if access_type == 1:
        assert groups[0] == {"id": 1, "text": "Not used Admin"}


@pytest.mark.behaviour("TR-26")
def test_another_access_type_is_refused(api: Api) -> None:
    assert api.get("/api/autoDisposition/2/groups/").status_code == 400


@pytest.mark.behaviour("TR-23")
def test_auto_disposition_off_lets_every_offense_type_through(
    tracker: EmulatorHandle, api: Api
) -> None:
    switched = tracker.control.call("PUT", "autoDisposition", json={"isAutoDispositionOn": False})
    assert switched["isAutoDispositionOn"] is False
    assert api.post("/api/cases", new_case(offenseTypeId=BOMB_THREAT)).status_code == 200


@pytest.mark.behaviour("TR-23")
def test_the_organization_wide_reading_is_a_setting(make_emulator: Any) -> None:
    off = Api(make_emulator("tracker", tracker={"auto_disposition": False}))
    assert off.post("/api/cases", new_case(offenseTypeId=BOMB_THREAT)).status_code == 200
    wide = Api(make_emulator("tracker", tracker={"auto_disposition_scope": "organization"}))
    # Alcohol Related has settings, but Bomb Threat lacks them: every case write fails.
    assert wide.post("/api/cases", new_case()).json() == AUTO_DISPO
    settings = wide.get("/api/autoDisposition/settings/").json()
    assert wide.put("/api/autoDisposition/settings/", _seed_put(settings)).status_code == 204
    assert wide.post("/api/cases", new_case()).status_code == 200
