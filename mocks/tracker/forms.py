"""Custom forms: which forms a ``formType`` lists, and form data checked against a form's schema.

A form's ``schema`` is a JSON string (SAFE Edit a Case): ``{"fields": [{type, name, displayName,
options?}, ...]}``. Form data's ``data`` is a JSON string keyed by those field names, and a
field with ``options`` (select lists, radio buttons) takes one of their ``value``s (TR-21).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from ..core.store import Record
from .errors import invalid_fields

if TYPE_CHECKING:
    from ..core.contracts import Contract
    from .settings import TrackerSettings
    from .store import Organization

CASE_FORMS = 4
"""``modelTypeId`` of case forms (SAFE Edit a Case); the others are inferred (contract,
Form.json)."""
PEOPLE_FORMS = 2
FORM_TYPES: dict[str, int | None] = {
    "All": None,
    "Cases": CASE_FORMS,
    "Items": 1,
    "People": PEOPLE_FORMS,
}
"""``formType`` query value → the ``modelTypeId`` it lists (None: every form)."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@lru_cache(maxsize=1024)
def form_fields(schema: str) -> dict[str, dict[str, Any]]:
    """The fields of a form's schema string, by name (parsed once per schema)."""
    try:
        parsed = orjson.loads(schema)
    except orjson.JSONDecodeError:
        return {}
    fields = parsed.get("fields") if isinstance(parsed, dict) else None
    return {
        field["name"]: field
        for field in fields or []
        if isinstance(field, dict) and isinstance(field.get("name"), str)
    }


def check_form_data(form: Record, data: str) -> list[str]:
    """What is wrong with ``data`` for ``form`` (empty when it fits the form's schema)."""
    try:
        values = orjson.loads(data)
    except orjson.JSONDecodeError:
        values = None
    if not isinstance(values, dict):
        return [
            "data must be a JSON string of an object keyed by the form's field names, "
            'e.g. "{\\"field8538\\":\\"2\\"}".'
        ]
    fields = form_fields(form["schema"])
    problems = []
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            problems.append(
                f"{name} is not a field of form {form['id']} ({form['name']}); its fields are "
                f"{', '.join(fields) or 'none'}."
            )
            continue
        problem = _check_value(field, value)
        if problem:
            problems.append(f"{name} ({field.get('displayName', name)}): {problem}")
    return problems


def _check_value(field: dict[str, Any], value: Any) -> str | None:
    if isinstance(value, dict | list):
        return "takes a single value, not an object or a list."
    options = field.get("options")
    if isinstance(options, list):
        allowed = [str(o.get("value")) for o in options if isinstance(o, dict)]
        if value is not None and str(value) not in allowed:
            listed = ", ".join(repr(v) for v in allowed)
            return f"{value!r} is not one of its options' values ({listed})."
    elif field.get("type") == "email" and value and not _EMAIL.fullmatch(str(value)):
        return f"{value!r} is not an e-mail address."
    return None


@dataclass
class FormData:
    """Form data entries of cases, persons and users: checked, then stored."""

    contract: Contract
    settings: TrackerSettings

    def check(
        self,
        org: Organization,
        entries: list[Record],
        model_type: int,
        where: str,
        entity_id: int | None,
    ) -> list[tuple[Record, Record]]:
        """Each entry with its form (of ``model_type``); raises with every problem found."""
        kind = next(name for name, model in FORM_TYPES.items() if model == model_type)
        problems: dict[str, list[str]] = {}
        checked: list[tuple[Record, Record]] = []
        seen: set[int] = set()
        for i, entry in enumerate(entries):
            place = f"{where}[{i}]"
            form = org.forms.get(entry["formId"])
            if form is None or form["modelTypeId"] != model_type:
                problems[f"{place}.formId"] = [
                    f"Form {entry['formId']} is not a {kind} form of organization {org.id}; "
                    f"GET /api/forms?formType={kind} lists them."
                ]
                continue
            if form["id"] in seen:
                problems[f"{place}.formId"] = [
                    f"Form {form['id']} appears twice; send one entry per form."
                ]
            seen.add(form["id"])
            entity = entry.get("entityId")
            if entity_id is not None and entity not in (
                None,
                "",
                0,
                "0",
                entity_id,
                str(entity_id),
            ):
                problems[f"{place}.entityId"] = [f"entityId must be {entity_id}."]
            if self.settings.form_data_check:
                found = check_form_data(form, entry["data"])
                if found:
                    problems[f"{place}.data"] = found
            checked.append((form, entry))
        if problems:
            raise invalid_fields(problems)
        return checked

    def store(
        self,
        org: Organization,
        office_id: int | None,
        entity_id: int,
        entries: list[tuple[Record, Record]],
        stored: list[Record],
    ) -> list[Record]:
        """The entries as stored: the server's id (kept when already ``stored``), owner, form
        name."""
        known = {e["id"] for e in stored}
        out = []
        for form, entry in entries:
            entry_id = entry.get("id")
            if entry_id not in known:
                entry_id = f"{org.sequences.next('formData'):024x}"
            values = {
                **entry,
                "id": entry_id,
                "formName": form["name"],
                "entityId": entity_id,
                "organizationId": org.id,
                "officeId": office_id,
                "active": entry.get("active", True),
            }
            out.append(self.contract.build("schemas/FormDataEntry.json", values))
        return out
