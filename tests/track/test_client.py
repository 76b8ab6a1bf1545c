"""The reference client (trackmock.clients.track) against the emulator."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from trackmock.clients.track import (
    BadRequest,
    FeedState,
    LoginFailed,
    NotFound,
    TrackClient,
    TrackFeed,
    parse_time,
)
from trackmock.core.paths import contracts_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import ACCOUNT, API_USER

T = TypeVar("T")
MakeEmulator = Callable[..., EmulatorHandle]


def client(track: EmulatorHandle, user: tuple[str, str] = API_USER) -> TrackClient:
    return TrackClient(track.url, *user, timeout=10)


def run(main: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(main(), 30))


async def in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, *args, **kwargs)


class Feed:
    """A TrackFeed running in the background of an ``async with`` block."""

    def __init__(self, track: EmulatorHandle, user: tuple[str, str] = API_USER) -> None:
        self.feed = TrackFeed(client(track, user), reconnect_delay=0.05)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TrackFeed:
        self._task = asyncio.create_task(self.feed.run())
        await self.feed.wait_for(lambda s: s.web_session_timeout is not None)
        return self.feed

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


@pytest.mark.behaviour("SF-01", "SF-14", "SF-15", "SF-16", "SF-17", "SF-18")
def test_the_client_reads_what_the_seed_shows(track: EmulatorHandle) -> None:
    api = client(track)
    assert api.login()["email"] == API_USER[0]
    assert api.session_id
    assert [d["id"] for d in api.devices()] == [794513670, 794513675]
    assert [b["id"] for b in api.beacons()] == [794513671, 794513676]
    assert [p["id"] for p in api.positions()] == [794513912]
    assert [p["id"] for p in api.positions_by_id(794513672, 794513912)] == [794513672, 794513912]
    latest = api.latest_position(794513675)
    assert latest is not None
    assert latest["rssi"] == -64
    assert api.latest_position(794513670) is None
    device = api.device_by_name("quickstart-guide-device-1")
    assert device is not None
    assert device["positionId"] == 794513912


@pytest.mark.behaviour("SF-19")
def test_the_client_fetches_a_route(track: EmulatorHandle) -> None:
    account = client(track, ACCOUNT)
    found = account.route(
        794524647,
        datetime(2025, 2, 21, 10, tzinfo=UTC),
        datetime(2025, 2, 21, 20, tzinfo=UTC),
        filter_same_location=True,
        filter_flapping=True,
    )
    assert [p["id"] for p in found] == [794524664]


@pytest.mark.behaviour("SF-13", "SF-20")
def test_the_client_updates_by_get_change_put_of_the_whole_object(track: EmulatorHandle) -> None:
    account = client(track, ACCOUNT)
    before = next(b for b in account.beacons() if b["id"] == 794524643)
    after = account.update_beacon(794524643, latitude=49.897644460986925, longitude=10.87872)
    assert after == {**before, "latitude": 49.897644460986925, "longitude": 10.87872}
    created = account.create_device({"name": "forklift", "uniqueId": "fl-1"})
    renamed = account.update_device(created["id"], name="forklift 2")
    assert renamed == {**created, "name": "forklift 2"}
    beacon = account.create_beacon({"name": "dock", "uuid": "ab", "major": 1, "minor": 9})
    assert beacon in account.beacons()


def test_the_client_raises_typed_errors(track: EmulatorHandle) -> None:
    with pytest.raises(LoginFailed) as failed:
        TrackClient(track.url, API_USER[0], "wrong").login()
    assert failed.value.status == 401
    api = client(track)
    with pytest.raises(BadRequest) as bad:
        api.positions_by_id(1)
    assert bad.value.status == 400
    with pytest.raises(NotFound):
        api.update_beacon(3921, name="not mine")
    with pytest.raises(BadRequest):
        api.create_device({"name": "dup", "uniqueId": "661168222237"})


@pytest.mark.behaviour("SF-09")
def test_the_client_logs_in_again_when_the_session_expired(track: EmulatorHandle) -> None:
    api = client(track)
    api.devices()
    first = api.session_id
    track.clock.advance(86401)
    assert len(api.devices()) == 2
    assert api.session_id != first
    logins = track.control.journal(kind="http", path="/api/session", method="POST")
    assert [e["status"] for e in logins] == [200, 200]


@pytest.mark.behaviour("SF-23")
@pytest.mark.parametrize(
    "text",
    ["2020-01-14T10:18:44.514+0000", "2020-01-14T10:18:44.514+00:00", "2020-01-14T10:18:44.514Z"],
)
def test_both_timestamp_forms_parse_to_the_same_instant(text: str) -> None:
    assert parse_time(text) == datetime(2020, 1, 14, 10, 18, 44, 514000, tzinfo=UTC)


@pytest.mark.behaviour("SF-23")
def test_offsets_other_than_utc_parse_and_local_times_are_refused() -> None:
    assert parse_time("2025-02-21T11:05:04.906+0100") == parse_time("2025-02-21T10:05:04.906Z")
    with pytest.raises(ValueError, match="offset"):
        parse_time("2025-02-21T10:05:04.906")


@pytest.mark.behaviour("SF-23")
@pytest.mark.parametrize("style", ["+0000", "+00:00"])
def test_the_client_reads_either_style_from_the_emulator(
    make_emulator: MakeEmulator, style: str
) -> None:
    emulator = make_emulator("track", track={"timestamp_style": style})
    api = client(emulator)
    device = api.device_by_name("quickstart-guide-device-1")
    assert device is not None
    assert device["lastUpdate"].endswith(style)
    assert parse_time(device["lastUpdate"]) == datetime(2025, 2, 21, 10, 5, 4, 906000, tzinfo=UTC)


@pytest.mark.behaviour("SF-03", "SF-04", "SF-12")
def test_the_feed_merges_the_push_and_changes_into_a_live_view(track: EmulatorHandle) -> None:
    async def main() -> None:
        async with Feed(track) as feed:
            view = feed.state
            assert set(view.devices) == {794513670, 794513675}
            assert set(view.beacons) == {794513671, 794513676}
            assert set(view.positions) == {794513912}
            assert view.rssi("quickstart-guide-device-1") == -64
            assert view.rssi("no such device") is None
            reported = await in_thread(
                track.control.call,
                "POST",
                "positions",
                json={"deviceId": 794513675, "beaconId": 794513671, "rssi": -50},
            )
            await feed.wait_for(lambda s: reported["id"] in s.positions)
            assert view.rssi("quickstart-guide-device-1") == -50
            assert set(view.positions) == {reported["id"]}, "one position per device"
            await in_thread(
                track.control.call, "PUT", "beacons/794513676", json={"batteryLevel": 5}
            )
            await feed.wait_for(lambda s: s.beacons[794513676]["batteryLevel"] == 5)

    run(main)


@pytest.mark.behaviour("SF-06", "SF-07", "SF-08")
def test_the_feed_answers_every_ping_and_stays_open(track: EmulatorHandle) -> None:
    async def main() -> None:
        async with Feed(track) as feed:
            for n in range(1, 6):
                await in_thread(track.clock.advance, 30)
                await feed.wait_for(lambda s, n=n: len(s.pongs) == n)
            assert feed.connections == 1
        answered = [e["body"] for e in track.control.journal(kind="ws-in")]
        assert answered == [f"pong {uuid}" for uuid in feed.state.pongs]

    run(main)


@pytest.mark.behaviour("SF-09")
def test_the_feed_reconnects_and_logs_in_again_when_its_session_expired(
    track: EmulatorHandle,
) -> None:
    async def main() -> None:
        async with Feed(track) as feed:
            await feed.close()
            await feed.wait_for(lambda s: feed.connections == 2 and bool(s.devices))
            await in_thread(track.control.call, "POST", "sessions/expire")
            await in_thread(track.control.close_sockets, 1001)
            await feed.wait_for(lambda s: feed.connections == 3 and bool(s.devices))
            assert set(feed.state.devices) == {794513670, 794513675}
        logins = track.control.journal(kind="http", path="/api/session", method="POST")
        assert len(logins) == 2
        refusals = [e for e in track.control.journal(kind="http", path="/api/socket")]
        assert [e["status"] for e in refusals] == [503]

    run(main)


@pytest.mark.behaviour("SF-22")
def test_the_feed_state_ignores_unknown_keys_fields_and_junk() -> None:
    state = FeedState()
    assert state.receive('{"events": [{"id": 1}]}') == []
    assert state.receive("not json") == []
    assert state.receive("[1, 2]") == []
    assert state.ignored == 3
    state.receive('{"devices": [{"id": 7, "name": "d", "positionId": 9, "brandNew": {"x": 1}}]}')
    state.receive('{"positions": [{"id": 9, "deviceId": 7, "rssi": -40, "later": true}]}')
    state.receive('{"devices": ["junk", {"no": "id"}]}')
    assert state.devices[7]["brandNew"] == {"x": 1}
    assert state.rssi("d") == -40
    pong = state.receive(
        '{"status": [{"message": "a0b34365-908f-4868-a52a-84a3ed83bd59", "type": "PING",'
        ' "localeKey": null, "localeValues": null, "severity": "low"}]}'
    )
    assert pong == ["pong a0b34365-908f-4868-a52a-84a3ed83bd59"]
    assert state.receive('{"status": [{"message": "x", "type": "INFO"}]}') == []


@pytest.fixture
def grown_contract(tmp_path: Path) -> Path:
    """A copy of the Track contracts where a later release added a field to three schemas."""
    folder = tmp_path / "contracts"
    shutil.copytree(contracts_dir() / "track", folder / "track")
    for name, field in (("Position", "floorName"), ("Device", "site"), ("Beacon", "site")):
        path = folder / "track" / "schemas" / f"{name}.json"
        schema = json.loads(path.read_text())
        schema["properties"][field] = {"type": "string", "default": "HQ", "x-source": "test"}
        path.write_text(json.dumps(schema))
    return folder


@pytest.fixture
def grown(grown_contract: Path, make_emulator: MakeEmulator) -> EmulatorHandle:
    handle: EmulatorHandle = make_emulator("track", contracts_dir=grown_contract)
    return handle


@pytest.mark.behaviour("SF-22")
def test_a_field_added_to_the_contract_appears_everywhere_and_clients_cope(
    grown: EmulatorHandle,
) -> None:
    api = client(grown)
    assert api.positions()[0]["floorName"] == "HQ"
    assert all(d["site"] == "HQ" for d in api.devices())

    async def main() -> None:
        async with Feed(grown) as feed:
            assert all(b["site"] == "HQ" for b in feed.state.beacons.values())
            assert feed.state.rssi("quickstart-guide-device-1") == -64
            reported = await in_thread(
                grown.control.call, "POST", "positions", json={"deviceId": 794513675, "rssi": -3}
            )
            await feed.wait_for(lambda s: reported["id"] in s.positions)
            assert feed.state.positions[reported["id"]]["floorName"] == "HQ"

    run(main)
