"""The socket's rules without sockets (mocks/track/feed.py), step by step."""

from __future__ import annotations

import itertools

import pytest
from trackmock.track.feed import FeedSession, PingRule

TIMEOUT = '{"webSessionTimeout":[86400]}'


def session(missed: int = 2, ends_at: float | None = None) -> FeedSession:
    ids = itertools.count(1)
    return FeedSession(
        snapshot=lambda: ["push"],
        rule=PingRule(30.0, missed, 1000),
        new_uuid=lambda: f"uuid-{next(ids)}",
        ping_frame=lambda message: f"PING {message}",
        timeout_frame=TIMEOUT,
        session_ends_at=None if ends_at is None else (lambda: ends_at),
    )


@pytest.mark.behaviour("SF-03", "SF-09")
def test_opening_sends_the_push_then_the_timeout_once() -> None:
    feed = session()
    assert feed.opened(0.0) == ["push", TIMEOUT]
    assert feed.deadline() == 30.0
    assert feed.tick(30.0) == ["PING uuid-1"]


@pytest.mark.behaviour("SF-06")
def test_a_clock_jump_sends_one_ping_and_reschedules_from_now() -> None:
    feed = session()
    feed.opened(0.0)
    assert feed.tick(1000.0) == ["PING uuid-1"]
    assert feed.deadline() == 1030.0


@pytest.mark.behaviour("SF-07", "SF-08")
def test_a_late_pong_counts_and_a_wrong_one_does_not() -> None:
    feed = session()
    feed.opened(0.0)
    feed.tick(30.0)
    feed.tick(60.0)
    assert feed.missed == 1
    assert feed.received("pong uuid-1", 61.0) == []
    assert feed.missed == 0
    feed.received("pong uuid-9", 62.0)
    feed.tick(90.0)
    feed.received("pong nope", 91.0)
    assert feed.tick(120.0) == []
    assert feed.close_code == 1000


@pytest.mark.behaviour("SF-09")
def test_in_expiry_mode_the_timeout_comes_when_the_session_ends() -> None:
    feed = session(ends_at=45.0)
    assert feed.opened(0.0) == ["push"]
    assert feed.deadline() == 30.0
    feed.tick(30.0)
    assert feed.deadline() == 45.0
    assert feed.tick(45.0) == [TIMEOUT]
    assert feed.tick(60.0) == ["PING uuid-2"]
    assert TIMEOUT not in feed.tick(1000.0)
