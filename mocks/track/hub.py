"""Fan-out of changes: the open sockets of each user, so a change reaches every viewer.

A change is encoded once by the provider; every socket gets the same strings, so a push to
1 000 sockets costs 1 000 queue puts, not 1 000 encodings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ..core.websocket import Frames


class Socket(Protocol):
    def push(self, change: object) -> None: ...

    def close_soon(self, code: int = 1000) -> None: ...


class Hub:
    """Open sockets by user id."""

    def __init__(self) -> None:
        self._by_user: dict[int, set[Socket]] = {}

    def join(self, user_id: int, socket: Socket) -> None:
        self._by_user.setdefault(user_id, set()).add(socket)

    def leave(self, user_id: int, socket: Socket) -> None:
        sockets = self._by_user.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._by_user[user_id]

    def publish(self, user_ids: Iterable[int], frames: tuple[str, ...]) -> int:
        """Push ``frames`` to every socket of these users; returns how many sockets got them."""
        count = 0
        frames = Frames(frames)  # encoded once, written to each socket in one write
        for user_id in user_ids:
            for socket in self._by_user.get(user_id, ()):
                socket.push(frames)
                count += 1
        return count

    def close_all(self, code: int) -> None:
        for sockets in list(self._by_user.values()):
            for socket in list(sockets):
                socket.close_soon(code)
