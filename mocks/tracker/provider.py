"""The Tracker Products SAFE web API: handlers by operationId, over the core pipeline."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import orjson
from trackmock.core.emulator import Call, Provider, Reply
from trackmock.core.errors import JSON, HttpError
from trackmock.core.paths import fixtures_dir
from trackmock.core.store import Record

from .admin import AdminActions
from .cases import Cases, case_view
from .disposition import AutoDisposition
from .errors import INVALID, invalid, not_found, tracker_error
from .fixtures import SEQUENCE_STARTS, FixtureFiles, Lookups, load_fixtures
from .forms import FORM_TYPES, FormData
from .items import Items
from .people import People
from .rules import Gate, Principal
from .settings import TrackerSettings
from .store import Codecs, Organization, TrackerStore

if TYPE_CHECKING:
    from trackmock.core.contracts import Operation
    from trackmock.core.emulator import Emulator
    from trackmock.core.validation import Problem

RECENT = 10


def _words(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: " " + m.group(1).lower(), name)


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


class TrackerProvider(AdminActions, AutoDisposition, Provider):
    """LIMITATIONS (each is ``x-inferred`` in contracts/tracker/openapi.yaml; see
    docs/vendors/tracker.md):

    - ``listCasePeople`` (``GET /api/cases/{id}/people``): no source shows this endpoint; it is
      designed in the style of ``/api/cases/{id}/items`` and answers CasePerson records.
    - ``createItem`` (``POST /api/items``): exists only to refuse, 405 (TR-13). Items are made
      through the control actions (contracts/tracker/admin.yaml).
    - Every error body but ``autoDispoErrors`` is the designed ASP.NET-style
      ``{message, modelState}`` (Error), and every status but 200/204 is inferred.
    - The item feed answers 204 past its last record; ``historyType`` inside a record is
      1 = Create, 2 = Update; ``item`` and ``entity`` both carry the item.
    - Designed records: CustodyRecord (chain of custody), CasePerson, Office; field names of
      Lookup and State; Organization and StaticToken are emulator state no endpoint answers.
    - The polling rule's numbers and its ``X-Polling-Warning`` header are inferred, as are the
      auto-disposition scope (a case's own offense type) and ``formData`` shown once stored.
    - A license is held by a user without a reserved one until idle ``license_idle_seconds``.
    - Not emulated: the interactive ``POST /token`` login, ``PUT /api/items/{id}``, item
      history by item, media, notes, tasks and permissions (kept as stored, never changed),
      moving an item to another case.

    The Tracker Products SAFE web API (seeds 000 and 004, VENDOR-FACTS SAFE-DOC, SAFE-QA,
    SAFE-CS): handlers named by operationId; rules in ``rules``, ``cases``, ``people``,
    ``items``, ``disposition``; control actions in ``admin``.
    """

    name = "tracker"
    error = tracker_error

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.settings: TrackerSettings = emulator.vendor_settings or TrackerSettings()
        self.files = FixtureFiles(fixtures_dir() / "tracker")
        self.lookups = Lookups(self.files)
        self.offense_types = {
            r["id"]: self.contract.build("schemas/OffenseType.json", r)
            for r in self.files.records("offenseTypes")
        }
        self.store = TrackerStore(Codecs.from_contract(self.contract, case_view))
        for sequence, start in SEQUENCE_STARTS.items():
            self.store.sequences.configure(sequence, start)
        self.gate = Gate(self)
        self.form_data = FormData(self)
        self.cases = Cases(self)
        self.people = People(self)
        self.items = Items(self)
        # Lookups never change: each answer is encoded once.
        self._lookup_answers = {
            operation: self._encode(operation, self.lookups.lists[name])
            for operation, name in (
                ("listRaces", "races"),
                ("listGenders", "genders"),
                ("listPersonTypes", "personTypes"),
                ("listAddressTypes", "addressTypes"),
                ("listStates", "states"),
            )
        }

    @property
    def strict(self) -> bool:
        return self.emulator.settings.strict

    def _encode(self, operation_id: str, body: Any) -> bytes:
        operation = self.contract.operations[operation_id]
        return orjson.dumps(self.emulator.shape(operation, 200, body))

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
            load_fixtures(self)
            for org in self.store.tenants():
                org.form_lists = {
                    form_type: self._encode(
                        "listForms",
                        [f for f in org.forms.values() if model in (None, f["modelTypeId"])],
                    )
                    for form_type, model in FORM_TYPES.items()
                }

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

    @cached_property
    def contract_dir(self) -> Path:
        return Path(url2pathname(urlparse(self.contract.uri).path)).parent

    def admin_contract(self) -> Path:
        return self.contract_dir / "admin.yaml"

    # -- pipeline hooks ------------------------------------------------------------------------

    def authenticate(self, call: Call) -> Principal:
        return self.gate.authenticate(call)

    def admit(self, call: Call) -> None:
        self.gate.admit(call)

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        unsupported = next((p for p in problems if p.kind == "unsupported"), None)
        if unsupported is not None:
            return tracker_error(
                415,
                f"The request entity's media type '{unsupported.name}' is not supported for "
                "this resource; send application/json.",
            )
        prefix = call.operation.extensions.get("x-body-name", "body")
        body = call.request.get_json(silent=True)
        state: dict[str, list[str]] = {}
        for problem in problems:
            field, message = problem.name, problem.message
            if problem.location == "body":
                field = prefix + problem.name[1:]
                if message == "None is not of type 'array'":
                    name = problem.name.rsplit(".", 1)[-1]
                    message = f"{name} must be an array; send [] when the {prefix} has no "
                    message += f"{_words(name)}."
            state.setdefault(field, []).append(message)
        renamed = self.renamed_fields(call.operation)
        state |= self.cases.renamed_field_problems(body, renamed, prefix)
        return tracker_error(400, INVALID, modelState=state)

    def renamed_fields(self, operation: Operation) -> dict[str, str]:
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

    def not_found(self, path: str) -> HttpError:
        return tracker_error(
            404, f"No HTTP resource was found that matches the request URI {path}."
        )

    def method_not_allowed(self, method: str, path: str, allowed: list[str]) -> HttpError:
        error = tracker_error(405, f"The requested resource does not support http method {method}.")
        return error.with_headers(Allow=", ".join(allowed))

    # -- cases ---------------------------------------------------------------------------------

    def getCaseByNumber(self, call: Call) -> Reply:
        principal: Principal = call.principal
        record = self.cases.find_by_number(principal, call.query["value"])
        return Reply.encoded(principal.org.cases.encoded(record["id"]))

    def getCase(self, call: Call) -> Reply:
        principal: Principal = call.principal
        record = self.cases.find(principal, call.path["id"])
        return Reply.encoded(principal.org.cases.encoded(record["id"]))

    def createCase(self, call: Call) -> Record:
        self.cases.check_renamed_fields(call.body, self.renamed_fields(call.operation))
        return self.cases.create(call.principal, call.body)

    def updateCase(self, call: Call) -> None:
        self.cases.check_renamed_fields(call.body, self.renamed_fields(call.operation))
        self.cases.update(call.principal, call.path["id"], call.body)

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
        case = self.cases.find(principal, call.path["id"])
        items = [principal.org.items.get(i) for i in case["items"]]
        found = [item for item in items if item is not None]
        page = _sorted_page(found, call.body, self._fields("Item"), "query")
        return {"entities": page, "totalCount": len(found)}

    def listCasePeople(self, call: Call) -> list[Record]:
        return self.people.case_people(call.principal, call.path["id"])

    def _fields(self, schema: str) -> Any:
        node = self.contract.resolve(self.contract.schema_uri(f"schemas/{schema}.json"))
        return node["properties"].keys()

    # -- items ---------------------------------------------------------------------------------

    def getItemHistoryBySeq(self, call: Call) -> Reply:
        history = call.principal.org.history
        number = call.path["n"]
        if number not in history:
            return Reply.empty(204)  # the end of the feed: "no response" (seed 000)
        return Reply.encoded(history.encoded(number))

    def getItem(self, call: Call) -> Reply | Record:
        org: Organization = call.principal.org
        item_id = call.path["id"]
        item = org.items.get(item_id)
        if item is None:
            raise not_found(f"Item {item_id} was not found.")
        if call.query.get("includePeople"):
            return {**item, "people": [org.people.get(p) for p in item["peopleIds"]]}
        return Reply.encoded(org.items.encoded(item_id))

    def getItemChainOfCustody(self, call: Call) -> Reply:
        org: Organization = call.principal.org
        item_id = call.path["id"]
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

    # -- people --------------------------------------------------------------------------------

    def createPerson(self, call: Call) -> Record:
        return self.people.create(call.principal, call.body)

    def getPerson(self, call: Call) -> Reply:
        org: Organization = call.principal.org
        self.people.find(org, call.path["id"])
        return Reply.encoded(org.people.encoded(call.path["id"]))

    def updatePerson(self, call: Call) -> None:
        self.people.update(call.principal, call.path["id"], call.body)

    def addPersonToCase(self, call: Call) -> Record:
        return self.people.add_to_case(call.principal, call.path["caseId"], call.body)

    def getPeopleTypeahead(self, call: Call) -> Record:
        return self.people.typeahead(call.principal.org, call.query["search"])

    def isEmailAlreadyInUse(self, call: Call) -> bool:
        return self.people.email_in_use(call.principal.org, call.path["email"])

    # -- users ---------------------------------------------------------------------------------

    def createUser(self, call: Call) -> Record:
        return self.people.create_user(call.principal, call.body)

    def getUser(self, call: Call) -> Reply:
        org: Organization = call.principal.org
        user_id = call.path["id"]
        if user_id not in org.users:
            raise not_found(f"User {user_id} was not found.")
        return Reply.encoded(org.users.encoded(user_id))

    def getUsersTypeahead(self, call: Call) -> Record:
        return self.people.users_typeahead(call.principal.org, call.query["search"])

    def listGroups(self, call: Call) -> list[Record]:
        return call.principal.org.groups  # type: ignore[no-any-return]

    # -- forms and tags --------------------------------------------------------------------------

    def listForms(self, call: Call) -> Reply:
        return Reply.encoded(call.principal.org.form_lists[call.query["formType"]])

    def listTags(self, call: Call) -> Reply:
        tags = call.principal.org.tags
        return Reply.encoded(tags.encoded_list(list(tags), lambda r: r["id"]))

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
