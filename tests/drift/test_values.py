"""The field-by-field check of one value against a schema (``drift.values``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from trackmock.core.contracts import Contract
from trackmock.drift.values import compile_check, path_text

from .support import contract

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "when": {"type": ["string", "null"], "format": "date-time"},
        "owner": {"anyOf": [{"$ref": "#/$defs/Owner"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/Owner"}},
        "attributes": {"type": "object"},
        "kind": {"const": "case"},
        "name": {"type": "string", "not": {"pattern": "secret"}},
    },
    "$defs": {
        "Owner": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "additionalProperties": False,
        }
    },
}


def issues(value: Any, schema: dict[str, Any] = SCHEMA) -> list[tuple[str, str, str, bool]]:
    found = Contract.from_dict(schema, uri="file:///schema.json")
    out: list[Any] = []
    compile_check(found, "file:///schema.json#").check(value, (), out)
    return [(i.kind, path_text(i.path), i.received, i.breaking) for i in out]


def test_a_value_as_documented_has_no_issue() -> None:
    value = {
        "id": 3,
        "status": "open",
        "when": "2025-02-21T10:00:00Z",
        "owner": None,
        "tags": [{"name": "a"}],
        "attributes": {"anything": [1, 2]},
        "kind": "case",
    }
    assert issues(value) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"extra": 1}, ("undocumented-field", "extra", "integer", False)),
        ({"id": "3"}, ("type-changed", "id", "string", True)),
        ({"id": None}, ("type-changed", "id", "null", True)),
        ({"id": 0}, ("constraint-violated", "id", "0", True)),
        ({"status": "review"}, ("enum-value-outside-contract", "status", '"review"', True)),
        ({"kind": "item"}, ("enum-value-outside-contract", "kind", '"item"', True)),
        ({"when": "21/02/2025"}, ("format-changed", "when", '"21/02/2025"', True)),
        ({"owner": {"name": "x", "age": 3}}, ("undocumented-field", "owner.age", "integer", True)),
        ({"tags": [{"name": 1}]}, ("type-changed", "tags[].name", "integer", True)),
        ({"name": "my secret"}, ("constraint-violated", "name", '"my secret"', True)),
    ],
)
def test_each_difference_is_one_issue(change: dict[str, Any], expected: tuple[Any, ...]) -> None:
    assert issues({"id": 1, "status": "open", **change}) == [expected]


def test_a_missing_required_field_is_breaking_and_an_integer_is_a_number() -> None:
    assert issues({"id": 1}) == [("missing-required-field", "status", "absent", True)]
    assert issues(2.0, {"type": "integer"}) == []
    assert issues(2, {"type": "number"}) == []
    assert issues(True, {"type": "integer"}) == [("type-changed", "(body)", "boolean", True)]


def test_fields_listed_by_allof_parts_or_refining_branches_are_known() -> None:
    schema = {
        "allOf": [{"properties": {"a": {"type": "integer"}}}],
        "properties": {"b": {"type": "integer"}},
        "anyOf": [
            {"properties": {"c": {"type": "string"}}, "required": ["c"]},
            {"required": ["b"]},
        ],
    }
    assert issues({"a": 1, "b": 2, "c": "x"}, schema) == []
    assert sorted(issues({"a": "1", "b": 2, "d": 4}, schema)) == [
        ("type-changed", "a", "string", True),
        ("undocumented-field", "d", "integer", False),
    ]


def test_a_field_the_contract_renamed_is_named_in_the_issue() -> None:
    schema = {"properties": {"new": {"type": "integer", "x-renamed-from": "old"}}}
    found = Contract.from_dict(schema, uri="file:///schema.json")
    out: list[Any] = []
    compile_check(found, "file:///schema.json#").check({"old": 1}, (), out)
    assert [(i.kind, i.documented) for i in out] == [("undocumented-field", "renamed to new")]


def test_free_form_objects_and_explicit_additional_properties_accept_any_field() -> None:
    assert issues({"x": 1}, {"type": "object"}) == []
    assert issues({"x": 1}, {"properties": {}, "additionalProperties": True}) == []
    assert issues({"x": "1"}, {"additionalProperties": {"type": "integer"}}) == [
        ("type-changed", "x", "string", True)
    ]


@pytest.mark.parametrize("vendor", ["tracker", "trackops", "track"])
def test_every_schema_example_of_the_contracts_passes(vendor: str) -> None:
    found = contract(vendor)
    folder = Path(found.uri.removeprefix("file://")).parent / "schemas"
    checked = 0
    for path in sorted(folder.glob("*.json")):
        location = path.as_uri() + "#"
        check = compile_check(found, location)
        for example in found.resolve(location).get("examples", []):
            out: list[Any] = []
            check.check(example, (), out)
            assert out == [], f"{path.name}: {out}"
            checked += 1
    assert checked
