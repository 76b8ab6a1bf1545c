"""What goes over an HTTP/1.1 connection: a parsed request, an answer, their bytes.

The fast path's types (``Request``, ``Response``, ``Responder``) and the one function that
writes an answer (``encode_response``), shared by the connection and the ASGI exchange.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from http import HTTPStatus

Headers = list[tuple[bytes, bytes]]
TRANSPORT_KEY = "trackmock.transport"
"""ASGI scope extension holding the connection's transport (to drop a connection)."""

INVALID_NAME = re.compile(b'[\x00-\x1f\x7f()<>@,;:\\[\\]={} \t\\\\"]')
INVALID_VALUE = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")


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
            self._line = b"date: " + http_date(second).encode("latin-1") + b"\r\n"
        return self._line


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(seconds: float) -> str:
    """``seconds`` since the epoch as an HTTP date (RFC 9110's IMF-fixdate, always in English,
    as ``email.utils.formatdate(seconds, usegmt=True)`` writes it: that module is not imported
    for it)."""
    t = time.gmtime(seconds)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


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


_LINES: dict[tuple[bytes, bytes], bytes] = {}
"""Header lines already checked and written, by (name, value): answers repeat most of theirs."""
LINES_KEPT = 1024
LINE_BYTES_KEPT = 512
"""A longer header line is checked each time, never remembered (bounds the memo's size)."""


def _header_line(name: bytes, value: bytes) -> bytes:
    """``name: value`` and its line end, once both are checked."""
    line = _LINES.get((name, value))
    if line is None:
        if INVALID_NAME.search(name) or INVALID_VALUE.search(value):
            raise ValueError(f"invalid response header {name!r}")
        line = b"%s: %s\r\n" % (name, value)
        if len(line) <= LINE_BYTES_KEPT:
            if len(_LINES) >= LINES_KEPT:
                _LINES.clear()
            _LINES[name, value] = line
    return line


def encode_response(response: Response, *, head_only: bool = False, close: bool = False) -> bytes:
    """A whole HTTP/1.1 answer: status line, headers, ``content-length``, ``date``, body."""
    body = response.body
    parts = [STATUS_LINES[response.status]]
    sized = response.status in (204, 304) or response.status < 200
    for name, value in response.headers:
        if name == b"content-length":
            sized = True
        parts.append(_header_line(name, value))
    if not sized:
        parts.append(b"content-length: %d\r\n" % len(body))
    parts.append(date_header())
    if close:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    if not head_only:
        parts.append(body)
    return b"".join(parts)
