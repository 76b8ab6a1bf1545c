"""One request answered through ASGI on an HTTP/1.1 connection.

``receive`` streams the body as it arrives (so the application can refuse it before it is read
whole), ``send`` writes the answer (``content-length`` or chunked, ``date``, keep-alive).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .wire import (
    INVALID_NAME,
    INVALID_VALUE,
    STATUS_LINES,
    Headers,
    Request,
    Response,
    date_header,
    plain_error,
)

if TYPE_CHECKING:
    import asyncio

    from .http import HttpConnection

log = logging.getLogger("trackmock")

BODY_HIGH_WATER = 65536
"""Read no more of a request body while this much is waiting for the application."""


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
                connection.close()
        else:
            if not self.started and not self.disconnected:
                self._write_whole(plain_error(500, "Internal Server Error"))
            elif not self.complete and not self.disconnected:
                connection.close()
        finally:
            if connection.exchange is self:
                if self.more_body and not connection.closing:
                    # Answered before the body was read whole: the rest is on the wire.
                    connection.linger()
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
        if connection.closing or self.more_body:
            # An answer before the whole body arrived ends the connection (after it lingers).
            self.keep_alive = False
        parts = [STATUS_LINES[status]]
        length: int | None = None
        for name, value in headers:
            if INVALID_NAME.search(name) or INVALID_VALUE.search(value):
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
        connection.write(b"".join(parts))

    def _body(self, body: bytes, more: bool) -> None:
        connection = self.connection
        if self.request.method == "HEAD":
            pass
        elif self._chunked:
            chunk = [b"%x\r\n" % len(body), body, b"\r\n"] if body else []
            if not more:
                chunk.append(b"0\r\n\r\n")
            connection.write(b"".join(chunk))
        else:
            if len(body) > self._remaining:
                raise RuntimeError("response body longer than its content-length")
            self._remaining -= len(body)
            connection.write(body)
        if not more:
            self.complete = True
            if not self.keep_alive and self.more_body:
                connection.linger()
            elif not self.keep_alive:
                connection.close()
