"""Many deadlines on one emulator clock, served by a single timer.

A thousand sockets each waiting for their next PING would otherwise be a thousand tasks, each
subscribed to the clock. Here one heap holds every deadline of a clock; one timer waits for
the earliest (or, while the clock is frozen, for the clock to move), and a move of the clock
fires whatever became due at once.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import weakref
from collections.abc import Callable

from .clock import Clock


class Alarm:
    """One deadline; ``cancel`` it when it is no longer wanted."""

    __slots__ = ("callback", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        self.callback = None


class Alarms:
    """The deadlines of one clock on one event loop."""

    def __init__(self, clock: Clock, loop: asyncio.AbstractEventLoop) -> None:
        self.clock = clock
        self.loop = loop
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        # The clock may be moved from another thread (a test, the control client).
        clock.subscribe(lambda _now: loop.call_soon_threadsafe(self._fire))

    def at(self, deadline: float, callback: Callable[[], None]) -> Alarm:
        """Call ``callback`` on the loop once the clock reaches ``deadline``."""
        alarm = Alarm(deadline, callback)
        earliest = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (deadline, next(self._order), alarm))
        if earliest is None or deadline < earliest:
            self._fire()
        return alarm

    def _fire(self) -> None:
        now = self.clock.now()
        heap = self._heap
        while heap and (heap[0][0] <= now or heap[0][2].callback is None):
            _, _, alarm = heapq.heappop(heap)
            callback, alarm.callback = alarm.callback, None
            if callback is not None:
                callback()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if heap and not self.clock.frozen:
            self._timer = self.loop.call_later(max(0.0, heap[0][0] - now), self._fire)


_by_clock: weakref.WeakKeyDictionary[Clock, Alarms] = weakref.WeakKeyDictionary()


def alarms_for(clock: Clock) -> Alarms:
    """The ``Alarms`` of ``clock`` on the running loop (made on first use)."""
    loop = asyncio.get_running_loop()
    found = _by_clock.get(clock)
    if found is None or found.loop is not loop:
        found = _by_clock[clock] = Alarms(clock, loop)
    return found
