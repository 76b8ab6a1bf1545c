"""WebSockets: a thin connection over ASGI, and a driver for sans-I/O socket sessions.

A vendor writes its socket behaviour as a ``SocketSession``: plain methods that take the
time and what happened (opened, a client text, a pushed change, a tick) and return the frames
to send. ``drive`` does the I/O: it waits for client frames, pushed changes, the session's
next deadline on the emulator clock, or a close request, whichever comes first. Tests move
the clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any, Protocol

from .clock import Clock, wait_until

if TYPE_CHECKING:
    from .emulator import Emulator

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_ids = itertools.count(1)


class SocketSession(Protocol):
    """A socket's behaviour without I/O; every method returns the text frames to send."""

    close_code: int | None
    """Set when the session wants the socket closed (sent after the returned frames)."""

    def opened(self, now: float) -> list[str]: ...

    def received(self, text: str, now: float) -> list[str]: ...

    def pushed(self, change: Any, now: float) -> list[str]: ...

    def tick(self, now: float) -> list[str]: ...

    def deadline(self) -> float | None:
        """When ``tick`` must next run, by the emulator clock (None: no timer)."""
        ...


@dataclass(frozen=True)
class _Event:
    kind: str
    """``text``, ``push``, ``tick``, ``close`` or ``gone``."""
    value: Any = None


class SocketConnection:
    """One WebSocket (or upgrade request) on an emulator."""

    def __init__(self, emulator: Emulator, scope: dict[str, Any], receive: Receive, send: Send):
        self.emulator = emulator
        self.id = next(_ids)
        self.path: str = scope["path"]
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        self.headers: list[tuple[str, str]] = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])
        ]
        self.cookies = _cookies(self.header("cookie") or "")
        self.supports_reject = "websocket.http.response" in scope.get("extensions", {})
        self.accepted = False
        self.closed = False
        self._receive = receive
        self._send = send
        self._events: asyncio.Queue[_Event] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    async def handshake(self) -> None:
        """Wait for the upgrade request (the ASGI ``websocket.connect`` message)."""
        message = await self._receive()
        if message["type"] != "websocket.connect":
            self.closed = True

    async def accept(self) -> None:
        await self._send({"type": "websocket.accept"})
        self.accepted = True
        self.emulator.open_sockets.add(self)
        self.emulator.journal.record("ws-open", method="GET", path=self.path, connection=self.id)

    async def reject(self, status: int, body: bytes, content_type: str) -> None:
        """Refuse the upgrade with an HTTP answer (or a plain close where the server can't)."""
        self.closed = True
        self.emulator.journal.record(
            "http",
            method="GET",
            path=self.path,
            query=self.query_string,
            status=status,
            request_headers=self.headers,
            response_headers=[("content-type", content_type)],
            response_body=body,
            note="websocket upgrade refused",
        )
        if not self.supports_reject:
            await self._send({"type": "websocket.close", "code": 1008})
            return
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type.encode("latin-1")),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body})

    async def send_text(self, text: str) -> None:
        if self.closed:
            return
        self.emulator.journal.record(
            "ws-out", path=self.path, connection=self.id, response_body=text.encode("utf-8")
        )
        self.emulator.check_frame(text)
        try:
            await self._send({"type": "websocket.send", "text": text})
        except (OSError, RuntimeError):
            # The peer went away between our check and the write.
            self.closed = True

    def push(self, change: Any) -> None:
        """Hand a change to this socket's session (safe from any thread)."""
        self._put(_Event("push", change))

    def close_soon(self, code: int = 1000) -> None:
        """Ask the socket to close (safe from any thread)."""
        self._put(_Event("close", code))

    def _put(self, event: _Event) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._events.put_nowait(event)
        else:
            self._loop.call_soon_threadsafe(self._events.put_nowait, event)

    async def close(self, code: int = 1000) -> None:
        if self.closed:
            return
        self.closed = True
        self.emulator.open_sockets.discard(self)
        self.emulator.journal.record("ws-close", path=self.path, connection=self.id, status=code)
        with contextlib.suppress(OSError, RuntimeError):
            await self._send({"type": "websocket.close", "code": code})

    async def _read(self) -> None:
        """Feed client frames into the event queue until the client goes away."""
        while True:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self._events.put_nowait(_Event("gone", message.get("code")))
                return
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", "replace")
            self.emulator.journal.record(
                "ws-in", path=self.path, connection=self.id, request_body=text.encode("utf-8")
            )
            self._events.put_nowait(_Event("text", text))


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


async def drive(connection: SocketConnection, session: SocketSession, clock: Clock) -> None:
    """Run an accepted socket with ``session`` until either side closes it.

    Everything that can happen (a client frame, a pushed change, the session's deadline on the
    emulator clock, a close request) arrives as one event on the connection's queue, so each
    costs one wake-up: with a thousand sockets, a push is a thousand of them.
    """
    events = connection._events
    reader = asyncio.create_task(connection._read())
    alarm: asyncio.Task[None] | None = None
    alarm_for: float | None = None

    async def ring(deadline: float) -> None:
        await wait_until(clock, deadline)
        events.put_nowait(_Event("tick"))

    try:
        await _send_all(connection, session.opened(clock.now()))
        while not connection.closed and session.close_code is None:
            deadline = session.deadline()
            if deadline != alarm_for:
                if alarm is not None:
                    alarm.cancel()
                alarm = None if deadline is None else asyncio.create_task(ring(deadline))
                alarm_for = deadline
            event = await events.get()
            now = clock.now()
            if event.kind == "tick":
                # A tick from an alarm since replaced is harmless: the session acts only on
                # what is due.
                alarm, alarm_for = None, None
                frames = session.tick(now)
            elif event.kind == "text":
                frames = session.received(event.value, now)
            elif event.kind == "push":
                frames = session.pushed(event.value, now)
            elif event.kind == "close":
                await connection.close(int(event.value))
                break
            else:
                connection.closed = True
                connection.emulator.open_sockets.discard(connection)
                connection.emulator.journal.record(
                    "ws-close",
                    path=connection.path,
                    connection=connection.id,
                    status=event.value,
                    note="closed by the client",
                )
                break
            await _send_all(connection, frames)
        if session.close_code is not None:
            await connection.close(session.close_code)
    finally:
        for task in (reader, alarm):
            if task is not None:
                task.cancel()
        connection.emulator.open_sockets.discard(connection)


async def _send_all(connection: SocketConnection, frames: list[str]) -> None:
    for frame in frames:
        await connection.send_text(frame)
