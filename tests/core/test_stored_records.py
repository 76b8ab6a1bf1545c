"""A stored record checked against its contract schema: every field the schema lists present
(``writeOnly`` aside), each of a type it allows, with the path of the first thing wrong."""

from __future__ import annotations

from typing import Any

import pytest
from trackmock.core.contracts import Contract
from trackmock.core.stored_records import RecordError, record_check

SCHEMAS: dict[str, Any] = {
    "Note": {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer"}, "text": {"type": ["string", "null"]}},
    },
    "Case": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "amount": {"type": "number"},
            "open": {"type": "boolean"},
            "password": {"type": "string", "writeOnly": True},
            "officers": {"type": "array", "items": {"type": "string"}},
            "notes": {
                "anyOf": [
                    {"type": "array", "items": {"$ref": "#/components/schemas/Note"}},
                    {"type": "null"},
                ]
            },
            "lead": {"oneOf": [{"$ref": "#/components/schemas/Note"}, {"type": "string"}]},
            "extra": {},
            "at": {"type": "string", "x-stored-as": {"type": "integer"}},
            "parent": {"anyOf": [{"$ref": "#/components/schemas/Case"}, {"type": "null"}]},
        },
    },
}
GOOD: dict[str, Any] = {
    "id": 1,
    "amount": 2,
    "open": False,
    "officers": ["Mike"],
    "notes": [{"id": 1, "text": None}],
    "lead": "Mike",
    "extra": [1, "a"],
    "at": 1740132304882,
    "parent": None,
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.from_dict(
        {"openapi": "3.1.0", "components": {"schemas": SCHEMAS}}, uri="file:///contract.yaml"
    )


def _problem(contract: Contract, change: dict[str, Any], drop: str = "") -> str:
    record = {**GOOD, **change}
    record.pop(drop, None)
    with pytest.raises(RecordError) as caught:
        record_check(contract, "Case").run(record)
    return str(caught.value)


def test_a_record_of_its_schema_passes(contract: Contract) -> None:
    check = record_check(contract, "Case")
    check.run(GOOD)
    check.run({**GOOD, "notes": None, "lead": {"id": 2, "text": "x"}, "unlisted": object()})
    check.run({**GOOD, "parent": {**GOOD, "parent": None}})
    assert record_check(contract, "Case") is check


@pytest.mark.parametrize(
    ("change", "drop", "problem"),
    [
        ({}, "officers", "missing field 'officers'"),
        ({}, "extra", "missing field 'extra'"),
        ({"id": "1"}, "", ".id: expected integer, found string"),
        ({"id": True}, "", ".id: expected integer, found boolean"),
        ({"id": 1.0}, "", ".id: expected integer, found number"),
        ({"amount": "2"}, "", ".amount: expected number, found string"),
        ({"officers": ["Mike", 3]}, "", ".officers[1]: expected string, found integer"),
        ({"notes": [{"id": 1, "text": None}, {"text": "x"}]}, "", ".notes[1]: missing field 'id'"),
        ({"notes": "none"}, "", ".notes: expected array or null, found string"),
        ({"lead": {"text": "x"}}, "", ".lead: missing field 'id'"),
        ({"at": "2025-02-21T10:00:00Z"}, "", ".at: expected integer, found string"),
        ({"parent": {**GOOD, "open": None}}, "", ".parent.open: expected boolean, found null"),
    ],
)
def test_the_first_thing_wrong_is_named_with_its_path(
    contract: Contract, change: dict[str, Any], drop: str, problem: str
) -> None:
    assert _problem(contract, change, drop) == problem


def test_a_write_only_field_is_not_stored(contract: Contract) -> None:
    record_check(contract, "Case").run({**GOOD, "password": None})
    assert "password" not in GOOD
