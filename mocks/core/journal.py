"""A bounded record of every request, response and socket frame an emulator handled."""

from __future__ import annotations

import base64
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, isoformat

Headers = list[tuple[str, str]] | list[tuple[bytes, bytes]]
"""As the server or the app gave them: ASGI's raw byte pairs, or text pairs."""

KINDS = ("http", "ws-open", "ws-in", "ws-out", "ws-close")
JOURNAL_NOTES = "trackmock.journal"
"""WSGI environ key of a dict the pipeline fills for the request's entry: ``operation``
(its operationId) and ``rules`` (what fired on it, ``Call.fire``)."""


@dataclass(slots=True)
class Entry:
    id: int
    time: float
    kind: str
    method: str = ""
    path: str = ""
    query: str = ""
    status: int | None = None
    request_headers: Headers = field(default_factory=list)
    request_body: bytes = b""
    response_headers: Headers = field(default_factory=list)
    response_body: bytes = b""
    connection: int | None = None
    note: str = ""
    operation: str = ""
    """The operationId that handled the request (empty: no operation matched it)."""
    rules: list[dict[str, str]] = field(default_factory=list)
    """Rules that fired on the request: ``{"rule", "detail"}``."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "time": isoformat(self.time),
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "query": self.query,
        }
        if self.kind == "http":
            out["status"] = self.status
            if self.operation:
                out["operation"] = self.operation
            if self.rules:
                out["rules"] = list(self.rules)
            out["request"] = {"headers": _headers(self.request_headers), **_body(self.request_body)}
            out["response"] = {
                "headers": _headers(self.response_headers),
                **_body(self.response_body),
            }
        else:
            out["connection"] = self.connection
            out.update(_body(self.response_body if self.kind == "ws-out" else self.request_body))
            if self.status is not None:
                out["status"] = self.status
        if self.note:
            out["note"] = self.note
        return out


def _headers(pairs: Headers) -> dict[str, str]:
    return {
        (k.decode("latin-1") if isinstance(k, bytes) else k): (
            v.decode("latin-1") if isinstance(v, bytes) else v
        )
        for k, v in pairs
    }


def _body(raw: bytes) -> dict[str, str]:
    try:
        return {"body": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"bodyBase64": base64.b64encode(raw).decode("ascii")}


@dataclass(frozen=True, slots=True)
class Query:
    """What to select from the journal; every field that is set must match."""

    kind: str | None = None
    method: str | None = None
    path: str | None = None
    path_prefix: str | None = None
    status: int | None = None
    connection: int | None = None
    since: int | None = None
    limit: int | None = None

    def matches(self, entry: Entry) -> tuple[bool, str]:
        """Whether ``entry`` is selected, and if not, the first reason why."""
        checks: Iterable[tuple[bool, str]] = (
            (self.kind is None or entry.kind == self.kind, f"kind is {entry.kind}"),
            (
                self.method is None or entry.method.upper() == self.method.upper(),
                f"method is {entry.method}",
            ),
            (self.path is None or entry.path == self.path, f"path is {entry.path}"),
            (
                self.path_prefix is None or entry.path.startswith(self.path_prefix),
                f"path {entry.path} lacks the prefix",
            ),
            (self.status is None or entry.status == self.status, f"status is {entry.status}"),
            (
                self.connection is None or entry.connection == self.connection,
                f"connection is {entry.connection}",
            ),
            (
                self.since is None or entry.id > self.since,
                f"id {entry.id} is not after {self.since}",
            ),
        )
        for ok, reason in checks:
            if not ok:
                return False, reason
        return True, "matched"


class Journal:
    """Keeps the last ``size`` entries; bodies are cut to ``body_limit`` bytes."""

    def __init__(self, clock: Clock, *, size: int = 1000, body_limit: int = 65536) -> None:
        if size < 1:
            raise ValueError("the journal keeps at least one entry")
        self.clock = clock
        self.body_limit = body_limit
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._next_id = 1

    @property
    def size(self) -> int:
        return self._entries.maxlen or 0

    @property
    def recorded(self) -> int:
        """How many entries were ever recorded (including those that fell out)."""
        return self._next_id - 1

    def record(self, kind: str, **fields: Any) -> Entry:
        limit = self.body_limit
        for name in ("request_body", "response_body"):
            body = fields.get(name)
            if body is not None and len(body) > limit:
                fields[name] = body[:limit]
        with self._lock:
            entry = Entry(id=self._next_id, time=self.clock.now(), kind=kind, **fields)
            self._next_id += 1
            self._entries.append(entry)
        return entry

    def select(self, query: Query = Query()) -> list[Entry]:
        with self._lock:
            entries = list(self._entries)
        chosen = [entry for entry in entries if query.matches(entry)[0]]
        if query.limit is not None:
            chosen = chosen[-query.limit :] if query.limit > 0 else []
        return chosen

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
