"""The emulator clock: real or frozen, set and advanced, waking waiters when moved."""

from __future__ import annotations

import asyncio

import pytest
from trackmock.core.clock import Clock, isoformat, parse_instant, wait_until


def test_real_clock_follows_the_wall_clock_plus_offset() -> None:
    wall = [1000.0]
    clock = Clock(wall=lambda: wall[0])
    assert clock.now() == 1000.0
    wall[0] = 1005.0
    assert clock.now() == 1005.0
    clock.advance(10)
    assert clock.now() == 1015.0
    wall[0] = 1006.0
    assert clock.now() == 1016.0


def test_frozen_clock_moves_only_when_told() -> None:
    wall = [50.0]
    clock = Clock(frozen=True, start="2025-02-21T10:00:00Z", wall=lambda: wall[0])
    start = parse_instant("2025-02-21T10:00:00Z")
    wall[0] = 999.0
    assert clock.now() == start
    assert clock.advance(2.5) == start + 2.5
    clock.set("2030-01-01T00:00:00+00:00")
    assert clock.snapshot() == {
        "now": "2030-01-01T00:00:00.000Z",
        "epoch": 1893456000.0,
        "frozen": True,
    }


def test_reset_returns_to_the_configured_start() -> None:
    clock = Clock(frozen=True, start=100.0)
    clock.advance(50)
    clock.freeze(False)
    clock.reset()
    assert clock.frozen
    assert clock.now() == 100.0


def test_freeze_and_unfreeze_keep_the_current_instant() -> None:
    wall = [10.0]
    clock = Clock(wall=lambda: wall[0])
    clock.freeze()
    wall[0] = 20.0
    assert clock.now() == 10.0
    clock.freeze(False)
    assert clock.now() == 10.0
    wall[0] = 25.0
    assert clock.now() == 15.0


def test_advancing_backwards_is_refused() -> None:
    with pytest.raises(ValueError, match="only advances"):
        Clock().advance(-1)


@pytest.mark.parametrize("bad", ["2025-02-21T10:00:00", "yesterday", True])
def test_instants_need_a_time_zone_and_a_valid_form(bad: object) -> None:
    with pytest.raises(ValueError, match=r"time zone|Invalid isoformat|boolean"):
        parse_instant(bad)  # type: ignore[arg-type]


def test_isoformat_is_utc_with_milliseconds() -> None:
    assert isoformat(0.5) == "1970-01-01T00:00:00.500Z"


def test_listeners_hear_every_move_and_can_leave() -> None:
    clock = Clock(frozen=True, start=0)
    heard: list[float] = []
    leave = clock.subscribe(heard.append)
    clock.advance(1)
    clock.set(10)
    leave()
    clock.advance(1)
    assert heard == [1.0, 10.0]


def test_wait_until_wakes_when_a_frozen_clock_is_advanced() -> None:
    clock = Clock(frozen=True, start=0)

    async def scenario() -> list[str]:
        events: list[str] = []

        async def waiter() -> None:
            await wait_until(clock, 30)
            events.append(f"woke at {clock.now()}")

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        clock.advance(29)
        await asyncio.sleep(0)
        events.append("still waiting" if not task.done() else "woke early")
        clock.advance(1)
        await asyncio.wait_for(task, 5)
        return events

    assert asyncio.run(scenario()) == ["still waiting", "woke at 30.0"]


def test_wait_until_gives_up_after_max_wait_of_real_time() -> None:
    clock = Clock(frozen=True, start=0)
    assert asyncio.run(wait_until(clock, 10, max_wait=0.01)) is False
