"""The Safectory Track emulator: REST and the WebSocket feed on one port, control actions.

``create_emulator`` builds it; nothing is built at import (the provider loads on demand).
"""

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
    section: dict[str, Any],
    *,
    clock: Clock | None = None,
    contracts_dir: Path | None = None,
) -> Emulator:
    """The Track emulator from core settings and the ``track:`` settings section."""
    from trackmock.core.emulator import Emulator
    from trackmock.core.paths import contracts_dir as packaged_contracts
    from trackmock.core.settings import from_mapping

    from .provider import TrackProvider
    from .settings import TrackSettings

    settings = from_mapping(TrackSettings, section, "settings.track")
    folder = (contracts_dir or packaged_contracts()) / "track"
    return Emulator(TrackProvider, folder / "openapi.yaml", core, settings, clock=clock)
