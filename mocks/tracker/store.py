"""Tracker's state, declared once: one ``Organization`` per organization id, plus what is global.

Everything an API call reads lives in its organization (the ``OrganizationId`` header picks
it). Global are the static tokens, the accounts' polling state, the e-mail index of users
(unique across the whole system) and which organization owns each case and item id, so
control actions can find a record by id alone.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson

from ..core.contracts import Contract
from ..core.snapshot import (
    INT,
    NUMBER,
    RECORD,
    STR,
    Field,
    Fields,
    ListOf,
    MapOf,
    TableOf,
)
from ..core.snapshot import Record as RecordOf
from ..core.state_tables import StateTable, newest
from ..core.store import Record, Store, Table, Tenant


@dataclass
class Codecs:
    """Encoders of stored records into the exact bytes a hot GET answers. Each compiles its
    record shape on its first record (``Contract.shape`` keeps it), not at start-up: a table
    encodes a record when it is first read."""

    case: Callable[[Record], bytes]
    item: Callable[[Record], bytes]
    feed: Callable[[Record], bytes]
    custody: Callable[[Record], bytes]
    tag: Callable[[Record], bytes]
    user: Callable[[Record], bytes]
    person: Callable[[Record], bytes]

    @classmethod
    def from_contract(cls, contract: Contract, case_view: Callable[[Record], Record]) -> Codecs:
        def encoder(ref: str, view: Callable[[Record], Any] = lambda r: r) -> Any:
            location = contract.schema_uri(ref)
            return lambda record: orjson.dumps(contract.shape(location).shape(view(record)))

        return cls(
            case=encoder("schemas/Case.json", case_view),
            item=encoder("schemas/Item.json"),
            # The feed answers one record wrapped as {historyType, item: [record]}.
            feed=encoder("schemas/ItemHistoryFeed.json", feed_view),
            custody=encoder("schemas/CustodyRecord.json"),
            tag=encoder("schemas/Tag.json"),
            user=encoder("schemas/User.json"),
            person=encoder("schemas/Person.json"),
        )


CREATE, UPDATE = 1, 2
"""``historyType`` numbers of a history record (inferred; the feed answers the names)."""
HISTORY_TYPES = {CREATE: "Create", UPDATE: "Update"}


def feed_view(record: Record) -> Record:
    return {"historyType": HISTORY_TYPES[record["historyType"]], "item": [record]}


class Organization(Tenant):
    """One organization's data (its id is the tenant key)."""

    def __init__(self, key: Hashable, codecs: Codecs) -> None:
        super().__init__(key)
        self.record: Record = {}
        """The Organization record: name, license pool, offense types, auto disposition."""
        self.offices: dict[int, Record] = {}
        self.users: Table[int] = Table(codecs.user)
        self.groups: list[Record] = []
        self.access_groups: dict[int, list[Record]] = {}
        """Auto-disposition permission groups by access type (1 List, 3 Update, 4 Create)."""
        self.permission_groups: dict[str, list[int]] = {}
        """The three arrays of the last settings PUT."""
        self.settings: dict[int, Record] = {}
        """Real auto-disposition settings by offense type id (types without are absent)."""
        self.forms: dict[int, Record] = {}
        self.form_lists: dict[str, bytes] = {}
        """``GET /api/forms`` answers by formType (forms never change through the API)."""
        self.tags: Table[int] = Table(codecs.tag)
        self.cases: Table[int] = Table(codecs.case)
        self.case_numbers: dict[str, int] = {}
        self.case_history: dict[int, list[Record]] = {}
        self.case_people: dict[int, list[Record]] = {}
        """CasePerson links of each case, without the embedded person (read fresh)."""
        self.people: Table[int] = Table(codecs.person)
        self.items: Table[int] = Table(codecs.item)
        self.history: Table[int] = Table(codecs.feed)
        """Item history records by SeqOrgItemHistoryID: the feed, O(1) by number."""
        self.history_ids: dict[int, int] = {}
        """historyId → SeqOrgItemHistoryID (to name a nested id when one is misused)."""
        self.custody: Table[int] = Table(codecs.custody)
        self.custody_of: dict[int, list[int]] = {}
        """Item id → its custody record ids, oldest first."""
        self.license_holders: dict[int, float] = {}
        """User id → last call, for users drawing on the pool."""

    @property
    def id(self) -> int:
        return int(self.key)  # type: ignore[call-overload]

    @property
    def auto_disposition(self) -> Record:
        return self.record["autoDisposition"]  # type: ignore[no-any-return]

    def user_name(self, user_id: int | None) -> str | None:
        user = None if user_id is None else self.users.get(user_id)
        return None if user is None else f"{user['firstName']} {user['lastName']}"

    def state_tables(self) -> list[StateTable]:
        """This organization's tables as the control API pages through them."""
        group = f"Organization {self.id}"
        name = f"org{self.id}."
        return [
            StateTable(name + "cases", "Cases", group, self.cases),
            StateTable(name + "items", "Items", group, self.items, related=self.item_related),
            StateTable(name + "history", "Item history feed", group, self.history, True),
            StateTable(name + "custody", "Chain of custody", group, self.custody, True),
            StateTable(name + "people", "People", group, self.people),
            StateTable(name + "users", "Users", group, self.users),
            StateTable(name + "tags", "Tags", group, self.tags),
        ]

    def item_related(self, item_id: int) -> dict[str, list[bytes]]:
        """An item's feed records (newest first) and its custody records (oldest first)."""
        return {
            "History feed": newest(self.history, lambda record: record["item"]["id"] == item_id),
            "Chain of custody": [self.custody.encoded(i) for i in self.custody_of.get(item_id, [])],
        }


@dataclass
class Account:
    """One static token's standing under the polling rule."""

    token: Annotated[Record, RecordOf("StaticToken")]
    violations: deque[float] = field(default_factory=deque)
    last_get: OrderedDict[str, float] = field(default_factory=OrderedDict)
    """Each GET (path and query) → when this token last sent it, oldest first."""


IDS_BY_ID = MapOf(INT, INT)

ORGANIZATION_STATE = [
    Field("record", RecordOf("Organization")),
    Field("offices", MapOf(INT, RecordOf("Office"))),
    Field("users", TableOf(INT, record="User")),
    Field("groups", ListOf(RecordOf("Group"))),
    Field("access_groups", MapOf(INT, ListOf(RecordOf("IdText")))),
    Field("permission_groups", MapOf(STR, ListOf(INT))),
    Field("settings", MapOf(INT, RecordOf("AutoDispositionSetting"))),
    Field("forms", MapOf(INT, RecordOf("Form"))),
    Field("tags", TableOf(INT, record="Tag")),
    Field("cases", TableOf(INT, record="Case")),
    Field("case_numbers", MapOf(STR, INT)),
    # History entries and person links are the emulator's own records (the API answers a
    # count of the first, the second joined with its person): no contract schema is theirs.
    Field("case_history", MapOf(INT, ListOf(RECORD))),
    Field("case_people", MapOf(INT, ListOf(RECORD))),
    Field("people", TableOf(INT, record="Person")),
    Field("items", TableOf(INT, record="Item")),
    Field("history", TableOf(INT, record="ItemHistory")),
    Field("history_ids", IDS_BY_ID),
    Field("custody", TableOf(INT, record="CustodyRecord")),
    Field("custody_of", MapOf(INT, ListOf(INT))),
    Field("license_holders", MapOf(INT, NUMBER)),
]
"""An organization's state in a snapshot: every table and index as stored (``form_lists``
is made from ``forms``)."""

STORE_STATE = [
    Field("accounts", MapOf(STR, Fields.of(Account), secret_keys=True)),
    Field("disabled_users", ListOf(INT, set)),
    Field("emails", MapOf(STR, INT)),
    Field("case_org", IDS_BY_ID),
    Field("item_org", IDS_BY_ID),
]
"""What spans organizations in a snapshot: tokens with their polling-rule standing, disabled
accounts, and the indexes."""


class TrackerStore(Store[Organization]):
    """Organizations, and the state that spans them."""

    tenant_key = INT

    def __init__(self, codecs: Codecs) -> None:
        super().__init__(lambda key: Organization(key, codecs))
        self.accounts: dict[str, Account] = {}
        self.disabled_users: set[int] = set()
        self.emails: dict[str, int] = {}
        """Lower-cased user e-mail → user id, across every organization."""
        self.case_org: dict[int, int] = {}
        self.item_org: dict[int, int] = {}

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.accounts.clear()
            self.disabled_users.clear()
            self.emails.clear()
            self.case_org.clear()
            self.item_org.clear()

    def state_fields(self) -> list[Field]:
        return STORE_STATE

    def tenant_fields(self) -> list[Field]:
        return ORGANIZATION_STATE

    def organization(self, org_id: int) -> Organization | None:
        """The organization if it exists (never makes one)."""
        return self.tenant(org_id) if self.has_tenant(org_id) else None

    def state_tables(self) -> list[StateTable]:
        orgs = sorted(self.tenants(), key=lambda org: org.id)
        return [table for org in orgs for table in org.state_tables()]
