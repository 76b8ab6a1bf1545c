"""Walks over the contracts for the hygiene tests: operations, examples, object schemas, links.

Each walker yields plain facts (where, what); the tests decide what is wrong with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trackmock.core.contracts import Contract, pointer_escape, read_document
from trackmock.core.paths import contracts_dir

ROOT = contracts_dir()
VENDORS = ("tracker", "trackops", "track")
OPENAPI_DOCS = sorted(
    [ROOT / v / "openapi.yaml" for v in VENDORS]
    + [ROOT / v / "admin.yaml" for v in VENDORS]
    + [ROOT / "admin" / "openapi.yaml"]
)
CONTROL_DOCS = [
    doc for doc in OPENAPI_DOCS if doc.name == "admin.yaml" or doc.parent.name == "admin"
]
ASYNCAPI_DOC = ROOT / "track" / "asyncapi.yaml"
SCHEMA_FILES = sorted(ROOT.glob("*/schemas/*.json"))
ANNOTATIONS = {"title", "description", "examples", "example", "default", "$schema", "$comment"}


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@dataclass(frozen=True)
class Example:
    """A value a contract shows, and the schema it must satisfy."""

    where: str
    schema: str
    """Absolute location of the schema."""
    value: Any


def raw_operations(contract: Contract) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(operationId, location, raw operation object) of every operation."""
    for operation in contract.operations.values():
        location = contract.location("paths", operation.path, operation.method.lower())
        yield operation.id, location, contract.resolve(location)


def operation_examples(contract: Contract) -> Iterator[Example]:
    """Examples of parameters, request bodies and responses, with their schemas."""
    for op_id, location, raw in raw_operations(contract):
        path_item = location.rsplit("/", 1)[0]
        params = [
            (f"{path_item}/parameters/{i}", p)
            for i, p in enumerate(contract.resolve(path_item).get("parameters") or [])
        ] + [(f"{location}/parameters/{i}", p) for i, p in enumerate(raw.get("parameters") or [])]
        for where, param in params:
            resolved, at = contract.deref(param, where)
            yield from _examples(contract, f"{op_id} parameter {resolved['name']}", resolved, at)
        if "requestBody" in raw:
            body, at = contract.deref(raw["requestBody"], f"{location}/requestBody")
            yield from _content_examples(contract, f"{op_id} request", body, at)
        for status, response in (raw.get("responses") or {}).items():
            resolved, at = contract.deref(response, f"{location}/responses/{status}")
            yield from _content_examples(contract, f"{op_id} {status}", resolved, at)


def _content_examples(
    contract: Contract, label: str, holder: dict[str, Any], location: str
) -> Iterator[Example]:
    for media, content in (holder.get("content") or {}).items():
        if isinstance(content, dict):
            at = f"{location}/content/{pointer_escape(media)}"
            yield from _examples(contract, f"{label} {media}", content, at)


def _examples(contract: Contract, label: str, holder: dict[str, Any], at: str) -> Iterator[Example]:
    """The ``example`` and ``examples`` of a parameter or media object with a ``schema``."""
    if "schema" not in holder:
        return
    if "example" in holder:
        yield Example(label, f"{at}/schema", holder["example"])
    for key, item in (holder.get("examples") or {}).items():
        value, _ = contract.deref(item, f"{at}/examples/{pointer_escape(key)}")
        if isinstance(value, dict) and "value" in value:
            yield Example(f"{label} example {key}", f"{at}/schema", value["value"])


def schema_examples(uri: str, node: Any, pointer: str = "") -> Iterator[Example]:
    """``examples`` lists on every schema inside ``node`` (a schema file or a components
    section), each with the location of the schema that carries it."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):
            for index, value in enumerate(node["examples"]):
                where = f"{Path(uri).name}#{pointer or '/'} example {index}"
                yield Example(where, f"{uri}#{pointer}", value)
        for key, value in node.items():
            if key not in ("examples", "example", "default", "const", "enum"):
                yield from schema_examples(uri, value, f"{pointer}/{pointer_escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schema_examples(uri, value, f"{pointer}/{index}")


def object_schemas(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema with two or more properties inside ``node``."""
    if isinstance(node, dict):
        if node.get("type") == "object" and len(node.get("properties") or {}) >= 2:
            yield where, node
        for key, value in node.items():
            if key not in ANNOTATIONS:
                yield from object_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from object_schemas(value, f"{where}/{index}")


def canonical(schema: Any) -> str:
    """A schema without its annotations and provenance, as comparable text."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in node.items()
                if k not in ANNOTATIONS and not k.startswith("x-")
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(schema), sort_keys=True)


def every_document() -> Iterator[tuple[str, Any]]:
    """Every contract file (documents and schema files) by its name, parsed."""
    for path in [*OPENAPI_DOCS, ASYNCAPI_DOC, *SCHEMA_FILES]:
        yield name(path), read_document(path)


@dataclass(frozen=True)
class Link:
    source: str
    status: str
    name: str
    location: str
    link: dict[str, Any]


def links(contract: Contract) -> Iterator[Link]:
    """Every OpenAPI link of every response of ``contract``, resolved."""
    for op_id, location, raw in raw_operations(contract):
        for status, response in (raw.get("responses") or {}).items():
            resolved, at = contract.deref(response, f"{location}/responses/{status}")
            for link_name, link in (resolved.get("links") or {}).items():
                value, link_at = contract.deref(link, f"{at}/links/{pointer_escape(link_name)}")
                yield Link(op_id, status, link_name, link_at, value)
