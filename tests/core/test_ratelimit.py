"""The rate limiter: a sliding window by the emulator clock, with exact retry-after values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from trackmock.core.clock import Clock
from trackmock.core.ratelimit import Decision, Policy, RateLimiter


def test_one_per_second_gives_exact_retry_after_values() -> None:
    clock = Clock(frozen=True, start=0)
    limiter = RateLimiter(clock, Policy(limit=1, period=1.0))
    assert limiter.hit("samspade").allowed
    clock.advance(0.25)
    refused = limiter.hit("samspade")
    assert refused == Decision(False, 0.75, 0)
    assert refused.retry_after_header == "1"
    clock.advance(0.5)
    assert limiter.hit("samspade").retry_after == pytest.approx(0.25)
    clock.advance(0.25)
    assert limiter.hit("samspade").allowed, "a client that waited retry-after gets through"


def test_keys_are_counted_apart() -> None:
    clock = Clock(frozen=True, start=0)
    limiter = RateLimiter(clock, Policy(limit=1, period=1.0))
    assert limiter.hit("a").allowed
    assert limiter.hit("b").allowed
    assert not limiter.hit("a").allowed


def test_larger_windows_report_remaining_and_wait_for_the_oldest_hit() -> None:
    clock = Clock(frozen=True, start=0)
    limiter = RateLimiter(clock, Policy(limit=3, period=10.0))
    remaining = []
    for _ in range(3):
        remaining.append(limiter.hit("k").remaining)
        clock.advance(2)
    assert remaining == [2, 1, 0]
    refused = limiter.hit("k")
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(4.0)
    assert refused.retry_after_header == "4"


def test_setting_the_clock_back_does_not_lock_a_key_out() -> None:
    clock = Clock(frozen=True, start=100)
    limiter = RateLimiter(clock, Policy(limit=1, period=1.0))
    assert limiter.hit("k").allowed
    clock.set(50)
    assert limiter.hit("k").allowed


def test_policies_must_make_sense() -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        Policy(limit=0, period=1)


@given(st.lists(st.floats(0, 5, allow_nan=False), max_size=60), st.integers(1, 4))
def test_no_window_ever_holds_more_than_the_limit(steps: list[float], limit: int) -> None:
    clock = Clock(frozen=True, start=0)
    limiter = RateLimiter(clock, Policy(limit=limit, period=1.0))
    allowed: list[float] = []
    for step in steps:
        clock.advance(step)
        decision = limiter.hit("k")
        now = clock.now()
        in_window = [t for t in allowed if t > now - 1.0]
        assert decision.allowed == (len(in_window) < limit)
        if decision.allowed:
            allowed.append(now)
        else:
            assert decision.retry_after == pytest.approx(min(in_window) + 1.0 - now)
