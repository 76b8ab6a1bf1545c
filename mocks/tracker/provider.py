"""The Tracker Products SAFE web API: one handler per operationId, over the core pipeline.

Handlers are thin: the rules live in ``rules`` (who may call, how often), ``cases``,
``people``, ``items``, ``forms`` and ``disposition``; control actions in ``admin``; the state
in ``store``; the starting state in ``initial_state``. What is emulated and what is inferred:
docs/vendors/tracker.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ..core.emulator import Call, Provider, Reply
from ..core.errors import HttpError
from ..core.paths import fixtures_dir
from ..core.snapshot import Apply
from ..core.state_tables import StateTable
from ..core.store import Record
from .admin import TrackerAdmin
from .cases import Cases, case_view, renamed_fields
from .disposition import AutoDisposition
from .errors import (
    contract_refusal,
    invalid,
    method_not_allowed,
    no_route,
    not_found,
    tracker_error,
)
from .forms import FORM_TYPES, FormData
from .initial_state import (
    SEQUENCE_STARTS,
    FixtureFiles,
    Lookups,
    load_initial_state,
    load_volume,
)
from .items import Items
from .people import People
from .rules import Gate, Principal
from .settings import TrackerSettings
from .store import Codecs, Organization, TrackerStore

if TYPE_CHECKING:
    from ..core.emulator import Emulator
    from ..core.validation import Problem

RECENT = 10
LOOKUP_LISTS = {
    "listRaces": "races",
    "listGenders": "genders",
    "listPersonTypes": "personTypes",
    "listAddressTypes": "addressTypes",
    "listStates": "states",
}
"""Lookup operations → the fixture file each answers (never changed, so encoded once)."""


def _sorted_page(records: list[Record], query: Record, fields: Any, where: str) -> list[Record]:
    """One page of ``records`` ordered by ``query`` (PageQuery); refuses an unknown field."""
    order = query.get("orderBy", "id")
    if order not in fields:
        raise invalid(f"{where}.orderBy", f"{order} is not a field of the listed records.")
    try:
        ordered = sorted(
            records,
            key=lambda r: (r.get(order) is None, 0 if r.get(order) is None else r.get(order)),
            reverse=not query.get("orderByAsc", True),
        )
    except TypeError:
        raise invalid(f"{where}.orderBy", f"Records cannot be ordered by {order}.") from None
    # JSON Schema counts 92.0 as an integer; slicing does not.
    size = int(query.get("pageSize", 25))
    start = (int(query.get("pageNumber", 1)) - 1) * size
    return ordered[start : start + size]


class TrackerProvider(Provider[TrackerSettings]):
    """Tracker Products SAFE: static tokens per organization and office, licenses, the
    polling rule, cases, persons, users, the item-history feed and chain of custody."""

    name = "tracker"
    error = tracker_error
    settings_class = TrackerSettings

    def __init__(self, emulator: Emulator, settings: TrackerSettings) -> None:
        super().__init__(emulator, settings)
        contract, clock = self.contract, self.clock
        strict, seed = self.core_settings.strict, self.core_settings.seed
        self.files = FixtureFiles(fixtures_dir() / "tracker")
        self.lookups = Lookups(self.files)
        self.offense_types = {
            r["id"]: contract.build("schemas/OffenseType.json", r)
            for r in self.files.records("offenseTypes")
        }
        self.store = TrackerStore(Codecs.from_contract(contract, case_view))
        for sequence, start in SEQUENCE_STARTS.items():
            self.store.sequences.configure(sequence, start)
        self.gate = Gate(self.store, settings, clock=clock, strict=strict)
        self.form_data = FormData(contract, settings)
        self.cases = Cases(
            contract,
            self.store,
            settings,
            clock=clock,
            strict=strict,
            form_data=self.form_data,
            offense_types=self.offense_types,
        )
        self.people = People(
            contract,
            self.store,
            settings,
            clock=clock,
            seed=seed,
            cases=self.cases,
            form_data=self.form_data,
            lookups=self.lookups,
        )
        self.items = Items(contract, self.store, clock=clock, cases=self.cases)
        self.auto_disposition = AutoDisposition(contract, self.store, self.offense_types)
        self.actions = TrackerAdmin(
            contract,
            self.store,
            settings,
            clock=clock,
            seed=seed,
            items=self.items,
            gate=self.gate,
            auto_disposition=self.auto_disposition,
        )
        self._lookup_answers = {
            operation: self._encode(operation, self.lookups.lists[name])
            for operation, name in LOOKUP_LISTS.items()
        }

    def _encode(self, operation_id: str, body: Any) -> bytes:
        operation = self.contract.operations[operation_id]
        return orjson.dumps(self.emulator.shape(operation, 200, body))

    # -- state -----------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
            load_initial_state(self.store, self.files, self.contract, self.settings)
            if self.settings.volume:
                load_volume(
                    self.store,
                    self.settings,
                    seed=self.core_settings.seed,
                    cases=self.cases,
                    items=self.items,
                )
            self._encode_forms()

    def _encode_forms(self) -> None:
        """The answers of ``GET /api/forms`` (forms change only with the whole state)."""
        for org in self.store.tenants():
            org.form_lists = {
                form_type: self._encode(
                    "listForms",
                    [f for f in org.forms.values() if model in (None, f["modelTypeId"])],
                )
                for form_type, model in FORM_TYPES.items()
            }

    def dump_state(self) -> dict[str, Any]:
        return self.store.dump_state()

    def load_state(self, data: Any, where: str) -> Apply:
        put_in_place = self.store.load_state(data, where)

        def apply() -> None:
            with self.store.lock:
                put_in_place()
                self._encode_forms()

        return apply

    def state_tables(self) -> list[StateTable]:
        return self.store.state_tables()

    def credentials(self) -> dict[str, Any]:
        tokens = self.files.records("tokens")
        main = next(t for t in tokens if t["orgAdmin"] and t["reservedLicense"])
        limited = next((t for t in tokens if not t["reservedLicense"]), main)
        user = self.store.tenant(main["organizationId"]).users.get(main["userId"]) or {}
        return {
            "token": main["token"],
            "organizationId": main["organizationId"],
            "officeId": user.get("officeId", 1),
            "staticToken": "true",
            "userId": main["userId"],
            "limitedToken": limited["token"],
        }

    # -- pipeline hooks --------------------------------------------------------------------------

    def authenticate(self, call: Call) -> Principal:
        return self.gate.authenticate(call)

    def admit(self, call: Call) -> None:
        self.gate.admit(call)

    def heavy(self, call: Call) -> bool:
        """A reset reloads, a snapshot reads and a restore replaces every organization (and
        any generated volume); nothing else on the event loop reads Tracker's state meanwhile
        (it has no socket)."""
        return call.operation.id in ("resetEmulator", "getSnapshot", "restoreSnapshot")

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        prefix = call.operation.extensions.get("x-body-name", "body")
        renamed = renamed_fields(call.operation)
        extra = self.cases.renamed_field_problems(call.params.document, renamed, prefix)
        return contract_refusal(problems, prefix, extra)

    def not_found(self, path: str) -> HttpError:
        return no_route(path)

    def method_not_allowed(self, method: str, path: str, allowed: list[str]) -> HttpError:
        return method_not_allowed(method, allowed)

    # -- cases -----------------------------------------------------------------------------------

    def getCaseByNumber(self, call: Call) -> Reply:
        principal: Principal = call.principal
        record = self.cases.find_by_number(principal, call.query["value"])
        return Reply.encoded(principal.org.cases.encoded(record["id"]))

    def getCase(self, call: Call) -> Reply:
        principal: Principal = call.principal
        record = self.cases.find(principal, call.path_params["id"])
        return Reply.encoded(principal.org.cases.encoded(record["id"]))

    def createCase(self, call: Call) -> Record:
        self.cases.check_renamed_fields(call.body, renamed_fields(call.operation))
        return self.cases.create(call.principal, call.body)

    def updateCase(self, call: Call) -> None:
        self.cases.check_renamed_fields(call.body, renamed_fields(call.operation))
        self.cases.update(call.principal, call.path_params["id"], call.body)

    def searchCases(self, call: Call) -> Record:
        query = call.body
        search = (query.get("search") or "").lower()
        found = [
            case
            for case in self.cases.visible(call.principal)
            if (
                not search or search in f"{case['caseNumber']} {case['offenseDescription']}".lower()
            )
            and query.get("active") in (None, case["active"])
            and query.get("offenseTypeId") in (None, case["offenseTypeId"])
        ]
        page = _sorted_page(found, query, self._fields("Case"), "query")
        return {"count": len(found), "data": [case_view(c) for c in page]}

    def getCasesTypeahead(self, call: Call) -> Record:
        search = call.query["search"].lower()
        found = [
            c
            for c in reversed(self.cases.visible(call.principal))
            if c["caseNumber"].lower().startswith(search)
        ]
        return {"cases": [{"id": c["id"], "text": c["caseNumber"]} for c in found[:RECENT]]}

    def getMostRecentCases(self, call: Call) -> Record:
        recent = list(reversed(self.cases.visible(call.principal)))[:RECENT]
        return {"cases": [{"id": c["id"], "text": c["caseNumber"]} for c in recent]}

    def listCaseItems(self, call: Call) -> Record:
        principal: Principal = call.principal
        case = self.cases.find(principal, call.path_params["id"])
        items = [principal.org.items.get(i) for i in case["items"]]
        found = [item for item in items if item is not None]
        page = _sorted_page(found, call.body, self._fields("Item"), "query")
        return {"entities": page, "totalCount": len(found)}

    def listCasePeople(self, call: Call) -> list[Record]:
        return self.people.case_people(call.principal, call.path_params["id"])

    def _fields(self, schema: str) -> Any:
        node = self.contract.resolve(self.contract.schema_uri(f"schemas/{schema}.json"))
        return node["properties"].keys()

    # -- items -----------------------------------------------------------------------------------

    def getItemHistoryBySeq(self, call: Call) -> Reply:
        history = call.principal.org.history
        number = call.path_params["n"]
        if number not in history:
            return Reply.empty(204)  # the end of the feed: "no response" (API Overview)
        return Reply.encoded(history.encoded(number))

    def getItem(self, call: Call) -> Reply | Record:
        org: Organization = call.principal.org
        item_id = call.path_params["id"]
        item = org.items.get(item_id)
        if item is None:
            raise not_found(f"Item {item_id} was not found.")
        if call.query.get("includePeople"):
            return {**item, "people": [org.people.get(p) for p in item["peopleIds"]]}
        return Reply.encoded(org.items.encoded(item_id))

    def getItemChainOfCustody(self, call: Call) -> Reply:
        org: Organization = call.principal.org
        item_id = call.path_params["id"]
        if item_id not in org.items:
            raise not_found(self._nested_id_message(org, item_id))
        records = [org.custody.get(i) for i in org.custody_of.get(item_id, [])]
        return Reply.encoded(org.custody.encoded_list(records, lambda r: r["id"]))  # type: ignore[arg-type]

    def _nested_id_message(self, org: Organization, item_id: int) -> str:
        seq = org.history_ids.get(item_id)
        if seq is not None:
            root = org.history.get(seq)["item"]["id"]  # type: ignore[index]
            return (
                f"{item_id} is the historyId of feed record {seq}, a nested id; use the "
                f"root-level item id ({root})."
            )
        return (
            f"Item {item_id} was not found. Use the root-level item id (the feed record's "
            "item.id), not a nested id such as historyId or seqOrgItemHistoryId."
        )

    def createItem(self, call: Call) -> None:
        raise tracker_error(
            405,
            "The requested resource does not support http method 'POST'. Items can only be "
            "created through Item entry or Data Import in SAFE.",
        )

    # -- people ----------------------------------------------------------------------------------

    def createPerson(self, call: Call) -> Record:
        return self.people.create(call.principal, call.body)

    def getPerson(self, call: Call) -> Reply:
        org: Organization = call.principal.org
        self.people.find(org, call.path_params["id"])
        return Reply.encoded(org.people.encoded(call.path_params["id"]))

    def updatePerson(self, call: Call) -> None:
        self.people.update(call.principal, call.path_params["id"], call.body)

    def addPersonToCase(self, call: Call) -> Record:
        return self.people.add_to_case(call.principal, call.path_params["caseId"], call.body)

    def getPeopleTypeahead(self, call: Call) -> Record:
        return self.people.typeahead(call.principal.org, call.query["search"])

    def isEmailAlreadyInUse(self, call: Call) -> bool:
        return self.people.email_in_use(call.principal.org, call.path_params["email"])

    # -- users -----------------------------------------------------------------------------------

    def createUser(self, call: Call) -> Record:
        return self.people.create_user(call.principal, call.body)

    def getUser(self, call: Call) -> Reply:
        org: Organization = call.principal.org
        user_id = call.path_params["id"]
        if user_id not in org.users:
            raise not_found(f"User {user_id} was not found.")
        return Reply.encoded(org.users.encoded(user_id))

    def getUsersTypeahead(self, call: Call) -> Record:
        return self.people.users_typeahead(call.principal.org, call.query["search"])

    def listGroups(self, call: Call) -> list[Record]:
        return call.principal.org.groups  # type: ignore[no-any-return]

    # -- forms, tags and auto disposition ------------------------------------------------------

    def listForms(self, call: Call) -> Reply:
        return Reply.encoded(call.principal.org.form_lists[call.query["formType"]])

    def listTags(self, call: Call) -> Reply:
        tags = call.principal.org.tags
        return Reply.encoded(tags.encoded_list(list(tags), lambda r: r["id"]))

    def getAutoDispositionSettings(self, call: Call) -> Record:
        return self.auto_disposition.view(call.principal.org)

    def updateAutoDispositionSettings(self, call: Call) -> None:
        self.auto_disposition.update(call.principal, call.body)

    def listAutoDispositionGroups(self, call: Call) -> list[Record]:
        return self.auto_disposition.groups(call.principal.org, call.path_params["accessType"])

    # -- lookups ---------------------------------------------------------------------------------

    def listRaces(self, call: Call) -> Reply:
        return Reply.encoded(self._lookup_answers["listRaces"])

    def listGenders(self, call: Call) -> Reply:
        return Reply.encoded(self._lookup_answers["listGenders"])

    def listPersonTypes(self, call: Call) -> Reply:
        return Reply.encoded(self._lookup_answers["listPersonTypes"])

    def listAddressTypes(self, call: Call) -> Reply:
        return Reply.encoded(self._lookup_answers["listAddressTypes"])

    def listStates(self, call: Call) -> Reply:
        return Reply.encoded(self._lookup_answers["listStates"])

    def listOffenseTypes(self, call: Call) -> list[Record]:
        org: Organization = call.principal.org
        types = list(self.offense_types.values())
        if call.query.get("belongToOrganization"):
            return [t for t in types if t["id"] in org.record["offenseTypeIds"]]
        return types

    def listOffices(self, call: Call) -> list[Record]:
        return list(call.principal.org.offices.values())
