"""The Tracker Products SAFE emulator (seeds 000 and 004): ``create_emulator`` builds it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trackmock.core.clock import Clock
    from trackmock.core.emulator import Emulator
    from trackmock.core.settings import CoreSettings

__all__ = ["create_emulator"]


def create_emulator(
    core: CoreSettings,
    section: dict[str, Any] | None,
    *,
    clock: Clock | None = None,
    contracts_dir: Path | None = None,
) -> Emulator:
    """The Tracker emulator, with its ``tracker:`` settings section (see ``TrackerSettings``)."""
    from trackmock.core.emulator import Emulator
    from trackmock.core.paths import contracts_dir as packaged_contracts
    from trackmock.core.settings import from_mapping

    from .provider import TrackerProvider
    from .settings import TrackerSettings

    settings = from_mapping(TrackerSettings, section, "settings.tracker")
    folder = (contracts_dir or packaged_contracts()) / "tracker"
    return Emulator(TrackerProvider, folder / "openapi.yaml", core, settings, clock=clock)
