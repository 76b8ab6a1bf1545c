"""Reports: the route (GET and POST), events and summary, the route filters, the ``Accept``
rule and the summary figures.

The Track API guide ("4.6 Reports") names ``filterSameLocation`` and ``filterFlapping``
without defining them; the definitions here are the contract's (``getRouteReport``
description, docs/vendors/track.md). The POST forms and their bodies come from the public
Java client of a Track instance (docs/vendors/sources.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import NOT_ACCEPTABLE, track_error
from .times import parse_ms

if TYPE_CHECKING:
    from .rules import Gate
    from .settings import TrackSettings
    from .store import TrackStore

Record = dict[str, Any]
JSON_RANGES = ("application/json", "application/*", "*/*")


def place(position: Record) -> tuple[Any, Any, Any]:
    """Where a position is: compared exactly, ``None`` equal to ``None``."""
    return position.get("latitude"), position.get("longitude"), position.get("beaconId")


def filter_route(
    positions: list[Record],
    *,
    same_location: bool,
    flapping: bool,
    non_beacon: bool = False,
    window_ms: int = 60_000,
) -> list[Record]:
    """Positions (ordered by fixTime) with the filters applied; see the module docstring."""
    if non_beacon:
        positions = [p for p in positions if p.get("beaconId") is not None]
    if not (same_location or flapping):
        return list(positions)
    kept: list[Record] = []
    for position in positions:
        here = place(position)
        if kept and same_location and here == place(kept[-1]):
            continue
        if (
            flapping
            and len(kept) >= 2
            and here == place(kept[-2])
            and here != place(kept[-1])
            and position["fixTime"] - kept[-1]["fixTime"] <= window_ms
        ):
            continue
        kept.append(position)
    return kept


def accepts_json(header: str | None) -> bool:
    """Whether an ``Accept`` header admits JSON (no header does)."""
    if not header or not header.strip():
        return True
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        refused = any(p.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00") for p in params)
        if media.lower() in JSON_RANGES and not refused:
            return True
    return False


def summary(device_id: int, device_name: str, positions: list[Record]) -> Record:
    """The figures of ``POST /api/reports/summary`` for one device (the schema fills the
    rest: ``engineHours`` and ``spentFuel`` are 0, the emulator tracks no engine)."""
    speeds = [float(p.get("speed") or 0) for p in positions]

    def odometer(position: Record | None) -> float:
        if position is None:
            return 0.0
        return float((position.get("attributes") or {}).get("totalDistance") or 0)

    start = odometer(positions[0] if positions else None)
    end = odometer(positions[-1] if positions else None)
    return {
        "averageSpeed": sum(speeds) / len(speeds) if speeds else 0.0,
        "beaconCount": len({p["beaconId"] for p in positions if p.get("beaconId") is not None}),
        "deviceId": device_id,
        "deviceName": device_name,
        "distance": end - start,
        "endOdometer": end,
        "maxSpeed": max(speeds, default=0.0),
        "positionCount": len(positions),
        "startOdometer": start,
    }


def span(start: str, end: str) -> tuple[int, int]:
    """A report's or a track's ``from``/``to`` in epoch ms (400 when either is no instant, or
    ``from`` is after ``to``)."""
    try:
        found = parse_ms(start), parse_ms(end)
    except ValueError as exc:
        raise track_error(400, f"Bad time: {exc}") from exc
    if found[0] > found[1]:
        raise track_error(400, f"Bad time span: from {start} is after to {end}")
    return found


def ids(value: Any) -> list[int]:
    """One id or a list of them (JSON Schema lets ``216.0`` pass as an integer)."""
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, list) else [value])]


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@dataclass
class Reports:
    """The reports of one Track emulator, for the devices a user sees.

    Args:
        gate: who sees which device.
    """

    store: TrackStore
    settings: TrackSettings
    gate: Gate

    def check_accept(self, header: str | None) -> None:
        if not accepts_json(header):
            raise track_error(406, NOT_ACCEPTABLE)

    def _selection(self, user_id: int, device_ids: list[int], options: Record) -> tuple[int, int]:
        """Check a report's devices (at least one, each visible) and span; the span in ms."""
        if not device_ids:
            raise track_error(400, "Give at least one device id")
        for device_id in device_ids:
            self.gate.check_device(user_id, device_id)
        return span(options["from"], options["to"])

    def route(self, user_id: int, device_ids: list[int], options: Record) -> list[Record]:
        """The devices' positions in the span, each device's filtered as ``options`` ask."""
        start, end = self._selection(user_id, device_ids, options)
        window = round(self.settings.flapping_window * 1000)
        route: list[Record] = []
        for device_id in dict.fromkeys(device_ids):
            route += filter_route(
                self.store.track(device_id, start, end),
                same_location=bool(options.get("filterSameLocation")),
                flapping=bool(options.get("filterFlapping")),
                non_beacon=bool(options.get("filterNonBeacon")),
                window_ms=window,
            )
        return route

    def events(self, user_id: int, body: Record) -> list[Record]:
        """The devices' events of the types asked for (all by default), by server time."""
        device_ids = ids(body.get("deviceId")) + ids(body.get("trackableId"))
        start, end = self._selection(user_id, device_ids, body)
        types = body.get("type", "allEvents")
        wanted = None if types in (None, "allEvents", "%") else set(_strings(types))
        if wanted is not None and wanted & {"allEvents", "%"}:
            wanted = None
        events = [
            event
            for device_id in dict.fromkeys(device_ids)
            for event in self.store.events_of(device_id)
            if start <= event["serverTime"] <= end and (wanted is None or event["type"] in wanted)
        ]
        events.sort(key=lambda e: (e["serverTime"], e["id"]))
        return events

    def summaries(self, user_id: int, body: Record) -> list[Record]:
        """One summary per device, over its route in the span (filtered as ``body`` asks)."""
        device_ids = list(dict.fromkeys(ids(body.get("deviceId")) + ids(body.get("trackableId"))))
        self._selection(user_id, device_ids, body)
        devices = self.store.devices
        return [
            summary(d, (devices.get(d) or {}).get("name", ""), self.route(user_id, [d], body))
            for d in device_ids
        ]
