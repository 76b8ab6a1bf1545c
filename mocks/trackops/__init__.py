"""The Trackops emulator: TLS only, basic auth per account, 1 request per second, 32 paged
collections driven by ``contracts/trackops/openapi.yaml``.

``create_emulator`` builds it; nothing is built at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.clock import Clock
    from ..core.emulator import Emulator
    from ..core.settings import CoreSettings

__all__ = ["create_emulator"]

SERVICE_NAME = "trackops"
"""The host name other containers use in Docker Compose (the default account)."""


def create_emulator(
    core: CoreSettings,
    section: dict[str, Any],
    *,
    clock: Clock | None = None,
    contracts_dir: Path | None = None,
) -> Emulator:
    """The Trackops emulator from core settings and the ``trackops:`` settings section.

    It serves HTTPS, unless ``plain_http`` is set, with the user's certificate (core
    ``tls_cert``) or one from a test CA kept in ``tls_dir`` (reused across restarts), else made
    now in a temporary folder.
    """
    from ..core.emulator import Emulator
    from ..core.paths import contracts_dir as packaged_contracts
    from ..core.settings import from_mapping
    from ..core.tls import DEFAULT_NAMES, make_server_tls
    from .provider import TrackopsProvider
    from .settings import TrackopsSettings

    settings = from_mapping(TrackopsSettings, section, "settings.trackops")
    folder = (contracts_dir or packaged_contracts()) / "trackops"
    emulator = Emulator(TrackopsProvider, folder / "openapi.yaml", core, settings, clock=clock)
    if not settings.plain_http:
        # Clients refuse a ``*.localhost`` wildcard, so every account's host is named.
        hosts = [
            f"{account.subdomain}.{domain}"
            for account in emulator.provider.fixtures.accounts
            for domain in ("localhost", "viewcases.com")
        ]
        emulator.tls = make_server_tls(
            Path(settings.tls_dir) if settings.tls_dir else None,
            (*DEFAULT_NAMES, *hosts, SERVICE_NAME),
            cert_file=Path(core.tls_cert) if core.tls_cert else None,
            key_file=Path(core.tls_key) if core.tls_key else None,
            ca_file=Path(core.tls_ca) if core.tls_ca else None,
            label="trackops TLS",
        )
        emulator.ca_cert = str(emulator.tls.ca_cert) if emulator.tls.ca_cert else None
    return emulator
