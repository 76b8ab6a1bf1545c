"""Licenses (TR-06): reserved ones always pass, the others share the organization's pool."""

from __future__ import annotations

from typing import Any

import pytest
from trackmock.clients.tracker import LicenseError, TrackerClient
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import Api

NO_LICENSES = "No licenses are available."


def _jack(tracker: EmulatorHandle, api: Api) -> Api:
    """A second user without a reserved license (Jack Sparrow, user 1)."""
    token = tracker.control.call("POST", "tokens", json={"userId": 1})["token"]
    return api.as_token(token)


@pytest.mark.behaviour("TR-06")
def test_an_exhausted_pool_refuses_only_users_without_a_reserved_license(
    tracker: EmulatorHandle, api: Api
) -> None:
    mike = api.as_token(tracker.credentials["limitedToken"])
    assert mike.get("/api/tags").status_code == 200
    pool = tracker.control.call("PUT", "licenses", json={"licenseCount": 0})
    assert pool == {
        "organizationId": 1,
        "licenseCount": 0,
        "reservedUsers": 1,
        "inUse": 0,
        "available": 0,
    }
    refused = mike.get("/api/races")
    assert refused.status_code == 403
    assert refused.json() == {"message": NO_LICENSES}
    assert mike.post("/api/cases/search", {}).status_code == 403
    assert api.get("/api/races").status_code == 200  # the reserved license always passes


@pytest.mark.behaviour("TR-06")
def test_the_shared_licenses_go_to_the_first_callers_until_they_are_idle(
    tracker: EmulatorHandle, api: Api
) -> None:
    tracker.control.call("PUT", "licenses", json={"licenseCount": 2})  # 1 reserved + 1 shared
    mike = api.as_token(tracker.credentials["limitedToken"])
    jack = _jack(tracker, api)
    assert mike.get("/api/races").status_code == 200
    assert tracker.control.call("GET", "licenses")["inUse"] == 1
    assert jack.get("/api/races").json() == {"message": NO_LICENSES}
    tracker.clock.advance(600)
    assert mike.get("/api/races").status_code == 200  # still his, and refreshed
    tracker.clock.advance(1199)
    assert jack.get("/api/genders").status_code == 403
    tracker.clock.advance(1)  # Mike idle for 1200 s: his license is free again
    assert jack.get("/api/genders").status_code == 200
    assert mike.get("/api/genders").json() == {"message": NO_LICENSES}


@pytest.mark.behaviour("TR-06")
def test_the_pool_size_and_idle_time_are_settings(make_emulator: Any) -> None:
    handle = make_emulator("tracker", tracker={"license_count": 1, "license_idle_seconds": 5})
    mike = Api(handle, handle.credentials["limitedToken"])
    assert handle.control.call("GET", "licenses")["licenseCount"] == 1
    assert mike.get("/api/races").json() == {"message": NO_LICENSES}
    handle.control.call("PUT", "licenses", json={"licenseCount": 2})
    assert mike.get("/api/races").status_code == 200


@pytest.mark.behaviour("TR-06")
def test_the_client_raises_a_license_error(tracker: EmulatorHandle) -> None:
    tracker.control.call("PUT", "licenses", json={"licenseCount": 0})
    client = TrackerClient(
        tracker.url, tracker.credentials["limitedToken"], 1, 1, clock=tracker.clock
    )
    with pytest.raises(LicenseError) as caught:
        client.list_tags()
    assert caught.value.status == 403
