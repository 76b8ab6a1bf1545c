"""The starting state: the fixture files (``fixtures/tracker/``, the documents' records) and
the generated volume, loaded into a (just reset) store.

Fixture files are read once per emulator; every reset loads fresh copies, each passed
through its schema (so a field added to a schema appears in every record). The volume
generator (``fixtures/tracker/generate.py``) imports Faker, so it is imported only when a
volume is asked for; its records are stored through the same code as API calls and control
actions, so they obey the same rules.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson

from ..core.store import Record
from .rules import Principal
from .store import Account

if TYPE_CHECKING:
    from ..core.contracts import Contract
    from .cases import Cases
    from .items import Items
    from .settings import TrackerSettings
    from .store import Organization, TrackerStore

DOCUMENTED_ORGANIZATION = 1
"""The organization of the vendor documents' records: the auto-disposition group files are its
lists."""
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


def load_initial_state(
    store: TrackerStore, files: FixtureFiles, contract: Contract, settings: TrackerSettings
) -> None:
    """Fill the (just reset) store from the fixture files and the settings."""
    build = contract.build
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
        _access_groups(org, files, contract)
    _load_cases_and_items(store, files, contract)


def _access_groups(org: Organization, files: FixtureFiles, contract: Contract) -> None:
    """Groups per access type: the documents' lists for their organization, else every group."""
    for access_type, name in ACCESS_TYPE_FILES.items():
        if org.id == DOCUMENTED_ORGANIZATION:
            records = files.records(name)
        else:
            records = [{"id": g["id"], "text": g["name"]} for g in org.groups]
        org.access_groups[access_type] = [contract.build("schemas/IdText.json", r) for r in records]


def _load_cases_and_items(store: TrackerStore, files: FixtureFiles, contract: Contract) -> None:
    build = contract.build
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


def _generator() -> ModuleType:
    # Imported here, not at the top: it imports Faker, which only volume runs need.
    from ..fixtures.tracker import generate

    return generate


def load_volume(
    store: TrackerStore, settings: TrackerSettings, *, seed: int, cases: Cases, items: Items
) -> None:
    """Add ``settings.volume`` generated items, on generated cases, to the documents'
    organization, created by its org admin through the same rules as API calls."""
    org = store.tenant(DOCUMENTED_ORGANIZATION)
    account = next(
        a
        for a in store.accounts.values()
        if a.token["organizationId"] == org.id and a.token["orgAdmin"]
    )
    user = org.users.get(account.token["userId"])
    assert user is not None
    principal = Principal(account.token, account, org, user["officeId"], user)
    offense_types = sorted(org.settings) or list(org.record["offenseTypeIds"])
    data = _generator().generate(
        seed,
        settings.volume,
        items_per_case=settings.volume_items_per_case,
        officer_ids=sorted(u["id"] for u in org.users),
        offense_type_ids=offense_types,
    )
    case_ids = [cases.create(principal, body)["id"] for body in data["cases"]]
    for values in data["items"]:
        values["primaryCaseId"] = case_ids[values.pop("case")]
        items.create(org, values, settings.ui_user_id, check=False)
