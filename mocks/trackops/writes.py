"""The API's writes: cases, case updates, subjects, client contacts, staff employees, events.

The pipeline has already checked each body against its schema; here the ids it holds must
name records of the caller's account (400 naming the body field otherwise), the record gets
the next id and timestamps from the emulator clock, and ``created_by_id`` is the staff record
of the user named in the credentials (TO-03). Nothing is stored until every check passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.emulator import Call, Reply
from ..core.store import Record
from . import records
from .catalog import Catalog, RecordType
from .errors import trackops_error
from .rules import Principal
from .store import Account


def subject_name(account: Account, subject_type_id: int, custom: list[dict[str, Any]]) -> str:
    """A subject's display name: its Name custom field, else its first text value, else
    the name of its subject type."""
    kinds = {
        item["id"]: item["field_type"]
        for item in account.lookups.get("custom_fields", [])
        if item["applies_to"] == "subject"
    }
    for item in custom:
        value = item["value"]
        if kinds.get(item["id"]) == "name" and isinstance(value, dict):
            parts = (value.get(k) for k in ("first_name", "middle_name", "last_name"))
            joined = " ".join(str(p) for p in parts if p)
            if joined:
                return joined
    for item in custom:
        if isinstance(item["value"], str) and item["value"]:
            return item["value"]
    subject_type = account.get("subject_types", subject_type_id) or {}
    return str(subject_type.get("name") or f"Subject of type {subject_type_id}")


@dataclass
class Writes:
    """The API's POST operations, each checked completely before anything is stored.

    Args:
        shapes: each store's record shape (by its schema), by collection.
    """

    catalog: Catalog
    shapes: dict[str, Callable[[Any], Any]]

    # -- helpers --------------------------------------------------------------------------

    def _body(self, call: Call) -> dict[str, Any]:
        """The request body with the defaults its schema gives to missing top-level fields.

        Keys the schema does not list are ignored (docs/vendors/trackops.md): a body's
        ``updated_at`` or ``created_at`` must not overwrite what the server stamps."""
        contract = call.operation.contract
        location = call.operation.body["application/json"]
        schema, location = contract.deref({"$ref": location}, location)
        defaults: dict[str, Any] = {}
        listed: set[str] = set()
        for part in [schema, *schema.get("allOf", [])]:
            resolved, _ = contract.deref(part, location)
            for name, prop in (resolved.get("properties") or {}).items():
                listed.add(name)
                if isinstance(prop, dict) and "default" in prop:
                    defaults.setdefault(name, prop["default"])
        return {**defaults, **{k: v for k, v in call.body.items() if k in listed}}

    def _utc(self, collection: str, values: dict[str, Any]) -> dict[str, Any]:
        try:
            return records.normalized(self._type(collection), values)
        except records.TimestampError as exc:
            raise trackops_error(
                400,
                f"Invalid request body at $.{exc.name}: {exc.reason}",
                parameter=f"$.{exc.name}",
            ) from None

    def _type(self, collection: str) -> RecordType:
        return self.catalog.records[collection]

    def _check(
        self, account: Account, collection: str, values: dict[str, Any], **paths: str
    ) -> None:
        records.check_relations(
            trackops_error, self.catalog, account, self._type(collection), values, paths
        )

    def _create(
        self, account: Account, collection: str, values: dict[str, Any], now: float
    ) -> Record:
        return records.create(account, self._type(collection), self.shapes[collection], values, now)

    def _created(self, collection: str, record: Record) -> Reply:
        """201 with the new record as a read shows it (expanded fields left null)."""
        hidden = dict.fromkeys(self._type(collection).expands)
        return Reply(body={**record, **hidden}, status=201)

    def _role(self, account: Account, role_id: int, applies_to: str) -> None:
        role = account.lookup("roles", role_id)
        if role is None or role["applies_to"] != applies_to:
            raise trackops_error(
                400,
                f"role_id {role_id} does not name a {applies_to.replace('_', ' ')} role",
                parameter="$.role_id",
            )

    def _same_case(
        self, account: Account, values: dict[str, Any], collection: str, name: str
    ) -> None:
        """Refuse an id pointing at a record of another case than the one written to."""
        key = values.get(name)
        if key is None:
            return
        found = account.get(collection, key)
        if found is not None and found.get("casefile_id") != values["casefile_id"]:
            raise trackops_error(
                400,
                f"{name} {key} belongs to case {found.get('casefile_id')}, "
                f"not to case {values['casefile_id']}",
                parameter=f"$.{name}",
            )

    def _subject_values(
        self, account: Account, given: dict[str, Any], where: str
    ) -> dict[str, Any]:
        custom = given.get("custom_fields", [])
        records.field_values(trackops_error, account, "subject", custom, f"{where}.custom_fields")
        if not account.exists("subject_types", given["subject_type_id"]):
            raise trackops_error(
                400,
                f"subject_type_id {given['subject_type_id']} does not name an existing SubjectType",
                parameter=f"{where}.subject_type_id",
            )
        return {
            "subject_type_id": given["subject_type_id"],
            "is_primary": given.get("is_primary", False),
            "is_pinned": given.get("is_pinned", False),
            "custom_fields": custom,
            "name": subject_name(account, given["subject_type_id"], custom),
        }

    def _add_subject(
        self, account: Account, case_id: int, values: dict[str, Any], who: Principal, now: float
    ) -> Record:
        subject = self._create(
            account,
            "subjects",
            {**values, "casefile_id": case_id, "created_by_id": who.staff_id},
            now,
        )
        if subject["is_primary"]:
            self._make_primary(account, subject, now)
        return subject

    def _make_primary(self, account: Account, subject: Record, now: float) -> None:
        """The case's primary subject is now ``subject``; its other subjects are not."""
        case_id = subject["casefile_id"]
        subjects = self._type("subjects")
        for other in list(account.table("subjects")):
            if other["casefile_id"] == case_id and other["is_primary"] and other is not subject:
                records.update(account, subjects, other, {"is_primary": False}, now)
        case = account.get("cases", case_id)
        if case is not None:
            records.update(
                account, self._type("cases"), case, {"primary_subject_id": subject["id"]}, now
            )

    # -- the writes (the provider's createCase ... call these) ---------------------------------

    def create_case(self, call: Call) -> Reply:
        who: Principal = call.principal
        account = who.account
        body = dict(call.body["casefile"])
        given_subjects = body.pop("subjects", [])
        fields = self._type("cases").fields
        values = {k: v for k, v in body.items() if k in fields}
        self._check(account, "cases", values, **{k: f"$.casefile.{k}" for k in values})
        records.field_values(
            trackops_error,
            account,
            "case",
            values.get("custom_fields", []),
            "$.casefile.custom_fields",
        )
        subjects = [
            self._subject_values(account, given, f"$.casefile.subjects[{index}]")
            for index, given in enumerate(given_subjects)
        ]
        values["client_location_id"] = self._case_location(account, values)
        now = call.now
        values.setdefault("created_on", records.today(now))
        values["case_number"] = f"{values['created_on'][2:4]}-{account.sequences.peek('cases'):04d}"
        values["created_by_id"] = who.staff_id
        case = self._create(account, "cases", values, now)
        self._record_status(account, case, None, who.staff_id, now)
        for subject in subjects:
            self._add_subject(account, case["id"], subject, who, now)
        return self._created("cases", account.get("cases", case["id"]) or case)

    def _case_location(self, account: Account, values: dict[str, Any]) -> int:
        """The primary contact's location, else the client's primary location (inferred)."""
        client_id = values["client_id"]
        contact_id = values.get("primary_contact_id")
        if contact_id is not None:
            contact = account.get("client_contacts", contact_id) or {}
            if contact.get("client_id") != client_id:
                raise trackops_error(
                    400,
                    f"primary_contact_id {contact_id} is not a contact of client {client_id}",
                    parameter="$.casefile.primary_contact_id",
                )
            return int(contact["client_location_id"])
        locations = [r for r in account.table("client_locations") if r["parent_id"] == client_id]
        if not locations:
            raise trackops_error(
                400, f"client {client_id} has no location", parameter="$.casefile.client_id"
            )
        primary = next((r for r in locations if r["is_primary"]), locations[0])
        return int(primary["id"])

    def _record_status(
        self, account: Account, case: Record, previous: int | None, by: int | None, now: float
    ) -> None:
        """History of a case reaching its current status: one change, one history entry."""
        when = records.stamp(now)
        status = case["case_status_id"]
        self._create(
            account,
            "case_status_changes",
            {
                "casefile_id": case["id"],
                "from_case_status_id": previous,
                "to_case_status_id": status,
                "changed_by_id": by,
                "changed_at": when,
            },
            now,
        )
        reached = any(
            row["casefile_id"] == case["id"] and row["case_status_id"] == status
            for row in account.table("case_status_history")
        )
        if not reached:
            self._create(
                account,
                "case_status_history",
                {
                    "casefile_id": case["id"],
                    "case_status_id": status,
                    "changed_by_id": by,
                    "changed_at": when,
                },
                now,
            )

    def create_case_update(self, call: Call) -> Reply:
        who: Principal = call.principal
        account = who.account
        values = self._utc("case_updates", self._body(call))
        self._check(account, "case_updates", values)
        for name, collection in (
            ("subject_id", "subjects"),
            ("event_id", "events"),
            ("thread_id", "case_updates"),
        ):
            self._same_case(account, values, collection, name)
        values.setdefault("activity_at", None)
        if values["activity_at"] is None:
            values["activity_at"] = records.stamp(call.now)
        values["created_by_id"] = who.staff_id
        update = self._create(account, "case_updates", values, call.now)
        return self._created("case_updates", update)

    def create_subject(self, call: Call) -> Reply:
        who: Principal = call.principal
        account = who.account
        case_id = call.body["casefile_id"]
        self._check(account, "subjects", {"casefile_id": case_id})
        values = self._subject_values(account, call.body, "$")
        subject = self._add_subject(account, case_id, values, who, call.now)
        return self._created("subjects", account.get("subjects", subject["id"]) or subject)

    def create_client_contact(self, call: Call) -> Reply:
        who: Principal = call.principal
        account = who.account
        body = self._body(call)
        # The vendor's naming: the body's client_id is a client *location* id.
        values = {k: v for k, v in body.items() if k not in ("client_id", "custom_fields")}
        values["client_location_id"] = body["client_id"]
        self._check(account, "client_contacts", values, client_location_id="$.client_id")
        self._role(account, body["role_id"], "client_contact")
        location = account.get("client_locations", body["client_id"]) or {}
        values["client_id"] = location["parent_id"]
        values["field_values"] = records.field_values(
            trackops_error,
            account,
            "client_contact",
            body.get("custom_fields", []),
            "$.custom_fields",
        )
        values["created_by_id"] = who.staff_id
        contact = self._create(account, "client_contacts", values, call.now)
        return self._created("client_contacts", contact)

    def create_staff_employee(self, call: Call) -> Reply:
        who: Principal = call.principal
        account = who.account
        body = self._body(call)
        # The vendor's naming: the body's client_id is a company location id.
        values = {k: v for k, v in body.items() if k not in ("client_id", "custom_fields")}
        values["company_location_id"] = body["client_id"]
        self._check(account, "staff", values, company_location_id="$.client_id")
        self._role(account, body["role_id"], "staff")
        username = values.get("username")
        if username is not None and (
            username in account.users
            or any(row.get("username") == username for row in account.table("staff"))
        ):
            raise trackops_error(
                400, f"username '{username}' is already taken", parameter="$.username"
            )
        values["field_values"] = records.field_values(
            trackops_error, account, "staff", body.get("custom_fields", []), "$.custom_fields"
        )
        values["created_by_id"] = who.staff_id
        staff = self._create(account, "staff", values, call.now)
        if username is not None:
            # A new employee with a login can use the API once they are Full Access.
            account.users[username] = {
                "subdomain": account.subdomain,
                "username": username,
                "name": f"{staff['first_name']} {staff['last_name']}".strip() or username,
                "user_type": "employee",
                "access_level": staff["access_level"],
                "is_active": staff["is_active"],
                "staff_id": staff["id"],
                "client_contact_id": None,
            }
        return self._created("staff", staff)

    def create_event(self, call: Call) -> Reply:
        who: Principal = call.principal
        account = who.account
        values = self._body(call)
        self._check(account, "events", values)
        if values.get("casefile_id") is not None:
            self._same_case(account, values, "subjects", "subject_id")
        values = self._utc("events", values)
        if values.get("end_at") and values["end_at"] < values["start_at"]:
            raise trackops_error(400, "end_at is before start_at", parameter="$.end_at")
        values["created_by_id"] = who.staff_id
        event = self._create(account, "events", values, call.now)
        return self._created("events", event)
