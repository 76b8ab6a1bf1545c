"""Track's state: users, web sessions, devices, beacons, positions, events, and who sees what.

One store per emulator (Track's data is shared between users through permissions, so it is
not split by tenant). Indexes keep the hot reads flat however many records there are: each
device's latest position, each device's positions ordered by ``fixTime`` (route reports),
each user's visible ids and each record's viewers (socket pushes), unique ids, emails.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.snapshot import (
    INT,
    NUMBER,
    SEQUENCES,
    STR,
    Field,
    Fields,
    ListOf,
    MapOf,
    Snapshotted,
    TableOf,
    TupleOf,
)
from ..core.state_tables import StateTable
from ..core.store import Sequences, Table

if TYPE_CHECKING:
    from .records import Kinds, Record


@dataclass
class WebSession:
    """A login: the ``JSESSIONID`` cookie's session, ended by inactivity (SF-09) or logout."""

    id: str
    user_id: int
    last_seen: float
    expired_at: float | None = None
    """Set when the control API ends the session as if it had timed out."""
    logged_out: bool = False

    def ends_at(self, timeout: float) -> float | None:
        """When the session times out (None: it was logged out, so it never times out)."""
        if self.logged_out:
            return None
        if self.expired_at is not None:
            return self.expired_at
        return self.last_seen + timeout

    def valid(self, now: float, timeout: float) -> bool:
        ends = self.ends_at(timeout)
        return ends is not None and now < ends


IDS_OF = MapOf(INT, ListOf(INT))
VIEWERS = MapOf(INT, ListOf(INT, set))
STATE = [
    Field("sequences", SEQUENCES),
    Field("users", TableOf(INT, record="User")),
    Field("devices", TableOf(INT, record="Device")),
    Field("beacons", TableOf(INT, record="Beacon")),
    Field("positions", TableOf(INT, record="Position")),
    Field("events", TableOf(INT, record="Event")),
    Field("passwords", MapOf(INT, STR)),
    Field("emails", MapOf(STR, INT)),
    Field("sessions", MapOf(STR, Fields.of(WebSession), secret_keys=True)),
    Field("unique_ids", MapOf(STR, INT)),
    Field("user_devices", IDS_OF),
    Field("user_beacons", IDS_OF),
    Field("device_viewers", VIEWERS),
    Field("beacon_viewers", VIEWERS),
    Field("latest", MapOf(INT, INT)),
    Field("tracks", MapOf(INT, ListOf(TupleOf((NUMBER, INT))))),
    Field("device_events", IDS_OF),
]
"""Track's state in a snapshot: every table, index, password and web session as stored."""


class TrackStore(Snapshotted):
    """Everything the Track emulator knows; every change takes ``lock``."""

    def __init__(self, kinds: Kinds) -> None:
        self.lock = threading.RLock()
        self.sequences = Sequences()
        self.users: Table[int] = Table(kinds.user.encode)
        self.devices: Table[int] = Table(kinds.device.encode)
        self.beacons: Table[int] = Table(kinds.beacon.encode)
        self.positions: Table[int] = Table(kinds.position.encode)
        self.events: Table[int] = Table(kinds.event.encode)
        self.passwords: dict[int, str] = {}
        self.emails: dict[str, int] = {}
        self.sessions: dict[str, WebSession] = {}
        self.unique_ids: dict[str, int] = {}
        self.user_devices: dict[int, list[int]] = {}
        self.user_beacons: dict[int, list[int]] = {}
        self.device_viewers: dict[int, set[int]] = {}
        self.beacon_viewers: dict[int, set[int]] = {}
        self.latest: dict[int, int] = {}
        """device id → id of its latest position."""
        self.tracks: dict[int, list[tuple[int, int]]] = {}
        """device id → (fixTime ms, position id), sorted."""
        self.device_events: dict[int, list[int]] = {}

    def reset(self) -> None:
        """Empty: no records, sessions or permissions, every sequence back at its start."""
        with self.lock:
            self.sequences.reset()
            for table in (self.users, self.devices, self.beacons, self.positions, self.events):
                table.clear()
            for index in (
                self.passwords,
                self.emails,
                self.sessions,
                self.unique_ids,
                self.user_devices,
                self.user_beacons,
                self.device_viewers,
                self.beacon_viewers,
                self.latest,
                self.tracks,
                self.device_events,
            ):
                index.clear()

    def snapshot_fields(self) -> list[Field]:
        return STATE

    def state_tables(self) -> list[StateTable]:
        """The tables the control API pages through (positions and events newest first)."""
        return [
            StateTable("devices", "Devices", "", self.devices),
            StateTable("beacons", "Beacons", "", self.beacons),
            StateTable("positions", "Positions", "", self.positions, newest_first=True),
            StateTable("events", "Events", "", self.events, newest_first=True),
            StateTable("users", "Users", "", self.users),
        ]

    # -- users and permissions -----------------------------------------------------------

    def put_user(self, record: Record, password: str) -> None:
        with self.lock:
            self.users.put(record["id"], record)
            self.passwords[record["id"]] = password
            self.emails[record["email"].lower()] = record["id"]
            self.user_devices.setdefault(record["id"], [])
            self.user_beacons.setdefault(record["id"], [])
            self.sequences.skip_past("user", record["id"])

    def user_by_email(self, email: str) -> Record | None:
        user_id = self.emails.get(email.lower())
        return None if user_id is None else self.users.get(user_id)

    def grant(self, user_id: int, device_ids: list[int], beacon_ids: list[int]) -> None:
        """Let ``user_id`` see these devices (and their positions) and beacons."""
        with self.lock:
            for device_id in device_ids:
                _link(self.user_devices, self.device_viewers, user_id, device_id)
            for beacon_id in beacon_ids:
                _link(self.user_beacons, self.beacon_viewers, user_id, beacon_id)

    def sees_device(self, user_id: int, device_id: int) -> bool:
        return user_id in self.device_viewers.get(device_id, ())

    def sees_beacon(self, user_id: int, beacon_id: int) -> bool:
        return user_id in self.beacon_viewers.get(beacon_id, ())

    # -- devices and beacons ---------------------------------------------------------------

    def put_device(self, record: Record) -> None:
        with self.lock:
            old = self.devices.get(record["id"])
            if old is not None and self.unique_ids.get(old["uniqueId"]) == record["id"]:
                del self.unique_ids[old["uniqueId"]]
            self.devices.put(record["id"], record)
            self.unique_ids[record["uniqueId"]] = record["id"]
            self.device_viewers.setdefault(record["id"], set())
            # The device's positionId is the one truth of which position is its latest.
            if record.get("positionId") is None:
                self.latest.pop(record["id"], None)
            else:
                self.latest[record["id"]] = record["positionId"]
            self.sequences.skip_past("device", record["id"])

    def put_beacon(self, record: Record) -> None:
        with self.lock:
            self.beacons.put(record["id"], record)
            self.beacon_viewers.setdefault(record["id"], set())
            self.sequences.skip_past("beacon", record["id"])

    # -- positions ---------------------------------------------------------------------------

    def add_position(self, record: Record) -> None:
        """Store a position (the caller makes it its device's latest through ``positionId``)."""
        with self.lock:
            position_id, device_id, fix = record["id"], record["deviceId"], record["fixTime"]
            self.positions.put(position_id, record)
            bisect.insort(self.tracks.setdefault(device_id, []), (fix, position_id))
            self.sequences.skip_past("position", position_id)

    def latest_position(self, device_id: int) -> Record | None:
        position_id = self.latest.get(device_id)
        return None if position_id is None else self.positions.get(position_id)

    def track(self, device_id: int, start_ms: int, end_ms: int) -> list[Record]:
        """A device's positions with ``fixTime`` in [start, end], by fixTime then id."""
        points = self.tracks.get(device_id, [])
        low = bisect.bisect_left(points, (start_ms, -1))
        high = bisect.bisect_right(points, (end_ms, float("inf")))
        return _rows(self.positions, [position_id for _, position_id in points[low:high]])

    # -- events ------------------------------------------------------------------------------

    def add_event(self, record: Record) -> None:
        with self.lock:
            self.events.put(record["id"], record)
            self.device_events.setdefault(record["deviceId"], []).append(record["id"])
            self.sequences.skip_past("event", record["id"])

    def events_of(self, device_id: int) -> list[Record]:
        return _rows(self.events, self.device_events.get(device_id, []))


def _rows(table: Table[int], ids: list[int]) -> list[Record]:
    return [record for record in map(table.get, ids) if record is not None]


def _link(
    owned: dict[int, list[int]], viewers: dict[int, set[int]], user_id: int, record_id: int
) -> None:
    ids = owned.setdefault(user_id, [])
    index = bisect.bisect_left(ids, record_id)
    if index == len(ids) or ids[index] != record_id:
        ids.insert(index, record_id)
    viewers.setdefault(record_id, set()).add(user_id)
