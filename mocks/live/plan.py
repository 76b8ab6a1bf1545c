"""Which read operations the probe calls, in what order, with which values.

Only reads: GET operations (and the vendor's login, which ``vendors`` names). A required
parameter takes, in this order: for a path parameter, a field of its name (for ``{id}``: the
``id``) of a record read from the path before it or a sibling (``/cases/{id}`` after
``/cases`` or ``/cases/mostRecent``); a field of its name in a record read from a neighbouring
path (``case_status_id`` from a status-history list); for ``case_id``, the ``id`` of a record
from a list named like it (``/cases``); the parameter's own ``example``; the schema's
``default``, example or first enum value. An operation whose values cannot be found this way
is skipped, with the reason. Optional parameters are not sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from ..core.contracts import Contract, Operation, Parameter

MAX_RECORDS = 200
"""Records kept per operation path: enough to find an id, bounded."""


@dataclass
class Step:
    operation: Operation
    path: str
    query: dict[str, Any] = field(default_factory=dict)


@dataclass
class Records:
    """Records read so far, by the path template of the operation that answered them."""

    by_path: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, template: str, body: Any) -> None:
        found = self.by_path.setdefault(template, [])
        for record in _records(body):
            if len(found) >= MAX_RECORDS:
                return
            found.append(record)

    def near(self, template: str) -> list[dict[str, Any]]:
        """Records of the paths sharing the longest leading part with ``template``."""
        mine = _literal_parts(template)
        ranked = sorted(
            ((len(_common(mine, _literal_parts(path))), path) for path in self.by_path),
            reverse=True,
        )
        best = ranked[0][0] if ranked else 0
        return [r for score, path in ranked if score == best and best for r in self.by_path[path]]


def _records(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return [item for item in body if isinstance(item, dict)]
    if isinstance(body, dict):
        inner = [v for v in body.values() if isinstance(v, list)]
        return [body] + [item for items in inner for item in items if isinstance(item, dict)]
    return []


def _usable(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and value != ""


def _literal_parts(template: str) -> list[str]:
    return [part for part in template.strip("/").split("/") if not part.startswith("{")]


def _common(left: list[str], right: list[str]) -> list[str]:
    common = []
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        common.append(a)
    return common


def _list_before(template: str, name: str) -> str:
    """``/cases`` for ``{id}`` in ``/cases/{id}/people``: where that id's records are listed."""
    head = template.split("{" + name + "}", 1)[0].rstrip("/")
    return head or "/"


class Planner:
    """Finds values for an operation's required parameters from what was read."""

    def __init__(self, contract: Contract, records: Records) -> None:
        self.contract = contract
        self.records = records

    def step(self, operation: Operation) -> Step | str:
        """The call to make, or why it cannot be made yet."""
        path = operation.path
        query: dict[str, Any] = {}
        for parameter in operation.parameters:
            if not parameter.required or parameter.location not in ("path", "query"):
                continue
            value = self._value(operation, parameter)
            if value is None:
                return (
                    f"needs {parameter.location} parameter {parameter.name}: no record read has "
                    "it and the contract gives no example"
                )
            if parameter.location == "path":
                path = path.replace("{" + parameter.name + "}", quote(str(value), safe=""))
            else:
                query[parameter.name] = value
        return Step(operation, path, query)

    def _value(self, operation: Operation, parameter: Parameter) -> Any:
        name = parameter.name
        if parameter.location == "path":
            # ``/cases/{id}``: a case read from ``/cases`` or a sibling (``/cases/mostRecent``).
            prefix = _list_before(operation.path, name)
            under = [
                record
                for path, records in self.records.by_path.items()
                if path == prefix or path.startswith(prefix + "/")
                for record in records
            ]
            for field_name in (name, "id") if name == "id" else (name,):
                found = next((r[field_name] for r in under if _usable(r.get(field_name))), None)
                if found is not None:
                    return found
        if name != "id":
            for record in self.records.near(operation.path):
                if _usable(record.get(name)):
                    value = record[name]
                    return [value] if parameter.schema.get("type") == "array" else value
            # ``case_id``: the id of a record from a list named like it (``/cases``).
            stem = re.sub(r"(_id|Id|ID)$", "", name)
            if stem != name:
                for path, records in self.records.by_path.items():
                    last = (_literal_parts(path) or [""])[-1]
                    if last in (stem, stem + "s"):
                        found = next((r["id"] for r in records if _usable(r.get("id"))), None)
                        if found is not None:
                            return found
        return self._documented(parameter)

    def _documented(self, parameter: Parameter) -> Any:
        raw, _ = self.contract.deref(
            self.contract.resolve(parameter.schema_uri.rsplit("/schema", 1)[0]),
            parameter.schema_uri,
        )
        if isinstance(raw, dict) and "example" in raw:
            return raw["example"]
        schema = parameter.schema
        if "default" in schema:
            return schema["default"]
        if schema.get("examples"):
            return schema["examples"][0]
        if schema.get("enum"):
            return schema["enum"][0]
        return None
