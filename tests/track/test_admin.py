"""Track's control actions (contracts/track/admin.yaml): reports, changes, users, events."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from trackmock.control import ControlError
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import API_USER, frame, login, open_socket


def refused(track: EmulatorHandle, method: str, path: str, body: Any) -> requests.Response:
    answer = requests.request(method, track.url_for(f"/__admin/{path}"), json=body, timeout=10)
    assert answer.status_code >= 400
    assert answer.json()["error"]["status"] == answer.status_code
    return answer


@pytest.mark.behaviour("SF-12", "SF-16")
def test_a_reported_position_becomes_the_devices_latest(track: EmulatorHandle) -> None:
    track.clock.advance(90)
    position = track.control.call(
        "POST",
        "positions",
        json={"deviceId": 794513675, "beaconId": 794513671, "rssi": -70, "attributes": {"a": 1}},
    )
    assert position["id"] == 794524665
    assert position["serverTime"] == "2025-02-21T10:01:30.000+00:00"
    assert position["fixTime"] == position["deviceTime"] == position["serverTime"]
    assert position["deviceName"] == "quickstart-guide-device-1"
    assert (position["beaconName"], position["beaconMajor"], position["beaconMinor"]) == (
        "quickstart-guide-beacon-2",
        4242,
        2,
    )
    http = login(track)
    device = http.get(track.url_for("/api/devices/794513675")).json()
    assert device["positionId"] == position["id"]
    assert device["lastUpdate"] == position["serverTime"]
    assert http.get(track.url_for("/api/positions?deviceId=794513675")).json() == [position]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"deviceId": 1}, 404),
        ({"deviceId": 794513675, "beaconId": 1}, 404),
        ({}, 400),
        ({"deviceId": 794513675, "id": 5}, 400),
        ({"deviceId": 794513675, "latitude": 91}, 400),
        ({"deviceId": 794513675, "fixTime": "yesterday"}, 400),
        ({"deviceId": 794513675, "speed": "fast"}, 400),
    ],
)
def test_bad_position_reports_are_refused_and_store_nothing(
    track: EmulatorHandle, body: dict[str, Any], status: int
) -> None:
    assert refused(track, "POST", "positions", body).status_code == status
    position = track.control.call("POST", "positions", json={"deviceId": 794513675})
    assert position["id"] == 794524665, "no id was used up"


def test_device_changes_are_merged_checked_and_pushed(track: EmulatorHandle) -> None:
    with open_socket(track, login(track)) as ws:
        changed = track.control.call(
            "PUT",
            "devices/794513675",
            json={"status": "online", "batteryLevel": 50, "lastUpdate": "2025-02-21T10:00:00Z"},
        )
        assert changed["status"] == "online"
        assert changed["lastUpdate"] == "2025-02-21T10:00:00.000+00:00"
        assert changed["name"] == "quickstart-guide-device-1", "other fields unchanged"
        assert frame(ws) == {"devices": [changed]}
        for body, status in (
            ({"status": "asleep"}, 400),
            ({"positionId": 1}, 400),
            ({"nope": 1}, 400),
            ({}, 400),
            ({"uniqueId": "661168222237"}, 400),
        ):
            assert refused(track, "PUT", "devices/794513675", body).status_code == status
        assert refused(track, "PUT", "devices/1", {"status": "online"}).status_code == 404


def test_beacon_changes_are_pushed(track: EmulatorHandle) -> None:
    with open_socket(track, login(track)) as ws:
        changed = track.control.call(
            "PUT",
            "beacons/794513676",
            json={"lastSeen": "2025-02-21T10:00:01Z", "batteryLevel": 80},
        )
        assert changed["lastSeen"] == "2025-02-21T10:00:01.000+00:00"
        assert frame(ws) == {"beacons": [changed]}
    assert refused(track, "PUT", "beacons/794513676", {"major": -1}).status_code == 400


def test_created_users_log_in_and_see_what_they_were_given(track: EmulatorHandle) -> None:
    created = track.control.call(
        "POST",
        "users",
        json={
            "email": "New@Example.com",
            "password": "pw",
            "name": "new",
            "deviceIds": [794513675],
            "beaconIds": [794513676],
        },
    )
    assert created["user"]["id"] == 3
    assert "password" not in created["user"]
    assert created["deviceIds"] == [794513675]
    http = login(track, ("new@example.com", "pw"))
    assert [d["id"] for d in http.get(track.url_for("/api/devices")).json()] == [794513675]
    assert [b["id"] for b in http.get(track.url_for("/api/beacons")).json()] == [794513676]
    assert [p["id"] for p in http.get(track.url_for("/api/positions")).json()] == [794513912]
    assert (
        refused(track, "POST", "users", {"email": "new@example.com", "password": "x"}).status_code
        == 409
    )
    assert (
        refused(
            track, "POST", "users", {"email": "x@example.com", "password": "x", "deviceIds": [1]}
        ).status_code
        == 400
    )
    assert refused(track, "POST", "users", {"email": "x@example.com"}).status_code == 400


def test_events_are_added_with_defaults(track: EmulatorHandle) -> None:
    event = track.control.call("POST", "events", json={"deviceId": 794513675, "type": "alarm"})
    assert event["id"] == 1
    assert event["serverTime"] == "2025-02-21T10:00:00.000+00:00"
    with pytest.raises(ControlError):
        track.control.call("POST", "events", json={"deviceId": 1, "type": "alarm"})
    assert refused(track, "POST", "sessions/expire", {"email": "nobody@x"}).status_code == 400


def test_the_api_user_credentials_are_listed(track: EmulatorHandle) -> None:
    assert track.credentials == {
        "email": "account@yourdomain.de",
        "password": "9ejKJJAYKw3VCWev",
        "api_user_email": API_USER[0],
        "api_user_password": API_USER[1],
    }
