"""pytest fixtures: real emulators on ephemeral ports, started once, reset before each test.

Fixtures (all overridable in a ``conftest.py``):

- ``trackmock_settings``: settings mapping (core keys and vendor sections) for the session.
- ``trackmock_seed``: the seed of generated data.
- ``make_tracker_server`` / ``make_trackops_server`` / ``make_track_server``: session-scoped,
  start the emulator once and return its ``EmulatorHandle``.
- ``tracker`` / ``trackops`` / ``track``: the handle, reset before the test; at teardown any
  contract violation or emulator error seen during the test fails it.
- ``make_emulator``: a factory ``make_emulator(vendor, **settings)`` for a test that needs its
  own emulator with other settings (started now, checked and stopped at the test's end).

With ``--trackmock-ready-file r.json`` the fixtures use emulators already running (from
``trackmock serve --ready-file r.json`` or Docker Compose) instead of starting their own.

Every emulator the session starts (session fixtures and ``make_emulator``) is audited when it
stops: each socket frame it sent must have been checked against its AsyncAPI messages, and none
may have failed (``/__admin/conformance``); otherwise the run fails. The terminal summary shows
the totals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .control import ControlClient
from .vendors import VENDORS

TEST_CLOCK_START = "2025-02-21T10:00:00.000Z"
"""Where the emulator clock of every test starts (frozen): tests move it, never wait."""


class EmulatorHandle:
    """A running emulator as a test sees it: URL, login values, CA and control API."""

    def __init__(self, vendor: str, info: dict[str, Any], *, admin_token: str | None = None):
        self.vendor = vendor
        self.url: str = info["url"].rstrip("/")
        self.credentials: dict[str, Any] = info.get("credentials", {})
        self.ca_cert: str | None = info.get("ca_cert")
        self.verify: Any = self.ca_cert or True
        self.control = ControlClient(self.url, token=admin_token, verify=self.verify)
        self.clock = self.control.clock

    def url_for(self, path: str) -> str:
        return self.url + "/" + path.lstrip("/")

    def reset(self) -> None:
        self.control.reset()
        self.credentials = self.control.credentials()["credentials"]

    def check(self) -> None:
        """Fail when the emulator sent something its contract does not document, or erred."""
        found = self.control.violations()
        if found["violations"] or found["errors"]:
            self.control.clear_violations()
            lines = [
                f"- [{v['kind']}] {v['operation']}: {v['message']}" for v in found["violations"]
            ]
            lines += [f"- emulator error: {error}" for error in found["errors"]]
            raise AssertionError(
                f"the {self.vendor} emulator broke its contract or failed:\n" + "\n".join(lines)
            )


class FrameLedger:
    """Every emulator this session started, and its frame audit read when it stopped.

    The proof that every socket frame sent during the session was a documented message: an
    emulator whose audit shows a frame sent unchecked or undocumented, whose audit could not be
    read, or that was never audited is a problem, and any problem fails the run.
    """

    def __init__(self) -> None:
        self.started: list[str] = []
        """One label per emulator started, in order; an emulator's key is its index."""
        self.audits: dict[int, dict[str, Any]] = {}
        self.closed: set[int] = set()
        self.found: list[str] = []
        self._keys: dict[int, int] = {}
        """id() of a registered handle -> its key (a handle lives until it is closed)."""

    def register(self, handle: EmulatorHandle, started_by: str) -> None:
        self._keys[id(handle)] = len(self.started)
        self.started.append(f"the {handle.vendor} emulator at {handle.url} ({started_by})")

    def close(self, handle: EmulatorHandle) -> list[str]:
        """Read the audit of an emulator about to stop; returns what it failed to prove."""
        from .core.conformance import FrameAudit

        key = self._keys.pop(id(handle))
        label = self.started[key]
        self.closed.add(key)
        try:
            audit = handle.control.conformance()
        except Exception as exc:  # the emulator died or hangs: nothing is proven
            problems = [f"{label}: its frame audit could not be read: {exc}"]
        else:
            self.audits[key] = audit
            problems = [f"{label}: {p}" for p in FrameAudit(**audit["frames"]).problems()]
        self.found += problems
        return problems

    def problems(self) -> list[str]:
        unaudited = [label for key, label in enumerate(self.started) if key not in self.closed]
        return self.found + [f"{label}: never audited" for label in unaudited]

    def totals(self) -> dict[str, int]:
        keys = ("sent", "checked", "failed")
        return {k: sum(audit["frames"][k] for audit in self.audits.values()) for k in keys}


_LEDGER = pytest.StashKey[FrameLedger]()


def frame_ledger(config: pytest.Config) -> FrameLedger:
    """The session's ``FrameLedger``."""
    return config.stash.setdefault(_LEDGER, FrameLedger())


class FrameAuditFailed(AssertionError):
    """An emulator sent socket frames that were not checked against its AsyncAPI messages, or
    that broke them, or its audit could not be read."""


def _fail_on(problems: list[str]) -> None:
    if problems:
        raise FrameAuditFailed(
            "socket frames were sent that were not checked against the AsyncAPI messages, or"
            " broke them:\n" + "\n".join(f"- {p}" for p in problems)
        )


class _Servers:
    """Emulators of this test session, started on first use, stopped at the end."""

    def __init__(
        self, settings: dict[str, Any], ready_file: Path | None, ledger: FrameLedger
    ) -> None:
        self.settings = settings
        self.ready = json.loads(ready_file.read_text()) if ready_file else None
        self.ledger = ledger
        self.handles: dict[str, EmulatorHandle] = {}
        self.runners: list[tuple[EmulatorHandle, Any]] = []

    def get(self, vendor: str) -> EmulatorHandle:
        if vendor not in self.handles:
            self.handles[vendor] = self._start(vendor)
        return self.handles[vendor]

    def _start(self, vendor: str) -> EmulatorHandle:
        token = self.settings.get("admin_token")
        if self.ready is not None:
            if vendor not in self.ready:
                raise pytest.UsageError(f"the ready file lists no {vendor} emulator")
            return EmulatorHandle(vendor, self.ready[vendor], admin_token=token)
        handle, runner = start_emulator(vendor, self.settings)
        self.ledger.register(handle, "session fixture")
        self.runners.append((handle, runner))
        return handle

    def stop(self) -> None:
        problems: list[str] = []
        for handle, runner in self.runners:
            try:
                problems += self.ledger.close(handle)
            finally:
                runner.stop()
        _fail_on(problems)


def start_emulator(
    vendor: str, settings: dict[str, Any], *, contracts_dir: Path | None = None
) -> tuple[EmulatorHandle, Any]:
    """Start one emulator on 127.0.0.1 at a free port; returns its handle and its runner.

    ``contracts_dir`` replaces the packaged contracts (a folder holding ``<vendor>/``)."""
    from .core.server import BackgroundRunner, Listener
    from .core.settings import split_settings
    from .vendors import create_emulator

    core, sections = split_settings(settings, VENDORS)
    emulator = create_emulator(vendor, core, sections[vendor], contracts_dir=contracts_dir)
    listener = Listener(emulator, tls=emulator.tls.context if emulator.tls else None)
    runner = BackgroundRunner([listener])
    runner.start()
    return EmulatorHandle(
        vendor, emulator.describe(), admin_token=settings.get("admin_token")
    ), runner


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("trackmock")
    group.addoption(
        "--trackmock-ready-file",
        type=Path,
        default=None,
        help="use the emulators listed in this ready file (from `trackmock serve --ready-file`)",
    )


@pytest.fixture(scope="session")
def trackmock_seed() -> int:
    return 0


@pytest.fixture(scope="session")
def trackmock_settings(trackmock_seed: int) -> dict[str, Any]:
    """Settings of the session's emulators: frozen clock, contract checks on."""
    return {
        "seed": trackmock_seed,
        "clock_frozen": True,
        "clock_start": TEST_CLOCK_START,
        "check_responses": True,
    }


@pytest.fixture(scope="session")
def trackmock_servers(
    request: pytest.FixtureRequest, trackmock_settings: dict[str, Any]
) -> Iterator[_Servers]:
    servers = _Servers(
        trackmock_settings,
        request.config.getoption("--trackmock-ready-file"),
        frame_ledger(request.config),
    )
    yield servers
    servers.stop()


def _session_fixture(vendor: str) -> Callable[..., EmulatorHandle]:
    def make_server(trackmock_servers: _Servers) -> EmulatorHandle:
        return trackmock_servers.get(vendor)

    make_server.__name__ = f"make_{vendor}_server"
    make_server.__doc__ = f"The session's {VENDORS[vendor].title} emulator (started once)."
    return pytest.fixture(scope="session", name=f"make_{vendor}_server")(make_server)


def _test_fixture(vendor: str) -> Callable[..., Iterator[EmulatorHandle]]:
    def handle(request: pytest.FixtureRequest) -> Iterator[EmulatorHandle]:
        server: EmulatorHandle = request.getfixturevalue(f"make_{vendor}_server")
        server.reset()
        yield server
        server.check()

    handle.__name__ = vendor
    handle.__doc__ = f"The {VENDORS[vendor].title} emulator, reset for this test."
    return pytest.fixture(name=vendor)(handle)


make_tracker_server = _session_fixture("tracker")
make_trackops_server = _session_fixture("trackops")
make_track_server = _session_fixture("track")
tracker = _test_fixture("tracker")
trackops = _test_fixture("trackops")
track = _test_fixture("track")


@pytest.fixture
def make_emulator(
    request: pytest.FixtureRequest, trackmock_settings: dict[str, Any]
) -> Iterator[Callable[..., EmulatorHandle]]:
    """Start emulators with settings of their own: ``make_emulator("tracker", tracker={...})``.

    Keyword arguments are merged into the session's settings (vendor sections deeply);
    ``contracts_dir=`` serves other contracts (a folder holding ``<vendor>/``).
    """
    ledger = frame_ledger(request.config)
    started: list[tuple[EmulatorHandle, Any]] = []

    def make(vendor: str, *, contracts_dir: Path | None = None, **settings: Any) -> EmulatorHandle:
        handle, runner = start_emulator(
            vendor, _deep_merge(trackmock_settings, settings), contracts_dir=contracts_dir
        )
        ledger.register(handle, request.node.nodeid)
        started.append((handle, runner))
        return handle

    yield make
    problems: list[str] = []
    try:
        for handle, _ in started:
            handle.check()
    finally:
        for handle, runner in started:
            try:
                problems += ledger.close(handle)
            finally:
                runner.stop()
    _fail_on(problems)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # trylast: after pytest's own teardown of session fixtures, which stops their emulators.
    if frame_ledger(session.config).problems():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    ledger = frame_ledger(config)
    if not ledger.started:
        return
    totals = ledger.totals()
    terminalreporter.write_line(
        f"trackmock socket conformance: {len(ledger.audits)} of {len(ledger.started)} emulators"
        f" audited; {totals['sent']} frames sent, {totals['checked']} checked against the"
        f" AsyncAPI messages, {totals['failed']} failed"
    )
    for problem in ledger.problems():
        terminalreporter.write_line(f"  FAILED: {problem}", red=True)
