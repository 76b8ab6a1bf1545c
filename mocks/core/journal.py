"""A bounded record of every request, response and socket frame an emulator handled."""

from __future__ import annotations

import base64
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from fnmatch import fnmatchcase
from typing import Any

from .clock import Clock, isoformat

Headers = list[tuple[str, str]] | list[tuple[bytes, bytes]]
"""As the server or the app gave them: ASGI's raw byte pairs, or text pairs."""

KINDS = ("http", "ws-open", "ws-in", "ws-out", "ws-close")


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

    def summary(self) -> dict[str, Any]:
        """The entry without headers and bodies: what a verification lists."""
        return {
            "id": self.id,
            "time": isoformat(self.time),
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
        }


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


REQUEST_CRITERIA = frozenset({"method", "path", "path_prefix", "path_pattern", "status"})
"""What a request is asked to be; an entry that misses only one of them is a near miss."""


@dataclass(frozen=True, slots=True)
class Query:
    """What to select from the journal; every field that is set must match."""

    kind: str | None = None
    method: str | None = None
    path: str | None = None
    path_prefix: str | None = None
    path_pattern: str | None = None
    """An ``fnmatch`` pattern (``/api/cases/*``; ``*`` also matches ``/``), as faults take."""
    status: int | None = None
    connection: int | None = None
    since: int | None = None
    limit: int | None = None

    def misses(self, entry: Entry) -> Iterator[tuple[str, str]]:
        """Each criterion ``entry`` fails, as (field name, reason)."""
        if self.kind is not None and entry.kind != self.kind:
            yield "kind", f"kind is {entry.kind}"
        if self.method is not None and entry.method.upper() != self.method.upper():
            yield "method", f"method is {entry.method}"
        if self.path is not None and entry.path != self.path:
            yield "path", f"path is {entry.path}"
        if self.path_prefix is not None and not entry.path.startswith(self.path_prefix):
            yield "path_prefix", f"path {entry.path} lacks the prefix"
        if self.path_pattern is not None and not fnmatchcase(entry.path, self.path_pattern):
            yield "path_pattern", f"path {entry.path} does not match {self.path_pattern}"
        if self.status is not None and entry.status != self.status:
            yield "status", f"status is {entry.status}"
        if self.connection is not None and entry.connection != self.connection:
            yield "connection", f"connection is {entry.connection}"
        if self.since is not None and entry.id <= self.since:
            yield "since", f"id {entry.id} is not after {self.since}"

    def matches(self, entry: Entry) -> tuple[bool, str]:
        """Whether ``entry`` is selected, and if not, the first reason why."""
        for _, reason in self.misses(entry):
            return False, reason
        return True, "matched"

    def closeness(self, entry: Entry) -> float:
        """How alike ``entry``'s path is to the path asked for (1.0 the same), to rank misses."""
        wanted = self.path or self.path_pattern or self.path_prefix
        if wanted is None:
            return 0.0
        return SequenceMatcher(None, wanted, entry.path, autojunk=False).ratio()


@dataclass(frozen=True, slots=True)
class Count:
    """How many entries a query selects, and the near misses: entries that fail exactly one
    of its request criteria (method, path, status), the closest path first."""

    count: int
    near_misses: list[tuple[Entry, str]]


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

    def count(self, query: Query = Query(), *, near: int = 5) -> Count:
        """How many kept entries ``query`` selects (``limit`` aside), with up to ``near`` near
        misses: what a verification that failed explains itself with."""
        with self._lock:
            entries = list(self._entries)
        count = 0
        misses: list[tuple[Entry, str]] = []
        for entry in entries:
            failed = list(query.misses(entry))
            if not failed:
                count += 1
            elif len(failed) == 1 and failed[0][0] in REQUEST_CRITERIA:
                misses.append((entry, failed[0][1]))
        misses.sort(key=lambda miss: (-query.closeness(miss[0]), -miss[0].id))
        return Count(count, misses[: max(near, 0)])

    def unmatched(self, explain: Callable[[str, str], str | None]) -> list[tuple[Entry, str]]:
        """HTTP entries that no operation serves, oldest first, each with why: ``explain``
        gets a request's method and path and answers None when an operation serves it."""
        with self._lock:
            entries = [entry for entry in self._entries if entry.kind == "http"]
        found = []
        for entry in entries:
            reason = explain(entry.method, entry.path)
            if reason is not None:
                found.append((entry, reason))
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
