"""The starting state: the fixture files (``fixtures/track/``: the Track API guide's users,
devices, beacons and positions, and who sees what) and the generated volume.

The volume generator (``fixtures/track/generate.py``) is imported only when a volume is asked
for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .records import Kinds, Record
from .times import to_ms

if TYPE_CHECKING:
    from .settings import TrackSettings
    from .store import TrackStore


def fixture_rows(folder: Path, name: str) -> list[Record]:
    """The records of one fixture file (``users``, ``devices`` ...)."""
    rows: list[Record] = orjson.loads((folder / f"{name}.json").read_bytes())
    return rows


def load_initial_state(store: TrackStore, kinds: Kinds, folder: Path) -> None:
    """Fill the (just reset) store from the fixture files in ``folder``."""
    for user in fixture_rows(folder, "users"):
        store.put_user(kinds.user.build(user), user["password"])
    # A device's ``positionId`` names its latest position (see TrackStore.put_device).
    for position in fixture_rows(folder, "positions"):
        store.add_position(kinds.position.build(position))
    for device in fixture_rows(folder, "devices"):
        store.put_device(kinds.device.build(device))
    for beacon in fixture_rows(folder, "beacons"):
        store.put_beacon(kinds.beacon.build(beacon))
    for permission in fixture_rows(folder, "permissions"):
        store.grant(permission["userId"], permission["deviceIds"], permission["beaconIds"])


def load_volume(
    store: TrackStore, kinds: Kinds, settings: TrackSettings, *, seed: int, now: float
) -> None:
    """Add ``settings.volume`` generated positions on generated devices and beacons, seen by
    ``settings.volume_user_id``."""
    from ..fixtures.track.generate import generate

    made = generate(
        seed,
        positions=settings.volume,
        devices=settings.volume_devices,
        first_device_id=store.sequences.peek("device"),
        first_beacon_id=store.sequences.peek("beacon"),
        first_position_id=store.sequences.peek("position"),
        end_ms=to_ms(now),
    )
    for position in made["positions"]:
        store.add_position(kinds.position.build(position))
    for device in made["devices"]:
        store.put_device(kinds.device.build(device))
    for beacon in made["beacons"]:
        store.put_beacon(kinds.beacon.build(beacon))
    store.grant(
        settings.volume_user_id,
        [d["id"] for d in made["devices"]],
        [b["id"] for b in made["beacons"]],
    )
