"""The vendors trackmock emulates, and how to build each emulator (imported on demand)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.clock import Clock
    from .core.emulator import Emulator
    from .core.settings import CoreSettings


@dataclass(frozen=True)
class Vendor:
    name: str
    title: str
    default_port: int
    module: str


VENDORS: dict[str, Vendor] = {
    vendor.name: vendor
    for vendor in (
        Vendor("tracker", "Tracker Products SAFE", 8081, "trackmock.tracker"),
        Vendor("trackops", "Trackops", 8082, "trackmock.trackops"),
        Vendor("track", "Safectory Track", 8083, "trackmock.track"),
    )
}


def create_emulator(
    name: str,
    core: CoreSettings,
    section: dict[str, Any] | None = None,
    *,
    clock: Clock | None = None,
    contracts_dir: Path | None = None,
) -> Emulator:
    """Build the emulator of vendor ``name`` from core settings and its settings section.

    ``contracts_dir`` replaces the packaged contracts (a folder holding ``<vendor>/openapi.yaml``).
    """
    try:
        vendor = VENDORS[name]
    except KeyError:
        raise ValueError(f"unknown vendor {name!r}; choose from {', '.join(VENDORS)}") from None
    module = importlib.import_module(vendor.module)
    emulator: Emulator = module.create_emulator(
        core, section or {}, clock=clock, contracts_dir=contracts_dir
    )
    return emulator
