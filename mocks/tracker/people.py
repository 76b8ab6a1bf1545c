"""Persons, their place on cases, and user accounts (SAFE API Overview, SAFE help).

Persons belong to an organization; a new one must not match another on driver's licence,
business name, or first and last name (TR-10). Users' e-mails are unique across the whole
system (TR-08). Every check runs before anything is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.clock import Clock, isoformat
from ..core.store import Record
from .errors import conflict, forbidden, invalid, invalid_fields, not_found
from .forms import PEOPLE_FORMS

if TYPE_CHECKING:
    from ..core.contracts import Contract
    from .cases import Cases
    from .forms import FormData
    from .initial_state import Lookups
    from .rules import Principal
    from .settings import TrackerSettings
    from .store import Organization, TrackerStore

ORG_ADMIN_NEEDED = "This action requires a user with orgAdmin permissions."
TYPEAHEAD_LIMIT = 10


def _norm(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def person_name(person: Record) -> str | None:
    """``First Last``, or the business name (derivation inferred)."""
    full = " ".join(p for p in (person.get("firstName"), person.get("lastName")) if p)
    return full or person.get("businessName")


@dataclass
class People:
    """Persons, case people and users of one Tracker emulator.

    Args:
        seed: the core ``seed``, so the same seed gives the same guids.
    """

    contract: Contract
    store: TrackerStore
    settings: TrackerSettings
    clock: Clock
    seed: int
    cases: Cases
    form_data: FormData
    lookups: Lookups

    def _now(self) -> str:
        return isoformat(self.clock.now())

    def guid(self, kind: str, record_id: int) -> str:
        """A stable guid: the same seed gives the same guids."""
        name = f"trackmock:tracker:{self.seed}:{kind}:{record_id}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, name))

    # -- persons ---------------------------------------------------------------------------------

    def find(self, org: Organization, person_id: int) -> Record:
        person = org.people.get(person_id)
        if person is None:
            raise not_found(f"Person {person_id} was not found.")
        return person

    def create(self, principal: Principal, body: Record) -> Record:
        org = principal.org
        given = body["person"]
        address = body.get("address")
        self._check_lookups(given, "model.person", address)
        case_id = body.get("caseId")
        if case_id is not None:
            # The contract requires person.personTypeId with a caseId (the role on the case).
            self.cases.find(principal, case_id)
        forms = self.form_data.check(
            org, given.get("formData", []), PEOPLE_FORMS, "model.person.formData", None
        )
        self._check_duplicate(org, given, None)
        person_id = self.store.sequences.next("person")
        now = self._now()
        addresses = [*given.get("addresses", []), *([address] if address else [])]
        values = {
            **given,
            "id": person_id,
            "guid": self.guid("person", person_id),
            "organizationId": org.id,
            "createDateTime": now,
            "updatedDateTime": now,
            "isDeleted": False,
            "name": person_name(given),
            "addresses": self._addresses(person_id, addresses, now),
            "formData": self.form_data.store(org, principal.office_id, person_id, forms, []),
        }
        person = self.contract.build("schemas/Person.json", values)
        org.people.put(person_id, person)
        if case_id is not None:
            self._link(principal, case_id, person, given["personTypeId"], None)
        return person

    def update(self, principal: Principal, person_id: int, body: Record) -> None:
        org = principal.org
        if body["id"] != person_id:
            raise invalid(
                "person.id", f"The body's id ({body['id']}) is not the id in the URL ({person_id})."
            )
        stored = self.find(org, person_id)
        self._check_lookups(body, "person")
        forms = self.form_data.check(
            org, body["formData"], PEOPLE_FORMS, "person.formData", person_id
        )
        self._check_duplicate(org, body, person_id)
        now = self._now()
        values = {
            **body,
            "guid": stored["guid"],
            "organizationId": org.id,
            "createDateTime": stored["createDateTime"],
            "updatedDateTime": now,
            "name": person_name(body),
            "addresses": self._addresses(person_id, body["addresses"], now),
            "formData": self.form_data.store(
                org, principal.office_id, person_id, forms, stored["formData"]
            ),
        }
        org.people.put(person_id, self.contract.build("schemas/Person.json", values))

    def _addresses(self, person_id: int, addresses: list[Record], now: str) -> list[Record]:
        return [
            self.contract.build(
                "schemas/Address.json",
                {
                    **address,
                    "id": address.get("id") or self.store.sequences.next("address"),
                    "entityId": person_id,
                    "date": address.get("date") or now,
                },
            )
            for address in addresses
        ]

    def _check_lookups(self, person: Record, where: str, address: Record | None = None) -> None:
        """Every lookup id of a person (and its new address) exists; ``where`` names the
        person in messages (``model.person``); the address is ``model.address``."""
        lookups = self.lookups
        checks = [
            (f"{where}.raceId", person.get("raceId"), "races", False),
            (f"{where}.genderId", person.get("genderId"), "genders", False),
            (f"{where}.personTypeId", person.get("personTypeId"), "personTypes", True),
        ]
        places = [(f"{where}.addresses[{i}]", a) for i, a in enumerate(person.get("addresses", []))]
        if address:
            places.append((f"{where.rsplit('.', 1)[0]}.address", address))
        for place, each in places:
            checks.append(
                (f"{place}.addressTypeId", each.get("addressTypeId"), "addressTypes", False)
            )
            checks.append((f"{place}.stateId", each.get("stateId"), "states", True))
        problems = {
            field: [f"{value} is not an id of GET /api/{lookups.path(name)}."]
            for field, value, name, optional in checks
            if not (optional and value is None) and value not in lookups.ids(name)
        }
        if problems:
            raise invalid_fields(problems)

    def _check_duplicate(self, org: Organization, person: Record, own_id: int | None) -> None:
        if not self.settings.person_duplicate_check:
            return
        licence = _norm(person.get("driverLicence"))
        business = _norm(person.get("businessName"))
        full = (_norm(person.get("firstName")), _norm(person.get("lastName")))
        for other in org.people:
            if other["id"] == own_id or other["isDeleted"]:
                continue
            if licence and licence == _norm(other["driverLicence"]):
                reason = f"driver's licence {person['driverLicence']}"
            elif business and business == _norm(other["businessName"]):
                reason = f"business name {person['businessName']}"
            elif all(full) and full == (_norm(other["firstName"]), _norm(other["lastName"])):
                reason = f"name {person['firstName']} {person['lastName']}"
            else:
                continue
            raise conflict(f"A person with the same {reason} already exists (id {other['id']}).")

    # -- people of a case ----------------------------------------------------------------------

    def add_to_case(self, principal: Principal, case_id: int, body: Record) -> Record:
        self.cases.find(principal, case_id)
        person = self.find(principal.org, body["personId"])
        if body["typeId"] not in self.lookups.ids("personTypes"):
            raise invalid("model.typeId", f"{body['typeId']} is not an id of GET /api/personTypes.")
        if any(link["personId"] == person["id"] for link in self.links(principal.org, case_id)):
            raise conflict(f"Person {person['id']} is already on case {case_id}.")
        return self._link(principal, case_id, person, body["typeId"], body.get("notes"))

    def links(self, org: Organization, case_id: int) -> list[Record]:
        return org.case_people.get(case_id, [])

    def _link(
        self, principal: Principal, case_id: int, person: Record, type_id: int, notes: Any
    ) -> Record:
        org = principal.org
        link = {
            "id": self.store.sequences.next("casePerson"),
            "caseId": case_id,
            "personId": person["id"],
            "typeId": type_id,
            "type": self.lookups.name("personTypes", type_id),
            "notes": notes,
            "createdDate": self._now(),
        }
        org.case_people.setdefault(case_id, []).append(link)
        self.cases.record_history(principal, case_id, f"Person {person['id']} added")
        self.cases.refresh(org, case_id)
        return {**link, "person": person}

    def case_people(self, principal: Principal, case_id: int) -> list[Record]:
        self.cases.find(principal, case_id)
        org = principal.org
        return [
            {**link, "person": org.people.get(link["personId"])}
            for link in self.links(org, case_id)
        ]

    def typeahead(self, org: Organization, search: str) -> Record:
        """People whose first, last or business name or e-mail starts with ``search``."""
        prefix = _norm(search)
        found = [
            p
            for p in org.people
            if not p["isDeleted"]
            and any(
                _norm(p[f]).startswith(prefix)
                for f in ("firstName", "lastName", "businessName", "email")
            )
        ]
        return {
            "people": [{"id": p["id"], "text": _person_text(p)} for p in found[:TYPEAHEAD_LIMIT]],
            "peopleCountLimitExceeded": len(found) > TYPEAHEAD_LIMIT,
        }

    def email_in_use(self, org: Organization, email: str) -> bool:
        wanted = _norm(email)
        return any(_norm(p["email"]) == wanted for p in org.people if not p["isDeleted"])

    # -- users (TR-08) ---------------------------------------------------------------------------

    def create_user(self, principal: Principal, body: Record) -> Record:
        if not principal.token["orgAdmin"]:
            raise forbidden(ORG_ADMIN_NEEDED)
        org = principal.org
        problems: dict[str, list[str]] = {}
        if body["organizationId"] != org.id:
            problems["user.organizationId"] = [
                f"organizationId must be the OrganizationId header's ({org.id})."
            ]
        if body["officeId"] not in org.offices:
            problems["user.officeId"] = [f"Office {body['officeId']} is not an office of {org.id}."]
        groups = {g["id"] for g in org.groups}
        unknown = [g for g in body.get("groups", []) if g not in groups]
        if unknown:
            problems["user.groups"] = [f"Unknown permission groups {unknown}; see GET /api/groups."]
        if problems:
            raise invalid_fields(problems)
        forms = self.form_data.check(
            org, body.get("personFormData", []), PEOPLE_FORMS, "user.personFormData", None
        )
        email = _norm(body["email"])
        if email in self.store.emails:
            raise conflict(f"The email {body['email']} is already in use.")
        user_id = self.store.sequences.next("user")
        values = {
            **body,
            "id": user_id,
            "guid": self.guid("user", user_id),
            "personFormData": self.form_data.store(org, body["officeId"], user_id, forms, []),
        }
        user = self.contract.build("schemas/User.json", values)
        org.users.put(user_id, user)
        self.store.emails[email] = user_id
        return user

    def users_typeahead(self, org: Organization, search: str) -> Record:
        prefix = _norm(search)
        found = [
            u
            for u in org.users
            if any(_norm(u[f]).startswith(prefix) for f in ("firstName", "lastName", "email"))
        ]
        return {
            "users": [
                {"id": u["id"], "text": f"{u['firstName']} {u['lastName']}"}
                for u in found[:TYPEAHEAD_LIMIT]
            ],
            "usersCount": len(found),
        }


def _person_text(person: Record) -> str:
    """``Last, First (email)`` (SAFE help, typeahead), or the business name for a business."""
    if person["lastName"] or person["firstName"]:
        text = ", ".join(p for p in (person["lastName"], person["firstName"]) if p)
    else:
        text = person["businessName"] or ""
    return f"{text} ({person['email']})" if person["email"] else text
