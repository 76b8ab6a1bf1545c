"""Load any real-world API description for the drift tools, as one kind of contract.

``check`` and ``diff`` compare OpenAPI 3.1 with JSON Schema 2020-12 semantics. Documents in
the wild are also OpenAPI 3.0 (``nullable``, boolean ``exclusiveMinimum``) and Swagger 2.0
(``definitions``, ``in: body``), and many operations have no ``operationId``. This module
brings each to the one form, in memory, and never changes a file:

- Swagger 2.0 becomes OpenAPI 3.0 (``swagger.py``), then
- OpenAPI 3.0 schemas become 2020-12 schemas (``nullable: true`` → ``type: [X, "null"]``,
  ``exclusiveMinimum: true`` → a number), and
- an operation without an ``operationId`` (or with one used twice) is named by its method and
  path template (``GET /devices/{id}``), which is how the tools identify it anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.contracts import HTTP_METHODS, Contract, ContractError
from .swagger import swagger_to_openapi

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONES = (
    "items", "additionalProperties", "unevaluatedProperties", "not", "if", "then", "else",
    "contains", "propertyNames", "unevaluatedItems", "additionalItems",
)  # fmt: skip


def load_contract(path: Path, *, folder: bool = True) -> Contract:
    """The document at ``path`` in the form the tools compare, with every file of its folder
    (``folder``: a contract folder such as ``contracts/tracker``) or only the files it refers
    to (a description downloaded somewhere)."""
    contract = Contract.from_path(path) if folder else Contract.from_file(path)
    document = contract.document
    if "asyncapi" in document:
        return contract
    version = str(document.get("openapi") or document.get("swagger") or "")
    if version.startswith("2."):
        converted = swagger_to_openapi(document, str(path))
        document.clear()
        document.update(converted)
        version = str(document["openapi"])
    if not version.startswith("3."):
        raise ContractError(
            f"{path}: not an OpenAPI 3.0 or 3.1, Swagger 2.0 or AsyncAPI document "
            "(it has no 'openapi', 'swagger' or 'asyncapi' version at the top)"
        )
    if not isinstance(document.get("paths", {}), dict):
        raise ContractError(f"{path}: 'paths' is not a mapping")
    if version.startswith("3.0"):
        _normalise_document(document)
        for uri, resource in contract.resources.items():
            # Schema files beside the document; other API documents in the folder are not it.
            if uri != contract.uri and not _is_api_document(resource):
                normalise_schema(resource)
    name_operations(document)
    return contract


def _is_api_document(node: Any) -> bool:
    return isinstance(node, dict) and any(k in node for k in ("openapi", "swagger", "asyncapi"))


def name_operations(document: dict[str, Any]) -> None:
    """Give every operation an ``operationId``: its own, or ``METHOD /path`` when it has none
    or shares it with another operation."""
    seen: set[str] = set()
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            given = operation.get("operationId")
            if not isinstance(given, str) or not given or given in seen:
                operation["operationId"] = f"{method.upper()} {path}"
            seen.add(operation["operationId"])


def _normalise_document(document: Any) -> None:
    """Every schema of an OpenAPI 3.0 document, wherever it sits, in 2020-12 form."""
    if not isinstance(document, dict):
        return
    components = document.get("components") or {}
    for schema in (components.get("schemas") or {}).values():
        normalise_schema(schema)
    for group in ("parameters", "headers"):
        for node in (components.get(group) or {}).values():
            _normalise_holder(node)
    for node in (components.get("responses") or {}).values():
        _normalise_response(node)
    for node in (components.get("requestBodies") or {}).values():
        _normalise_content(node)
    for item in (document.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        for parameter in item.get("parameters") or []:
            _normalise_holder(parameter)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters") or []:
                _normalise_holder(parameter)
            _normalise_content(operation.get("requestBody"))
            for response in (operation.get("responses") or {}).values():
                _normalise_response(response)


def _normalise_holder(node: Any) -> None:
    """A parameter or header: its ``schema``, or the schemas of its ``content``."""
    if isinstance(node, dict):
        normalise_schema(node.get("schema"))
        _normalise_content(node)


def _normalise_content(node: Any) -> None:
    if isinstance(node, dict):
        for media in (node.get("content") or {}).values():
            if isinstance(media, dict):
                normalise_schema(media.get("schema"))


def _normalise_response(node: Any) -> None:
    if isinstance(node, dict):
        _normalise_content(node)
        for header in (node.get("headers") or {}).values():
            _normalise_holder(header)


def normalise_schema(schema: Any) -> None:
    """An OpenAPI 3.0 (or Swagger 2.0) schema, changed in place to mean the same in 2020-12.

    Iterative, and each node visited once, so recursive and shared schemas are safe."""
    stack = [schema]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        _nullable(node)
        _exclusive(node, "exclusiveMinimum", "minimum")
        _exclusive(node, "exclusiveMaximum", "maximum")
        for key in _SCHEMA_MAPS:
            if isinstance(node.get(key), dict):
                stack.extend(node[key].values())
        for key in _SCHEMA_LISTS:
            if isinstance(node.get(key), list):
                stack.extend(node[key])
        for key in _SCHEMA_ONES:
            stack.append(node.get(key))


def _nullable(node: dict[str, Any]) -> None:
    nullable = node.pop("nullable", None)
    if node.pop("x-nullable", None) is True:
        nullable = True
    if nullable is not True:
        return
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        node["type"] = [*kind, "null"]
    elif kind is None:
        # ``$ref`` or ``allOf`` with ``nullable``: the value is that schema, or null.
        rest = {k: node.pop(k) for k in list(node) if not k.startswith("x-")}
        node["anyOf"] = [rest, {"type": "null"}]
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"].append(None)


def _exclusive(node: dict[str, Any], exclusive: str, bound: str) -> None:
    flag = node.get(exclusive)
    if not isinstance(flag, bool):
        return
    if flag and isinstance(node.get(bound), int | float):
        node[exclusive] = node.pop(bound)
    else:
        del node[exclusive]
