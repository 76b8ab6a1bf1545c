"""WebSockets: a thin connection over ASGI, and a driver for sans-I/O socket sessions.

A vendor writes its socket behaviour as a ``SocketSession``: plain methods that take the
time and what happened (opened, a client text, a pushed change, a tick) and return the frames
to send. ``drive`` does the I/O: it waits for client frames, pushed changes, the session's
next deadline on the emulator clock, or a close request, whichever comes first. Tests move
the clock instead of sleeping.

Sending never waits for a client: frames go to the server's buffer for that socket
(``wschannel``). A client that falls more than ``socket_send_buffer_bytes`` behind is closed
with 1008, and one with more than ``socket_queue_events`` events waiting with 1013, so a
client that never reads cannot make memory grow. A change pushed to many sockets as
``Frames`` is encoded once and written to each socket in one write.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import operator
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from .alarms import Alarm, alarms_for
from .clock import Clock
from .wsframes import CHANNEL_KEY, encode_text_frames

if TYPE_CHECKING:
    from .emulator import Emulator
    from .faults import Firing

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

log = logging.getLogger("trackmock")

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


class Frames(tuple[str, ...]):
    """The text frames of one change, encoded once for every socket that gets them.

    Push a ``Frames`` to many sockets: when a session passes it on unchanged (its ``pushed``
    returns the same strings), each socket gets the shared encoding in one write.
    """

    @functools.cached_property
    def wire(self) -> bytes:
        return encode_text_frames(self)

    @functools.cached_property
    def bodies(self) -> tuple[bytes, ...]:
        """Each frame's UTF-8 bytes, as the journal keeps them."""
        return tuple(text.encode("utf-8") for text in self)


def _passed_on(frames: Sequence[str], change: Frames) -> bool:
    return len(frames) == len(change) and all(map(operator.is_, frames, change))


@dataclass(frozen=True, slots=True)
class _Step:
    """One step of sending frames that faults act on: ``send`` texts, ``hold`` the frames
    after it for ``value`` ms, or ``close`` with code ``value``."""

    kind: str
    value: Any


@dataclass(frozen=True)
class _Event:
    kind: str
    """``text``, ``push``, ``tick``, ``close``, ``gone``, or ``wake`` (look again)."""
    value: Any = None


class _Inbox:
    """A socket's waiting events: what ``asyncio.Queue`` does here, at a tenth of its size
    (a short list and at most one waiter; a server may hold ten thousand of these)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[_Event] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, event: _Event) -> None:
        self._items.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> _Event:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items


class SocketConnection:
    """One WebSocket (or upgrade request) on an emulator."""

    def __init__(self, emulator: Emulator, scope: dict[str, Any], receive: Receive, send: Send):
        self.emulator = emulator
        self.id = next(_ids)
        self.path: str = scope["path"]
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        self._raw_headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        self.cookies = _cookies(self.header("cookie") or "")
        extensions = scope.get("extensions") or {}
        self.supports_reject = "websocket.http.response" in extensions
        self.accepted = False
        self.closed = False
        self._receive = receive
        self._send = send
        self._channel = extensions.get(CHANNEL_KEY)
        self._events = _Inbox()
        self._loop = asyncio.get_running_loop()
        self._inline: tuple[SocketSession, Clock] | None = None
        """Set by ``drive`` while it runs, so that ``push`` can hand changes on at once."""
        self._armed: float | None = None
        """The deadline ``drive`` waits for."""
        settings = emulator.settings
        self._send_limit = settings.socket_send_buffer_bytes
        self._queue_limit = settings.socket_queue_events
        self._held: list[str] | None = None
        """Frames held back behind a delayed one (``frame_delay``), in order."""
        self._held_until = 0.0
        self._release: asyncio.TimerHandle | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The upgrade request's headers, decoded (kept raw: ten thousand sockets add up)."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw_headers]

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self._raw_headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
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
        faults = self.emulator.faults
        firing = faults.take_open(self.path) if faults.on_frames else None
        if firing is not None:
            code = self._closed_by(firing)
            if self._channel is not None:
                self._channel.close(code)
            else:
                await self._send({"type": "websocket.close", "code": code})

    async def reject(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        note: str = "websocket upgrade refused",
        rules: list[dict[str, str]] | None = None,
    ) -> None:
        """Refuse the upgrade with an HTTP answer (or a plain close where the server can't)."""
        self.closed = True
        extra = list((headers or {}).items())
        self.emulator.journal.record(
            "http",
            method="GET",
            path=self.path,
            query=self.query_string,
            status=status,
            request_headers=self._raw_headers,
            response_headers=[("content-type", content_type), *extra],
            response_body=body,
            note=note,
            rules=rules or [],
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
                    *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra),
                ],
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body})

    async def refuse_by_fault(self, firing: Firing) -> None:
        """Refuse the upgrade as an ``upgrade_refuse`` fault says (its status, body, headers;
        by default the vendor's error shape)."""
        fault = firing.fault
        status = fault.status or 503
        if fault.body is not None:
            body, content_type = orjson.dumps(fault.body), "application/json"
        else:
            error = self.emulator.provider.error(
                status, f"fault {fault.id} injected through the control API"
            )
            body, content_type = error.body, error.content_type
        await self.reject(
            status,
            body,
            content_type,
            headers=fault.headers,
            note=f"websocket upgrade refused by fault {fault.id}",
            rules=[firing.rule(f"upgrade refused with {status}")],
        )

    async def send_text(self, text: str) -> None:
        await self.send_frames([text])

    async def send_frames(self, frames: Sequence[str], shared: Frames | None = None) -> None:
        """Send text frames in one write (``shared``: the same frames, already encoded)."""
        if self._channel is not None:
            self._write(frames, shared)
        elif not self.closed and frames and self.emulator.faults.on_frames:
            for step in self._faulted(frames):
                if step.kind == "send":
                    for text in step.value:
                        self.emulator.check_frame(text)
                    await self._send_each(step.value)
                elif step.kind == "hold":
                    await asyncio.sleep(step.value / 1000)
                else:
                    await self._send({"type": "websocket.close", "code": step.value})
        elif not self.closed and frames:
            self._record(frames, None)
            await self._send_each(frames)

    def _write(
        self, frames: Sequence[str], shared: Frames | None, later: list[_Sent] | None = None
    ) -> None:
        """Write to our server's channel now (it never blocks); close a client too far behind.

        Every text frame this socket sends passes here, one call per write: the initial push,
        PINGs, answers and pushed changes. The frames are journaled and checked after the
        write; ``later`` collects them for the caller to do so once a whole fan-out is
        written (``fan_out``)."""
        channel = self._channel
        if self.closed or not frames:
            return
        if channel.buffered() > self._send_limit:
            self._closed_now(1008, f"the client is more than {self._send_limit} bytes behind")
            channel.close(1008)
            self._events.put_nowait(_Event("wake"))
            return
        if self.emulator.faults.on_frames or self._held is not None:
            for step in self._faulted(frames):
                if step.kind == "send":
                    self._emit(step.value)
                elif step.kind == "hold":
                    self._hold(step.value)
                else:
                    channel.close(step.value)
                    self._events.put_nowait(_Event("wake"))
            return
        channel.write_frames(shared.wire if shared is not None else encode_text_frames(frames))
        if later is None:
            self._sent(frames, shared)
        else:
            later.append((self, frames, shared))

    def _sent(self, frames: Sequence[str], shared: Frames | None) -> None:
        """Count, journal and check frames this socket has written."""
        self.emulator.frame_audit.sent += len(frames)
        self._record(frames, shared)

    def _faulted(self, frames: Sequence[str]) -> list[_Step]:
        """What to do with ``frames`` as the frame faults say, each frame in turn; the journal
        records each frame (and what a fault did to it) now."""
        faults = self.emulator.faults
        steps: list[_Step] = []
        out: list[str] = []
        for text in frames:
            firing = faults.take_frame(self.path, self.id) if faults.on_frames else None
            action = "" if firing is None else firing.fault.action
            if firing is None:
                self._journal_frame(text)
                out.append(text)
            elif action == "frame_drop":
                self._journal_frame(text, firing, "frame dropped (not sent)")
            elif action == "frame_duplicate":
                self._journal_frame(text, firing, "frame sent twice")
                self._journal_frame(text, firing, "the second copy")
                out += [text, text]
            elif action == "frame_delay":
                steps += [_Step("send", out), _Step("hold", firing.latency_ms)]
                self._journal_frame(
                    text, firing, f"{firing.waited()}; the frames after it wait behind it"
                )
                out = [text]
            else:
                if firing.fault.after_frames:  # the counted frame goes out, then the close
                    self._journal_frame(text)
                    out.append(text)
                steps.append(_Step("send", out))
                steps.append(_Step("close", self._closed_by(firing)))
                return steps
        steps.append(_Step("send", out))
        return steps

    def _closed_by(self, firing: Firing) -> int:
        """Note the close a ``socket_close`` fault makes; returns its code."""
        fault = firing.fault
        code = fault.close_code or 1001
        did = f"closed with {code} after {fault.after_frames} frame(s)"
        self._closed_now(code, f"closed by fault {fault.id}", [firing.rule(did)])
        return code

    def _journal_frame(self, text: str, firing: Firing | None = None, did: str = "") -> None:
        if firing is None:
            self.emulator.journal.record(
                "ws-out", path=self.path, connection=self.id, response_body=text.encode("utf-8")
            )
            return
        self.emulator.journal.record(
            "ws-out",
            path=self.path,
            connection=self.id,
            response_body=text.encode("utf-8"),
            note=f"{firing.fault.action} by fault {firing.fault.id}",
            rules=[firing.rule(did)],
        )

    def _emit(self, texts: Sequence[str]) -> None:
        """Write frames already journaled (behind held ones, if any), checked and counted."""
        if not texts:
            return
        if self._held is not None:
            self._held.extend(texts)
            return
        for text in texts:
            self.emulator.check_frame(text)
        self.emulator.frame_audit.sent += len(texts)
        self._channel.write_frames(encode_text_frames(texts))

    def _hold(self, latency_ms: float) -> None:
        """Hold every frame from now on for ``latency_ms`` (real time, on a loop timer: the
        loop goes on meanwhile); frames keep their order, as on a slow link."""
        until = self._loop.time() + latency_ms / 1000
        if self._held is None:
            self._held = []
        elif until <= self._held_until:
            return
        if self._release is not None:
            self._release.cancel()
        self._held_until = until
        self._release = self._loop.call_at(until, self._release_held)

    def _release_held(self) -> None:
        held, self._held, self._release = self._held or [], None, None
        if not self.closed:
            self._emit(held)

    def _record(self, frames: Sequence[str], shared: Frames | None) -> None:
        emulator = self.emulator
        bodies = shared.bodies if shared is not None else [t.encode("utf-8") for t in frames]
        for text, body in zip(frames, bodies, strict=True):
            emulator.journal.record(
                "ws-out", path=self.path, connection=self.id, response_body=body
            )
            emulator.check_frame(text)

    async def _send_each(self, frames: Sequence[str]) -> None:
        """Without our server's channel: one ASGI message per frame."""
        try:
            for text in frames:
                await self._send({"type": "websocket.send", "text": text})
        except (OSError, RuntimeError):
            # The peer went away between our check and the write.
            self.closed = True

    def push(self, change: Any, later: list[_Sent] | None = None) -> None:
        """Hand a change to this socket's session (safe from any thread).

        On the loop's thread, while the session has nothing else waiting, the change is
        handled at once: a push to a thousand sockets then costs no task switch at all.
        ``later``: see ``fan_out``."""
        inline = self._inline
        if (
            inline is not None
            and not self.closed
            and self._events.empty()
            and _running_loop() is self._loop
        ):
            frames = self._pushed(change, *inline)
            if frames is None:
                return
            shared = change if isinstance(change, Frames) and _passed_on(frames, change) else None
            if later is None:
                self._write(frames, shared)
                self._look_again()
            else:
                self._write(frames, shared, later)
                later.append((self, (), None))
            return
        self._put(_Event("push", change))

    def _pushed(self, change: Any, session: SocketSession, clock: Clock) -> list[str] | None:
        """The session's frames for a change handled at once (None: it failed, and the socket
        is closed with 1011)."""
        try:
            return session.pushed(change, clock.now())
        except Exception:
            log.exception("socket session failed on a push")
            self._closed_now(1011, "the session failed on a push")
            self._channel.close(1011)
            self._events.put_nowait(_Event("wake"))
            return None

    def _push_shared(
        self, change: Frames, loop: asyncio.AbstractEventLoop | None, later: list[_Sent]
    ) -> bool:
        """``fan_out``'s first pass for this socket. True: the session passed ``change`` on
        unchanged and nothing stood in the way (no frame fault or held frame, the client not
        too far behind), so its shared encoding went out in one write and the bookkeeping is
        ``fan_out``'s. False: the socket took ``push``'s way (``later`` has what is left)."""
        inline = self._inline
        if inline is None or self.closed or self._events._items or self._loop is not loop:
            self.push(change, later)
            return False
        frames = self._pushed(change, *inline)
        if frames is None:
            return False
        channel = self._channel
        passed_on = _passed_on(frames, change)
        if (
            not passed_on
            or self._held is not None
            or self.emulator.faults.on_frames
            or channel.buffered() > self._send_limit
        ):
            self._write(frames, change if passed_on else None, later)
            later.append((self, (), None))
            return False
        if change:
            channel.write_frames(change.wire)
        return True

    def _look_again(self) -> None:
        """After a change handled at once: wake ``drive`` if the session wants to close or
        its next deadline moved."""
        inline = self._inline
        if inline is None or self.closed:
            return
        session = inline[0]
        if session.close_code is not None or session.deadline() != self._armed:
            self._events.put_nowait(_Event("wake"))

    def close_soon(self, code: int = 1000) -> None:
        """Ask the socket to close (safe from any thread)."""
        self._put(_Event("close", code))

    def _put(self, event: _Event) -> None:
        if _running_loop() is self._loop:
            self._enqueue(event)
        else:
            self._loop.call_soon_threadsafe(self._enqueue, event)

    def _enqueue(self, event: _Event) -> None:
        if self.closed:
            return
        if self._events.qsize() >= self._queue_limit and self._channel is not None:
            # The session is not keeping up (its client or the loop is stuck): give up on it.
            self._closed_now(1013, f"more than {self._queue_limit} events waiting")
            self._channel.close(1013)
            self._events.put_nowait(_Event("close", 1013))
            return
        self._events.put_nowait(event)

    async def close(self, code: int = 1000, note: str = "") -> None:
        """Close the socket (never waits for the client to read the close frame)."""
        if self.closed:
            return
        self._closed_now(code, note)
        if self._channel is not None:
            self._channel.close(code)
            return
        with contextlib.suppress(OSError, RuntimeError):
            await self._send({"type": "websocket.close", "code": code})

    def _closed_now(
        self, code: int | None, note: str, rules: list[dict[str, str]] | None = None
    ) -> None:
        self.closed = True
        self.emulator.open_sockets.discard(self)
        self.emulator.faults.forget(self.id)
        if self._release is not None:
            self._release.cancel()
            self._release = self._held = None
        self.emulator.journal.record(
            "ws-close", path=self.path, connection=self.id, status=code, note=note,
            rules=rules or [],
        )  # fmt: skip

    async def _read(self) -> None:
        """Feed client frames into the event queue until the client goes away."""
        while True:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self._events.put_nowait(_Event("gone", message))
                return
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", "replace")
            self.emulator.journal.record(
                "ws-in", path=self.path, connection=self.id, request_body=text.encode("utf-8")
            )
            self._enqueue(_Event("text", text))


_Sent = tuple["SocketConnection", Sequence[str], "Frames | None"]
"""A socket, the frames it wrote and their shared encoding (no frames: only look again)."""


def fan_out(sockets: Iterable[Any], change: Frames) -> int:
    """Push one change to many sockets; returns how many sockets got it.

    In two passes. The first only hands the change to each socket's session and writes it:
    where the session passes it on unchanged and no fault, held frame or full buffer stands in
    the way, the frames' one shared encoding goes out in one ``transport.write``
    (``_push_shared``); any other socket takes ``push``'s way, faults and bounds included. The
    second pass does the bookkeeping: every socket's frames are counted for the audit and
    journaled (one entry per socket and frame, made in bulk: ``Journal.record_each``), each
    distinct frame is checked against the contract once for all the sockets that wrote it,
    and each driver looks at its session again. The last of a thousand clients then waits
    for a thousand writes, not for a thousand writes and their bookkeeping."""
    loop = _running_loop()
    later: list[_Sent] = []
    written: list[SocketConnection] = []
    count = 0
    for socket in sockets:
        count += 1
        if isinstance(socket, SocketConnection):
            if socket._push_shared(change, loop, later):
                written.append(socket)
        else:
            socket.push(change, later)
    if change and written:
        _shared_sent(written, change)
    for connection, frames, shared in later:
        if frames:
            connection._sent(frames, shared)
        else:
            connection._look_again()
    for connection in written:
        connection._look_again()
    return count


def _shared_sent(sockets: list[SocketConnection], change: Frames) -> None:
    """Count, journal and check ``change``, written to each of ``sockets`` in ``fan_out``:
    what ``SocketConnection._sent`` does for one socket, done once per emulator, path and
    frame."""
    groups: dict[tuple[int, str], tuple[Emulator, list[int]]] = {}
    for socket in sockets:
        group = groups.get((id(socket.emulator), socket.path))
        if group is None:
            group = groups[(id(socket.emulator), socket.path)] = (socket.emulator, [])
        group[1].append(socket.id)
    for (_, path), (emulator, ids) in groups.items():
        emulator.frame_audit.sent += len(change) * len(ids)
        emulator.journal.record_each(
            "ws-out", ids, [{"path": path, "response_body": body} for body in change.bodies]
        )
        for text in change:
            emulator.check_frame(text, times=len(ids))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


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
    alarms = alarms_for(clock)
    alarm: Alarm | None = None
    alarm_for: float | None = None

    def ring() -> None:
        events.put_nowait(_Event("tick"))

    try:
        await connection.send_frames(session.opened(clock.now()))
        if connection._channel is not None:
            connection._inline = (session, clock)
        while not connection.closed and session.close_code is None:
            deadline = session.deadline()
            if deadline != alarm_for:
                if alarm is not None:
                    alarm.cancel()
                alarm = None if deadline is None else alarms.at(deadline, ring)
                alarm_for = connection._armed = deadline
            event = await events.get()
            now = clock.now()
            if event.kind == "tick":
                # A tick from an alarm since replaced is harmless: the session acts only on
                # what is due.
                alarm, alarm_for = None, None
                connection._armed = None
                frames = session.tick(now)
            elif event.kind == "text":
                frames = session.received(event.value, now)
            elif event.kind == "push":
                frames = session.pushed(event.value, now)
                change = event.value
                if isinstance(change, Frames) and _passed_on(frames, change):
                    await connection.send_frames(frames, change)
                    continue
            elif event.kind == "close":
                await connection.close(int(event.value))
                break
            elif event.kind == "wake":
                # Something was handled at once (see ``push``): only look again.
                frames = []
            else:
                if not connection.closed:
                    gone = event.value
                    connection._closed_now(
                        gone.get("code"), gone.get("reason") or "closed by the client"
                    )
                break
            await connection.send_frames(frames)
        if session.close_code is not None:
            await connection.close(session.close_code)
    finally:
        connection._inline = None
        reader.cancel()
        if alarm is not None:
            alarm.cancel()
        connection.emulator.open_sockets.discard(connection)
