"""Rate limits computed from the emulator clock: a sliding window per credential.

A request is allowed when fewer than ``limit`` allowed requests of the same key fall in the
last ``period`` seconds. A refused request is not counted, so a client that waits the
returned ``retry_after`` gets through.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

from .clock import Clock


@dataclass(frozen=True, slots=True)
class Policy:
    """At most ``limit`` requests per ``period`` seconds."""

    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ValueError("a rate policy needs limit >= 1 and period > 0")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float
    """Seconds until a request of this key would be allowed (0 when allowed)."""
    remaining: int

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` as whole seconds, rounded up so a client that obeys it gets through."""
        return str(max(1, math.ceil(self.retry_after - 1e-9)))


class RateLimiter:
    def __init__(self, clock: Clock, policy: Policy) -> None:
        self.clock = clock
        self.policy = policy
        self._lock = threading.Lock()
        self._hits: dict[Hashable, deque[float]] = {}

    def hit(self, key: Hashable) -> Decision:
        """Count a request of ``key`` if the policy allows it, and say whether it did."""
        now = self.clock.now()
        limit, period = self.policy.limit, self.policy.period
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and (hits[0] <= now - period or hits[0] > now):
                # Old hits leave the window; hits "in the future" come from a clock set back.
                hits.popleft()
            if len(hits) < limit:
                hits.append(now)
                return Decision(True, 0.0, limit - len(hits))
            return Decision(False, hits[0] + period - now, 0)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def state(self) -> dict[Hashable, deque[float]]:
        """The allowed requests each key has in its window (a snapshot)."""
        with self._lock:
            return {key: deque(hits) for key, hits in self._hits.items()}

    def restore(self, hits: dict[Hashable, deque[float]]) -> None:
        with self._lock:
            self._hits = {key: deque(times) for key, times in hits.items()}
