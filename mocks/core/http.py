"""HTTP/1.1 connections on httptools' public parser: one asyncio protocol per connection.

A request reaches the application one of two ways:

- **the fast path**: a request without a body, when the application has a synchronous
  ``respond(request) -> Response | None``. The protocol calls it as soon as the request is
  parsed: no task, no ASGI messages, no scope. ``None`` means "not on the fast path" and the
  same request goes the ASGI way. Its answer is queued and written once the event loop has
  dispatched what its last poll read (``Site.queue``), with any other answer queued on the
  connection in the same ``write``: the socket's send (on loopback, the whole TCP path to the
  reader) runs after a run of requests instead of between each two, so their Python code runs
  on warm CPU caches (measured in ``docs/architecture.md``).
- **ASGI 3** (``app(scope, receive, send)``) for everything else: bodies are streamed to the
  application as they arrive, so it can refuse one (413) before it is read whole.

The protocol also enforces the transport's limits: the size and count of a request's head
(431), the time a connection may sit without sending a whole request (closed), and it hands a
WebSocket upgrade to ``wschannel.WebSocketChannel``.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httptools

from .exchange import Exchange
from .wire import TRANSPORT_KEY, Headers, Request, Response, encode_response, plain_error

if TYPE_CHECKING:
    from .server import Site

log = logging.getLogger("trackmock")

LINGER_SECONDS = 2.0
"""After an answer that left a request body unread, how long the rest is read and dropped."""
LINGER_BYTES = 64 * 1024 * 1024
"""... and at most how many bytes of it (a client sending more is cut off)."""


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
        self._queued: list[bytes] = []
        """Answers waiting for ``flush`` (the site writes them after the loop's dispatch)."""
        # The request being parsed.
        self._url = b""
        self._headers: Headers = []
        """As the parser gave them until the head is complete, then as ``_read_head`` made them."""
        self._head_bytes = 0
        """Bytes received since the current head began (bounds what the parser buffers)."""
        self._head_size = 0
        """Request line and headers parsed so far."""
        self._in_head = True
        self._request: Request | None = None
        self._has_body = False
        self._upgrade = False
        self._continue = False
        self._linger: int | None = None
        """Bytes still dropped before the connection is cut (see ``linger``)."""

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        self.site.joined(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.site.left(self)
        self._queued.clear()
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
        if self._linger is not None:
            self._linger -= len(data)
            if self._linger < 0:
                self.transport.close()
            return
        if self.closing and self.transport.is_closing():
            return  # closed by us: whatever else the client sent goes unanswered
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
        limits = self.limits
        if self._in_head and (
            self._head_bytes > limits.max_head_bytes or len(self._headers) > limits.max_headers
        ):
            try:
                self._read_head()  # the first header past a limit, as it would have been
            except _Refused as refused:
                self.refuse(refused.status, refused.message)
                return
            self.refuse(431, self._head_message())

    def eof_received(self) -> bool | None:
        return None

    def linger(self) -> None:
        """Close after an answer (a 413, say) that left the request body on the wire.

        Closing at once would reset the connection while the client is still sending, and a
        client that writes its whole body before it reads loses the answer. So the rest is read
        and dropped, for at most ``LINGER_SECONDS`` or ``LINGER_BYTES``, then the connection is
        closed (at once when the client closes first)."""
        self.closing = True
        self._linger = LINGER_BYTES
        self.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.close)

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
        # Read when the head is complete (``_read_head``): one loop there costs less than the
        # work here, once per header, called from the parser. What the parser holds meanwhile
        # is bounded by ``data_received``.
        self._headers.append((name, value))

    def _read_head(self) -> Headers:
        """The head's headers, checked against the limits in the order they came (431 for the
        first one past them), names lower-cased, values trimmed."""
        limits = self.limits
        most = limits.max_headers
        largest = limits.max_head_bytes
        size = self._head_size
        headers: Headers = []
        for name, value in self._headers:
            if len(headers) >= most:
                raise _Refused(431, f"more than {most} request headers")
            size += len(name) + len(value) + 4
            if size > largest:
                raise _Refused(431, self._head_message())
            name = name.lower()
            # llhttp keeps trailing whitespace, which RFC 9110 section 5.5 excludes from a value.
            value = value.rstrip(b" \t")
            if name == b"expect" and value.lower() == b"100-continue":
                self._continue = True
            headers.append((name, value))
        self._head_size = size
        return headers

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._headers = self._read_head()
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
        data = encode_response(response, head_only=request.method == "HEAD", close=close)
        if close:
            self.write(data)
            self.close()
            return
        if not self._queued:
            self.site.queue(self)
        self._queued.append(data)

    def write(self, data: bytes) -> None:
        """Write ``data`` now, after the answers queued before it."""
        if self._queued:
            self.flush()
        self.transport.write(data)

    def flush(self) -> None:
        """Write the queued answers, in one ``write``."""
        queued = self._queued
        if queued:
            self._queued = []
            if not self.transport.is_closing():
                self.transport.write(queued[0] if len(queued) == 1 else b"".join(queued))

    def close(self) -> None:
        """Close once what was answered is written."""
        self.flush()
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
        self.write(encode_response(response, close=True))
        self.close()

    def shutdown(self) -> None:
        """The server stops: close now when idle, else after the answer in progress."""
        self.closing = True
        if self.exchange is None:
            self.close()

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
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _head_message(self) -> str:
        return f"the request head is larger than {self.limits.max_head_bytes} bytes"

    def _upgraded(self, rest: bytes) -> None:
        request = self._request
        if not self._upgrade or request is None:
            # Another protocol than WebSocket: answered as plain HTTP, then closed.
            if self.exchange is None:
                self.close()
            self.closing = True
            return
        self.flush()
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
