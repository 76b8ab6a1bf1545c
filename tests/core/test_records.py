"""Records shaped by schemas: defaults, nulls, renames, write-only fields, added fields."""

from __future__ import annotations

import copy
from typing import Any

from trackmock.core.contracts import Contract

from .sample.provider import CONTRACT


def _contract(widget_properties: dict[str, Any] | None = None) -> Contract:
    base = Contract.from_path(CONTRACT)
    if widget_properties is None:
        return base
    resources = copy.deepcopy(base.resources)
    widget_uri = base.schema_uri("schemas/Widget.json").rstrip("#")
    resources[widget_uri]["properties"].update(widget_properties)
    document = resources.pop(base.uri)
    return Contract.from_dict(document, uri=base.uri, resources=resources)


def test_missing_fields_take_defaults_nulls_and_zeros_in_schema_order() -> None:
    record = _contract().build("schemas/Widget.json", {"name": "alpha", "id": 7})
    assert list(record) == ["id", "name", "color", "tags", "owner", "size", "attributes"]
    assert record == {
        "id": 7,
        "name": "alpha",
        "color": "blue",
        "tags": [],
        "owner": None,
        "size": None,
        "attributes": {},
    }


def test_write_only_and_unlisted_fields_never_appear() -> None:
    record = _contract().build(
        "schemas/Widget.json", {"id": 1, "name": "a", "secret": "x", "junk": 1}
    )
    assert "secret" not in record
    assert "junk" not in record


def test_free_form_objects_keep_what_they_hold_and_nested_records_are_shaped() -> None:
    record = _contract().build(
        "schemas/Widget.json",
        {
            "id": 1,
            "name": "a",
            "attributes": {"floor": "2"},
            "owner": {"name": "x", "extra": 1, "manager": {"name": "y"}},
        },
    )
    assert record["attributes"] == {"floor": "2"}
    assert record["owner"] == {"name": "x", "manager": {"name": "y", "manager": None}}


def test_a_field_added_to_a_schema_appears_with_no_code_change() -> None:
    contract = _contract(
        {"weight": {"type": "number", "default": 1.5}, "label": {"type": "string"}}
    )
    record = contract.build("schemas/Widget.json", {"id": 1, "name": "a"})
    assert record["weight"] == 1.5
    assert record["label"] == ""


def test_a_renamed_field_takes_the_stored_value_of_its_old_name() -> None:
    contract = _contract({"title": {"type": "string", "x-renamed-from": "name"}})
    record = contract.build("schemas/Widget.json", {"id": 1, "name": "alpha"})
    assert record["title"] == "alpha"


def test_defaults_are_copies_not_shared() -> None:
    contract = _contract({"labels": {"type": "array", "default": ["x"]}})
    first = contract.build("schemas/Widget.json", {"id": 1, "name": "a"})
    first["labels"].append("y")
    second = contract.build("schemas/Widget.json", {"id": 2, "name": "b"})
    assert second["labels"] == ["x"]
