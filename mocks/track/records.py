"""Track's record types as the contract defines them: built, stored, rendered and encoded.

A ``Kind`` reads everything it needs from one schema file: the fields, which of them are
timestamps (a ``$ref`` to ``Timestamp.json``) and which are server-managed (``readOnly``).
Stored records hold timestamps as epoch milliseconds; rendering writes them in the configured
style. So a field added to a schema appears in REST answers and socket frames alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from .times import parse_ms

if TYPE_CHECKING:
    from ..core.contracts import Contract

Record = dict[str, Any]
TIMESTAMP = "Timestamp.json"


class BadRecord(ValueError):
    """A record the contract does not allow; the message names the field."""


def _is_timestamp(contract: Contract, node: Any, location: str) -> bool:
    if not isinstance(node, dict):
        return False
    if "$ref" in node:
        target, target_loc = contract.deref(node, location)
        if target_loc.split("#")[0].endswith("/" + TIMESTAMP):
            return True
        return _is_timestamp(contract, target, target_loc)
    for key in ("anyOf", "oneOf"):
        for i, branch in enumerate(node.get(key, [])):
            if _is_timestamp(contract, branch, f"{location}/{key}/{i}"):
                return True
    return False


class Kind:
    """One record type (``schemas/Device.json`` …) and how to store and write it."""

    def __init__(self, contract: Contract, ref: str, render_time: Callable[[int], str]) -> None:
        self.contract = contract
        self.uri = contract.schema_uri(ref)
        self.shape = contract.shape(self.uri)
        schema, location = contract.deref({"$ref": self.uri}, self.uri)
        properties: dict[str, Any] = schema.get("properties", {})
        self.fields = list(properties)
        self.times: list[str] = []
        self.read_only: set[str] = set()
        for name, sub in properties.items():
            sub_loc = f"{location}/properties/{name}"
            if _is_timestamp(contract, sub, sub_loc):
                self.times.append(name)
            resolved, _ = contract.deref(sub, sub_loc)
            if (isinstance(sub, dict) and sub.get("readOnly")) or (
                isinstance(resolved, dict) and resolved.get("readOnly")
            ):
                self.read_only.add(name)
        self._render_time = render_time

    def build(self, values: Record) -> Record:
        """A stored record: every field of the schema, timestamps as epoch milliseconds.

        Raises:
            BadRecord: a timestamp field holds something that is not an instant.
        """
        record: Record = self.shape.shape(values)
        for name in self.times:
            value = record[name]
            if isinstance(value, str):
                try:
                    record[name] = parse_ms(value)
                except ValueError as exc:
                    raise BadRecord(f"{name}: {value!r} is not a timestamp with an offset") from exc
        return record

    def render(self, record: Record) -> Record:
        """The record as the API writes it (shaped again, so schema changes show at once)."""
        out: Record = self.shape.shape(record)
        for name in self.times:
            value = out[name]
            if isinstance(value, int):
                out[name] = self._render_time(value)
        return out

    def encode(self, record: Record) -> bytes:
        # orjson's result keeps its over-allocated buffer (~16 KiB for a 600-byte record);
        # encodings are cached for the record's life, so keep an exact-size copy.
        return memoryview(orjson.dumps(self.render(record))).tobytes()

    def check(self, record: Record) -> None:
        """Raise ``BadRecord`` when the rendered record breaks its schema."""
        error = next(iter(self.contract.validator(self.uri).iter_errors(self.render(record))), None)
        if error is not None:
            where = "/".join(map(str, error.absolute_path)) or "(record)"
            raise BadRecord(f"{where}: {error.message}")


class Kinds:
    """The record types of the Track contract."""

    def __init__(self, contract: Contract, render_time: Callable[[int], str]) -> None:
        self.device = Kind(contract, "schemas/Device.json", render_time)
        self.beacon = Kind(contract, "schemas/Beacon.json", render_time)
        self.position = Kind(contract, "schemas/Position.json", render_time)
        self.user = Kind(contract, "schemas/User.json", render_time)
        self.event = Kind(contract, "schemas/Event.json", render_time)


def frame_key(contract: Contract, ref: str) -> str:
    """The one key of a socket frame schema (``{"devices": [...]}`` → ``devices``)."""
    schema, _ = contract.deref({"$ref": contract.schema_uri(ref)}, contract.schema_uri(ref))
    (key,) = schema["required"]
    return str(key)
