"""Cases: create, whole-object update, and the checks both share ("API - Edit a Case").

A case write is checked completely before anything changes: the v99 ``caseOfficerId``
(TR-17), officers, offense type, number, tags (TR-22), form data against the form's schema
(TR-21), then auto disposition (TR-23). Counters are derived from state (TR-27):
``historiesAmount`` is the length of the case's history, which grows by one entry per
changed field, recorded as done by 'API User' (TR-14).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..core.clock import Clock, isoformat
from ..core.errors import JSON
from ..core.store import Record
from .errors import (
    auto_disposition_missing,
    conflict,
    invalid,
    invalid_fields,
    not_found,
)
from .forms import CASE_FORMS

if TYPE_CHECKING:
    from ..core.contracts import Contract, Operation
    from .forms import FormData
    from .rules import Principal
    from .settings import TrackerSettings
    from .store import Organization, TrackerStore


def case_view(record: Record) -> Record:
    """A stored case as GET answers it: ``formData`` null while there is none (TR-19)."""
    return {**record, "formData": record["formData"] or None}


def renamed_fields(operation: Operation) -> dict[str, str]:
    """Old name → new name of the body's fields (``x-renamed-from``), from the contract."""
    memo = operation.contract.memo
    key = ("tracker-renamed", operation.id)
    if key not in memo:
        found: dict[str, str] = {}
        uri = operation.body.get(JSON)
        if uri:
            contract = operation.contract
            schema, location = contract.deref(contract.resolve(uri), uri)
            for name, node in (schema.get("properties") or {}).items():
                target, _ = contract.deref(node, f"{location}/properties/{name}")
                if isinstance(target, dict) and target.get("x-renamed-from"):
                    found[target["x-renamed-from"]] = name
        memo[key] = found
    return memo[key]  # type: ignore[no-any-return]


@dataclass
class Cases:
    """The case rules of one Tracker emulator.

    Args:
        strict: strict mode (the v99 ``caseOfficerId`` is refused only then).
        offense_types: the OffenseType records by id.
    """

    contract: Contract
    store: TrackerStore
    settings: TrackerSettings
    clock: Clock
    strict: bool
    form_data: FormData
    offense_types: dict[int, Record]

    @cached_property
    def writable(self) -> tuple[str, ...]:
        """Fields a PUT replaces: CaseUpdate's properties not marked ``readOnly`` (but ``id``)."""
        schema = self.contract.resolve(self.contract.schema_uri("schemas/CaseUpdate.json"))
        return tuple(
            name
            for name, node in schema["properties"].items()
            if name != "id" and not node.get("readOnly")
        )

    @cached_property
    def _empty(self) -> Record:
        return self.contract.build("schemas/Case.json", {})

    # -- reading -------------------------------------------------------------------------------

    def find(self, principal: Principal, case_id: int) -> Record:
        record = principal.org.cases.get(case_id)
        if record is None or not self._in_office(principal, record):
            raise not_found(f"Case {case_id} was not found.")
        return record

    def find_by_number(self, principal: Principal, number: str) -> Record:
        case_id = principal.org.case_numbers.get(number)
        record = None if case_id is None else principal.org.cases.get(case_id)
        if record is None or not self._in_office(principal, record):
            raise not_found(f"No case with number {number} was found.")
        return record

    def _in_office(self, principal: Principal, record: Record) -> bool:
        return not self.settings.office_scope or record["officeId"] == principal.office_id

    def visible(self, principal: Principal) -> list[Record]:
        return [r for r in principal.org.cases if self._in_office(principal, r)]

    # -- writing -------------------------------------------------------------------------------

    def create(self, principal: Principal, body: Record) -> Record:
        org = principal.org
        number = body["caseNumber"]
        if number in org.case_numbers:
            raise conflict(f"Case number {number} already exists.")
        officers = self._officers(org, body["caseOfficerIds"])
        offense = self._offense_type(org, body["offenseTypeId"])
        tags = self._tags(org, body["tags"])
        entries = self._form_entries(org, body["formData"], None)
        self._auto_disposition(org, body["offenseTypeId"])
        now = isoformat(self.clock.now())
        case_id = self.store.sequences.next("case")
        office = org.offices[principal.office_id]
        values = {
            **body,
            "id": case_id,
            "caseOfficers": officers,
            "offenseType": offense,
            "offenseDate": body.get("offenseDate") or now,
            "officeId": office["id"],
            "officeName": office["name"],
            "creatorId": principal.user_id,
            "creator": self.settings.api_user_name,
            "createdDate": now,
            "organizationId": org.id,
            "organizationName": org.record["name"],
            "rootMediaFolderId": self.store.sequences.next("mediaFolder"),
            "formData": self.form_data.store(org, principal.office_id, case_id, entries, []),
            "tags": tags,
        }
        record = self.contract.build("schemas/Case.json", values)
        self.record_history(principal, case_id, "Case created")
        self._count_tags(org, [], tags)
        self._save(org, record)
        return case_view(record)

    def update(self, principal: Principal, case_id: int, body: Record) -> None:
        if body["id"] != case_id:
            raise invalid(
                "case.id", f"The body's id ({body['id']}) is not the id in the URL ({case_id})."
            )
        org = principal.org
        stored = self.find(principal, case_id)
        number = body["caseNumber"]
        if number != stored["caseNumber"] and number in org.case_numbers:
            raise conflict(f"Case number {number} already exists.")
        officers = self._officers(org, body["caseOfficerIds"])
        offense = self._offense_type(org, body["offenseTypeId"])
        tags = self._tags(org, body["tags"])
        entries = self._form_entries(org, body["formData"], case_id)
        self._auto_disposition(org, body["offenseTypeId"])
        new = dict(stored)
        for name in self.writable:
            new[name] = body[name] if name in body else self._empty[name]
        new.update(
            caseOfficers=officers,
            offenseType=offense,
            tags=tags,
            formData=self.form_data.store(
                org, stored["officeId"], case_id, entries, stored["formData"]
            ),
        )
        record = self.contract.build("schemas/Case.json", new)
        for name in self.writable:
            if record[name] != stored[name]:
                self.record_history(principal, case_id, f"{name} changed")
        self._count_tags(org, stored["tags"], tags)
        if number != stored["caseNumber"]:
            del org.case_numbers[stored["caseNumber"]]
        self._save(org, record)

    def record_history(self, principal: Principal, case_id: int, change: str) -> None:
        """One history entry, by 'API User' (TR-14); ``historiesAmount`` counts them."""
        principal.org.case_history.setdefault(case_id, []).append(
            {
                "timeStamp": isoformat(self.clock.now()),
                "userId": principal.user_id,
                "userName": self.settings.api_user_name,
                "change": change,
            }
        )

    def refresh(self, org: Organization, case_id: int, **changes: Any) -> None:
        """Store the case again with ``changes`` and recomputed counters."""
        self._save(org, {**org.cases.get(case_id), **changes})  # type: ignore[dict-item]

    def _save(self, org: Organization, record: Record) -> None:
        case_id = record["id"]
        record["formDataAmount"] = len(record["formData"] or [])
        record["tagsAmount"] = len(record["tags"])
        record["peopleAmount"] = len(org.case_people.get(case_id, ()))
        record["historiesAmount"] = len(org.case_history.get(case_id, ()))
        record["mediaAmount"] = len(record["media"] or [])
        record["notesAmount"] = len(record["notes"] or [])
        record["permissionAmount"] = len(record["permissions"] or [])
        org.cases.put(case_id, record)
        org.case_numbers[record["caseNumber"]] = case_id
        self.store.case_org[case_id] = org.id

    # -- checks ----------------------------------------------------------------------------------

    def check_renamed_fields(self, body: Any, names: dict[str, str]) -> None:
        """Refuse a body that uses a field's pre-v100 name, in strict mode (TR-17)."""
        problems = self.renamed_field_problems(body, names, "case")
        if problems:
            raise invalid_fields(problems)

    def renamed_field_problems(
        self, body: Any, names: dict[str, str], prefix: str
    ) -> dict[str, list[str]]:
        if not (self.strict and self.settings.refuse_v99_fields):
            return {}
        if not isinstance(body, dict):
            return {}
        return {
            f"{prefix}.{old}": [f"{old} was replaced in v100 by {new}, an array of user ids."]
            for old, new in names.items()
            if old in body
        }

    def _officers(self, org: Organization, officer_ids: list[int]) -> list[str]:
        names = []
        for i, user_id in enumerate(officer_ids):
            name = org.user_name(user_id)
            if name is None:
                raise invalid(
                    f"case.caseOfficerIds[{i}]",
                    f"User {user_id} is not a user of organization {org.id}.",
                )
            names.append(name)
        return names

    def _offense_type(self, org: Organization, offense_type_id: int) -> str:
        offense = self.offense_types.get(offense_type_id)
        if offense is None or offense_type_id not in org.record["offenseTypeIds"]:
            raise invalid(
                "case.offenseTypeId",
                f"Offense type {offense_type_id} is not an offense type of organization "
                f"{org.id}; GET /api/offensetypes?belongToOrganization=true lists them.",
            )
        return str(offense["name"])

    def _tags(self, org: Organization, refs: list[Record]) -> list[Record]:
        tags: list[Record] = []
        problems: dict[str, list[str]] = {}
        for i, ref in enumerate(refs):
            tag = org.tags.get(ref["tagModelId"])
            if tag is None or not tag["active"]:
                problems[f"case.tags[{i}].tagModelId"] = [
                    f"Tag {ref['tagModelId']} is not a tag of organization {org.id}; "
                    "GET /api/tags lists them."
                ]
            elif all(t["tagModelId"] != tag["id"] for t in tags):
                tags.append(
                    self.contract.build(
                        "schemas/TagRef.json", {"tagModelId": tag["id"], "name": tag["name"]}
                    )
                )
        if problems:
            raise invalid_fields(problems)
        return tags

    def _count_tags(self, org: Organization, before: list[Record], after: list[Record]) -> None:
        """Keep each tag's ``casesCount`` in step with the cases that carry it (TR-22)."""
        old = {t["tagModelId"] for t in before}
        new = {t["tagModelId"] for t in after}
        for tag_id, delta in [(t, -1) for t in old - new] + [(t, 1) for t in new - old]:
            tag = org.tags.get(tag_id)
            if tag is not None:
                org.tags.put(tag_id, {**tag, "casesCount": max(0, tag["casesCount"] + delta)})

    def _form_entries(
        self, org: Organization, entries: list[Record], case_id: int | None
    ) -> list[tuple[Record, Record]]:
        return self.form_data.check(org, entries, CASE_FORMS, "case.formData", case_id)

    def _auto_disposition(self, org: Organization, offense_type_id: int) -> None:
        """The vendor document's ``autoDispoErrors`` while settings are missing (TR-23)."""
        if not org.auto_disposition["isAutoDispositionOn"]:
            return
        if self.settings.auto_disposition_scope == "organization":
            missing = any(t not in org.settings for t in org.record["offenseTypeIds"])
        else:
            missing = offense_type_id not in org.settings
        if missing:
            raise auto_disposition_missing()
