"""The emulator's clock: every time-based rule reads it, tests and the control API move it.

Real by default (the wall clock plus an offset that ``set``/``advance`` change); frozen when
asked, in which case time moves only when it is set or advanced. Listeners hear every jump,
so loops that wait for a deadline (socket pings, session expiry) wake when time is moved.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

Listener = Callable[[float], None]


def parse_instant(value: str | float | int | datetime) -> float:
    """Epoch seconds of an ISO 8601 string (with an offset or ``Z``), a number or a datetime.

    Raises:
        ValueError: the string is not an ISO 8601 instant with a time zone.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime needs a time zone")
        return value.timestamp()
    if isinstance(value, bool):
        raise ValueError("expected an ISO 8601 time or epoch seconds, got a boolean")
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add Z or an offset such as +00:00")
    return parsed.timestamp()


def isoformat(epoch: float) -> str:
    """Render epoch seconds as UTC ISO 8601 with milliseconds and ``Z``."""
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class Clock:
    """Time for one or more emulators.

    Args:
        frozen: start frozen instead of following the wall clock.
        start: the instant to start at (ISO 8601 or epoch seconds); the wall clock if omitted.
        wall: the wall-clock source (tests may inject one).
    """

    def __init__(
        self,
        *,
        frozen: bool = False,
        start: str | float | datetime | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._initial = (frozen, None if start is None else parse_instant(start))
        self._frozen = frozen
        self._offset = 0.0
        self._frozen_at = 0.0
        self.reset()

    def reset(self) -> None:
        """Go back to the configuration the clock was made with."""
        frozen, start = self._initial
        with self._lock:
            wall_now = self._wall()
            self._frozen = frozen
            self._offset = 0.0 if start is None else start - wall_now
            self._frozen_at = wall_now + self._offset
        self._notify()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def now(self) -> float:
        """Epoch seconds by this clock."""
        if self._frozen:
            return self._frozen_at
        return self._wall() + self._offset

    def datetime(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)

    def set(self, when: str | float | datetime) -> float:
        """Jump to an instant (forwards or backwards); returns the new time."""
        target = parse_instant(when)
        with self._lock:
            if self._frozen:
                self._frozen_at = target
            else:
                self._offset = target - self._wall()
        self._notify()
        return target

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (must not be negative); returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only advances; use set() to go back")
        with self._lock:
            if self._frozen:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        self._notify()
        return self.now()

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or restart) the clock at the current instant."""
        with self._lock:
            current = self.now()
            self._frozen = frozen
            if frozen:
                self._frozen_at = current
            else:
                self._offset = current - self._wall()
        self._notify()

    def snapshot(self) -> dict[str, object]:
        now = self.now()
        return {"now": isoformat(now), "epoch": round(now, 6), "frozen": self._frozen}

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(now)`` after every set, advance, freeze or reset.

        Returns a function that unsubscribes the listener.
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _notify(self) -> None:
        now = self.now()
        for listener in list(self._listeners):
            listener(now)


async def wait_until(clock: Clock, deadline: float, *, max_wait: float | None = None) -> bool:
    """Wait until ``clock`` reaches ``deadline``; wakes early when the clock is moved.

    Returns True when the deadline has passed, False when ``max_wait`` real seconds ran out first.
    """
    loop = asyncio.get_running_loop()
    moved = asyncio.Event()

    def on_move(_now: float) -> None:
        loop.call_soon_threadsafe(moved.set)

    unsubscribe = clock.subscribe(on_move)
    started = loop.time()
    try:
        while True:
            remaining = deadline - clock.now()
            if remaining <= 0:
                return True
            timeout = None if clock.frozen else remaining
            if max_wait is not None:
                left = max_wait - (loop.time() - started)
                if left <= 0:
                    return False
                timeout = left if timeout is None else min(timeout, left)
            moved.clear()
            try:
                await asyncio.wait_for(moved.wait(), timeout)
            except TimeoutError:
                continue
    finally:
        unsubscribe()
