"""pytest fixtures: real emulators on ephemeral ports, started once, reset before each test.

Fixtures (all overridable in a ``conftest.py``):

- ``trackmock_settings``: settings mapping (core keys and vendor sections) for the session.
- ``trackmock_seed``: the seed of generated data.
- ``make_tracker_server`` / ``make_trackops_server`` / ``make_track_server``: session-scoped,
  start the emulator once and return its ``EmulatorHandle``.
- ``trackmock_tracker`` / ``trackmock_trackops`` / ``trackmock_track`` (also named
  ``tracker`` / ``trackops`` / ``track``, which a project's own fixtures may take over): the
  handle, reset before the test; at teardown any contract violation or emulator error seen
  during the test fails it.
- ``make_emulator``: a factory ``make_emulator(vendor, state=None, **settings)`` for a test
  that needs its own emulator with other settings or a snapshot's state to start from
  (started now, checked and stopped at the test's end).

With ``--trackmock-ready-file r.json`` the fixtures use emulators already running (from
``trackmock serve --ready-file r.json`` or Docker Compose) instead of starting their own. Under
pytest-xdist with more than one worker a single ready file is refused (workers would reset and
fault each other's emulators); ``{worker}`` in its name gives each worker its own
(``ready-{worker}.json`` -> ``ready-gw0.json``, ``ready-gw1.json``; ``gw0`` without xdist).

Every emulator the session starts (session fixtures and ``make_emulator``) is audited when it
stops: each socket frame it sent must have been checked against its AsyncAPI messages, none may
have failed (``/__admin/conformance``), and no contract violation or emulator error may be
left that no test reported; otherwise the run fails. Under pytest-xdist each worker hands its
audits to the controller, which prints the totals in the terminal summary and fails the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .control import ADMIN_TOKEN_VARIABLE, ControlClient
from .vendors import VENDORS

TEST_CLOCK_START = "2025-02-21T10:00:00.000Z"
"""Where the emulator clock of every test starts (frozen): tests move it, never wait."""


SOCKET_FAULTS = {
    "drop": "frame_drop",
    "delay": "frame_delay",
    "duplicate": "frame_duplicate",
    "close": "socket_close",
    "refuse": "upgrade_refuse",
}
"""``socket_fault`` kinds and the control API's fault actions they stand for."""


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
        lines = self.take_violations()
        if lines:
            raise AssertionError(
                f"the {self.vendor} emulator broke its contract or failed:\n" + "\n".join(lines)
            )

    def take_violations(self) -> list[str]:
        """Contract violations and emulator errors recorded so far (then forgotten)."""
        found = self.control.violations()
        if not (found["violations"] or found["errors"]):
            return []
        self.control.clear_violations()
        lines = [f"- [{v['kind']}] {v['operation']}: {v['message']}" for v in found["violations"]]
        return lines + [f"- emulator error: {error}" for error in found["errors"]]

    def assert_received(
        self,
        method: str | None,
        path_pattern: str,
        *,
        times: int | None = None,
        at_least: int | None = None,
        status: int | None = None,
    ) -> int:
        """Check what the emulator received since the test's reset: ``method path_pattern``
        (an ``fnmatch`` pattern of the path, ``/api/cases/*``) exactly ``times`` times or
        ``at_least`` times (default: at least once). A failure lists the near misses. See
        ``trackmock.verification.assert_received``."""
        from .verification import assert_received

        return assert_received(
            self.control, method, path_pattern, times=times, at_least=at_least, status=status
        )

    def unmatched(self) -> list[dict[str, Any]]:
        """Requests since the test's reset that matched no operation (wrong URLs), each with
        the reason (``GET /__admin/unmatched``)."""
        return self.control.unmatched()

    def fault(self, action: str, **fields: Any) -> dict[str, Any]:
        """Inject a fault until the test's reset (``POST /__admin/faults``) and return it as
        stored: ``handle.fault("status", status=503, path="/api/cases/*", times=1)``,
        ``handle.fault("truncate", probability=0.2)``, ``handle.fault("latency",
        latency_min_ms=50, latency_max_ms=400)``. A bad definition raises with the 400's
        message."""
        return self.control.add_fault(action=action, **fields)

    def socket_fault(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Inject a socket fault: ``drop``, ``delay``, ``duplicate`` (the next frames sent to
        clients), ``close`` (``close_code`` after ``after_frames`` frames) or ``refuse`` (the
        upgrade, with ``status``): ``handle.socket_fault("close", close_code=4000,
        after_frames=2)``."""
        return self.control.add_fault(action=SOCKET_FAULTS.get(kind, kind), **fields)

    def snapshot(self, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """The emulator's whole state (``GET /__admin/snapshot``), also written to ``path``
        when given (for ``make_emulator(..., state=path)`` or ``trackmock serve --state``)."""
        snapshot = self.control.snapshot()
        if path is not None:
            from .core.snapshot import write_snapshots

            write_snapshots(Path(path), snapshot)
        return snapshot

    def restore(self, state: dict[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
        """Put a snapshot in place of the emulator's state, all or nothing: a snapshot, or a
        file of one or several (this vendor's is taken)."""
        from .core.snapshot import snapshot_of

        restored = self.control.restore(snapshot_of(self.vendor, state))
        self.credentials = self.control.credentials()["credentials"]
        return restored


class FrameLedger:
    """Every emulator this session started, and its frame audit read when it stopped.

    The proof that every socket frame sent during the session was a documented message: an
    emulator whose audit shows a frame sent unchecked or undocumented, whose audit could not be
    read, or that was never audited is a problem, and any problem fails the run. So is a
    contract violation or emulator error the emulator still holds when it stops (no test
    reported it). Under pytest-xdist, workers hand their ``summary()`` to the controller's
    ledger (``merge``), which judges the run.
    """

    def __init__(self) -> None:
        self.started: list[str] = []
        """One label per emulator started, in order; an emulator's key is its index."""
        self.audits: dict[int, dict[str, Any]] = {}
        self.closed: set[int] = set()
        self.found: list[str] = []
        self.merged: list[dict[str, Any]] = []
        """Summaries handed over by pytest-xdist workers (on the controller)."""
        self._keys: dict[int, int] = {}
        """id() of a registered handle -> its key (a handle lives until it is closed)."""

    def register(self, handle: EmulatorHandle, started_by: str) -> None:
        self._keys[id(handle)] = len(self.started)
        self.started.append(f"the {handle.vendor} emulator at {handle.url} ({started_by})")

    def close(self, handle: EmulatorHandle) -> list[str]:
        """Read the audit of an emulator about to stop; returns what it failed to prove, and
        any contract violation or emulator error that no test reported."""
        from .core.conformance import FrameAudit

        key = self._keys.pop(id(handle))
        label = self.started[key]
        self.closed.add(key)
        try:
            audit = handle.control.conformance()
            left = handle.take_violations()
        except Exception as exc:  # the emulator died or hangs: nothing is proven
            problems = [f"{label}: its frame audit could not be read: {exc}"]
        else:
            self.audits[key] = audit
            problems = [f"{label}: {p}" for p in FrameAudit(**audit["frames"]).problems()]
            if left:
                problems.append(
                    f"{label}: violations or errors that no test reported:\n" + "\n".join(left)
                )
        self.found += problems
        return problems

    def problems(self) -> list[str]:
        unaudited = [label for key, label in enumerate(self.started) if key not in self.closed]
        merged = [problem for summary in self.merged for problem in summary["problems"]]
        return self.found + [f"{label}: never audited" for label in unaudited] + merged

    def totals(self) -> dict[str, int]:
        keys = ("sent", "checked", "failed")
        return {
            k: sum(audit["frames"][k] for audit in self.audits.values())
            + sum(summary["totals"][k] for summary in self.merged)
            for k in keys
        }

    def counts(self) -> tuple[int, int]:
        """How many emulators were audited, and how many were started (this process and
        every worker merged)."""
        audited = len(self.audits) + sum(summary["audited"] for summary in self.merged)
        started = len(self.started) + sum(summary["started"] for summary in self.merged)
        return audited, started

    def summary(self, worker: str = "") -> dict[str, Any]:
        """What a pytest-xdist worker hands to the controller (plain data)."""
        prefix = f"[{worker}] " if worker else ""
        audited, started = self.counts()
        return {
            "started": started,
            "audited": audited,
            "totals": self.totals(),
            "problems": [prefix + problem for problem in self.problems()],
        }

    def merge(self, summary: dict[str, Any]) -> None:
        """Take in a worker's ``summary``."""
        self.merged.append(summary)


_LEDGER = pytest.StashKey[FrameLedger]()


def frame_ledger(config: pytest.Config) -> FrameLedger:
    """The session's ``FrameLedger``."""
    return config.stash.setdefault(_LEDGER, FrameLedger())


class FrameAuditFailed(AssertionError):
    """An emulator sent socket frames that were not checked against its AsyncAPI messages, or
    that broke them, or its audit could not be read, or it kept violations no test reported."""


def _fail_on(problems: list[str]) -> None:
    if problems:
        raise FrameAuditFailed(
            "socket frames were sent that were not checked against the AsyncAPI messages or"
            " broke them, or violations were left that no test reported:\n"
            + "\n".join(f"- {p}" for p in problems)
        )


WORKER_PLACEHOLDER = "{worker}"
"""In a ready file's name, the pytest-xdist worker id (``gw0``, ``gw1``; ``gw0`` without xdist)."""


def ready_file_of_worker(option: Path | None) -> Path | None:
    """The ready file this process reads: ``{worker}`` in the name becomes its worker id."""
    if option is None or WORKER_PLACEHOLDER not in str(option):
        return option
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return Path(str(option).replace(WORKER_PLACEHOLDER, worker))


def read_ready_file(path: Path) -> dict[str, Any]:
    """The emulators a ready file lists; a folder merges every ``*.json`` in it (Compose writes
    one per service). A ``ca_cert`` that does not exist here is looked for beside the file:
    a container writes the path it sees, and Compose mounts the same folder on the host."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise pytest.UsageError(f"--trackmock-ready-file {path}: the folder holds no *.json")
    emulators: dict[str, Any] = {}
    for file in files:
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise pytest.UsageError(
                f"--trackmock-ready-file {file}: cannot be read: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise pytest.UsageError(f"--trackmock-ready-file {file}: not a ready file")
        for vendor, info in data.items():
            ca_cert = info.get("ca_cert")
            if ca_cert and not Path(ca_cert).exists():
                beside = file.parent / Path(ca_cert).name
                if beside.exists():
                    info = {**info, "ca_cert": str(beside)}
            emulators[vendor] = info
    return emulators


class _Servers:
    """Emulators of this test session, started on first use, stopped at the end."""

    def __init__(
        self, settings: dict[str, Any], ready_file: Path | None, ledger: FrameLedger
    ) -> None:
        self.settings = settings
        self.ready_file = ready_file
        self.ready = read_ready_file(ready_file) if ready_file else None
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
                raise pytest.UsageError(
                    f"the ready file {self.ready_file} lists no {vendor} emulator"
                )
            token = token or os.environ.get(ADMIN_TOKEN_VARIABLE) or None
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
    vendor: str,
    settings: dict[str, Any],
    *,
    contracts_dir: Path | None = None,
    state: dict[str, Any] | str | os.PathLike[str] | None = None,
) -> tuple[EmulatorHandle, Any]:
    """Start one emulator on 127.0.0.1 at a free port; returns its handle and its runner.

    ``contracts_dir`` replaces the packaged contracts (a folder holding ``<vendor>/``);
    ``state`` is a snapshot to start from (``EmulatorHandle.restore`` takes the same)."""
    from .core.server import BackgroundRunner, Listener
    from .core.settings import split_settings
    from .core.snapshot import restore, snapshot_of
    from .vendors import create_emulator

    core, sections = split_settings(settings, VENDORS)
    emulator = create_emulator(vendor, core, sections[vendor], contracts_dir=contracts_dir)
    if state is not None:
        try:
            restore(emulator, snapshot_of(vendor, state))
        except ValueError:
            emulator.shutdown()
            raise
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
        help="use the emulators listed in this ready file (from `trackmock serve --ready-file`);"
        " under pytest-xdist name one per worker with {worker} (ready-{worker}.json)",
    )


SHARED_SERVER_REFUSED = """\
--trackmock-ready-file {path} with {workers} pytest-xdist workers: every worker would use the \
same running emulators, and one worker's reset, fault, clock move or journal read would change \
another worker's test (a fault meant for one test is used up by another's request). trackmock \
cannot tell the workers' requests apart: most of them come from the application under test, \
which knows nothing of pytest workers. So it refuses this combination. Instead:
  - run one set of emulators per worker and put {{worker}} in the ready file's name:
      trackmock serve --ready-file ready-gw0.json ...   (and ready-gw1.json, ... on other ports)
      pytest -n {workers} --trackmock-ready-file 'ready-{{worker}}.json'
  - or leave out --trackmock-ready-file: each worker starts its own emulators (under a second);
  - or run one worker (-n 0 or -n 1)."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    """On the pytest-xdist controller, before any worker starts: refuse one shared ready file."""
    option = config.getoption("--trackmock-ready-file")
    if option is not None and WORKER_PLACEHOLDER not in str(option) and len(specs) > 1:
        raise pytest.UsageError(SHARED_SERVER_REFUSED.format(path=option, workers=len(specs)))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the pytest-xdist controller: take in the audits of a worker that finished."""
    summary = getattr(node, "workeroutput", {}).get("trackmock")
    if summary is not None:
        frame_ledger(node.config).merge(summary)


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
        ready_file_of_worker(request.config.getoption("--trackmock-ready-file")),
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

    handle.__name__ = f"trackmock_{vendor}"
    handle.__doc__ = f"The {VENDORS[vendor].title} emulator, reset for this test."
    return pytest.fixture(name=f"trackmock_{vendor}")(handle)


def _short_name(vendor: str) -> Callable[..., EmulatorHandle]:
    def handle(request: pytest.FixtureRequest) -> EmulatorHandle:
        server: EmulatorHandle = request.getfixturevalue(f"trackmock_{vendor}")
        return server

    handle.__name__ = vendor
    handle.__doc__ = (
        f"``trackmock_{vendor}`` by its short name (a fixture of the same name in a conftest.py"
        " takes it over; ``trackmock_{vendor}`` still works then)."
    )
    return pytest.fixture(name=vendor)(handle)


make_tracker_server = _session_fixture("tracker")
make_trackops_server = _session_fixture("trackops")
make_track_server = _session_fixture("track")
trackmock_tracker = _test_fixture("tracker")
trackmock_trackops = _test_fixture("trackops")
trackmock_track = _test_fixture("track")
tracker = _short_name("tracker")
trackops = _short_name("trackops")
track = _short_name("track")


@pytest.fixture
def make_emulator(
    request: pytest.FixtureRequest, trackmock_settings: dict[str, Any]
) -> Iterator[Callable[..., EmulatorHandle]]:
    """Start emulators with settings of their own: ``make_emulator("tracker", tracker={...})``.

    Keyword arguments are merged into the session's settings (vendor sections deeply);
    ``contracts_dir=`` serves other contracts (a folder holding ``<vendor>/``); ``state=`` a
    snapshot to start from (a file, as ``handle.snapshot(path)`` or ``trackmock serve
    --save-state`` write them, or the snapshot itself).
    """
    ledger = frame_ledger(request.config)
    started: list[tuple[EmulatorHandle, Any]] = []

    def make(
        vendor: str,
        *,
        contracts_dir: Path | None = None,
        state: dict[str, Any] | str | os.PathLike[str] | None = None,
        **settings: Any,
    ) -> EmulatorHandle:
        handle, runner = start_emulator(
            vendor,
            _deep_merge(trackmock_settings, settings),
            contracts_dir=contracts_dir,
            state=state,
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
    ledger = frame_ledger(session.config)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller judges the run
        workeroutput["trackmock"] = ledger.summary(os.environ.get("PYTEST_XDIST_WORKER", ""))
    if ledger.problems():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    ledger = frame_ledger(config)
    audited, started = ledger.counts()
    if not started:
        return
    totals = ledger.totals()
    terminalreporter.write_line(
        f"trackmock socket conformance: {audited} of {started} emulators"
        f" audited; {totals['sent']} frames sent, {totals['checked']} checked against the"
        f" AsyncAPI messages, {totals['failed']} failed"
    )
    for problem in ledger.problems():
        terminalreporter.write_line(f"  FAILED: {problem}", red=True)
