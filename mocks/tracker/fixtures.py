"""The starting state: the documents' records from ``fixtures/tracker/``, and generated volume.

Fixture files are read once per emulator; every reset loads fresh copies, each passed
through its schema (so a field added to a schema appears in every record).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from trackmock.core.store import Record

from .store import Account

if TYPE_CHECKING:
    from .provider import TrackerProvider
    from .store import Organization

SEED_ORGANIZATION = 1
"""The seed's organization: the auto-disposition group files are its lists."""
ACCESS_TYPE_FILES = {
    1: "autoDispositionGroupsList",
    3: "autoDispositionGroupsUpdate",
    4: "autoDispositionGroupsCreate",
}
LOOKUP_PATHS = {
    "races": "races",
    "genders": "genders",
    "personTypes": "personTypes",
    "addressTypes": "addresstypes",
    "states": "states",
}
"""Lookup fixture → its path under ``/api/``."""
SEQUENCE_STARTS = {"person": 3100001, "address": 9100001, "casePerson": 1}
"""Where ids start for records the fixtures have none of (designed)."""


class FixtureFiles:
    """The JSON files of ``fixtures/tracker``, read once; ``records`` gives fresh copies."""

    def __init__(self, folder: Path) -> None:
        self._raw = {path.stem: path.read_bytes() for path in sorted(folder.glob("*.json"))}

    def records(self, name: str) -> list[Record]:
        return orjson.loads(self._raw[name])  # type: ignore[no-any-return]


class Lookups:
    """The read-only lists (races, genders, person and address types, states)."""

    def __init__(self, files: FixtureFiles) -> None:
        self.lists = {name: files.records(name) for name in LOOKUP_PATHS}
        self._names = {
            name: {r["id"]: r["name"] for r in records} for name, records in self.lists.items()
        }

    def ids(self, name: str) -> Any:
        return self._names[name].keys()

    def name(self, name: str, record_id: int) -> str | None:
        return self._names[name].get(record_id)

    def path(self, name: str) -> str:
        return LOOKUP_PATHS[name]


def load_fixtures(provider: TrackerProvider) -> None:
    """Fill the (just reset) store from the fixture files and the settings."""
    files, store, build = provider.files, provider.store, provider.contract.build
    settings = provider.settings
    for given in files.records("organizations"):
        org = store.tenant(given["id"])
        record = build("schemas/Organization.json", given)
        if settings.license_count is not None:
            record["licenseCount"] = settings.license_count
        auto = record["autoDisposition"]
        if settings.auto_disposition is not None:
            auto["isAutoDispositionOn"] = settings.auto_disposition
        # A row with id 0 is the GET's placeholder for an offense type without settings.
        org.settings = {s["offenseTypeId"]: s for s in auto.pop("settings") if s["id"]}
        auto["settings"] = []
        org.record = record
        for setting in org.settings.values():
            store.sequences.skip_past("setting", setting["id"])

    def owner(record: Record) -> Organization:
        return store.tenant(record["organizationId"])

    for office in files.records("offices"):
        owner(office).offices[office["id"]] = build("schemas/Office.json", office)
    for user in files.records("users"):
        owner(user).users.put(user["id"], build("schemas/User.json", user))
        store.emails[user["email"].lower()] = user["id"]
        store.sequences.skip_past("user", user["id"])
    for token in files.records("tokens"):
        store.accounts[token["token"]] = Account(build("schemas/StaticToken.json", token))
    for group in files.records("groups"):
        owner(group).groups.append(build("schemas/Group.json", group))
    for form in files.records("forms"):
        owner(form).forms[form["id"]] = build("schemas/Form.json", form)
    for tag in files.records("tags"):
        owner(tag).tags.put(tag["id"], build("schemas/Tag.json", tag))
    for org in store.tenants():
        _access_groups(provider, org)
    _load_cases_and_items(provider)
    if settings.volume:
        from .volume import load_volume

        load_volume(provider, settings.volume)


def _access_groups(provider: TrackerProvider, org: Organization) -> None:
    """Groups per access type: the seed's lists for its organization, else every group."""
    for access_type, name in ACCESS_TYPE_FILES.items():
        if org.id == SEED_ORGANIZATION:
            records = provider.files.records(name)
        else:
            records = [{"id": g["id"], "text": g["name"]} for g in org.groups]
        org.access_groups[access_type] = [
            provider.contract.build("schemas/IdText.json", r) for r in records
        ]


def _load_cases_and_items(provider: TrackerProvider) -> None:
    files, store, build = provider.files, provider.store, provider.contract.build
    for case in files.records("cases"):
        org = store.tenant(case["organizationId"])
        record = build("schemas/Case.json", case)
        record["formData"] = record["formData"] or []  # stored as a list; GET shows [] as null
        org.cases.put(case["id"], record)
        org.case_numbers[case["caseNumber"]] = case["id"]
        store.case_org[case["id"]] = org.id
        store.sequences.skip_past("case", case["id"])
        store.sequences.skip_past("mediaFolder", case["rootMediaFolderId"] or 0)
    for item in files.records("items"):
        org = store.tenant(store.case_org[item["primaryCaseId"]])
        org.items.put(item["id"], build("schemas/Item.json", item))
        store.item_org[item["id"]] = org.id
        store.sequences.skip_past("item", item["id"])
        org.sequences.skip_past("sequentialOrgId", item["sequentialOrgId"])
    for record in files.records("itemHistory"):
        org = store.tenant(store.item_org[record["item"]["id"]])
        seq = record["seqOrgItemHistoryId"]
        org.history.put(seq, build("schemas/ItemHistory.json", record))
        org.history_ids[record["historyId"]] = seq
        org.sequences.skip_past("seqOrgItemHistoryId", seq)
        store.sequences.skip_past("history", record["historyId"])
    for record in files.records("custody"):
        org = store.tenant(store.item_org[record["itemId"]])
        org.custody.put(record["id"], build("schemas/CustodyRecord.json", record))
        org.custody_of.setdefault(record["itemId"], []).append(record["id"])
        store.sequences.skip_past("custody", record["id"])
