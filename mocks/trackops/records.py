"""Making and changing Trackops records: ids, UTC timestamps, relations that must hold.

Shared by the API's writes (``writes.py``) and the vendor control actions (``admin.py``).
Records are built by their schema's shape, so every field the contract lists is present.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from ..core.errors import HttpError
from ..core.store import Record
from .catalog import Catalog, RecordType
from .store import Account

Refuse = Callable[..., HttpError]


def stamp(epoch: float) -> str:
    """A UTC timestamp with whole seconds and ``Z`` (TO-06): ``2025-02-21T10:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def today(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def to_utc(value: str) -> str:
    """An RFC 3339 date-time (any offset) as the records' UTC form; ValueError if it names
    no instant a record can hold."""
    try:
        moment = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    except OverflowError as exc:
        raise ValueError(f"{value!r} is out of range") from exc
    # isoformat, unlike strftime, keeps four digits in years before 1000.
    return utc.isoformat() + "Z"


class TimestampError(ValueError):
    """A timestamp field whose value names no instant a record can hold."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.reason = message


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole(item) for item in value]
    return value


def normalized(record_type: RecordType, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every timestamp field given in another offset moved to UTC, and every
    integer field given as ``3.0`` stored as ``3``."""
    out = {
        name: _whole(value)
        if name in record_type.fields and record_type.fields[name].integer
        else value
        for name, value in values.items()
    }
    for name in record_type.timestamps:
        if isinstance(out.get(name), str):
            try:
                out[name] = to_utc(out[name])
            except ValueError as exc:
                raise TimestampError(name, str(exc)) from None
    return out


def _ids(value: Any) -> Iterator[int]:
    for item in value if isinstance(value, list) else [value]:
        whole = _whole(item)
        if isinstance(whole, int) and not isinstance(whole, bool):
            yield whole


def broken_relations(
    account: Account, record_type: RecordType, values: dict[str, Any]
) -> Iterator[tuple[str, int]]:
    """Each (field, id) of ``values`` whose ``x-relation`` names no existing record."""
    for spec in record_type.relations:
        assert spec.relation is not None
        for key in _ids(values.get(spec.name)):
            if not account.exists(spec.relation, key):
                yield spec.name, key


def relation_message(catalog: Catalog, record_type: RecordType, name: str, key: int) -> str:
    relation = record_type.fields[name].relation or ""
    target = catalog.records.get(relation)
    noun = target.title if target else relation.removeprefix("lookups.").rstrip("s")
    return f"{name} {key} does not name an existing {noun}"


def check_relations(
    refuse: Refuse,
    catalog: Catalog,
    account: Account,
    record_type: RecordType,
    values: dict[str, Any],
    paths: dict[str, str] | None = None,
) -> None:
    """Refuse (400) the first id of ``values`` that names no record; ``paths`` maps a field
    to the body path the client sent it under (default ``$.<field>``)."""
    for name, key in broken_relations(account, record_type, values):
        where = (paths or {}).get(name, f"$.{name}")
        raise refuse(400, relation_message(catalog, record_type, name, key), parameter=where)


def field_values(
    refuse: Refuse, account: Account, applies_to: str, given: list[dict[str, Any]], where: str
) -> list[dict[str, Any]]:
    """Custom field values with their labels; every id must be one of the account's custom
    fields of that kind of record."""
    labels = {
        item["id"]: item["label"]
        for item in account.lookups.get("custom_fields", [])
        if item["applies_to"] == applies_to
    }
    out = []
    for index, item in enumerate(given):
        if item["id"] not in labels:
            raise refuse(
                400,
                f"custom field {item['id']} is not a {applies_to} custom field of this account",
                parameter=f"{where}[{index}].id",
            )
        out.append({"id": item["id"], "label": labels[item["id"]], "value": item["value"]})
    return out


def create(
    account: Account,
    record_type: RecordType,
    shape: Callable[[Any], Any],
    values: dict[str, Any],
    now: float,
) -> Record:
    """A new record with the next id, stamped now unless ``values`` say when, and stored."""
    when = stamp(now)
    record: Record = shape(
        {
            "created_at": when,
            "updated_at": when,
            **normalized(record_type, values),
            "id": account.next_id(record_type.collection),
        }
    )
    return account.put(record_type.collection, record)


def update(
    account: Account, record_type: RecordType, record: Record, changes: dict[str, Any], now: float
) -> Record:
    """``record`` with ``changes``, stamped ``updated_at`` now, stored as a new dict."""
    changed = {"updated_at": stamp(now), **normalized(record_type, changes)}
    return account.put(record_type.collection, {**record, **changed, "id": record["id"]})
