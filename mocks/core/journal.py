"""A bounded record of every request, response and socket frame an emulator handled.

Bounded in entries (``size``) and in bytes (``max_bytes``: the oldest entries leave first), and
each entry in its parts: a body is cut to ``body_limit`` bytes and each side's headers to
``header_limit`` bytes, and a cut part is marked as truncated when read. Entries are read a
page at a time (``page``): a page is at most ``page_bytes`` of JSON and names the entry to go
on from (``next``). Secrets (credentials, cookies, passwords) are masked when entries are read,
by the rules of ``core.redact``, unless the reader asks for them.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any

import orjson

from .clock import Clock, isoformat
from .redact import Redactor, learn_body, mask_body, mask_header, mask_query

Headers = list[tuple[str, str]] | list[tuple[bytes, bytes]]
"""As the server or the app gave them: ASGI's raw byte pairs, or text pairs."""

KINDS = ("http", "ws-open", "ws-in", "ws-out", "ws-close")
JOURNAL_NOTES = "trackmock.journal"
"""WSGI environ key of a dict the pipeline fills for the request's entry: ``operation``
(its operationId) and ``rules`` (what fired on it, ``Call.fire``); ``withhold_bodies`` keeps
the bodies out of the entry (a snapshot's tokens and sessions)."""
WITHHELD = "bodies not kept: a snapshot holds tokens, passwords and sessions"
ENTRY_OVERHEAD = 400
"""Bytes an entry costs besides its bodies, headers, path and query (the object, its fields)."""


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
    """Rules that fired on the request (``{"rule", "detail"}``); on a socket entry, the fault
    that acted on the frame, the close or the upgrade."""
    request_body_bytes: int = 0
    """The body's size as received; more than ``len(request_body)`` when it was cut."""
    response_body_bytes: int = 0
    request_headers_cut: bool = False
    response_headers_cut: bool = False
    size: int = 0
    """Bytes this entry counts against the journal's ``max_bytes``."""

    def to_json(self, redactor: Redactor | None = None) -> dict[str, Any]:
        """The entry as the control API shows it; with a ``redactor``, secrets masked."""
        text = _scrubber(redactor)
        out: dict[str, Any] = {
            "id": self.id,
            "time": isoformat(self.time),
            "kind": self.kind,
            "method": self.method,
            "path": text(self.path),
            "query": text(mask_query(self.query)) if redactor else self.query,
        }
        if self.kind == "http":
            out["status"] = self.status
            out["operation"] = self.operation
            out["rules"] = self._rules(text)
            out["request"] = {
                "headers": _headers(self.request_headers, redactor),
                **_body(self.request_body, self.request_body_bytes, redactor, request=True),
            }
            out["response"] = {
                "headers": _headers(self.response_headers, redactor),
                **_body(self.response_body, self.response_body_bytes, redactor),
            }
            if self.request_headers_cut:
                out["request"]["headersTruncated"] = True
            if self.response_headers_cut:
                out["response"]["headersTruncated"] = True
        else:
            out["connection"] = self.connection
            if self.kind == "ws-out":
                out.update(_body(self.response_body, self.response_body_bytes, redactor))
            else:
                out.update(_body(self.request_body, self.request_body_bytes, redactor))
            if self.status is not None:
                out["status"] = self.status
            if self.rules:
                out["rules"] = self._rules(text)
        if self.note:
            out["note"] = text(self.note)
        return out

    def _rules(self, text: Any) -> list[dict[str, str]]:
        return [{"rule": rule["rule"], "detail": text(rule["detail"])} for rule in self.rules]

    def learn(self, redactor: Redactor) -> None:
        """Teach ``redactor`` the secrets this entry's request and response carry."""
        redactor.learn_form(self.query)
        redactor.learn_headers(_decoded(self.request_headers))
        redactor.learn_headers(_decoded(self.response_headers))
        if self.request_body:
            learn_body(self.request_body.decode("utf-8", "replace"), redactor)

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


_FIELDS = tuple(f.name for f in fields(Entry) if f.init)
"""``Entry``'s arguments in order (``Journal.record_each`` makes entries from them)."""
_CONNECTION = _FIELDS.index("connection")


def _scrubber(redactor: Redactor | None) -> Any:
    return redactor.scrub if redactor is not None else str


def _decoded(pairs: Headers) -> Iterable[tuple[str, str]]:
    for k, v in pairs:
        yield (
            k.decode("latin-1") if isinstance(k, bytes) else k,
            v.decode("latin-1") if isinstance(v, bytes) else v,
        )


def _headers(pairs: Headers, redactor: Redactor | None) -> dict[str, str]:
    if redactor is None:
        return dict(_decoded(pairs))
    return {k: redactor.scrub(mask_header(k, v)) for k, v in _decoded(pairs)}


def _body(
    raw: bytes, received: int, redactor: Redactor | None, *, request: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cut = received > len(raw)
    text = _utf8(raw, cut)
    if text is None:
        out["bodyBase64"] = base64.b64encode(raw).decode("ascii")
    elif redactor is None:
        out["body"] = text
    else:
        out["body"] = redactor.scrub(mask_body(text) if request and text else text)
    if cut:
        out["bodyTruncated"] = True
        out["bodyBytes"] = received
    return out


def _utf8(raw: bytes, cut: bool) -> str | None:
    """``raw`` as text; a body cut inside a character loses that character's first bytes."""
    for end in range(len(raw), max(len(raw) - 4, -1), -1) if cut else (len(raw),):
        try:
            return raw[:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def _cut_headers(pairs: Headers, limit: int) -> tuple[Headers, bool, int]:
    """``pairs`` within ``limit`` bytes (names and values): a value past it is cut, and headers
    after it are left out. Returns the pairs kept, whether any was cut, and their size."""
    total = sum(map(len, itertools.chain.from_iterable(pairs)))
    if total <= limit:
        return pairs, False, total
    kept: list[Any] = []
    room = limit
    for name, value in pairs:
        if room <= len(name):
            break
        part = value[: room - len(name)]
        kept.append((name, part))
        room -= len(name) + len(part)
    return kept, True, limit - room


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
        from difflib import SequenceMatcher  # only near-miss listings need it, not a start

        return SequenceMatcher(None, wanted, entry.path, autojunk=False).ratio()


@dataclass(frozen=True, slots=True)
class Count:
    """How many entries a query selects, and the near misses: entries that fail exactly one
    of its request criteria (method, path, status), the closest path first."""

    count: int
    near_misses: list[tuple[Entry, str]]


class Journal:
    """Keeps the last ``size`` entries, at most ``max_bytes`` of them; bodies are cut to
    ``body_limit`` bytes, each side's headers to ``header_limit`` bytes."""

    def __init__(
        self,
        clock: Clock,
        *,
        size: int = 1000,
        body_limit: int = 65536,
        header_limit: int = 16384,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if size < 1:
            raise ValueError("the journal keeps at least one entry")
        self.clock = clock
        self.size = size
        self.body_limit = body_limit
        self.header_limit = header_limit
        self.max_bytes = max_bytes
        self._entries: deque[Entry] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._next_id = 1

    @property
    def recorded(self) -> int:
        """How many entries were ever recorded (including those that fell out)."""
        return self._next_id - 1

    @property
    def bytes(self) -> int:
        """Bytes the kept entries count (see ``Entry.size``)."""
        return self._bytes

    def record(self, kind: str, **fields: Any) -> Entry:
        if fields.pop("withhold_bodies", False):
            fields["request_body"] = fields["response_body"] = b""
            fields["note"] = fields.get("note") or WITHHELD
        limit = self.body_limit
        size = ENTRY_OVERHEAD + len(fields.get("path", "")) + len(fields.get("query", ""))
        for name in ("request_body", "response_body"):
            body = fields.get(name)
            if body:
                fields[f"{name}_bytes"] = len(body)
                if len(body) > limit:
                    fields[name] = body = body[:limit]
                size += len(body)
        for name in ("request_headers", "response_headers"):
            pairs = fields.get(name)
            if pairs:
                kept, fields[f"{name}_cut"], used = _cut_headers(pairs, self.header_limit)
                # A tuple of pairs of strings: the garbage collector soon stops tracking it,
                # so a full journal costs each collection little.
                fields[name] = tuple(kept)
                size += used
        return self._add(Entry(id=0, time=0.0, kind=kind, size=size, **fields))

    def record_http(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        request_headers: Headers,
        request_body: bytes,
        response_headers: Headers,
        response_body: bytes,
        notes: dict[str, Any],
    ) -> Entry:
        """The entry ``record("http", ..., **notes)`` makes, built in fewer steps: the server
        records one per request. ``notes`` are the pipeline's (``JOURNAL_NOTES``)."""
        note = notes.get("note", "")
        if notes.get("withhold_bodies"):
            request_body = response_body = b""
            note = note or WITHHELD
        request_bytes = len(request_body)
        response_bytes = len(response_body)
        limit = self.body_limit
        if request_bytes > limit:
            request_body = request_body[:limit]
        if response_bytes > limit:
            response_body = response_body[:limit]
        request_kept, request_cut, request_size = _cut_headers(request_headers, self.header_limit)
        response_kept, response_cut, response_size = _cut_headers(
            response_headers, self.header_limit
        )
        size = (
            ENTRY_OVERHEAD
            + len(path)
            + len(query)
            + len(request_body)
            + len(response_body)
            + request_size
            + response_size
        )
        rules = notes.get("rules")
        entry = Entry(  # in the order of Entry's fields (keywords cost more)
            0,
            0.0,
            "http",
            method,
            path,
            query,
            status,
            tuple(request_kept),
            request_body,
            tuple(response_kept),
            response_body,
            None,
            note,
            notes.get("operation", ""),
            [] if rules is None else rules,
            request_bytes,
            response_bytes,
            request_cut,
            response_cut,
            size,
        )
        return self._add(entry)

    def _add(self, entry: Entry) -> Entry:
        """Keep ``entry`` with the next id and the time now; the oldest leave past the bounds."""
        with self._lock:
            entry.id = self._next_id
            entry.time = self.clock.now()
            self._next_id += 1
            entries = self._entries
            entries.append(entry)
            self._bytes += entry.size
            while len(entries) > 1 and (len(entries) > self.size or self._bytes > self.max_bytes):
                self._bytes -= entries.popleft().size
        return entry

    def record_each(
        self, kind: str, connections: Sequence[int], variants: Sequence[dict[str, Any]]
    ) -> None:
        """For each connection in turn, one entry per variant (the frames a push wrote to many
        sockets, each socket's in order): what ``record`` would make, faster. Each variant is
        cut and sized once (by ``record``, for the first connection) and copied for the
        others; entries that the journal's bounds would drop at once are not made, but count
        as recorded (their ids are taken)."""
        if not connections or not variants:
            return
        firsts = [self.record(kind, connection=connections[0], **parts) for parts in variants]
        templates = [[getattr(entry, name) for name in _FIELDS] for entry in firsts]
        rest = connections[1:]
        each = sum(entry.size for entry in firsts)
        with self._lock:
            made = min(len(rest), self.size // len(variants) + 1, self.max_bytes // each + 1)
            self._next_id += (len(rest) - made) * len(variants)
            entries = self._entries
            for connection in rest[len(rest) - made :]:
                for args in templates:
                    args[0], args[_CONNECTION] = self._next_id, connection
                    entries.append(Entry(*args))
                    self._next_id += 1
            self._bytes += each * made
            while len(entries) > 1 and (len(entries) > self.size or self._bytes > self.max_bytes):
                self._bytes -= entries.popleft().size

    def select(self, query: Query = Query()) -> list[Entry]:
        with self._lock:
            entries = list(self._entries)
        chosen = [entry for entry in entries if query.matches(entry)[0]]
        if query.limit is not None:
            chosen = chosen[-query.limit :] if query.limit > 0 else []
        return chosen

    def page(self, query: Query, *, page_bytes: int, redactor: Redactor | None) -> bytes:
        """The JSON of one page of the entries ``query`` selects, oldest first: at most
        ``page_bytes`` (or one entry, if a single one is larger). When more entries follow,
        ``next`` is the ``since`` to ask for them with."""
        chosen = self.select(query)
        # The page's own keys count too: ``next`` is at most the id the next entry will get.
        page_bytes -= 64 + len(str(self.recorded)) + len(str(self.size)) + len(str(self._next_id))
        # Every entry that may fit (its JSON is at least about as long as what it stores)
        # teaches the redactor first, so a secret seen in a later entry is masked in an
        # earlier one too.
        window: list[Entry] = []
        stored = 0
        for entry in chosen:
            stored += entry.size - ENTRY_OVERHEAD
            if window and stored > page_bytes:
                break
            window.append(entry)
        if redactor is not None:
            for entry in window:
                entry.learn(redactor)
        parts: list[bytes] = []
        used = 0
        for entry in window:
            data = orjson.dumps(entry.to_json(redactor))
            if parts and used + len(data) + 1 > page_bytes:
                break
            parts.append(data)
            used += len(data) + 1
        more = len(parts) < len(chosen)
        tail = {
            "recorded": self.recorded,
            "size": self.size,
            "next": window[len(parts) - 1].id if more else None,
        }
        return b'{"entries":[' + b",".join(parts) + b"]," + orjson.dumps(tail)[1:]

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
            self._bytes = 0
