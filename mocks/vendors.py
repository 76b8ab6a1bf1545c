"""The vendors trackmock emulates, and how to build each emulator (imported on demand)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.clock import Clock
    from .core.emulator import Emulator, Provider
    from .core.settings import CoreSettings


@dataclass(frozen=True)
class Vendor:
    name: str
    title: str
    default_port: int
    provider: str
    """``module:Class`` of the vendor's provider, the module relative to this package."""

    def provider_class(self) -> type[Provider[Any]]:
        """The provider class (importing the vendor package now, not before)."""
        module, _, name = self.provider.partition(":")
        found: type[Provider[Any]] = getattr(importlib.import_module(module, __package__), name)
        return found


VENDORS: dict[str, Vendor] = {
    vendor.name: vendor
    for vendor in (
        Vendor("tracker", "Tracker Products SAFE", 8081, ".tracker.provider:TrackerProvider"),
        Vendor("trackops", "Trackops", 8082, ".trackops.provider:TrackopsProvider"),
        Vendor("track", "Safectory Track", 8083, ".track.provider:TrackProvider"),
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
    from .core.emulator import create_emulator as build

    try:
        vendor = VENDORS[name]
    except KeyError:
        raise ValueError(f"unknown vendor {name!r}; choose from {', '.join(VENDORS)}") from None
    return build(vendor.provider_class(), core, section, clock=clock, contracts=contracts_dir)
