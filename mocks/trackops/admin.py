"""Trackops control actions (``contracts/trackops/admin.yaml``): the vendor's own interface.

Tests use them to change data "behind the API" (a client's sync must notice), to switch an
account's API access, and to change who may log in. Refusals use the control API's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.emulator import Call, Reply
from ..core.errors import admin_error
from ..core.store import Record
from . import records
from .catalog import Catalog, RecordType
from .store import Account, TrackopsStore

if TYPE_CHECKING:
    from ..core.contracts import Contract

ACCOUNT_FIELDS = ("subdomain", "name", "api_access_enabled", "api_token")


@dataclass
class TrackopsAdmin:
    """The Trackops emulator's control actions, one method per operationId.

    Args:
        shapes: each store's record shape (by its schema), by collection.
        default_subdomain: the account an action names when it names none.
    """

    contract: Contract
    store: TrackopsStore
    catalog: Catalog
    shapes: dict[str, Callable[[Any], Any]]
    default_subdomain: str

    # -- helpers --------------------------------------------------------------------------

    def _account_named(self, subdomain: str | None) -> Account:
        name = subdomain or self.default_subdomain
        account = self.store.account(name)
        if account is None:
            raise admin_error(404, f"no account for subdomain '{name}'")
        return account

    def _describe(self, account: Account) -> dict[str, Any]:
        return {
            **{name: getattr(account, name) for name in ACCOUNT_FIELDS},
            "users": list(account.users.values()),
        }

    def _checked(self, account: Account, record_type: RecordType, record: Record) -> Record:
        """``record`` if it satisfies its schema and its relations; else a 400."""
        validator = self.contract.validator(record_type.schema)
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
        if errors:
            problems = [
                {
                    "location": "body",
                    "name": "$" + "".join(f".{part}" for part in error.absolute_path),
                    "message": error.message,
                    "kind": "invalid",
                }
                for error in errors[:10]
            ]
            first = problems[0]
            raise admin_error(
                400,
                f"not a valid {record_type.title} at {first['name']}: {first['message']}",
                problems=problems,
            )
        for name, key in records.broken_relations(account, record_type, record):
            raise admin_error(400, records.relation_message(self.catalog, record_type, name, key))
        return record

    def _candidate(
        self, account: Account, record_type: RecordType, values: Any, key: int, now: float
    ) -> Record:
        """The record ``values`` make under id ``key``, checked; nothing is stored yet."""
        if "id" in values:
            raise admin_error(400, "id is assigned by the emulator; leave it out")
        when = records.stamp(now)
        record: Record = self.shapes[record_type.collection](
            {"created_at": when, "updated_at": when, **_utc(record_type, values), "id": key}
        )
        return self._checked(account, record_type, record)

    # -- handlers (named by operationId) -----------------------------------------------------

    def listTrackopsAccounts(self, call: Call) -> dict[str, Any]:
        return {
            "default_subdomain": self.default_subdomain,
            "accounts": [self._describe(account) for account in self.store.tenants()],
        }

    def updateTrackopsAccount(self, call: Call) -> dict[str, Any]:
        account = self._account_named(call.path_params["subdomain"])
        account.api_access_enabled = call.body["api_access_enabled"]
        return self._describe(account)

    def updateTrackopsUser(self, call: Call) -> dict[str, Any]:
        account = self._account_named(call.path_params["subdomain"])
        username = call.path_params["username"]
        user = account.users.get(username)
        if user is None:
            raise admin_error(404, f"no user '{username}' in account '{account.subdomain}'")
        if "access_level" in call.body and user["user_type"] != "employee":
            raise admin_error(400, "only employees have an access level")
        with self.store.lock:
            user.update(call.body)
            staff = account.get("staff", user["staff_id"]) if user.get("staff_id") else None
            if staff is not None:
                records.update(account, self.catalog.records["staff"], staff, call.body, call.now)
        return user

    def listTrackopsRecords(self, call: Call) -> dict[str, Any]:
        account = self._account_named(call.query.get("account"))
        return {"records": list(account.table(call.path_params["collection"]))}

    def createTrackopsRecord(self, call: Call) -> Reply:
        made = self._store_new(call, [call.body])
        return Reply(body=made[0], status=201)

    def createTrackopsRecords(self, call: Call) -> Reply:
        return Reply(body={"records": self._store_new(call, call.body["records"])}, status=201)

    def _store_new(self, call: Call, given: list[Any]) -> list[Record]:
        """Check every record first, then store them all (all or none)."""
        record_type = self.catalog.records[call.path_params["collection"]]
        account = self._account_named(call.query.get("account"))
        with self.store.lock:
            start = account.sequences.peek(record_type.collection)
            made = [
                self._candidate(account, record_type, values, start + index, call.now)
                for index, values in enumerate(given)
            ]
            for record in made:
                account.next_id(record_type.collection)
                account.put(record_type.collection, record)
        return made

    def updateTrackopsRecord(self, call: Call) -> dict[str, Any]:
        record_type = self.catalog.records[call.path_params["collection"]]
        account = self._account_named(call.query.get("account"))
        current = account.get(record_type.collection, call.path_params["id"])
        if current is None:
            raise admin_error(404, f"no {record_type.title} with id {call.path_params['id']}")
        if "id" in call.body:
            raise admin_error(400, "id cannot change")
        changes = _utc(record_type, call.body)
        candidate = {**current, "updated_at": records.stamp(call.now), **changes}
        shaped = self._checked(account, record_type, self.shapes[record_type.collection](candidate))
        with self.store.lock:
            return account.put(record_type.collection, shaped)

    def setTrackopsCaseStatus(self, call: Call) -> dict[str, Any]:
        account = self._account_named(call.query.get("account"))
        case = account.get("cases", call.path_params["id"])
        if case is None:
            raise admin_error(404, f"no Case with id {call.path_params['id']}")
        status_id = call.body["case_status_id"]
        status = account.get("case_statuses", status_id)
        if status is None:
            raise admin_error(400, f"case_status_id {status_id} does not name a CaseStatus")
        by = call.body.get("changed_by_id")
        if by is not None and not account.exists("staff", by):
            raise admin_error(400, f"changed_by_id {by} does not name a Staff")
        with self.store.lock:
            return self._move_status(account, case, status, by, call.body.get("notes"), call.now)

    def _move_status(
        self,
        account: Account,
        case: Record,
        status: Record,
        by: int | None,
        notes: str | None,
        now: float,
    ) -> Record:
        sort_of = {row["id"]: row["sort_order"] for row in account.table("case_statuses")}
        history = account.table("case_status_history")
        # Moving backwards deletes the forward history (Trackops API Reference, Case Status
        # History).
        for row in [r for r in history if r["casefile_id"] == case["id"]]:
            if sort_of.get(row["case_status_id"], 0) > status["sort_order"]:
                history.delete(row["id"])
        when = records.stamp(now)
        change = {
            "casefile_id": case["id"],
            "from_case_status_id": case["case_status_id"],
            "to_case_status_id": status["id"],
            "changed_by_id": by,
            "changed_at": when,
            "notes": notes,
        }
        records.create(
            account,
            self.catalog.records["case_status_changes"],
            self.shapes["case_status_changes"],
            change,
            now,
        )
        if not any(
            r["casefile_id"] == case["id"] and r["case_status_id"] == status["id"] for r in history
        ):
            entry = {
                "casefile_id": case["id"],
                "case_status_id": status["id"],
                "changed_by_id": by,
                "changed_at": when,
            }
            records.create(
                account,
                self.catalog.records["case_status_history"],
                self.shapes["case_status_history"],
                entry,
                now,
            )
        closed = records.today(now) if status["is_closed"] else None
        return records.update(
            account,
            self.catalog.records["cases"],
            case,
            {"case_status_id": status["id"], "closed_on": closed},
            now,
        )


def _utc(record_type: RecordType, values: dict[str, Any]) -> dict[str, Any]:
    try:
        return records.normalized(record_type, values)
    except ValueError as exc:
        raise admin_error(400, f"not a valid timestamp: {exc}") from None
