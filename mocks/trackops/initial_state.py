"""The starting state: the fixture files (``fixtures/trackops/``: accounts, users, lookups and
the records of each store) and the generated volume.

The fixture files are read, and shaped by their schemas, once per emulator; a reset rebuilds
every account from them. The volume generator (``fixtures/trackops/generate.py``) imports
Faker, so it is imported only when a volume is asked for, and its records are made once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.contracts import read_document
from ..core.store import Record
from .catalog import Catalog, RecordType
from .store import AccountConfig, Lookups, TrackopsStore

Shapes = dict[str, Callable[[Any], Any]]


@dataclass
class FixtureFiles:
    """The fixture files, read once: accounts, users, lookups and records per store."""

    default_subdomain: str
    accounts: list[AccountConfig]
    users: list[dict[str, Any]]
    lookups: Lookups
    records: dict[str, list[Record]] = field(default_factory=dict)

    @classmethod
    def read(
        cls, folder: Path, catalog: Catalog, shape: Callable[[RecordType, Any], Record]
    ) -> FixtureFiles:
        accounts = read_document(folder / "accounts.json")
        found = cls(
            default_subdomain=accounts["default_subdomain"],
            accounts=[AccountConfig(**item) for item in accounts["accounts"]],
            users=accounts["users"],
            lookups=read_document(folder / "lookups.json"),
        )
        for collection, record_type in catalog.records.items():
            path = folder / f"{collection}.json"
            rows = read_document(path) if path.is_file() else []
            found.records[collection] = sorted(
                (shape(record_type, row) for row in rows), key=lambda row: row["id"]
            )
        return found


def load_initial_state(
    store: TrackopsStore, files: FixtureFiles, volume: dict[str, list[Record]]
) -> None:
    """Make every configured account in the (just reset) store; those that load the fixtures
    also get ``volume`` (generated records that point at fixture records)."""
    for config in files.accounts:
        account = store.tenant(config.subdomain)
        account.users = {
            user["username"]: copy.deepcopy(user)
            for user in files.users
            if user["subdomain"] == config.subdomain
        }
        if config.load_fixtures:
            account.lookups = copy.deepcopy(files.lookups)
            for collection, records in files.records.items():
                account.load(collection, records)
            for collection, records in volume.items():
                account.load(collection, records)


def generate_volume(
    files: FixtureFiles, count: int, *, seed: int, end: float, shapes: Shapes
) -> dict[str, list[Record]]:
    """``count`` generated records (seeded), consistent with the fixture records, shaped."""
    from ..fixtures.trackops.generate import generate

    made = generate(count, seed=seed, fixture_records=files.records, lookups=files.lookups, end=end)
    return {name: [shapes[name](row) for row in rows] for name, rows in made.items()}
