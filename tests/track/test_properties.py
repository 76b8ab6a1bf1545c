"""Property-based tests (hypothesis) of the emulator and the reference client together."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trackmock.clients.track import FeedState, TrackClient, TrackFeed
from trackmock.pytest_plugin import EmulatorHandle
from trackmock.track.feed import FeedSession, PingRule

from .helpers import API_USER, login

MakeEmulator = Callable[..., EmulatorHandle]
LIVE = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DEVICES = [794513670, 794513675]
BEACONS = [794513671, 794513676]
START = datetime(2025, 2, 21, 10, tzinfo=UTC)
SERIAL = itertools.count()

# -- the live view equals REST ------------------------------------------------------------

operations = st.one_of(
    st.tuples(
        st.just("report"),
        st.sampled_from(DEVICES),
        st.sampled_from([None, *BEACONS]),
        st.integers(-100, -20),
    ),
    st.tuples(st.just("status"), st.sampled_from(DEVICES), st.sampled_from(["online", "offline"])),
    st.tuples(
        st.just("beacon"), st.sampled_from(BEACONS), st.floats(-90, 90), st.floats(-180, 180)
    ),
    st.tuples(st.just("device"), st.sampled_from(DEVICES), st.text("0123456789+ ", max_size=12)),
)


def apply(track: EmulatorHandle, api: TrackClient, operation: tuple[Any, ...]) -> None:
    kind, record_id, *values = operation
    if kind == "report":
        body = {"deviceId": record_id, "beaconId": values[0], "rssi": values[1]}
        track.control.call("POST", "positions", json=body)
    elif kind == "status":
        track.control.call("PUT", f"devices/{record_id}", json={"status": values[0]})
    elif kind == "beacon":
        api.update_beacon(record_id, latitude=values[0], longitude=values[1])
    else:
        api.update_device(record_id, phone=values[0])


def rest_view(api: TrackClient) -> tuple[Any, ...]:
    return (
        {d["id"]: d for d in api.devices()},
        {b["id"]: b for b in api.beacons()},
        {p["id"]: p for p in api.positions()},
    )


def feed_view(state: FeedState) -> tuple[Any, ...]:
    latest = {d: state.latest(d) for d in state.devices}
    return (state.devices, state.beacons, {p["id"]: p for p in latest.values() if p})


@pytest.mark.behaviour("SF-03", "SF-04", "SF-12", "SF-13", "SF-16")
@LIVE
@given(st.lists(operations, max_size=12))
def test_the_live_view_equals_what_rest_returns(
    track: EmulatorHandle, ops: list[tuple[Any, ...]]
) -> None:
    track.reset()
    api = TrackClient(track.url, *API_USER, timeout=10)

    async def main() -> None:
        feed = TrackFeed(TrackClient(track.url, *API_USER, timeout=10), reconnect_delay=0.05)
        task = asyncio.create_task(feed.run())
        try:
            await feed.wait_for(lambda s: s.web_session_timeout is not None)
            for operation in ops:
                await asyncio.to_thread(apply, track, api, operation)
            expected = await asyncio.to_thread(rest_view, api)
            await feed.wait_for(lambda s: feed_view(s) == expected, timeout=5)
            assert feed.connections == 1
        finally:
            task.cancel()

    asyncio.run(main())


# -- PING/pong, without sockets ------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(0.001, 400)),
        st.tuples(st.just("junk"), st.sampled_from(["", "pong", "pong x", "{", "ping"])),
        st.tuples(st.just("push"), st.just("")),
    ),
    max_size=40,
)


class Simulation:
    """A FeedSession driven as ``core.websocket.drive`` drives it, with a FeedState client."""

    def __init__(self, interval: float, missed: int, responsive: bool) -> None:
        self.now = 0.0
        self.pings: list[str] = []
        self.firings = 0
        ids = itertools.count()
        self.session = FeedSession(
            snapshot=lambda: ['{"devices":[]}'],
            rule=PingRule(interval, missed, 1000),
            new_uuid=lambda: f"00000000-0000-4000-8000-{next(ids):012d}",
            ping_frame=self._ping,
            timeout_frame='{"webSessionTimeout":[86400]}',
        )
        self.client = FeedState()
        self.responsive = responsive
        self.deliver(self.session.opened(self.now))

    def _ping(self, message: str) -> str:
        self.pings.append(message)
        return f'{{"status":[{{"message":"{message}","type":"PING"}}]}}'

    def deliver(self, frames: list[str]) -> None:
        for text in frames:
            replies = self.client.receive(text)
            if self.responsive:
                for reply in replies:
                    self.session.received(reply, self.now)

    def step(self, kind: str, value: Any) -> None:
        if kind == "advance":
            self.now += value
            deadline = self.session.deadline()
            if deadline is not None and deadline <= self.now:
                self.firings += 1
                self.deliver(self.session.tick(self.now))
        elif kind == "junk":
            self.deliver(self.session.received(value, self.now))
        else:
            self.deliver(self.session.pushed(('{"positions":[]}',), self.now))


@pytest.mark.behaviour("SF-06", "SF-07", "SF-08")
@settings(max_examples=300, deadline=None)
@given(st.floats(0.5, 120), st.integers(0, 4), steps)
def test_a_client_that_pongs_is_never_closed_and_answers_every_ping(
    interval: float, missed: int, plan: list[tuple[str, Any]]
) -> None:
    simulation = Simulation(interval, missed, responsive=True)
    for kind, value in plan:
        simulation.step(kind, value)
        assert simulation.session.close_code is None
    assert simulation.client.pongs == simulation.pings
    assert len(set(simulation.pings)) == len(simulation.pings)


@pytest.mark.behaviour("SF-08")
@settings(max_examples=300, deadline=None)
@given(st.floats(0.5, 120), st.integers(0, 4), steps)
def test_a_silent_client_is_closed_when_the_grace_ends(
    interval: float, missed: int, plan: list[tuple[str, Any]]
) -> None:
    simulation = Simulation(interval, missed, responsive=False)
    for kind, value in plan:
        simulation.step(kind, value)
        if simulation.session.close_code is not None:
            break
    closed = simulation.session.close_code is not None
    # One PING per timer firing; the firing after ``missed`` unanswered PINGs closes.
    assert closed == (missed > 0 and simulation.firings > missed)
    assert len(simulation.pings) == (missed if closed else simulation.firings)


@pytest.mark.behaviour("SF-06", "SF-07", "SF-08")
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 90), st.lists(st.integers(0, 3), min_size=4, max_size=4))
def test_the_client_keeps_a_socket_open_for_any_ping_interval(
    make_emulator: MakeEmulator, interval: int, pushes: list[int]
) -> None:
    emulator = make_emulator("track", track={"ping_interval": interval})

    async def main() -> None:
        feed = TrackFeed(TrackClient(emulator.url, *API_USER, timeout=10), reconnect_delay=0.05)
        task = asyncio.create_task(feed.run())
        try:
            await feed.wait_for(lambda s: s.web_session_timeout is not None)
            for n, count in enumerate(pushes, start=1):
                for _ in range(count):  # changes pushed between the pings
                    await asyncio.to_thread(
                        emulator.control.call, "POST", "positions", json={"deviceId": DEVICES[1]}
                    )
                await asyncio.to_thread(emulator.clock.advance, interval)
                await feed.wait_for(lambda s, n=n: len(s.pongs) == n)
            assert feed.connections == 1
        finally:
            task.cancel()

    asyncio.run(main())


# -- GET -> PUT round-trips -------------------------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
beacons = st.fixed_dictionaries(
    {
        "name": text,
        "uuid": text,
        "major": st.integers(0, 65535),
        "minor": st.integers(0, 65535),
    },
    optional={
        "attributes": st.dictionaries(
            st.text(max_size=5), st.one_of(st.integers(-(2**31), 2**31), text, st.booleans())
        ),
        "deviceId": st.sampled_from([None, *DEVICES]),
        "roleGroupId": st.one_of(st.none(), st.integers(1, 2**40)),
        "latitude": st.floats(-90, 90),
        "longitude": st.floats(-180, 180),
        "relative": st.booleans(),
    },
)


@pytest.mark.behaviour("SF-13", "SF-20")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(beacons)
def test_any_beacon_round_trips_through_get_and_put(
    track: EmulatorHandle, beacon: dict[str, Any]
) -> None:
    http = login(track)
    created = http.post(track.url_for("/api/beacons"), json=beacon)
    assert created.status_code == 200, created.text
    url = track.url_for(f"/api/beacons/{created.json()['id']}")
    got = http.get(url).json()
    assert got == created.json()
    put = http.put(url, json=got)
    assert put.status_code == 200
    assert put.json() == got
    assert http.get(url).json() == got


# -- route reports select exactly [from, to] ----------------------------------------------------

offsets = st.lists(st.integers(0, 7200), min_size=0, max_size=15)
zones = st.sampled_from(["Z", "+00:00", "+0000", "+01:00", "-0230"])


def written(when: datetime, zone: str) -> str:
    if zone in ("Z", "+00:00", "+0000"):
        return when.strftime("%Y-%m-%dT%H:%M:%S.000") + zone
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[-2:])
    shifted = when.astimezone(timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return shifted.strftime("%Y-%m-%dT%H:%M:%S.000") + zone


@pytest.mark.behaviour("SF-19")
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offsets, st.integers(0, 7200), st.integers(0, 7200), zones, st.booleans())
def test_a_route_report_returns_exactly_the_positions_in_the_span(
    track: EmulatorHandle, fixes: list[int], a: int, b: int, zone: str, same_location: bool
) -> None:
    http = login(track)
    device = http.post(
        track.url_for("/api/devices"), json={"name": "p", "uniqueId": f"prop-{next(SERIAL)}"}
    ).json()
    reported = []
    for n, offset in enumerate(fixes):
        body = {
            "deviceId": device["id"],
            "fixTime": (START + timedelta(seconds=offset)).isoformat(),
            "beaconId": BEACONS[n % 2] if n % 3 else BEACONS[0],
        }
        reported.append(track.control.call("POST", "positions", json=body))
    low, high = sorted((a, b))
    params = {
        "deviceId": device["id"],
        "from": written(START + timedelta(seconds=low), zone),
        "to": written(START + timedelta(seconds=high), zone),
        "filterSameLocation": str(same_location).lower(),
    }
    answer = http.get(
        track.url_for("/api/reports/route"), params=params, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    route = [p["id"] for p in answer.json()]
    inside = sorted(
        (p for p, offset in zip(reported, fixes, strict=True) if low <= offset <= high),
        key=lambda p: (p["fixTime"], p["id"]),
    )
    if not same_location:
        assert route == [p["id"] for p in inside]
        return
    by_id = {p["id"]: p for p in inside}
    assert route == [i for i in (p["id"] for p in inside) if i in set(route)], "a subsequence"
    assert route[:1] == [p["id"] for p in inside[:1]], "the first is kept"
    places = [by_id[i]["beaconId"] for i in route]
    assert all(x != y for x, y in itertools.pairwise(places)), "no two in a row at one place"
