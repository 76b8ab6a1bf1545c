"""Contract hygiene: valid documents, provenance on everything, valid examples, no schema
written twice, links that resolve, schema files that follow the conventions.

Each kind of failure has its own ``AssertionError`` subclass, and lists every case found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from trackmock.core.contracts import Contract, read_document

from . import asyncapi3
from .contract_walk import (
    ASYNCAPI_DOC,
    CONTROL_DOCS,
    OPENAPI_DOCS,
    ROOT,
    SCHEMA_FILES,
    VENDORS,
    Example,
    canonical,
    every_document,
    links,
    name,
    object_schemas,
    operation_examples,
    raw_operations,
    schema_examples,
)


class InvalidDocument(AssertionError):
    """A document breaks its specification (OpenAPI 3.1, AsyncAPI 3.0, JSON Schema 2020-12)."""


class MissingProvenance(AssertionError):
    """An operation or property says neither where it comes from nor that it is inferred."""


class InvalidExample(AssertionError):
    """An example in a contract does not validate against its own schema."""


class DuplicatedSchema(AssertionError):
    """The same schema is written in two places instead of one ``$ref``."""


class BrokenLink(AssertionError):
    """An OpenAPI link names an operation, parameter or field that is not there."""


class BrokenConvention(AssertionError):
    """A schema file breaks docs/contracts.md."""


def _fail(kind: type[AssertionError], problems: list[str]) -> None:
    if problems:
        raise kind(f"{len(problems)} found:\n" + "\n".join(f"- {p}" for p in problems))


@pytest.mark.parametrize("path", OPENAPI_DOCS, ids=[name(p) for p in OPENAPI_DOCS])
def test_every_openapi_document_passes_the_spec_validator(path: Path) -> None:
    document, uri = read_from_filename(str(path))
    validate(document, base_uri=uri)


def test_the_asyncapi_document_follows_asyncapi_3() -> None:
    contract = Contract.from_path(ASYNCAPI_DOC)
    problems = [
        f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: Received {e.instance!r:.80}"
        f" / Documented (AsyncAPI 3.0): {e.message}"
        for e in Draft202012Validator(asyncapi3.STRUCTURE).iter_errors(contract.document)
    ]
    problems += asyncapi3.reference_problems(contract)
    for message in contract.document["components"]["messages"]:
        location = contract.location("components", "messages", message, "payload")
        payload, _ = contract.deref(contract.resolve(location), location)
        problems += [
            f"message {message}: its payload is not a JSON Schema 2020-12: {e.message}"
            for e in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(payload)
        ]
    _fail(InvalidDocument, problems)


# -- provenance ------------------------------------------------------------------------------


def _walk_properties(node: Any, where: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for prop, sub in (node.get("properties") or {}).items():
            found.append((f"{where}.{prop}", sub))
            found += _walk_properties(sub, f"{where}.{prop}")
        for key in ("items", "additionalProperties", "not", "if", "then", "else"):
            if isinstance(node.get(key), dict):
                found += _walk_properties(node[key], f"{where}[{key}]")
        for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            for index, sub in enumerate(node.get(key) or []):
                found += _walk_properties(sub, f"{where}[{key}{index}]")
        for key in ("$defs", "definitions"):
            for sub_name, sub in (node.get(key) or {}).items():
                found += _walk_properties(sub, f"{where}.{key}.{sub_name}")
    return found


def _has_provenance(node: Any) -> bool:
    return isinstance(node, dict) and ("x-source" in node or node.get("x-inferred") is True)


def _unsourced_operations(contract: Contract) -> list[str]:
    return [
        f"{name(Path(contract.uri.removeprefix('file://')))} operation {op_id}"
        for op_id, _, raw in raw_operations(contract)
        if not _has_provenance(raw)
    ]


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_vendor_operation_and_property_names_its_source(vendor: str) -> None:
    path = ROOT / vendor / "openapi.yaml"
    contract = Contract.from_path(path)
    missing = _unsourced_operations(contract)
    for schema_name, schema in contract.document.get("components", {}).get("schemas", {}).items():
        missing += [
            f"{path.name}#{where}"
            for where, prop in _walk_properties(schema, schema_name)
            if not _has_provenance(prop)
        ]
    for file in sorted((ROOT / vendor / "schemas").glob("*.json")):
        missing += [
            f"{file.name}:{where}"
            for where, prop in _walk_properties(read_document(file), file.stem)
            if not _has_provenance(prop)
        ]
    _fail(MissingProvenance, missing)


@pytest.mark.parametrize("path", CONTROL_DOCS, ids=[name(p) for p in CONTROL_DOCS])
def test_every_control_operation_names_its_source(path: Path) -> None:
    """The control API is trackmock's own design: its document says so once
    (``info.x-source``), and that stands for the schemas it defines; each operation still
    names what it stands for (a vendor UI action names its seed)."""
    contract = Contract.from_path(path)
    missing = _unsourced_operations(contract)
    if "trackmock" not in str(contract.info.get("x-source", "")):
        missing.append(f"{name(path)}: info.x-source does not name trackmock as the source")
    _fail(MissingProvenance, missing)


def test_every_asyncapi_operation_and_message_names_its_source() -> None:
    document = read_document(ASYNCAPI_DOC)
    missing = [
        f"{kind} {key}"
        for kind, section in (
            ("operation", document.get("operations", {})),
            ("message", document.get("components", {}).get("messages", {})),
            ("channel", document.get("channels", {})),
        )
        for key, node in section.items()
        if not _has_provenance(node)
    ]
    _fail(MissingProvenance, missing)


# -- examples --------------------------------------------------------------------------------


def _invalid(contract: Contract, examples: list[Example]) -> list[str]:
    problems = []
    for example in examples:
        errors = list(contract.validator(example.schema).iter_errors(example.value))
        problems += [
            f"{example.where}: Received {example.value!r:.60} / Documented: {error.message}"
            for error in errors[:3]
        ]
    return problems


@pytest.mark.parametrize("path", OPENAPI_DOCS, ids=[name(p) for p in OPENAPI_DOCS])
def test_every_example_of_a_document_validates_against_its_own_schema(path: Path) -> None:
    contract = Contract.from_path(path)
    examples = list(operation_examples(contract))
    schemas = contract.document.get("components", {}).get("schemas", {})
    examples += schema_examples(contract.uri, schemas, "/components/schemas")
    _fail(InvalidExample, _invalid(contract, examples))


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_example_of_a_schema_file_validates_against_its_own_schema(vendor: str) -> None:
    contract = Contract.from_path(ROOT / vendor / "openapi.yaml")
    examples = [
        example
        for file in sorted((ROOT / vendor / "schemas").glob("*.json"))
        for example in schema_examples(file.as_uri(), read_document(file))
    ]
    assert examples, f"no examples in {vendor}/schemas: the walk found nothing to check"
    _fail(InvalidExample, _invalid(contract, examples))


def test_every_socket_message_example_validates_against_its_payload() -> None:
    contract = Contract.from_path(ASYNCAPI_DOC)
    examples = []
    for message, raw in contract.document["components"]["messages"].items():
        location = contract.location("components", "messages", message, "payload")
        for index, example in enumerate(raw.get("examples") or []):
            if "payload" in example:
                examples.append(Example(f"{message} example {index}", location, example["payload"]))
    assert len(examples) >= len(contract.document["components"]["messages"])
    _fail(InvalidExample, _invalid(contract, examples))


# -- one place per schema --------------------------------------------------------------------


def test_no_schema_is_written_twice_anywhere_in_the_contracts() -> None:
    """Object schemas with two or more properties, nested ones included, compared without
    their annotations across every document and schema file."""
    seen: dict[str, str] = {}
    duplicates = []
    for doc_name, document in every_document():
        for where, schema in object_schemas(document, doc_name):
            key = canonical(schema)
            if key in seen and not where.startswith(seen[key] + "/"):
                duplicates.append(f"{where} repeats {seen[key]}: $ref the one instead")
            seen.setdefault(key, where)
    _fail(DuplicatedSchema, duplicates)


# -- links -----------------------------------------------------------------------------------


def _has_field(contract: Contract, location: str, parts: list[str]) -> bool:
    """Whether the schema at ``location`` has a value at the JSON pointer ``parts``."""
    schema, location = contract.deref(contract.resolve(location), location)
    if not parts:
        return True
    if not isinstance(schema, dict):
        return False
    head, rest = parts[0], parts[1:]
    properties = schema.get("properties") or {}
    if head in properties:
        return _has_field(contract, f"{location}/properties/{head}", rest)
    if head.isdigit() and isinstance(schema.get("items"), dict):
        return _has_field(contract, f"{location}/items", rest)
    for key in ("allOf", "anyOf", "oneOf"):
        for index in range(len(schema.get(key) or [])):
            if _has_field(contract, f"{location}/{key}/{index}", parts):
                return True
    return False


def _expression_problem(contract: Contract, link: Any, expression: str) -> str | None:
    source = contract.operations[link.source]
    if expression.startswith("$response.body#/"):
        contents = source.response(int(link.status)) or {}
        schema = contents.get("application/json")
        parts = expression.removeprefix("$response.body#/").split("/")
        if schema is None or not _has_field(contract, schema, parts):
            return f"{expression} is not a field of the {link.status} response"
        return None
    if expression.startswith("$request."):
        where, _, param = expression.removeprefix("$request.").partition(".")
        if not any(p.location == where and p.name == param for p in source.parameters):
            return f"{expression} is not a {where} parameter of {link.source}"
        return None
    return f"{expression}: not an expression these checks know"


@pytest.mark.parametrize("path", OPENAPI_DOCS, ids=[name(p) for p in OPENAPI_DOCS])
def test_every_link_names_a_real_operation_parameter_and_field(path: Path) -> None:
    contract = Contract.from_path(path)
    problems = []
    for link in links(contract):
        label = f"{link.source} {link.status} --{link.name}-->"
        target = contract.operations.get(link.link.get("operationId", ""))
        if target is None:
            problems.append(
                f"{label} Received {link.link.get('operationId')!r} / Documented:"
                f" operations {sorted(contract.operations)}"
            )
            continue
        names = {p.name for p in target.parameters}
        for param, expression in (link.link.get("parameters") or {}).items():
            if param.split(".")[-1] not in names:
                problems.append(f"{label} {target.id}: {param} is not one of its parameters")
            found = _expression_problem(contract, link, str(expression))
            if found:
                problems.append(f"{label} {target.id}: {found}")
    _fail(BrokenLink, problems)


# -- schema files ----------------------------------------------------------------------------


def test_schema_files_follow_the_conventions() -> None:
    problems = []
    for path in SCHEMA_FILES:
        schema = read_document(path)
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append(f"{name(path)}: $schema is not 2020-12")
        if "$id" in schema:
            problems.append(f"{name(path)}: has an $id (files are known by their path)")
        if "title" not in schema:
            problems.append(f"{name(path)}: no title")
        problems += [
            f"{name(path)}: not a JSON Schema 2020-12: {e.message}"
            for e in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema)
        ]
    _fail(BrokenConvention, problems)
