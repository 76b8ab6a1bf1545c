"""Trackops' settings: every number of its rules and every choice the documents leave open.

Read from the ``trackops:`` section of a settings file with ``core.settings.from_mapping``.
Defaults reproduce the vendor documents (the Trackops API overview);
``docs/vendors/trackops.md`` explains each inferred choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.settings import SettingsError

CONTRACT_MAX_PER_PAGE = 100
"""The contract's ``per_page`` maximum (Trackops API overview: 100 records a page)."""


@dataclass(frozen=True)
class TrackopsSettings:
    """The Trackops emulator's rules and inferred choices."""

    plain_http: bool = False
    """Serve plain HTTP instead of TLS, for tools that cannot trust a test CA (the real API is
    TLS-only, TO-01). ``trackmock serve --trackops-plain-http`` sets it."""
    tls_dir: str | None = None
    """Folder where the test CA and server certificate are kept: reused at the next start while
    usable (else made anew, and a log line says why), so clients keep trusting the same CA.
    A temporary folder at each start if unset; Docker Compose mounts ``/srv/tls``."""

    rate_limit: int | None = 1
    """Requests allowed per credential in ``rate_period`` seconds (Trackops API overview: 1
    per second); None turns the limit off."""
    rate_period: float = 1.0
    """The window of ``rate_limit``, in seconds of the emulator clock."""

    max_per_page: int = CONTRACT_MAX_PER_PAGE
    """Records in a page when ``per_page`` is not given, and the largest ``per_page`` allowed
    (1..100; the contract caps it at 100)."""

    download_url_ttl: float = 900.0
    """Seconds a file record's ``download_url`` works after it was issued (15 minutes)."""
    download_max_bytes: int = 65536
    """The placeholder bytes a download answers are cut to this size."""
    link_key: Literal["random", "seed"] = "random"
    """What signs download links: a random key made at start (links cannot be forged), or a
    key derived from the core ``seed`` (the same links on every run; anyone who knows the
    seed can forge them)."""

    default_subdomain: str | None = None
    """The account of a Host without a subdomain (a bare IP or ``localhost``); None keeps the
    fixtures' ``default_subdomain`` (``mycompany``)."""

    volume: int = 0
    """Extra generated records (seeded by the core ``seed``, consistent with the fixtures)
    loaded at reset into the account holding the fixtures; scales to 100 000 for benchmarks."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_per_page <= CONTRACT_MAX_PER_PAGE:
            raise SettingsError(
                f"settings.trackops.max_per_page: must be 1..{CONTRACT_MAX_PER_PAGE}"
            )
        if self.rate_limit is not None and self.rate_limit < 1:
            raise SettingsError("settings.trackops.rate_limit: must be >= 1, or null for none")
        if self.rate_period <= 0:
            raise SettingsError("settings.trackops.rate_period: must be above 0")
        if self.download_url_ttl <= 0:
            raise SettingsError("settings.trackops.download_url_ttl: must be above 0")
        if self.volume < 0 or self.download_max_bytes < 0:
            raise SettingsError("settings.trackops: volume and download_max_bytes must be >= 0")
