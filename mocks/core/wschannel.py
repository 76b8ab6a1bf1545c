"""WebSocket connections on wsproto's public API, served to an ASGI application.

``HttpConnection`` hands an upgrade request here. wsproto checks the handshake (a refusal
says why: 405 with ``Allow: GET`` for another method, 400 with a short text for a request that
is not RFC 6455, wsproto's own 426 for another version); the application then gets the ASGI
``websocket`` scope and messages.

What the transport adds to ASGI, for servers of many sockets:

- ``send`` never waits for a slow client: frames go to the transport's buffer, and
  ``buffered()`` tells how far the client is behind, so the application can close it
  (``websocket.py`` closes it with 1008) instead of queueing without bound.
- ``write_frames(wire)`` writes frames already encoded (``wsframes``): a push to a
  thousand sockets is encoded once and written once per socket.
- A close never waits for the client either: the close frame is written, and a client that
  does not read it is cut off after ``CLOSE_GRACE`` seconds.
- Inbound messages are bounded: one message by ``ws_max_message_bytes`` (closed with 1009),
  every unread message of a site together by ``ws_inbound_bytes`` (closed with 1013).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .wsframes import CHANNEL_KEY, encode_frame

if TYPE_CHECKING:
    from .server import Site

log = logging.getLogger("trackmock")

CLOSE_GRACE = 1.0
"""Seconds a closed socket's client gets to read the close frame before it is cut off."""
READ_PAUSE_MESSAGES = 32
"""Stop reading a socket while this many of its messages wait for the application."""


class WebSocketChannel(asyncio.Protocol):
    """One WebSocket connection (from its upgrade request on)."""

    def __init__(self, site: Site, transport: asyncio.Transport) -> None:
        self.site = site
        self.loop = site.loop
        self.limits = site.limits
        self.transport = transport
        self.conn = WSConnection(ConnectionType.SERVER)
        self.accepted = False
        self.answered = False
        """The upgrade got an answer (accepted, or refused over HTTP)."""
        self.close_sent = False
        self.disconnected = False
        self.idle_since: float | None = None
        # A list, not a deque: it holds a few messages, and a deque's first block alone is
        # ~600 bytes, for each of ten thousand sockets.
        self._queue: list[dict[str, Any]] = []
        self._queued_bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        self._parts: list[Any] = []
        self._part_bytes = 0
        self._reading = True
        self._cutoff: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._scope: dict[str, Any] = {}

    def start(self, data: bytes) -> None:
        """Begin with the upgrade request's bytes (and whatever followed them)."""
        self.site.joined(self)
        self.data_received(data)

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_lost(self, exc: Exception | None) -> None:
        self.site.left(self)
        if self._cutoff is not None:
            self._cutoff.cancel()
        self._release(self._part_bytes)
        self._parts.clear()
        self._part_bytes = 0
        if not self.disconnected:
            self.disconnected = True
            self._put({"type": "websocket.disconnect", "code": 1006}, 0)

    def data_received(self, data: bytes) -> None:
        try:
            self.conn.receive_data(data)
        except RemoteProtocolError as err:
            self._refuse_handshake(err, data)
            return
        except LocalProtocolError:
            # Data after the close handshake (a late pong, say).
            self.transport.close()
            return
        for event in self.conn.events():
            if isinstance(event, Request):
                self._connect(event)
            elif isinstance(event, TextMessage | BytesMessage):
                self._message(event)
            elif isinstance(event, CloseConnection):
                self._closed_by_client(event)
            elif isinstance(event, Ping):
                self._write(self.conn.send(event.response()))

    def eof_received(self) -> bool | None:
        return None

    # -- inbound -------------------------------------------------------------------------------

    def _connect(self, event: Request) -> None:
        transport = self.transport
        raw_path, _, query = event.target.partition("?")
        headers = [(b"host", event.host.encode("latin-1"))]
        headers += [(bytes(k).lower(), bytes(v)) for k, v in event.extra_headers]
        self._scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if self.site.scheme == "https" else "ws",
            "server": transport.get_extra_info("sockname"),
            "client": transport.get_extra_info("peername"),
            "root_path": "",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "headers": headers,
            "subprotocols": event.subprotocols,
            "extensions": {"websocket.http.response": {}, CHANNEL_KEY: self},
        }
        self._put({"type": "websocket.connect"}, 0)
        self._task = self.site.start(self._run())

    async def _run(self) -> None:
        try:
            await self.site.app(self._scope, self.receive, self.send)
        except Exception:
            log.exception("socket application error on %s", self._scope.get("path"))
            if not self.answered:
                self._refuse(500, b"Internal Server Error")
        finally:
            if not self.close_sent and not self.transport.is_closing():
                if self.accepted:
                    self.close(1011)
                elif not self.answered:
                    self._refuse(500, b"Internal Server Error")

    def _message(self, event: TextMessage | BytesMessage) -> None:
        if self.close_sent:
            return
        size = len(event.data)
        self._parts.append(event.data)
        self._part_bytes += size
        limits = self.limits
        if self._part_bytes > limits.ws_max_message_bytes:
            self._overflow(1009, f"a message is larger than {limits.ws_max_message_bytes} bytes")
            return
        self.site.inbound_bytes += size
        if self.site.inbound_bytes > limits.ws_inbound_bytes:
            self._overflow(1013, "the server holds too many unread socket messages")
            return
        if not event.message_finished:
            return
        parts, size = self._parts, self._part_bytes
        self._parts, self._part_bytes = [], 0
        if isinstance(event, TextMessage):
            message = {"type": "websocket.receive", "text": "".join(parts)}
        else:
            message = {"type": "websocket.receive", "bytes": b"".join(parts)}
        self._put(message, size)
        if len(self._queue) >= READ_PAUSE_MESSAGES and self._reading:
            self._reading = False
            self.transport.pause_reading()

    def _overflow(self, code: int, reason: str) -> None:
        log.warning("closing a socket on %s with %d: %s", self.site.name, code, reason)
        self._release(self._part_bytes)
        self._parts.clear()
        self._part_bytes = 0
        self._put({"type": "websocket.disconnect", "code": code, "reason": reason}, 0)
        self.disconnected = True
        self.close(code, reason)

    def _closed_by_client(self, event: CloseConnection) -> None:
        if not self.close_sent:
            self.close_sent = True
            self._write(self.conn.send(event.response()))
        if not self.disconnected:
            self.disconnected = True
            self._put({"type": "websocket.disconnect", "code": event.code}, 0)
        self.transport.close()

    def _put(self, message: dict[str, Any], size: int) -> None:
        self._queue.append(message)
        self._queued_bytes += size
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _release(self, size: int) -> None:
        self.site.inbound_bytes = max(0, self.site.inbound_bytes - size)

    async def receive(self) -> dict[str, Any]:
        while not self._queue:
            self._waiter = self.loop.create_future()
            await self._waiter
            self._waiter = None
        message = self._queue.pop(0)
        if message["type"] == "websocket.receive":
            size = len(message.get("text") or message.get("bytes") or b"")
            self._queued_bytes -= size
            self._release(size)
        if not self._reading and len(self._queue) < READ_PAUSE_MESSAGES // 2:
            self._reading = True
            if not self.transport.is_closing():
                self.transport.resume_reading()
        return message

    # -- outbound ------------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self._accept()
        elif kind == "websocket.send":
            text = message.get("text")
            if text is not None:
                self.write_frames(encode_frame(0x1, text.encode("utf-8")))
            else:
                self.write_frames(encode_frame(0x2, bytes(message.get("bytes") or b"")))
        elif kind == "websocket.close":
            if not self.answered:
                self._refuse(403, b"")
            else:
                self.close(int(message.get("code", 1000)), message.get("reason") or "")
        elif kind == "websocket.http.response.start":
            self.answered = True
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            self._write(
                self.conn.send(RejectConnection(int(message["status"]), headers, has_body=True))
            )
        elif kind == "websocket.http.response.body":
            more = bool(message.get("more_body", False))
            self._write(self.conn.send(RejectData(message.get("body", b""), not more)))
            if not more:
                self.close_sent = True
                self.transport.close()
        else:
            raise RuntimeError(f"unexpected socket message {kind}")

    def _accept(self) -> None:
        if self.answered:
            raise RuntimeError("the upgrade was already answered")
        self.answered = self.accepted = True
        self._write(self.conn.send(AcceptConnection()))

    def write_frames(self, wire: bytes) -> None:
        """Write frames already encoded (``encode_frame``, ``encode_text_frames``)."""
        if not self.accepted:
            raise RuntimeError("the socket is not accepted")
        if not self.close_sent:
            self._write(wire)

    def buffered(self) -> int:
        """Bytes written to this socket that its client has not taken yet."""
        return self.transport.get_write_buffer_size()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and close; a client that does not read it is cut off."""
        if self.close_sent or self.transport.is_closing():
            return
        self.close_sent = True
        with contextlib.suppress(LocalProtocolError):
            self._write(self.conn.send(CloseConnection(code=code, reason=reason)))
        self.transport.close()
        if self.transport.get_write_buffer_size():
            self._cutoff = self.loop.call_later(CLOSE_GRACE, self.transport.abort)

    def abort(self) -> None:
        self.close_sent = True
        self.transport.abort()

    def _write(self, data: bytes) -> None:
        if data and not self.transport.is_closing():
            self.transport.write(data)

    # -- refusals ------------------------------------------------------------------------------

    def _refuse_handshake(self, err: RemoteProtocolError, data: bytes) -> None:
        hint = err.event_hint
        if isinstance(hint, RejectConnection) and hint.status_code == 400 and not self.answered:
            # Before the handshake, ``data`` starts with the upgrade request: its method first.
            method = data.split(b" ", 1)[0].decode("latin-1")
            if method != "GET":
                self._refuse(405, f"{method} is not allowed: an upgrade is a GET".encode())
            else:
                self._refuse(400, f"Not a WebSocket upgrade (RFC 6455): {err}".encode())
            return
        if hint is not None:
            self._write(self.conn.send(hint))  # type: ignore[arg-type]
        self.answered = self.close_sent = True
        self.transport.close()

    def _refuse(self, status: int, body: bytes) -> None:
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 405:
            headers.append((b"allow", b"GET"))
        self.answered = self.close_sent = True
        with contextlib.suppress(LocalProtocolError):
            self._write(self.conn.send(RejectConnection(status, headers, has_body=True)))
            self._write(self.conn.send(RejectData(body)))
        self.transport.close()


__all__ = ["WebSocketChannel"]
