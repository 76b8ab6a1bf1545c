"""Paging, sorting and filtering of any Trackops collection, from its contract ``View``.

Records are kept in id order, which is creation order. A page without filters is a slice of
the table from either end, so a deep page costs the same as the first; a filtered page scans
the table once (linear, and fine for the sizes an emulator holds). ``PageCache`` keeps the
encoding of pages asked for again, for as long as their table has not changed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

from ..core.store import Record, Table
from .catalog import Filter, View

Predicate = Callable[[Record], bool]
_END_OF_DAY = timedelta(days=1, microseconds=-1)


class FilterError(ValueError):
    """A filter value the schema lets through but that names no instant (``2025-02-31``)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True, slots=True)
class Bound:
    """A ``from``/``to`` filter value as the two forms records are compared with."""

    timestamp: str
    """Inclusive bound in the records' timestamp form (``2025-01-06T16:05:00Z``)."""
    day: str
    """Inclusive bound for ``date`` fields (``2025-01-06``)."""


def _as_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_bound(param: str, raw: str, kind: str) -> Bound:
    """The bound of a ``from`` or ``to`` filter; a date alone in ``to`` includes its whole day."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            moment = start + _END_OF_DAY if kind == "to" else start
        else:
            moment = _as_utc(raw)
        # Records carry whole seconds: round a from-bound up and a to-bound down.
        if kind == "from" and moment.microsecond:
            moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    except (ValueError, OverflowError) as exc:
        raise FilterError(param, f"{raw!r} is not a valid date or time: {exc}") from None
    moment = moment.replace(microsecond=0, tzinfo=None)
    return Bound(moment.isoformat() + "Z", moment.date().isoformat())


def _test(flt: Filter, value: Any, field_kind: str) -> Callable[[Any], bool]:
    if flt.kind == "exact":
        return lambda stored: stored == value or (isinstance(stored, list) and value in stored)
    if flt.kind == "search":
        needle = str(value).lower()
        return lambda stored: isinstance(stored, str) and needle in stored.lower()
    bound = parse_bound(flt.param, value, flt.kind)
    # A date field is compared by its date; a timestamp field by its instant (both strings
    # in a fixed ISO form, so comparing the strings compares the times).
    width, limit = (10, bound.day) if field_kind == "date" else (None, bound.timestamp)
    if flt.kind == "from":
        return lambda stored: isinstance(stored, str) and stored[:width] >= limit
    return lambda stored: isinstance(stored, str) and stored[:width] <= limit


def predicate(view: View, values: dict[str, Any]) -> Predicate | None:
    """One test for every filter given in ``values`` (and the view's fixed ``where``);
    None when nothing filters, so the caller can slice the table instead of scanning it."""
    tests: list[tuple[str, Callable[[Any], bool]]] = [
        (name, lambda stored, wanted=wanted: stored == wanted)
        for name, wanted in view.where.items()
    ]
    for flt in view.filters:
        if flt.param in values:
            kind = view.record.fields[flt.field].kind if flt.field in view.record.fields else ""
            tests.append((flt.field, _test(flt, values[flt.param], kind)))
    if not tests:
        return None

    def matches(record: Record) -> bool:
        for name, test in tests:
            stored = record.get(name)
            # A null field never matches a filter.
            if stored is None or not test(stored):
                return False
        return True

    return matches


def _ordered(table: Table[int], descending: bool) -> Iterable[Record]:
    if not descending:
        return iter(table)
    return (row for row in table.slice(0, len(table), reverse=True))


def page(
    table: Table[int],
    test: Predicate | None,
    *,
    number: int,
    size: int,
    descending: bool,
) -> list[Record]:
    """Page ``number`` (from 1) of ``size`` records; ``[]`` past the end."""
    # No page can start past the table's end, whatever page number was asked for.
    start = min((number - 1) * size, len(table))
    if test is None:
        return table.slice(start, start + size, reverse=descending)
    return list(islice(filter(test, _ordered(table, descending)), start, start + size))


def count(table: Table[int], test: Predicate | None, size: int) -> dict[str, int]:
    """``mode=count``: how many records match, and how many pages of ``size`` they fill."""
    total = len(table) if test is None else sum(1 for row in table if test(row))
    return {"record_count": total, "page_count": math.ceil(total / size)}


PAGES_KEPT = 256
"""Encoded pages a ``PageCache`` keeps (the oldest goes first)."""

PAGE_BYTES_KEPT = 16 * 1024 * 1024
"""Bytes of encoded pages a ``PageCache`` keeps in all; a bigger page is never kept."""


@dataclass(frozen=True, slots=True)
class _Page:
    table: Table[int]
    version: int
    body: bytes


class PageCache:
    """Encoded pages by request, each valid while its table is the same one at the same
    ``version`` (any write, reset or snapshot restore changes one or the other).

    Bounded by ``PAGES_KEPT`` entries and ``PAGE_BYTES_KEPT`` bytes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[Hashable, _Page] = {}
        self._bytes = 0

    def get(self, key: Hashable, table: Table[int]) -> bytes | None:
        """The page kept under ``key`` if ``table`` has not changed since it was encoded."""
        page = self._pages.get(key)
        if page is None or page.table is not table or page.version != table.version:
            return None
        return page.body

    def put(self, key: Hashable, table: Table[int], version: int, body: bytes) -> None:
        """Keep ``body``, encoded from ``table`` as it was at ``version`` (read before the
        page was built, so a write meanwhile leaves the entry stale, never wrong)."""
        if len(body) > PAGE_BYTES_KEPT:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            while self._pages and (
                len(self._pages) >= PAGES_KEPT or self._bytes + len(body) > PAGE_BYTES_KEPT
            ):
                self._bytes -= len(self._pages.pop(next(iter(self._pages))).body)
            self._pages[key] = _Page(table, version, body)
            self._bytes += len(body)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0
