"""REST (Track API guide 4 RESTful Service): positions, devices, beacons, create and
whole-object update, swagger."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from trackmock.core.paths import contracts_dir, fixtures_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import ACCOUNT, API_USER, login

MakeEmulator = Callable[..., EmulatorHandle]
SCHEMAS = contracts_dir() / "track" / "schemas"


def fixture(name: str) -> list[dict[str, object]]:
    return list(json.loads((fixtures_dir() / "track" / f"{name}.json").read_text()))


def schema_fields(name: str) -> list[str]:
    return list(json.loads((SCHEMAS / f"{name}.json").read_text())["properties"])


def record(name: str, record_id: int) -> dict[str, object]:
    return next(r for r in fixture(name) if r["id"] == record_id)


@pytest.fixture
def api(track: EmulatorHandle) -> requests.Session:
    return login(track, API_USER)


@pytest.fixture
def account(track: EmulatorHandle) -> requests.Session:
    return login(track, ACCOUNT)


@pytest.mark.behaviour("SF-10", "SF-14")
def test_positions_are_the_latest_of_each_visible_device_with_every_field(
    track: EmulatorHandle, api: requests.Session
) -> None:
    answer = api.get(track.url_for("/api/positions"))
    assert answer.status_code == 200
    (position,) = answer.json()
    assert list(position) == schema_fields("Position"), "every field, in the schema's order"
    seed = record("positions", 794513912)
    assert {k: position[k] for k in seed} == seed, "the guide's values (4.2)"


@pytest.mark.behaviour("SF-10", "SF-23")
def test_old_positions_keep_their_values_and_are_written_in_the_configured_style(
    track: EmulatorHandle, account: requests.Session
) -> None:
    positions = {p["id"]: p for p in account.get(track.url_for("/api/positions")).json()}
    old = positions[67532839]
    assert old["serverTime"] == "2020-01-14T10:18:44.514+00:00"
    assert old["attributes"]["floor"] == "2"
    assert old["beaconMinor"] == 123
    assert old["rssi"] is None, "a field of the newer form, absent in 2020, is null"


@pytest.mark.behaviour("SF-15")
def test_positions_by_id_answer_an_array_in_the_order_asked(
    track: EmulatorHandle, api: requests.Session
) -> None:
    one = api.get(track.url_for("/api/positions"), params={"id": 794513672})
    assert one.status_code == 200
    assert [p["id"] for p in one.json()] == [794513672]
    assert one.json()[0]["protocol"] is None
    two = api.get(track.url_for("/api/positions?id=794513912&id=794513672"))
    assert [p["id"] for p in two.json()] == [794513912, 794513672]


@pytest.mark.behaviour("SF-15")
@pytest.mark.parametrize("query", ["id=1", "id=67532839", "id=abc", "id="])
def test_unknown_or_invisible_position_ids_are_400(
    track: EmulatorHandle, api: requests.Session, query: str
) -> None:
    answer = api.get(track.url_for(f"/api/positions?{query}"))
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/plain")


@pytest.mark.behaviour("SF-16", "SF-12")
def test_device_filter_answers_its_latest_position(
    track: EmulatorHandle, api: requests.Session
) -> None:
    answer = api.get(track.url_for("/api/positions"), params={"deviceId": 794513675})
    assert [p["id"] for p in answer.json()] == [794513912]
    device = next(d for d in api.get(track.url_for("/api/devices")).json() if d["id"] == 794513675)
    assert device["positionId"] == answer.json()[0]["id"]
    assert api.get(track.url_for("/api/positions?deviceId=794513670")).json() == []
    reported = track.control.call("POST", "positions", json={"deviceId": 794513670})
    assert api.get(track.url_for("/api/positions?deviceId=794513670")).json() == [reported]
    assert api.get(track.url_for("/api/positions?deviceId=44969282")).status_code == 400


def test_device_filter_with_a_span_answers_its_positions_in_it(
    track: EmulatorHandle, api: requests.Session
) -> None:
    for minute in (1, 2, 3):
        track.control.call(
            "POST",
            "positions",
            json={"deviceId": 794513675, "fixTime": f"2025-02-21T11:0{minute}:00.000Z"},
        )
    span = api.get(
        track.url_for("/api/positions"),
        params={
            "deviceId": 794513675,
            "from": "2025-02-21T11:01:00.000+00:00",
            "to": "2025-02-21T11:02:00.000+0000",
        },
    )
    assert [p["fixTime"] for p in span.json()] == [
        "2025-02-21T11:01:00.000+00:00",
        "2025-02-21T11:02:00.000+00:00",
    ]
    half = api.get(track.url_for("/api/positions?deviceId=794513675&from=2025-02-21T11:01:00Z"))
    assert half.status_code == 400


@pytest.mark.behaviour("SF-11", "SF-17")
def test_devices_are_the_users_own_with_every_field(
    track: EmulatorHandle, api: requests.Session, account: requests.Session
) -> None:
    devices = api.get(track.url_for("/api/devices")).json()
    assert [d["id"] for d in devices] == [794513670, 794513675]
    assert all(list(d) == schema_fields("Device") for d in devices)
    assert devices[1] == record("devices", 794513675), "the device of the guide's 4.4 Devices"
    lynkey = next(
        d for d in account.get(track.url_for("/api/devices")).json() if d["id"] == 44969282
    )
    assert lynkey["lastUpdate"] == "2020-02-26T16:05:26.469+00:00"
    assert lynkey["firmwareVersion"] is None, "newer fields are null on the older record"


def test_device_filters_by_id_and_unique_id(track: EmulatorHandle, api: requests.Session) -> None:
    by_id = api.get(track.url_for("/api/devices?id=794513675"))
    assert [d["id"] for d in by_id.json()] == [794513675]
    by_unique = api.get(track.url_for("/api/devices?uniqueId=661168222237&uniqueId=nope"))
    assert [d["id"] for d in by_unique.json()] == [794513670]
    assert api.get(track.url_for("/api/devices?id=44969282")).status_code == 400


@pytest.mark.behaviour("SF-18")
def test_beacons_are_the_users_own_with_every_field(
    track: EmulatorHandle, api: requests.Session
) -> None:
    beacons = api.get(track.url_for("/api/beacons")).json()
    assert [b["id"] for b in beacons] == [794513671, 794513676]
    assert all(list(b) == schema_fields("Beacon") for b in beacons)
    assert beacons[1] == record("beacons", 794513676), "the beacon of the guide's 4.5 Beacons"


def test_one_device_or_beacon_by_id_and_404_for_others(
    track: EmulatorHandle, api: requests.Session
) -> None:
    assert api.get(track.url_for("/api/devices/794513675")).json()["name"] == (
        "quickstart-guide-device-1"
    )
    assert api.get(track.url_for("/api/beacons/794513676")).json()["minor"] == 1
    for path in ("/api/devices/44969282", "/api/devices/0", "/api/beacons/3921", "/api/beacons/x"):
        answer = api.get(track.url_for(path))
        assert answer.status_code == 404
        assert answer.headers["Content-Type"].startswith("text/plain")


@pytest.mark.behaviour("SF-13")
def test_post_creates_with_the_next_id_and_ignores_server_fields(
    track: EmulatorHandle, api: requests.Session
) -> None:
    created = api.post(
        track.url_for("/api/devices"),
        json={"id": 5, "name": "new", "uniqueId": "new-1", "status": "online", "extra": 1},
    )
    assert created.status_code == 200
    device = created.json()
    assert device["id"] == 794524648, "the next id after the highest"
    assert device["status"] == "unknown", "readOnly fields are ignored"
    assert "extra" not in device
    assert device["attributes"] == {}
    assert device in api.get(track.url_for("/api/devices")).json()
    beacon = api.post(
        track.url_for("/api/beacons"),
        json={"name": "b", "uuid": "u", "major": 1, "minor": 2, "deviceId": device["id"]},
    ).json()
    assert beacon["id"] == 794524644
    assert beacon["deviceId"] == device["id"]
    assert beacon in api.get(track.url_for("/api/beacons")).json()


@pytest.mark.behaviour("SF-13")
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/devices", {"name": "x"}),
        ("/api/devices", {"name": "x", "uniqueId": "661168222237"}),
        ("/api/devices", {"name": "", "uniqueId": "u"}),
        ("/api/beacons", {"name": "b", "uuid": "u", "major": 70000, "minor": 1}),
        ("/api/beacons", {"name": "b", "uuid": "u", "major": 1, "minor": 1, "deviceId": 44969282}),
        ("/api/devices", [1, 2]),
    ],
    ids=["missing", "duplicate-unique-id", "empty-name", "major-range", "foreign-device", "array"],
)
def test_bad_creates_are_400_and_change_nothing(
    track: EmulatorHandle, api: requests.Session, path: str, body: object
) -> None:
    before = api.get(track.url_for(path)).json()
    answer = api.post(track.url_for(path), json=body)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert api.get(track.url_for(path)).json() == before


def test_a_body_that_is_not_json_is_refused(track: EmulatorHandle, api: requests.Session) -> None:
    broken = api.post(
        track.url_for("/api/devices"), data=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    form = api.post(track.url_for("/api/devices"), data={"name": "x", "uniqueId": "y"})
    assert form.status_code == 415


@pytest.mark.behaviour("SF-13", "SF-20")
def test_put_replaces_the_whole_object_and_answers_it(
    track: EmulatorHandle, account: requests.Session
) -> None:
    beacon = next(
        b for b in account.get(track.url_for("/api/beacons")).json() if b["id"] == 794524643
    )
    changed = {**beacon, "latitude": 49.5, "longitude": 10.5}
    answer = account.put(track.url_for("/api/beacons/794524643"), json=changed)
    assert answer.status_code == 200
    assert answer.json() == changed, "every other field keeps its value"
    assert account.get(track.url_for("/api/beacons/794524643")).json() == changed


@pytest.mark.behaviour("SF-13")
def test_put_does_not_keep_fields_that_are_not_sent(
    track: EmulatorHandle, api: requests.Session
) -> None:
    answer = api.put(
        track.url_for("/api/devices/794513675"),
        json={"name": "renamed", "uniqueId": "661168222238", "id": 1, "status": "online"},
    )
    device = answer.json()
    assert device["id"] == 794513675, "the path names the record"
    assert device["attributes"] == {}, "not sent: the schema default, not the old value"
    assert device["category"] is None
    assert device["status"] == "unknown", "readOnly: the server's value"
    assert device["positionId"] == 794513912
    assert device["firmwareVersion"].startswith("4.6.1712")
    beacon = api.put(
        track.url_for("/api/beacons/794513676"),
        json={"name": "b", "uuid": "u", "major": 1, "minor": 1, "lastSeen": None},
    ).json()
    assert beacon["deviceId"] is None
    assert beacon["roleGroupId"] is None


@pytest.mark.behaviour("SF-13")
def test_bad_puts_are_refused_and_change_nothing(
    track: EmulatorHandle, api: requests.Session
) -> None:
    before = api.get(track.url_for("/api/devices")).json()
    duplicate = api.put(
        track.url_for("/api/devices/794513675"), json={"name": "x", "uniqueId": "661168222237"}
    )
    assert duplicate.status_code == 400
    foreign = api.put(track.url_for("/api/devices/44969282"), json={"name": "x", "uniqueId": "z"})
    assert foreign.status_code == 404
    bad_id = api.put(track.url_for("/api/devices/abc"), json={"name": "x", "uniqueId": "z"})
    assert bad_id.status_code == 404, "no resource matches an id that is not a number"
    assert api.get(track.url_for("/api/devices")).json() == before


@pytest.mark.behaviour("SF-21")
def test_swagger_serves_the_emulators_own_openapi_document(track: EmulatorHandle) -> None:
    answer = requests.get(track.url_for("/api/swagger"), timeout=10)
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.1")
    assert "/api/positions" in document["paths"]
    source = Path(contracts_dir() / "track" / "openapi.yaml")
    assert document["info"]["title"] in source.read_text()


def test_csv_lists_follow_the_schema_and_quote_as_rfc_4180(
    track: EmulatorHandle, api: requests.Session
) -> None:
    answer = api.get(track.url_for("/api/devices?responseType=csv&delimiter=;"))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(answer.text), delimiter=";"))
    assert rows[0] == schema_fields("Device")
    assert len(rows) == 3
    device = dict(zip(rows[0], rows[2], strict=True))
    assert device["id"] == "794513675"
    assert json.loads(device["attributes"])["major"] == "4242"
    assert device["lastSuccessfulAsnJob"] == ""
    assert device["disabled"] == "false"
    beacons = api.get(track.url_for("/api/beacons?responseType=csv"))
    assert next(csv.reader(io.StringIO(beacons.text))) == schema_fields("Beacon")
    assert api.get(track.url_for("/api/beacons?responseType=xml")).status_code == 400


@pytest.mark.behaviour("SF-23")
def test_the_older_timestamp_style_is_a_setting(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator("track", track={"timestamp_style": "+0000"})
    http = login(emulator, API_USER)
    (position,) = http.get(emulator.url_for("/api/positions")).json()
    assert position["serverTime"] == "2025-02-21T10:05:04.882+0000"
    device = http.get(emulator.url_for("/api/devices/794513675")).json()
    assert device["lastUpdate"] == "2025-02-21T10:05:04.906+0000"


def test_unknown_paths_and_methods_answer_in_the_vendor_shape(
    track: EmulatorHandle, api: requests.Session
) -> None:
    missing = api.get(track.url_for("/api/nothing"))
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("text/plain")
    wrong = api.delete(track.url_for("/api/devices/794513675"))
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]


def test_a_duplicate_unique_id_does_not_name_another_users_device(
    track: EmulatorHandle, api: requests.Session
) -> None:
    assert 44969282 not in [d["id"] for d in api.get(track.url_for("/api/devices")).json()]
    taken = api.post(
        track.url_for("/api/devices"), json={"name": "x", "uniqueId": "13614234773123"}
    )
    assert taken.status_code == 400
    assert "Duplicate uniqueId" in taken.text
    assert "44969282" not in taken.text
