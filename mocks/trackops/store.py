"""Trackops' state: one ``Account`` per subdomain, each with its users and 32 record tables.

Stored records are never changed in place: an update stores a new dict, so the same fixture
records can be shared by every reset (``initial_state.py`` fills the tables).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson

from ..core.snapshot import BOOL, INT, RECORD, STR, Field, ListOf, MapOf, TablesOf
from ..core.state_tables import StateTable
from ..core.store import Record, Store, Table, Tenant
from .catalog import Catalog, RecordType

Lookups = dict[str, list[dict[str, Any]]]


@dataclass
class AccountConfig:
    """One account as ``fixtures/trackops/accounts.json`` declares it."""

    subdomain: str
    name: str
    api_access_enabled: bool
    api_token: str
    load_fixtures: bool


class Account(Tenant):
    """One account (``{subdomain}.viewcases.com``): its API switch, token, users and records."""

    def __init__(self, config: AccountConfig, tables: dict[str, Table[int]]) -> None:
        super().__init__(config.subdomain)
        self.subdomain = config.subdomain
        self.name = config.name
        self.api_access_enabled = config.api_access_enabled
        self.api_token = config.api_token
        self.tables = tables
        self.lookups: Lookups = {}
        self.users: dict[str, dict[str, Any]] = {}

    def table(self, collection: str) -> Table[int]:
        return self.tables[collection]

    def get(self, collection: str, key: int) -> Record | None:
        return self.tables[collection].get(key)

    def exists(self, relation: str, key: int) -> bool:
        """Whether ``key`` names a record of ``relation`` (a store, or ``lookups.<key>``)."""
        if relation.startswith("lookups."):
            return any(item["id"] == key for item in self.lookups.get(relation[8:], []))
        return key in self.tables[relation]

    def lookup(self, name: str, key: int) -> dict[str, Any] | None:
        return next((item for item in self.lookups.get(name, []) if item["id"] == key), None)

    def load(self, collection: str, records: list[Record]) -> None:
        table = self.tables[collection]
        for record in records:
            table.put(record["id"], record)
        if records:
            self.sequences.skip_past(collection, records[-1]["id"])

    def next_id(self, collection: str) -> int:
        return self.sequences.next(collection)

    def put(self, collection: str, record: Record) -> Record:
        return self.tables[collection].put(record["id"], record)


def encoder(record_type: RecordType, shape: Callable[[Any], Any]) -> Callable[[Record], bytes]:
    """How a table encodes its records: shaped by the schema, expanded fields left null."""
    hidden = {name: None for name in record_type.expands}

    def encode(record: Record) -> bytes:
        return orjson.dumps(shape({**record, **hidden} if hidden else record))

    return encode


class TrackopsStore(Store[Account]):
    """Every account of one emulator (the configured ones; ``account`` never makes one)."""

    def __init__(
        self,
        accounts: list[AccountConfig],
        catalog: Catalog,
        shapes: dict[str, Callable[[Any], Any]],
    ) -> None:
        self.configs = {config.subdomain: config for config in accounts}
        self.catalog = catalog
        self._encoders = {
            name: encoder(record_type, shapes[name])
            for name, record_type in catalog.records.items()
        }
        super().__init__(self._new_account)

    def _new_account(self, key: Hashable) -> Account:
        tables: dict[str, Table[int]] = {
            name: Table(self._encoders[name]) for name in self.catalog.records
        }
        return Account(self.configs[str(key)], tables)

    def tenant_fields(self) -> list[Field]:
        """An account's state in a snapshot: its switch, token, users, lookups and every
        collection's records as stored (accounts come from the fixtures: a snapshot names
        only those)."""
        return [
            Field("name", STR),
            Field("api_access_enabled", BOOL),
            Field("api_token", STR),
            # Users (API logins) and lookups come from the account's fixture files, not from
            # the API's record schemas: checked as objects only.
            Field("users", MapOf(STR, RECORD)),
            Field("lookups", MapOf(STR, ListOf(RECORD))),
            Field(
                "tables",
                TablesOf(
                    tuple(self.catalog.records),
                    INT,
                    {name: kind.schema for name, kind in self.catalog.records.items()},
                ),
            ),
        ]

    def account(self, subdomain: str) -> Account | None:
        """The account of ``subdomain``, or None when there is none."""
        if not self.has_tenant(subdomain):
            return None
        return self.tenant(subdomain)

    def state_tables(self) -> list[StateTable]:
        """Every account's collections, as the control API pages through them."""
        return [
            StateTable(
                f"{account.subdomain}.{name}",
                record_type.title,
                f"Account {account.subdomain}",
                account.table(name),
            )
            for account in sorted(self.tenants(), key=lambda account: account.subdomain)
            for name, record_type in sorted(self.catalog.records.items())
        ]
