"""What the contract says about Trackops' records and collections, read once at start.

Everything here comes from the contract's extensions (defined in its ``info.description``):
``x-collection`` and ``x-collection-where`` on operations, ``x-filter-field``/``x-filter-kind``
and ``x-expands`` on parameters, ``x-relation`` on record properties. The emulator serves all
32 objects from these descriptions with one code path; no field list is written in Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.contracts import Contract, Operation

JSON = "application/json"
TIMESTAMP_SCHEMA = "UtcTimestamp.json"


@dataclass(frozen=True, slots=True)
class Field:
    """One property of a record schema."""

    name: str
    relation: str | None
    """The collection an id (or list of ids) points into, or ``lookups.<key>``."""
    many: bool
    """A list of ids rather than one."""
    kind: str
    """``timestamp`` (UTC, ``Z``), ``date`` (``YYYY-MM-DD``) or ``other``."""
    integer: bool = False
    """An integer (or a list of them): JSON Schema also lets ``1.0`` through."""


@dataclass(frozen=True)
class RecordType:
    """The records of one store (``x-collection``), as their schema describes them."""

    collection: str
    title: str
    schema: str
    """Absolute location of the record schema."""
    fields: dict[str, Field]
    expands: frozenset[str] = frozenset()
    """Fields filled only when a request asks for them (``x-expands``); null otherwise."""

    @property
    def timestamps(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.kind == "timestamp"]

    @property
    def relations(self) -> list[Field]:
        return [f for f in self.fields.values() if f.relation]

    @property
    def signed_links(self) -> bool:
        """Records carrying a download link re-issued with every response (Files)."""
        return "download_url" in self.fields


@dataclass(frozen=True, slots=True)
class Filter:
    """A query or path parameter that selects records."""

    param: str
    location: str
    field: str
    kind: str
    """``exact``, ``search``, ``from`` or ``to``."""


@dataclass(frozen=True)
class View:
    """How one GET operation reads its store: a list (paged) or one record by id."""

    operation_id: str
    record: RecordType
    paged: bool
    where: dict[str, Any] = field(default_factory=dict)
    filters: tuple[Filter, ...] = ()
    expands: dict[str, str] = field(default_factory=dict)
    """Query parameter -> the field it fills."""


def _field_kind(node: dict[str, Any]) -> str:
    text = json.dumps(node)
    if TIMESTAMP_SCHEMA in text or '"date-time"' in text:
        return "timestamp"
    if '"format": "date"' in text:
        return "date"
    return "other"


def _types(node: Any) -> set[str]:
    kind = node.get("type") if isinstance(node, dict) else None
    return {kind} if isinstance(kind, str) else set(kind or [])


def _is_integer(node: dict[str, Any]) -> bool:
    return "integer" in _types(node) or "integer" in _types(node.get("items"))


def _is_many(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _record_schema(contract: Contract, operation: Operation) -> str | None:
    """The record schema of a GET's 200 answer: the items of a list, else the object."""
    contents = operation.response(200) or {}
    location = contents.get(JSON)
    if location is None:
        return None
    node, location = contract.deref({"$ref": location}, location)
    for index, branch in enumerate(node.get("oneOf", [])):
        if isinstance(branch, dict) and branch.get("type") == "array":
            node, location = branch, f"{location}/oneOf/{index}"
            break
    if node.get("type") == "array":
        node, location = contract.deref(node["items"], f"{location}/items")
    return location


def _record_type(
    contract: Contract, collection: str, location: str, expands: frozenset[str]
) -> RecordType:
    node, location = contract.deref({"$ref": location}, location)
    fields = {
        name: Field(
            name, prop.get("x-relation"), _is_many(prop), _field_kind(prop), _is_integer(prop)
        )
        for name, prop in (node.get("properties") or {}).items()
    }
    return RecordType(collection, str(node.get("title", collection)), location, fields, expands)


def _raw_parameters(contract: Contract, operation: Operation) -> list[dict[str, Any]]:
    base = contract.location("paths", operation.path, operation.method.lower())
    raw = contract.resolve(base)
    found = []
    for index, node in enumerate(raw.get("parameters", [])):
        param, _ = contract.deref(node, f"{base}/parameters/{index}")
        found.append(param)
    return found


class Catalog:
    """Record types by store, and the view of every GET operation that reads a store."""

    def __init__(self, contract: Contract) -> None:
        self.records: dict[str, RecordType] = {}
        self.views: dict[str, View] = {}
        self.creates: dict[str, RecordType] = {}
        """Operation id -> the record type a POST creates."""
        stored = [op for op in contract.operations.values() if "x-collection" in op.extensions]
        reads = [op for op in stored if op.method == "GET" and _record_schema(contract, op)]
        params = {op.id: _raw_parameters(contract, op) for op in reads}
        expands: dict[str, set[str]] = {}
        for operation in reads:
            collection = operation.extensions["x-collection"]
            fields = {p["x-expands"] for p in params[operation.id] if "x-expands" in p}
            expands.setdefault(collection, set()).update(fields)
        for operation in reads:
            collection = operation.extensions["x-collection"]
            if collection not in self.records:
                location = _record_schema(contract, operation)
                assert location is not None
                self.records[collection] = _record_type(
                    contract, collection, location, frozenset(expands[collection])
                )
        for operation in reads:
            self.views[operation.id] = _view(
                operation, self.records[operation.extensions["x-collection"]], params[operation.id]
            )
        for operation in stored:
            if operation.method == "POST":
                self.creates[operation.id] = self.records[operation.extensions["x-collection"]]


def _view(operation: Operation, record: RecordType, params: list[dict[str, Any]]) -> View:
    return View(
        operation_id=operation.id,
        record=record,
        paged=any(p["name"] == "page" and p["in"] == "query" for p in params),
        where=dict(operation.extensions.get("x-collection-where") or {}),
        filters=tuple(
            Filter(p["name"], p["in"], p["x-filter-field"], p["x-filter-kind"])
            for p in params
            if "x-filter-field" in p
        ),
        expands={p["name"]: p["x-expands"] for p in params if "x-expands" in p},
    )


def load_catalog(contract: Contract) -> Catalog:
    """The catalog of ``contract`` (built once per contract, then cached with it)."""
    key = ("trackops-catalog",)
    if key not in contract.memo:
        contract.memo[key] = Catalog(contract)
    found: Catalog = contract.memo[key]
    return found
