"""HTTP/1.1 connections on httptools' public parser: one asyncio protocol per connection.

A request reaches the application one of two ways:

- **the fast path**: a request without a body, when the application has a synchronous
  ``respond(request) -> Response | None``. The protocol calls it as soon as the request is
  parsed and writes the answer in one ``write``: no task, no ASGI messages, no scope. ``None``
  means "not on the fast path" and the same request goes the ASGI way.
- **ASGI 3** (``app(scope, receive, send)``) for everything else: bodies are streamed to the
  application as they arrive, so it can refuse one (413) before it is read whole.

The protocol also enforces the transport's limits: the size and count of a request's head
(431), the time a connection may sit without sending a whole request (closed), and it hands a
WebSocket upgrade to ``wschannel.WebSocketChannel``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httptools

if TYPE_CHECKING:
    from .server import Site

log = logging.getLogger("trackmock")

Headers = list[tuple[bytes, bytes]]
TRANSPORT_KEY = "trackmock.transport"
"""ASGI scope extension holding the connection's transport (to drop a connection)."""
BODY_HIGH_WATER = 65536
"""Read no more of a request body while this much is waiting for the application."""

_INVALID_NAME = re.compile(b'[\x00-\x1f\x7f()<>@,;:\\[\\]={} \t\\\\"]')
_INVALID_VALUE = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


STATUS_LINES = {status: _status_line(status) for status in range(100, 600)}


class _DateHeader:
    """The ``date`` header line, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._line = b""

    def __call__(self) -> bytes:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._line = b"date: " + formatdate(now, usegmt=True).encode("latin-1") + b"\r\n"
        return self._line


date_header = _DateHeader()


@dataclass(slots=True)
class Request:
    """A parsed request, as the fast path sees it."""

    method: str
    path: str
    """Percent-decoded, as ASGI's ``scope["path"]``."""
    raw_path: bytes
    query_string: bytes
    headers: Headers
    """Names lower-cased, in the order received."""
    http_version: str
    keep_alive: bool
    scheme: str = "http"
    server: tuple[str, int] | None = None
    client: tuple[str, int] | None = None
    body: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        """The first value of a (lower-case) header."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class Response:
    """What the fast path answers: written as is, with ``content-length`` and ``date``."""

    status: int
    headers: Headers
    """Lower-case names; ``content-length`` is added unless given."""
    body: bytes


class Responder:
    """What an application offers for the fast path (see the module docstring)."""

    def respond(self, request: Request) -> Response | None:
        raise NotImplementedError


def plain_error(status: int, message: str) -> Response:
    """A transport refusal for an application that has no error shape of its own."""
    return Response(status, [(b"content-type", b"text/plain; charset=utf-8")], message.encode())


def encode_response(response: Response, *, head_only: bool = False, close: bool = False) -> bytes:
    """A whole HTTP/1.1 answer: status line, headers, ``content-length``, ``date``, body."""
    body = response.body
    parts = [STATUS_LINES[response.status]]
    sized = response.status in (204, 304) or response.status < 200
    for name, value in response.headers:
        if _INVALID_NAME.search(name) or _INVALID_VALUE.search(value):
            raise ValueError(f"invalid response header {name!r}")
        if name == b"content-length":
            sized = True
        parts += (name, b": ", value, b"\r\n")
    if not sized:
        parts.append(b"content-length: %d\r\n" % len(body))
    parts.append(date_header())
    if close:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    if not head_only:
        parts.append(body)
    return b"".join(parts)


class _Refused(Exception):
    """Raised inside a parser callback: answer ``status`` and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests, answers them in order, keeps it alive."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.loop = site.loop
        self.limits = site.limits
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.idle_since: float | None = self.loop.time()
        """When the connection last had nothing to do (None while a request is handled)."""
        self.closing = False
        self.exchange: Exchange | None = None
        self.pending: deque[_Pending] = deque()
        self._reading = True
        self._write_paused = False
        self._drained: asyncio.Future[None] | None = None
        # The request being parsed.
        self._url = b""
        self._headers: Headers = []
        self._head_bytes = 0
        """Bytes received since the current head began (bounds what the parser buffers)."""
        self._head_size = 0
        """Request line and headers parsed so far."""
        self._in_head = True
        self._request: Request | None = None
        self._has_body = False
        self._upgrade = False
        self._continue = False

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        self.site.joined(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.site.left(self)
        self.closing = True
        if self.exchange is not None:
            self.exchange.disconnect()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self.pending.clear()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def drain(self) -> None:
        if self._write_paused and not self.transport.is_closing():
            self._drained = self.loop.create_future()
            await self._drained

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._upgraded(data[upgrade.args[0] :] if upgrade.args else b"")
            return
        except httptools.HttpParserCallbackError as error:
            cause = error.__context__
            if isinstance(cause, _Refused):
                self.refuse(cause.status, cause.message)
            else:
                log.warning("bad request on %s: %s", self.site.name, cause)
                self.refuse(400, "Invalid HTTP request received.")
            return
        except httptools.HttpParserError:
            self.refuse(400, "Invalid HTTP request received.")
            return
        if self._in_head and self._head_bytes > self.limits.max_head_bytes:
            self.refuse(431, self._head_message())

    def eof_received(self) -> bool | None:
        return None

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._head_size = 0
        self._in_head = True
        self._continue = False
        self._upgrade = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_size += len(url)
        if self._head_size > self.limits.max_head_bytes:
            raise _Refused(431, self._head_message())

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._headers
        if len(headers) >= self.limits.max_headers:
            raise _Refused(431, f"more than {self.limits.max_headers} request headers")
        self._head_size += len(name) + len(value) + 4
        if self._head_size > self.limits.max_head_bytes:
            raise _Refused(431, self._head_message())
        name = name.lower()
        # llhttp keeps trailing whitespace, which RFC 9110 section 5.5 excludes from a value.
        value = value.rstrip(b" \t")
        if name == b"expect" and value.lower() == b"100-continue":
            self._continue = True
        headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        parser = self.parser
        method = parser.get_method().decode("ascii")
        version = parser.get_http_version()
        if parser.should_upgrade() and _wants_websocket(self._headers):
            self._upgrade = True
            self._request = Request(method, "", self._url, b"", self._headers, version, False)
            return
        parsed = httptools.parse_url(self._url)
        raw_path = parsed.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        keep_alive = version != "1.0" and parser.should_keep_alive()
        request = Request(
            method,
            path,
            raw_path,
            parsed.query or b"",
            self._headers,
            version,
            keep_alive,
            self.site.scheme,
            self.server,
            self.client,
        )
        self._request = request
        self._has_body = _has_body(self._headers)
        if self._has_body:
            # Streamed to the application as it arrives, so that it can refuse it early.
            self._dispatch(request, complete=False)

    def on_body(self, body: bytes) -> None:
        exchange = self.exchange
        if exchange is not None and exchange.request is self._request:
            exchange.feed(body)
        elif self.pending and self.pending[-1].request is self._request:
            self.pending[-1].chunks.append(body)

    def on_message_complete(self) -> None:
        self._in_head = True
        request = self._request
        if request is None or self._upgrade:
            return
        if not self._has_body:
            self._dispatch(request, complete=True)
            return
        exchange = self.exchange
        if exchange is not None and exchange.request is request:
            exchange.finish_body()
        elif self.pending and self.pending[-1].request is request:
            self.pending[-1].complete = True

    # -- answering -----------------------------------------------------------------------------

    def _dispatch(self, request: Request, *, complete: bool) -> None:
        if self.exchange is not None or self.pending:
            # Pipelined behind a request still being answered: wait for it, read no further.
            self.pending.append(_Pending(request, complete))
            self.pause_reading()
            return
        self._handle(request, complete)

    def _handle(self, request: Request, complete: bool, chunks: Sequence[bytes] = ()) -> None:
        self.idle_since = None
        respond = self.site.respond
        if complete and respond is not None:
            try:
                response = respond(request)
            except Exception:
                log.exception("fast path failed on %s %s", request.method, request.path)
                response = plain_error(500, "Internal Server Error")
            if response is not None:
                self.send_response(request, response)
                self.finished()
                return
        self.exchange = exchange = Exchange(self, request, complete)
        for chunk in chunks:
            exchange.feed(chunk)
        self.site.start(exchange.run())

    def send_response(self, request: Request, response: Response) -> None:
        close = self.closing or not request.keep_alive
        self.transport.write(
            encode_response(response, head_only=request.method == "HEAD", close=close)
        )
        if close:
            self.closing = True
            self.transport.close()

    def finished(self) -> None:
        """The current request is answered: take the next pipelined one, or wait idle."""
        self.exchange = None
        if self.closing:
            return
        if self.pending:
            queued = self.pending.popleft()
            self._handle(queued.request, queued.complete, queued.chunks)
            return
        self.idle_since = self.loop.time()
        self.resume_reading()

    def refuse(self, status: int, message: str) -> None:
        """Answer ``status`` in the application's error shape, then close the connection."""
        if self.transport.is_closing():
            return
        response = self.site.error_response(status, message)
        self.transport.write(encode_response(response, close=True))
        self.closing = True
        self.transport.close()

    def shutdown(self) -> None:
        """The server stops: close now when idle, else after the answer in progress."""
        self.closing = True
        if self.exchange is None:
            self.transport.close()

    def pause_reading(self) -> None:
        if self._reading:
            self._reading = False
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if not self._reading and not self.transport.is_closing():
            self._reading = True
            self.transport.resume_reading()

    def write_continue(self) -> None:
        if self._continue and not self.transport.is_closing():
            self._continue = False
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _head_message(self) -> str:
        return f"the request head is larger than {self.limits.max_head_bytes} bytes"

    def _upgraded(self, rest: bytes) -> None:
        request = self._request
        if not self._upgrade or request is None:
            # Another protocol than WebSocket: answered as plain HTTP, then closed.
            self.closing = True
            if self.exchange is None:
                self.transport.close()
            return
        head = [request.method.encode("ascii"), b" ", request.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers:
            head += (name, b": ", value, b"\r\n")
        head.append(b"\r\n")
        from .wschannel import WebSocketChannel

        self.site.left(self)
        channel = WebSocketChannel(self.site, self.transport)
        self.transport.set_protocol(channel)
        channel.start(b"".join(head) + rest)

    def scope(self, request: Request) -> dict[str, Any]:
        """The ASGI scope of ``request`` on this connection."""
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": request.http_version,
            "server": request.server,
            "client": request.client,
            "scheme": request.scheme,
            "method": request.method,
            "root_path": "",
            "path": request.path,
            "raw_path": request.raw_path,
            "query_string": request.query_string,
            "headers": request.headers,
            "extensions": {TRANSPORT_KEY: self.transport},
        }


@dataclass(slots=True)
class _Pending:
    """A pipelined request waiting for the one before it to be answered."""

    request: Request
    complete: bool
    chunks: list[bytes] = field(default_factory=list)


class Exchange:
    """One request answered through ASGI: ``receive`` streams the body, ``send`` writes."""

    def __init__(self, connection: HttpConnection, request: Request, complete: bool) -> None:
        self.connection = connection
        self.request = request
        self.more_body = not complete
        self.disconnected = False
        self.started = False
        self.complete = False
        self.keep_alive = request.keep_alive
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._wake: asyncio.Future[None] | None = None
        self._chunked = False
        self._remaining = 0

    # -- fed by the connection -------------------------------------------------------------

    def feed(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > BODY_HIGH_WATER:
            self.connection.pause_reading()
        self._notify()

    def finish_body(self) -> None:
        self.more_body = False
        self._notify()

    def disconnect(self) -> None:
        self.disconnected = True
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    # -- ASGI ----------------------------------------------------------------------------

    async def run(self) -> None:
        connection = self.connection
        app = connection.site.app
        try:
            await app(connection.scope(self.request), self.receive, self.send)
        except Exception:
            log.exception("application error on %s %s", self.request.method, self.request.path)
            if not self.started:
                self._write_whole(plain_error(500, "Internal Server Error"))
            else:
                connection.transport.close()
        else:
            if not self.started and not self.disconnected:
                self._write_whole(plain_error(500, "Internal Server Error"))
            elif not self.complete and not self.disconnected:
                connection.transport.close()
        finally:
            if connection.exchange is self:
                if self.more_body and not connection.closing:
                    # Answered before the body was read whole: the rest is on the wire.
                    connection.closing = True
                    connection.transport.close()
                connection.finished()

    def _write_whole(self, response: Response) -> None:
        self.started = self.complete = True
        self.keep_alive = False
        self.connection.send_response(self.request, response)

    async def receive(self) -> dict[str, Any]:
        connection = self.connection
        connection.write_continue()
        while not self._chunks and self.more_body and not self.disconnected and not self.complete:
            connection.resume_reading()
            self._wake = connection.loop.create_future()
            await self._wake
            self._wake = None
        if self.disconnected or self.complete:
            return {"type": "http.disconnect"}
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        connection.resume_reading()
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    async def send(self, message: dict[str, Any]) -> None:
        connection = self.connection
        await connection.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.started:
            if kind != "http.response.start":
                raise RuntimeError(f"expected http.response.start, got {kind}")
            self._start(int(message["status"]), list(message.get("headers", ())))
        elif not self.complete:
            if kind != "http.response.body":
                raise RuntimeError(f"expected http.response.body, got {kind}")
            self._body(message.get("body", b""), bool(message.get("more_body", False)))
        else:
            raise RuntimeError(f"{kind} after the response was complete")

    def _start(self, status: int, headers: Headers) -> None:
        self.started = True
        connection = self.connection
        if connection.closing:
            self.keep_alive = False
        parts = [STATUS_LINES[status]]
        length: int | None = None
        for name, value in headers:
            if _INVALID_NAME.search(name) or _INVALID_VALUE.search(value):
                raise RuntimeError(f"invalid response header {name!r}")
            name = name.lower()
            if name == b"content-length" and length is None:
                length = int(value)
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self._chunked = True
            elif name == b"connection" and b"close" in value.lower():
                self.keep_alive = False
                continue
            parts += (name, b": ", value, b"\r\n")
        parts.append(date_header())
        if not self.keep_alive:
            parts.append(b"connection: close\r\n")
        if (
            length is None
            and not self._chunked
            and self.request.method != "HEAD"
            and status not in (204, 304)
        ):
            self._chunked = True
            parts.append(b"transfer-encoding: chunked\r\n")
        self._remaining = length or 0
        parts.append(b"\r\n")
        connection.transport.write(b"".join(parts))

    def _body(self, body: bytes, more: bool) -> None:
        transport = self.connection.transport
        if self.request.method == "HEAD":
            pass
        elif self._chunked:
            chunk = [b"%x\r\n" % len(body), body, b"\r\n"] if body else []
            if not more:
                chunk.append(b"0\r\n\r\n")
            transport.write(b"".join(chunk))
        else:
            if len(body) > self._remaining:
                raise RuntimeError("response body longer than its content-length")
            self._remaining -= len(body)
            transport.write(body)
        if not more:
            self.complete = True
            if not self.keep_alive:
                self.connection.closing = True
                transport.close()


def _wants_websocket(headers: Headers) -> bool:
    upgrade = connection = b""
    for name, value in headers:
        if name == b"upgrade":
            upgrade = value.lower()
        elif name == b"connection":
            connection = value.lower()
    return upgrade == b"websocket" and b"upgrade" in connection


def _has_body(headers: Headers) -> bool:
    for name, value in headers:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return (str(value[0]), int(value[1]))
    return None


AsgiApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
