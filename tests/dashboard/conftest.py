"""pytest fixtures of the dashboard tests: the three emulators served together, and pages of a
real headless Chromium that fail the test on a console error or a request off this machine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from .helpers import (
    REQUIRED,
    WAIT_MS,
    Served,
    browser_missing,
    launch_chromium,
    outside,
    serve,
)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve() as emulators:
        yield emulators


@pytest.fixture
def emulators(served: Served) -> Iterator[Served]:
    """The three emulators, reset for this test; checked against their contracts after it."""
    for handle in served.handles.values():
        handle.reset()
    yield served
    served.check()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh profile; skipped (or failed, when
    ``TRACKMOCK_BROWSER_TESTS=required``) where it is missing. Module-scoped: Playwright's sync
    API keeps an event loop running on the main thread while it is open, which would stop later
    tests from calling ``asyncio.run``."""
    missing = browser_missing()
    if missing:
        if os.environ.get(REQUIRED) == "required":
            pytest.fail(f"the browser tests must run here ({REQUIRED}=required): {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, str(tmp_path_factory.mktemp("chromium-profile")))
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        context.set_default_timeout(WAIT_MS)
        yield context
        context.close()


class PageWatch:
    """What a page did that a test must not allow: console errors, script errors, requests
    off this machine."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            self.errors.append(f"console {message.type}: {message.text}")

    def check(self) -> None:
        assert self.errors == [], "\n".join(self.errors)
        off = [url for url in self.requests if outside(url)]
        assert off == [], f"the page requested something off 127.0.0.1: {off}"
        assert self.requests, "the page made no request at all"


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A new tab (its own sessionStorage), checked when the test ends."""
    tab = chromium.new_page()
    watch = PageWatch(tab)
    tab.watch = watch
    yield tab
    try:
        watch.check()
    finally:
        tab.close()
