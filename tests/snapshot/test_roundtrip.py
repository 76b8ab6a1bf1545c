"""Snapshot -> restore -> snapshot is identical, and every read answers the same, byte for byte.

Hypothesis draws a sequence of writes through each vendor's public API (the vendor API and its
control actions) and moves of the clock, on emulator A. A second emulator, B, is first put in
another state (its own writes, and every read, so each cached encoding is warm), then restored
from A's snapshot: its snapshot must equal A's, and each read (status, every header, body) must
answer as A's does, the cached answers of B made again from the restored records.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trackmock.pytest_plugin import TEST_CLOCK_START, EmulatorHandle, start_emulator

from .vendors import DRIVERS, STEPS, Driver, TrackDriver, reads, run

SETTINGS = {"clock_frozen": True, "clock_start": TEST_CLOCK_START, "check_responses": True}


@pytest.fixture(scope="module", params=sorted(DRIVERS))
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[EmulatorHandle, EmulatorHandle]]:
    """Two emulators of one vendor (started once for every example)."""
    started = [start_emulator(request.param, SETTINGS) for _ in range(2)]
    yield started[0][0], started[1][0]
    try:
        for handle, _ in started:
            handle.check()
    finally:
        for _, runner in started:
            runner.stop()


def _cookies(driver: Driver) -> list[str]:
    return list(driver.cookies) if isinstance(driver, TrackDriver) else []


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_snapshot_restores_exactly(
    pair: tuple[EmulatorHandle, EmulatorHandle], data: st.DataObject
) -> None:
    source, target = pair
    vendor = source.vendor
    steps = data.draw(st.lists(STEPS[vendor], max_size=12), label="steps on A")
    other = data.draw(st.lists(STEPS[vendor], min_size=1, max_size=4), label="steps on B")
    for handle in pair:
        handle.reset()
    a, b = DRIVERS[vendor](source), DRIVERS[vendor](target)
    run(a, steps)
    run(b, other)
    reads(b, _cookies(b))  # B's hot answers are cached before the restore

    taken = source.snapshot()
    restored = target.restore(taken)
    assert restored["settings_differ"] == []
    assert target.snapshot() == taken, "snapshot -> restore -> snapshot differs"
    assert target.clock.read() == source.clock.read()

    cookies = _cookies(a)
    assert reads(b, cookies) == reads(a, cookies)
    # Reads change the state too (polling rule, rate limit, sessions): still in step.
    assert target.snapshot() == source.snapshot()
