"""Items, their history feed and chain of custody (SAFE API Overview, "GET Item Data" and
"GET Chain of Custody").

Items are never created through the API (TR-13): the control actions create and update them
and move their custody, as a logged-in UI user would. Each create and update appends one
history record with the organization's next ``SeqOrgItemHistoryID``, from 1 with no gap
(TR-15); a custody move changes the item, so it appends an Update record too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.clock import Clock, isoformat
from ..core.errors import HttpError, admin_error
from ..core.store import Record
from .store import CREATE, UPDATE

if TYPE_CHECKING:
    from ..core.contracts import Contract
    from .cases import Cases
    from .store import Organization, TrackerStore

CHECKED_IN, CHECKED_OUT = 1, 2
STATUSES = {CHECKED_IN: "Checked In", CHECKED_OUT: "Checked Out"}
"""``statusId`` → ``status`` (numbers inferred, names from SAFE help item edit)."""
TO_PERSON = ("Check Out", "Transfer")
TO_LOCATION = ("Check In", "Move")
FIXED = ("id", "primaryCaseId")
"""Item fields an edit cannot change (moving an item to another case is not emulated)."""


def _bad(message: str) -> HttpError:
    return admin_error(400, message)


@dataclass
class Items:
    """Item state changes of one Tracker emulator, shared by control actions and volume."""

    contract: Contract
    store: TrackerStore
    clock: Clock
    cases: Cases

    def _now(self) -> str:
        return isoformat(self.clock.now())

    def _user(self, org: Organization, user_id: int | None, field: str) -> str | None:
        if user_id is None:
            return None
        name = org.user_name(user_id)
        if name is None:
            raise _bad(f"{field}: user {user_id} is not a user of organization {org.id}")
        return name

    def _derive(self, org: Organization, values: Record, *, check: bool = True) -> Record:
        """Names and case fields recomputed from ids, then (unless told not to) the record
        checked against its schema."""
        case = org.cases.get(values["primaryCaseId"])
        if case is None:
            raise _bad(f"primaryCaseId: case {values['primaryCaseId']} does not exist")
        status = values.get("statusId", CHECKED_IN)
        if status not in STATUSES:
            raise _bad(f"statusId: {status} is not one of {sorted(STATUSES)}")
        office_id = values.get("currentOfficeId") or case["officeId"]
        if office_id not in org.offices:
            raise _bad(f"currentOfficeId: {office_id} is not an office of organization {org.id}")
        people = [org.people.get(p) for p in values.get("peopleIds", [])]
        if None in people:
            raise _bad(f"peopleIds: not every id is a person of organization {org.id}")
        values = {
            **values,
            "statusId": status,
            "status": STATUSES[status],
            "recoveredBy": self._user(org, values.get("recoveredById"), "recoveredById"),
            "submittedBy": self._user(org, values.get("submittedById"), "submittedById"),
            "custodian": self._user(org, values.get("custodianId"), "custodianId"),
            "currentOfficeId": office_id,
            "currentOfficeName": org.offices[office_id]["name"],
            "primaryCaseNumber": case["caseNumber"],
            "primaryCaseOfficerIds": case["caseOfficerIds"],
            "primaryCaseOfficers": case["caseOfficers"],
            "peopleNames": [p["name"] for p in people if p],
        }
        item = self.contract.build("schemas/Item.json", values)
        error = next(iter(self._item_validator.iter_errors(item)), None) if check else None
        if error is not None:
            where = "/".join(map(str, error.absolute_path)) or "item"
            raise _bad(f"{where}: {error.message}")
        return item

    @property
    def _item_validator(self) -> Any:
        return self.contract.validator(self.contract.schema_uri("schemas/Item.json"))

    # -- control actions -------------------------------------------------------------------------

    def create(
        self, org: Organization, given: Record, user_id: int, *, check: bool = True
    ) -> tuple[Record, Record]:
        """A new item on its primary case, checked in where it is, with its Create record.
        ``check=False`` skips the schema check (generated volume, built to fit)."""
        acting = self._user(org, user_id, "userId")
        case = org.cases.get(given.get("primaryCaseId"))  # type: ignore[arg-type]
        if case is None:
            raise _bad(f"item.primaryCaseId: case {given.get('primaryCaseId')} does not exist")
        item_id = self.store.sequences.peek("item")
        values = {
            "barcode": str(item_id),
            "recoveredById": user_id,
            "submittedById": user_id,
            **given,
            "id": item_id,
            "sequentialOrgId": org.sequences.peek("sequentialOrgId"),
            "sequentialCaseId": int(case["nextItemId"]),
            "dateCreated": self._now(),
            "cases": sorted({case["id"], *given.get("cases", [])}),
            "custodianId": None,
        }
        if any(c not in org.cases for c in values["cases"]):
            raise _bad(f"item.cases: not every id is a case of organization {org.id}")
        item = self._derive(org, {**values, "statusId": CHECKED_IN}, check=check)
        self.store.sequences.next("item")
        org.sequences.next("sequentialOrgId")
        org.items.put(item_id, item)
        self.store.item_org[item_id] = org.id
        self.cases.refresh(
            org,
            case["id"],
            items=[*case["items"], item_id],
            nextItemId=str(int(case["nextItemId"]) + 1),
        )
        if item["fullLocation"] or item["locationId"]:
            self._custody_record(org, item, user_id, acting, "Check In", to_location=item)
        return item, self.append_history(org, item, CREATE, user_id, acting)

    def update(
        self, org: Organization, item_id: int, changes: Record, user_id: int
    ) -> tuple[Record, Record]:
        acting = self._user(org, user_id, "userId")
        stored = self.get(org, item_id)
        fixed = [f for f in FIXED if f in changes and changes[f] != stored[f]]
        if fixed:
            raise _bad(f"item.{fixed[0]} cannot be changed by an item edit")
        item = self._derive(org, {**stored, **changes})
        org.items.put(item_id, item)
        return item, self.append_history(org, item, UPDATE, user_id, acting)

    def move_custody(
        self, org: Organization, item_id: int, body: Record, user_id: int
    ) -> tuple[Record, Record, Record]:
        """Check out, transfer, check in or move an item; returns custody, item, history."""
        acting = self._user(org, user_id, "userId")
        item = self.get(org, item_id)
        kind = body["transactionType"]
        status = item["statusId"]
        if kind == "Check Out" and status != CHECKED_IN:
            raise _bad("Check Out: the item is already checked out")
        if kind in ("Transfer", "Check In") and status != CHECKED_OUT:
            raise _bad(f"{kind}: the item is checked in; only a checked-out item can take a {kind}")
        if kind == "Move" and status != CHECKED_IN:
            raise _bad("Move: a checked-out item is checked in, not moved")
        changes: Record = {
            "custodyReasonId": body.get("custodyReasonId", item["custodyReasonId"]),
            "custodyReason": body.get("custodyReason", item["custodyReason"]),
        }
        if kind in TO_PERSON:
            if body.get("toUserId") is None:
                raise _bad(f"{kind}: toUserId is required")
            self._user(org, body["toUserId"], "toUserId")
            changes |= {"statusId": CHECKED_OUT, "custodianId": body["toUserId"]}
            changes |= {"locationId": None, "location": None, "fullLocation": None}
        else:
            if body.get("toLocationId") is None or not body.get("toLocation"):
                raise _bad(f"{kind}: toLocationId and toLocation are required")
            changes |= {"statusId": CHECKED_IN, "custodianId": None}
            changes |= {
                "locationId": body["toLocationId"],
                "location": body["toLocation"].rsplit("/", 1)[-1],
                "fullLocation": body["toLocation"],
            }
        moved = self._derive(org, {**item, **changes})
        record = self._custody_record(
            org, item, user_id, acting, kind, to_location=moved, notes=body.get("notes")
        )
        org.items.put(item_id, moved)
        return record, moved, self.append_history(org, moved, UPDATE, user_id, acting)

    # -- records ---------------------------------------------------------------------------------

    def get(self, org: Organization, item_id: int) -> Record:
        item = org.items.get(item_id)
        if item is None:
            raise admin_error(404, f"item {item_id} does not exist")
        return item

    def append_history(
        self, org: Organization, item: Record, kind: int, user_id: int, user_name: str | None
    ) -> Record:
        """The next feed record of the organization (TR-15). ``item`` is never mutated later,
        so the record keeps the item as this change left it."""
        seq = org.sequences.next("seqOrgItemHistoryId")
        record = {
            "historyId": self.store.sequences.next("history"),
            "timeStamp": self._now(),
            "historyUserId": user_id,
            "historyUserName": user_name,
            "historyType": kind,
            "seqOrgItemHistoryId": seq,
            "item": item,
            "entity": item,
        }
        org.history.put(seq, record)
        org.history_ids[record["historyId"]] = seq
        return record

    def _custody_record(
        self,
        org: Organization,
        before: Record,
        user_id: int,
        user_name: str | None,
        kind: str,
        *,
        to_location: Record,
        notes: str | None = None,
    ) -> Record:
        checked_in = kind in TO_LOCATION
        values = {
            "id": self.store.sequences.next("custody"),
            "itemId": before["id"],
            "transactionType": kind,
            "date": self._now(),
            "fromUserId": before["custodianId"] or (user_id if checked_in else None),
            "fromUser": before["custodian"] or (user_name if checked_in else None),
            "toUserId": None if checked_in else to_location["custodianId"],
            "toUser": None if checked_in else to_location["custodian"],
            "fromLocationId": None if before is to_location else before["locationId"],
            "fromLocation": None if before is to_location else before["fullLocation"],
            "toLocationId": to_location["locationId"] if checked_in else None,
            "toLocation": to_location["fullLocation"] if checked_in else None,
            "custodyReasonId": to_location["custodyReasonId"],
            "custodyReason": to_location["custodyReason"],
            "notes": notes,
            "createdById": user_id,
            "createdBy": user_name,
            "officeId": before["currentOfficeId"],
        }
        record = self.contract.build("schemas/CustodyRecord.json", values)
        org.custody.put(record["id"], record)
        org.custody_of.setdefault(before["id"], []).append(record["id"])
        return record
