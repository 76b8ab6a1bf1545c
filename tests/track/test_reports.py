"""Reports (Track API guide 4.6 Reports and the Track Java client's JSON forms): selection,
filters, Accept, events, summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import ACCOUNT, API_USER, login

JSON = {"Accept": "application/json"}
DEVICE = 794513675
A = {"beaconId": 794513671}
B = {"beaconId": 794513676}


@pytest.fixture
def api(track: EmulatorHandle) -> requests.Session:
    return login(track, API_USER)


def report(track: EmulatorHandle, at: str, **fields: Any) -> dict[str, Any]:
    body = {"deviceId": DEVICE, "fixTime": f"2025-02-21T{at}.000Z", **fields}
    return dict(track.control.call("POST", "positions", json=body))


def route(track: EmulatorHandle, http: requests.Session, **params: Any) -> requests.Response:
    query = {"deviceId": DEVICE, "from": "2025-02-21T11:00:00Z", "to": "2025-02-21T12:00:00Z"}
    return http.get(track.url_for("/api/reports/route"), params={**query, **params}, headers=JSON)


@pytest.mark.behaviour("SF-19")
def test_the_seed_route_is_the_position_in_the_span(track: EmulatorHandle) -> None:
    http = login(track, ACCOUNT)
    answer = http.get(
        track.url_for(
            "/api/reports/route?deviceId=794524647&from=2025-02-21T10%3A00%3A00.000Z"
            "&to=2025-02-21T20%3A00%3A00.000Z&filterSameLocation=true&filterFlapping=true"
        ),
        headers=JSON,
    )
    assert answer.status_code == 200
    assert [p["id"] for p in answer.json()] == [794524664]


@pytest.mark.behaviour("SF-19")
def test_the_span_is_inclusive_and_ordered_by_fix_time(
    track: EmulatorHandle, api: requests.Session
) -> None:
    late = report(track, "11:30:00")
    early = report(track, "11:00:00")
    edge = report(track, "12:00:00")
    report(track, "12:00:01")
    report(track, "10:59:59")
    assert [p["id"] for p in route(track, api).json()] == [early["id"], late["id"], edge["id"]]


@pytest.mark.behaviour("SF-19")
def test_same_location_filter_keeps_the_first_of_a_run(
    track: EmulatorHandle, api: requests.Session
) -> None:
    first = report(track, "11:00:00", **A)
    report(track, "11:01:00", **A)
    moved = report(track, "11:02:00", **B)
    report(track, "11:03:00", **B)
    back = report(track, "11:04:00", **A)
    kept = route(track, api, filterSameLocation="true").json()
    assert [p["id"] for p in kept] == [first["id"], moved["id"], back["id"]]
    assert len(route(track, api).json()) == 5


@pytest.mark.behaviour("SF-19")
def test_flapping_filter_drops_a_quick_return(track: EmulatorHandle, api: requests.Session) -> None:
    # The contract's example: A 10:00:00, B 10:00:20, A 10:00:40, B 10:01:00, A 10:02:30.
    ids = [
        report(track, at, **place)["id"]
        for at, place in (
            ("11:00:00", A),
            ("11:00:20", B),
            ("11:00:40", A),
            ("11:01:00", B),
            ("11:02:30", A),
        )
    ]
    both = route(track, api, filterSameLocation="true", filterFlapping="true").json()
    assert [p["id"] for p in both] == [ids[0], ids[1], ids[4]]


def test_the_flapping_window_is_a_setting(make_emulator: Callable[..., EmulatorHandle]) -> None:
    emulator = make_emulator("track", track={"flapping_window": 10})
    http = login(emulator, API_USER)
    ids = [
        report(emulator, at, **place)["id"]
        for at, place in (("11:00:00", A), ("11:00:20", B), ("11:00:40", A))
    ]
    kept = route(emulator, http, filterFlapping="true").json()
    assert [p["id"] for p in kept] == ids, "a return after 20 s is no flap with a 10 s window"


@pytest.mark.behaviour("SF-19")
@pytest.mark.parametrize(
    "params",
    [
        {"deviceId": 44969282},
        {"from": "2025-02-21T13:00:00Z"},
        {"from": "2025-02-21T11:00:00"},
        {"to": "2025-02-21T12:00:00 00:00"},
        {"from": "yesterday"},
        {"deviceId": "x"},
    ],
    ids=["foreign-device", "from-after-to", "no-offset", "raw-plus", "not-a-time", "bad-id"],
)
def test_bad_route_requests_are_400(
    track: EmulatorHandle, api: requests.Session, params: dict[str, Any]
) -> None:
    answer = route(track, api, **params)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_from_and_to_are_required(track: EmulatorHandle, api: requests.Session) -> None:
    answer = api.get(track.url_for(f"/api/reports/route?deviceId={DEVICE}"), headers=JSON)
    assert answer.status_code == 400


@pytest.mark.behaviour("SF-19")
@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/json", 200),
        ("*/*", 200),
        ("application/*", 200),
        (None, 200),
        ("text/html, application/json;q=0.5", 200),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 406),
        ("application/json;q=0", 406),
    ],
)
def test_reports_answer_json_when_accept_admits_it_else_406(
    track: EmulatorHandle, api: requests.Session, accept: str | None, status: int
) -> None:
    params = {"deviceId": DEVICE, "from": "2025-02-21T11:00:00Z", "to": "2025-02-21T12:00:00Z"}
    # A header set to None is not sent at all.
    answer = api.get(track.url_for("/api/reports/route"), params=params, headers={"Accept": accept})
    assert answer.request.headers.get("Accept") == accept
    assert answer.status_code == status
    if status == 406:
        assert answer.headers["Content-Type"].startswith("text/plain")


def test_the_json_route_merges_devices_and_filters_non_beacon_positions(
    track: EmulatorHandle, api: requests.Session
) -> None:
    with_beacon = report(track, "11:00:00", **A)
    without = report(track, "11:01:00", beaconId=None)
    other = track.control.call(
        "POST", "positions", json={"deviceId": 794513670, "fixTime": "2025-02-21T11:00:30Z"}
    )
    body = {
        "deviceIds": [DEVICE],
        "trackableIds": [794513670],
        "from": "2025-02-21T11:00:00Z",
        "to": "2025-02-21T12:00:00Z",
        "filterNonBeacon": True,
        "types": ["x"],
        "queryId": "q",
    }
    answer = api.post(track.url_for("/api/reports/route"), json=body, headers=JSON)
    assert answer.status_code == 200
    assert [p["id"] for p in answer.json()] == [with_beacon["id"]]
    answer = api.post(
        track.url_for("/api/reports/route"), json={**body, "filterNonBeacon": False}, headers=JSON
    )
    assert [p["id"] for p in answer.json()] == [with_beacon["id"], without["id"], other["id"]]
    empty = api.post(
        track.url_for("/api/reports/route"),
        json={"from": "2025-02-21T11:00:00Z", "to": "2025-02-21T12:00:00Z"},
    )
    assert empty.status_code == 400


def test_events_report_selects_by_device_span_and_type(
    track: EmulatorHandle, api: requests.Session
) -> None:
    online = track.control.call(
        "POST",
        "events",
        json={"deviceId": DEVICE, "type": "deviceOnline", "serverTime": "2025-02-21T11:00:00Z"},
    )
    enter = track.control.call(
        "POST",
        "events",
        json={"deviceId": DEVICE, "type": "geofenceEnter", "serverTime": "2025-02-21T11:30:00Z"},
    )
    track.control.call(
        "POST",
        "events",
        json={"deviceId": DEVICE, "type": "deviceOnline", "serverTime": "2025-02-21T13:00:00Z"},
    )
    body = {"deviceId": DEVICE, "from": "2025-02-21T11:00:00Z", "to": "2025-02-21T12:00:00Z"}
    everything = api.post(track.url_for("/api/reports/events"), json=body, headers=JSON)
    assert everything.json() == [online, enter]
    only = api.post(
        track.url_for("/api/reports/events"),
        json={**body, "type": ["geofenceEnter"], "deviceId": [DEVICE]},
        headers=JSON,
    )
    assert only.json() == [enter]
    foreign = api.post(
        track.url_for("/api/reports/events"), json={**body, "deviceId": 44969282}, headers=JSON
    )
    assert foreign.status_code == 400


def test_summary_report_computes_its_figures(track: EmulatorHandle, api: requests.Session) -> None:
    report(track, "11:00:00", speed=2.0, attributes={"totalDistance": 100.0}, **A)
    report(track, "11:10:00", speed=4.0, attributes={"totalDistance": 160.0}, **B)
    body = {
        "deviceId": [DEVICE, 794513670],
        "from": "2025-02-21T11:00:00Z",
        "to": "2025-02-21T12:00:00Z",
    }
    answer = api.post(track.url_for("/api/reports/summary"), json=body, headers=JSON)
    assert answer.status_code == 200
    first, second = answer.json()
    assert first == {
        "averageSpeed": 3.0,
        "beaconCount": 2,
        "deviceId": DEVICE,
        "deviceName": "quickstart-guide-device-1",
        "distance": 60.0,
        "endOdometer": 160.0,
        "engineHours": 0,
        "maxSpeed": 4.0,
        "positionCount": 2,
        "spentFuel": 0,
        "startOdometer": 100.0,
    }
    assert second["positionCount"] == 0
    assert second["averageSpeed"] == 0
