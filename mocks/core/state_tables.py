"""A vendor's state as tables anyone can page through: what each vendor exposes, declared once.

A provider lists its ``StateTable``s (``ProviderHooks.state_tables``); the control API pages
through any of them (``GET /__admin/state/{table}``) with the same code, whatever the vendor.
Records are answered in their cached API encoding (``Table.encoded``), so a page is what the
vendor's own API would answer for those records, and a page deep in 100 000 records costs the
same as the first.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson

from .store import Record, Table

Related = Callable[[Any], dict[str, list[bytes]]]
"""Records that belong with one record (an item's history feed and custody), encoded."""

MAX_PAGE = 500


@dataclass(frozen=True)
class StateTable:
    """One table of a vendor's state, as the control API lists it.

    Args:
        name: unique in the emulator, used in URLs (``org1.items``).
        title: what a person calls it (``Items``).
        group: the tenant it belongs to (``Organization 1``), empty for global tables.
        table: the records.
        newest_first: list the newest records first by default (feeds, positions).
        related: an optional function of a record's key giving the records that belong with
            it, by what they are (``{"History feed": [...], "Custody": [...]}``).
    """

    name: str
    title: str
    group: str
    table: Table[Any]
    newest_first: bool = False
    related: Related | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "group": self.group,
            "count": len(self.table),
            "order": "desc" if self.newest_first else "asc",
        }

    def page(self, offset: int, limit: int, order: str | None) -> bytes:
        """One page as JSON: ``{table, total, offset, limit, order, rows: [{key, record}]}``,
        built from the records' cached encodings."""
        order = order or ("desc" if self.newest_first else "asc")
        limit = max(1, min(limit, MAX_PAGE))
        keys = self.table.key_slice(offset, offset + limit, reverse=order == "desc")
        rows = b",".join(_row(key, self.table.encoded(key)) for key in keys)
        head = orjson.dumps(
            {
                "table": self.name,
                "total": len(self.table),
                "offset": offset,
                "limit": limit,
                "order": order,
            }
        )
        return head[:-1] + b',"rows":[' + rows + b"]}"

    def key_of(self, raw: str) -> Hashable | None:
        """The table's key spelled ``raw`` in a URL (tables are keyed by int or str)."""
        for candidate in (_int(raw), raw):
            if candidate is not None and candidate in self.table:
                return candidate
        return None

    def record(self, key: Hashable) -> bytes:
        """One record with the records that belong with it: ``{key, record, related}``."""
        related = self.related(key) if self.related is not None else {}
        parts = b",".join(
            orjson.dumps(name) + b":[" + b",".join(items) + b"]" for name, items in related.items()
        )
        return _row(key, self.table.encoded(key))[:-1] + b',"related":{' + parts + b"}}"


def _row(key: Hashable, encoded: bytes) -> bytes:
    return b'{"key":' + orjson.dumps(key) + b',"record":' + encoded + b"}"


def _int(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        return None


def newest(table: Table[Any], keep: Callable[[Record], bool], limit: int = 50) -> list[bytes]:
    """The encodings of the newest ``limit`` records of ``table`` that ``keep`` accepts."""
    found: list[bytes] = []
    for key in reversed(table.keys()):
        record = table.get(key)
        if record is not None and keep(record):
            found.append(table.encoded(key))
            if len(found) == limit:
                break
    return found
