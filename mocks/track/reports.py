"""Report rules: the route filters, the ``Accept`` rule and the summary figures.

The seed names ``filterSameLocation`` and ``filterFlapping`` without defining them; the
definitions here are the contract's (``getRouteReport`` description, docs/vendors/track.md).
"""

from __future__ import annotations

from typing import Any

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
