"""The Track socket's behaviour without I/O (a ``core.websocket.SocketSession``).

The Track API guide, 3 WebSocket: on connect every device, beacon and latest position is
pushed once, then only changes. 3.3 Ping/Pong Mechanism: a PING with a fresh UUID every 30 s
(by the emulator clock); the client answers ``pong <uuid>``. 3.4 Web Session Timeout:
``{"webSessionTimeout": [N]}`` once. After a configurable number of consecutive unanswered
PINGs the socket is closed (inferred). Anything else a client sends is ignored: the core
journals it, and it never breaks the socket.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PingRule:
    interval: float
    missed_before_close: int
    """0: never close for unanswered PINGs."""
    close_code: int


class FeedSession:
    """One socket of one user.

    Args:
        snapshot: the initial push, built when the socket opens (frames, ready to send).
        rule: the PING schedule and the missed-PING grace.
        new_uuid: a fresh UUID4 string for each PING.
        ping_frame: the PING frame carrying a UUID.
        timeout_frame: the ``webSessionTimeout`` frame.
        session_ends_at: None sends ``timeout_frame`` right after the initial push; otherwise a
            function giving when the web session that opened the socket times out (None once
            it was logged out), and the frame is sent then.
    """

    def __init__(
        self,
        *,
        snapshot: Callable[[], list[str]],
        rule: PingRule,
        new_uuid: Callable[[], str],
        ping_frame: Callable[[str], str],
        timeout_frame: str,
        session_ends_at: Callable[[], float | None] | None = None,
    ) -> None:
        self.close_code: int | None = None
        self.awaiting: dict[str, None] = {}
        """UUIDs of the recent PINGs not answered yet, oldest first."""
        self.missed = 0
        """Consecutive PINGs whose interval ended without an answer."""
        self.next_ping: float | None = None
        self._snapshot = snapshot
        self._rule = rule
        self._new_uuid = new_uuid
        self._ping_frame = ping_frame
        self._timeout_frame = timeout_frame
        self._session_ends_at = session_ends_at
        self._timeout_sent = False
        self._last: str | None = None

    def opened(self, now: float) -> list[str]:
        self.next_ping = now + self._rule.interval
        frames = self._snapshot()
        if self._session_ends_at is None:
            frames.append(self._timeout_frame)
            self._timeout_sent = True
        return frames

    def received(self, text: str, now: float) -> list[str]:
        parts = text.split()
        if len(parts) == 2 and parts[0] == "pong" and parts[1].lower() in self.awaiting:
            # A late answer (after the next PING went out) still shows the client is alive:
            # a pong and a clock jump can reach the server in either order.
            del self.awaiting[parts[1].lower()]
            self.missed = 0
        return []

    def pushed(self, change: Sequence[str], now: float) -> list[str]:
        """A change is the frames to send, encoded once and shared by every socket."""
        return list(change)

    def tick(self, now: float) -> list[str]:
        frames = []
        ends = self._timeout_due()
        if ends is not None and now >= ends:
            frames.append(self._timeout_frame)
            self._timeout_sent = True
        if self.next_ping is not None and now >= self.next_ping:
            limit = self._rule.missed_before_close
            if self._last is not None and self._last in self.awaiting:
                self.missed += 1
            if limit > 0 and self.missed >= limit:
                self.close_code = self._rule.close_code
                return frames
            self._last = self._new_uuid()
            self.awaiting[self._last] = None
            while len(self.awaiting) > max(limit, 1) + 1:
                del self.awaiting[next(iter(self.awaiting))]
            frames.append(self._ping_frame(self._last))
            # Rescheduled from now, like a fixed-delay timer: a jump of the clock fires one
            # PING, not one for every interval skipped, so a client gets time to answer it.
            self.next_ping = now + self._rule.interval
        return frames

    def deadline(self) -> float | None:
        ends = self._timeout_due()
        if ends is None:
            return self.next_ping
        return ends if self.next_ping is None else min(ends, self.next_ping)

    def _timeout_due(self) -> float | None:
        if self._timeout_sent or self._session_ends_at is None:
            return None
        return self._session_ends_at()
