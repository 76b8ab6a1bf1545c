"""Helpers of the dashboard tests: emulators served together as ``trackmock serve`` serves
them, and a real headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trackmock.core.emulator import Emulator, link_siblings
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import split_settings
from trackmock.pytest_plugin import TEST_CLOCK_START, EmulatorHandle
from trackmock.vendors import VENDORS, create_emulator

from ..tracker import helpers as tracker_api

CHROMIUM = os.environ.get("TRACKMOCK_CHROMIUM", "/usr/bin/chromium")
REQUIRED = "TRACKMOCK_BROWSER_TESTS"
"""Set to ``required`` (``.ci/run`` does) to fail, not skip, when the browser is missing."""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
HAR = Path(__file__).resolve().parents[2] / "fixtures/drift/captures/tracker-v99-getByNumber.har"
"""A capture of Tracker's v99 answer: breaking drift against the v100 contract served."""
LYNKEY = 44969282
"""A device the Track API guide's account user sees (fixtures/track)."""
BEACON = 3921
WAIT_MS = 15_000
"""How long a page may take to show what a test waits for (a hang guard, not a timing)."""
SETTINGS: dict[str, Any] = {
    "clock_frozen": True,
    "clock_start": TEST_CLOCK_START,
    "check_responses": True,
    "trackops": {"rate_limit": 1000},
}
"""As the pytest plugin's emulators, with Trackops' throttle relaxed (the page polls); a test
that shows the 429 rule starts its own."""


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set TRACKMOCK_CHROMIUM)"
    return None


@dataclass
class Served:
    """Emulators served by one runner, each knowing the others (as ``trackmock serve`` does)."""

    emulators: dict[str, Emulator]
    runner: BackgroundRunner
    handles: dict[str, EmulatorHandle] = field(default_factory=dict)

    def __post_init__(self) -> None:
        token = self.emulators[next(iter(self.emulators))].settings.admin_token
        self.handles = {
            name: EmulatorHandle(name, emulator.describe(), admin_token=token)
            for name, emulator in self.emulators.items()
        }

    def __getitem__(self, vendor: str) -> EmulatorHandle:
        return self.handles[vendor]

    def page_url(self, vendor: str, view: str = "overview") -> str:
        return f"{self.handles[vendor].url}/__admin/ui/#{view}"

    def check(self) -> None:
        for handle in self.handles.values():
            handle.check()


@contextmanager
def serve(vendors: tuple[str, ...] = tuple(VENDORS), **extra: Any) -> Iterator[Served]:
    """The given emulators on 127.0.0.1 at free ports, with ``SETTINGS`` and ``extra``."""
    settings = {**SETTINGS, **extra}
    core, sections = split_settings(settings, VENDORS)
    emulators = {name: create_emulator(name, core, sections[name]) for name in vendors}
    link_siblings(list(emulators.values()))
    listeners = [Listener(e, tls=e.tls.context if e.tls else None) for e in emulators.values()]
    with BackgroundRunner(listeners) as runner:
        yield Served(emulators, runner)


def outside(url: str) -> bool:
    """Whether a request the page made went anywhere but this machine's loopback."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return False
    return parts.hostname != "127.0.0.1"


def tracker_headers(handle: EmulatorHandle) -> dict[str, str]:
    """Every header Tracker wants, for the handle's static token."""
    return tracker_api.tracker_headers(handle.credentials)


def launch_chromium(playwright: Any, profile: str) -> Any:
    """Debian's Chromium, headless, on a fresh profile folder, at 1280x800."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=FLAGS,
        viewport=VIEWPORT,
        accept_downloads=True,
        # Trackops serves TLS with a test CA the browser does not know.
        ignore_https_errors=True,
    )
