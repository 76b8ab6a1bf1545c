"""Contract hygiene: valid documents, provenance on everything, valid examples, no duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from trackmock.core.contracts import Contract, read_document
from trackmock.core.paths import contracts_dir

VENDORS = ("tracker", "trackops", "track")
ROOT = contracts_dir()
OPENAPI_DOCS = sorted(
    [ROOT / v / "openapi.yaml" for v in VENDORS]
    + [ROOT / v / "admin.yaml" for v in VENDORS if (ROOT / v / "admin.yaml").exists()]
    + [ROOT / "admin" / "openapi.yaml"]
)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", OPENAPI_DOCS, ids=_ids(OPENAPI_DOCS))
def test_every_openapi_document_passes_the_spec_validator(path: Path) -> None:
    document, uri = read_from_filename(str(path))
    validate(document, base_uri=uri)


def test_the_asyncapi_document_is_well_formed() -> None:
    contract = Contract.from_path(ROOT / "track" / "asyncapi.yaml")
    document = contract.document
    assert str(document["asyncapi"]).startswith("3."), "Track's socket is described in AsyncAPI 3"
    channels, operations, messages = (
        document["channels"],
        document["operations"],
        document["components"]["messages"],
    )
    assert channels, "no channels"
    assert operations, "no operations"
    assert messages, "no messages"
    for name, operation in operations.items():
        assert operation["action"] in ("send", "receive"), name
        channel, _ = contract.deref(
            operation["channel"], contract.location("operations", name, "channel")
        )
        assert "address" in channel, f"operation {name} points at a channel without an address"
        for index, message in enumerate(operation.get("messages", [])):
            contract.deref(message, contract.location("operations", name, "messages", index))
    for name, message in messages.items():
        resolved, location = contract.deref(
            message, contract.location("components", "messages", name)
        )
        payload, _ = contract.deref(resolved["payload"], location + "/payload")
        Draft202012Validator.check_schema(payload)


def _schema_files(vendor: str) -> list[Path]:
    return sorted((ROOT / vendor / "schemas").glob("*.json"))


def _walk_properties(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}.{name}", sub
            yield from _walk_properties(sub, f"{where}.{name}")
        for key in ("items", "additionalProperties", "not", "if", "then", "else"):
            if isinstance(node.get(key), dict):
                yield from _walk_properties(node[key], f"{where}[{key}]")
        for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            for index, sub in enumerate(node.get(key) or []):
                yield from _walk_properties(sub, f"{where}[{key}{index}]")
        for key in ("$defs", "definitions"):
            for name, sub in (node.get(key) or {}).items():
                yield from _walk_properties(sub, f"{where}.{key}.{name}")


def _has_provenance(node: Any) -> bool:
    return isinstance(node, dict) and ("x-source" in node or node.get("x-inferred") is True)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_operation_and_property_names_its_source(vendor: str) -> None:
    missing = []
    for path in [ROOT / vendor / "openapi.yaml"]:
        contract = Contract.from_path(path)
        for operation in contract.operations.values():
            raw = contract.resolve(
                contract.location("paths", operation.path, operation.method.lower())
            )
            if not _has_provenance(raw):
                missing.append(f"operation {operation.id}")
        schemas = contract.document.get("components", {}).get("schemas", {})
        for name, schema in schemas.items():
            missing += [
                f"{path.name}#{where}"
                for where, prop in _walk_properties(schema, name)
                if not _has_provenance(prop)
            ]
    for path in _schema_files(vendor):
        schema = read_document(path)
        missing += [
            f"{path.name}:{where}"
            for where, prop in _walk_properties(schema, path.stem)
            if not _has_provenance(prop)
        ]
    assert not missing, "no x-source / x-inferred on:\n" + "\n".join(missing)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_example_validates_against_its_own_schema(vendor: str) -> None:
    contract = Contract.from_path(ROOT / vendor / "openapi.yaml")
    failures = []
    for uri in sorted(contract.resources):
        document = contract.resources[uri]
        if not uri.endswith(".json"):
            continue
        for index, example in enumerate(document.get("examples", [])):
            errors = list(contract.validator(uri + "#").iter_errors(example))
            failures += [f"{Path(uri).name} example {index}: {e.message}" for e in errors[:3]]
    for operation in contract.operations.values():
        base = contract.location("paths", operation.path, operation.method.lower())
        raw = contract.resolve(base)
        for status, response in (raw.get("responses") or {}).items():
            resolved, location = contract.deref(response, f"{base}/responses/{status}")
            for media, content in (resolved.get("content") or {}).items():
                if not isinstance(content, dict) or "schema" not in content:
                    continue
                escaped = media.replace("~", "~0").replace("/", "~1")
                schema_uri = f"{location}/content/{escaped}/schema"
                examples = [content["example"]] if "example" in content else []
                for item in (content.get("examples") or {}).values():
                    value, _ = contract.deref(item, schema_uri)
                    if isinstance(value, dict) and "value" in value:
                        examples.append(value["value"])
                for example in examples:
                    errors = list(contract.validator(schema_uri).iter_errors(example))
                    failures += [
                        f"{operation.id} {status} {media}: {e.message}" for e in errors[:3]
                    ]
    assert not failures, "\n".join(failures)


def _canonical(schema: Any) -> str:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in node.items()
                if k not in ("title", "description", "examples", "$schema")
                and not k.startswith("x-")
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(schema), sort_keys=True)


def test_no_schema_is_written_twice_across_files() -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for vendor in VENDORS:
        for path in _schema_files(vendor):
            schema = read_document(path)
            if schema.get("type") != "object" or len(schema.get("properties") or {}) < 2:
                continue
            key = _canonical(schema)
            name = str(path.relative_to(ROOT))
            if key in seen:
                duplicates.append(f"{name} repeats {seen[key]}")
            else:
                seen[key] = name
    assert not duplicates, "\n".join(duplicates)


@pytest.mark.parametrize("vendor", VENDORS)
def test_schema_files_follow_the_conventions(vendor: str) -> None:
    problems = []
    for path in _schema_files(vendor):
        schema = read_document(path)
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append(f"{path.name}: $schema is not 2020-12")
        if "$id" in schema:
            problems.append(f"{path.name}: has an $id (files are known by their path)")
        if "title" not in schema:
            problems.append(f"{path.name}: no title")
        Draft202012Validator.check_schema(schema)
    assert not problems, "\n".join(problems)
