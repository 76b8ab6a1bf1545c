"""Control actions described for a form, read from their contracts (no field list in code).

Each parameter and each top-level field of the request body becomes a form field typed as the
contract types it (``integer``, ``number``, ``string``, ``boolean``, or ``json`` for objects,
arrays and anything looser), with its enum, default and description; the contract's example
body fills the form where there is one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.contracts import pointer_escape

if TYPE_CHECKING:
    from ..core.contracts import Contract, Operation

Field = dict[str, Any]
_SCALARS = ("integer", "number", "string", "boolean")


def describe(operation: Operation, source: str) -> dict[str, Any]:
    """``operation`` as ``GET /__admin/actions`` lists it."""
    contract = operation.contract
    raw, location = _operation_node(operation)
    action: dict[str, Any] = {
        "id": operation.id,
        "method": operation.method,
        "path": operation.path,
        "summary": str(raw.get("summary", operation.id)),
        "source": source,
        "parameters": [
            {
                **_field(contract, parameter.name, parameter.schema, parameter.schema_uri),
                "in": parameter.location,
                "required": parameter.required,
            }
            for parameter in operation.parameters
            if parameter.location in ("path", "query")
        ],
        "body": _body(contract, raw, location),
    }
    if raw.get("description"):
        action["description"] = " ".join(str(raw["description"]).split())
    return action


def _operation_node(operation: Operation) -> tuple[dict[str, Any], str]:
    contract = operation.contract
    item, item_loc = contract.deref(
        contract.resolve(contract.location("paths", operation.path)),
        contract.location("paths", operation.path),
    )
    method = operation.method.lower()
    return item[method], f"{item_loc}/{method}"


def _body(contract: Contract, raw: dict[str, Any], location: str) -> dict[str, Any] | None:
    if "requestBody" not in raw:
        return None
    body, body_loc = contract.deref(raw["requestBody"], f"{location}/requestBody")
    media = (body.get("content") or {}).get("application/json")
    if not isinstance(media, dict) or "schema" not in media:
        return None
    schema_loc = f"{body_loc}/content/application~1json/schema"
    schema, schema_loc = contract.deref(media["schema"], schema_loc)
    properties, required = _properties(contract, schema, schema_loc)
    fields = [
        {**_field(contract, name, node, loc), "required": name in required}
        for name, (node, loc) in properties.items()
    ]
    # Required fields first, each group in the contract's order.
    fields.sort(key=lambda field: not field["required"])
    out: dict[str, Any] = {"required": bool(body.get("required")), "fields": fields}
    if not fields:
        # A free-form body (any fields of a record): one JSON value, the whole body.
        out["whole"] = True
    if "example" in media:
        out["example"] = media["example"]
    return out


def _properties(
    contract: Contract, schema: Any, location: str
) -> tuple[dict[str, tuple[Any, str]], set[str]]:
    """The top-level properties of an object schema (through ``allOf``), and which are
    required."""
    properties: dict[str, tuple[Any, str]] = {}
    required: set[str] = set()
    if not isinstance(schema, dict):
        return properties, required
    required.update(schema.get("required") or [])
    for name, node in (schema.get("properties") or {}).items():
        properties[name] = (node, f"{location}/properties/{pointer_escape(name)}")
    for index, part in enumerate(schema.get("allOf") or []):
        resolved, part_loc = contract.deref(part, f"{location}/allOf/{index}")
        more, more_required = _properties(contract, resolved, part_loc)
        properties.update({k: v for k, v in more.items() if k not in properties})
        required |= more_required
    return properties, required


def _field(contract: Contract, name: str, node: Any, location: str) -> Field:
    node, location = contract.deref(node, location)
    node = _merged(contract, node, location)
    types = node.get("type")
    listed = types if isinstance(types, list) else [types] if types else []
    scalars = [t for t in listed if t in _SCALARS]
    field: Field = {"name": name, "type": scalars[0] if len(scalars) == 1 else "json"}
    if "enum" in node:
        field["enum"] = node["enum"]
        field["type"] = scalars[0] if scalars else "string"
    if "null" in listed:
        field["nullable"] = True
    if "default" in node:
        field["default"] = node["default"]
    if node.get("description"):
        field["description"] = " ".join(str(node["description"]).split())
    return field


def _merged(contract: Contract, node: Any, location: str) -> dict[str, Any]:
    """``node`` with what its ``allOf`` members say about type, enum and description."""
    if not isinstance(node, dict):
        return {}
    merged = dict(node)
    for index, part in enumerate(node.get("allOf") or []):
        resolved, _ = contract.deref(part, f"{location}/allOf/{index}")
        if isinstance(resolved, dict):
            for key in ("type", "enum", "description", "default"):
                if key in resolved and key not in merged:
                    merged[key] = resolved[key]
    return merged
