"""The ``trackmock`` command: serve the emulators (``serve``), check captured traffic against
the contracts (``check``), compare two versions of a contract (``diff``), stand between a
client and a vendor (``proxy``), test a live vendor read-only (``probe``), and copy the drift
examples to a folder (``examples``). The parser is built here; each command runs elsewhere."""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .vendors import VENDORS

if TYPE_CHECKING:
    from .core.server import Listener

SERVE_HELP = """\
Start the emulators on real sockets and keep them running until Ctrl-C or SIGTERM.

When every emulator answers, one line per emulator gives its URL and login values, and the
--ready-file (if given) is written as JSON:
  {"tracker": {"url": ..., "credentials": {...}}, "trackops": {..., "ca_cert": PATH}, ...}

Each emulator serves its control API under /__admin/ (reset, clock, journal, faults,
credentials and the vendor's own actions); see contracts/admin/openapi.yaml. Listening on
anything but loopback (--host 0.0.0.0) needs an admin token: set TRACKMOCK_ADMIN_TOKEN (or
--admin-token); calls then send it as X-Trackmock-Admin-Token. The journal masks secrets
(passwords, credentials, cookies) unless --journal-secrets is given.

--state FILE starts from a snapshot: one emulator's (GET /__admin/snapshot) or several
(the file --save-state writes holds every served emulator's); each snapshot names its vendor,
so give --state once per file. --save-state FILE writes the snapshots of every served emulator
there when it stops on Ctrl-C or SIGTERM. A snapshot holds tokens, passwords and sessions:
the file is written readable by its owner only.

Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 could not start (settings, a busy port, a
contract that cannot be served, no admin token off loopback) or could not write --save-state,
2 a command line that cannot be used, or a --state file that cannot be restored.
"""

CHECK_HELP = """\
Check captured traffic of a vendor against its contract (OpenAPI, and AsyncAPI for socket
frames), and report per operation and field path what the vendor sent that the contract does
not say: fields it lacks, required fields missing, other types or formats, enum values outside
the contract, undocumented statuses or content types, unknown operations and socket messages.
Each finding is breaking (a client that follows the contract would break) or informational.

FILE can be:
  a HAR file     exported from the browser's developer tools (Chrome or Firefox, Network tab,
                 "Save all as HAR"), or written by `trackmock proxy --har`; Chrome's HAR keeps
                 socket frames, which are checked too
  curl output    of `curl -i` (status line, headers, body); keep the curl command line at the
                 top or use -v, so the request is known, or name the file <operationId>.txt;
                 after a 101 answer the raw socket stream is read as frames
  a folder       of JSON bodies named <operationId>[.<status>].json, or <message>.json for a
                 socket message

--contracts also takes one description file: any OpenAPI 3.0 or 3.1 document, or Swagger 2.0.
Secrets in the captures (Authorization, Cookie and Set-Cookie headers, tokens in query strings,
passwords in forms, basic-auth user info, JSESSIONID) never appear in a report.

Exit status: 0 no breaking drift, 1 breaking drift, 2 unusable input or contract, 3 nothing to
check (no exchange in the captures matches an operation of the vendor's contract).
"""

DIFF_HELP = """\
Compare two versions of a contract and list each change, breaking or not for a client: removed
or renamed fields, type and format changes, newly required fields, enum values added or taken
away, removed operations, statuses and content types, new required parameters, changed
security, socket messages added or removed. What breaks depends on who writes the schema:
a response may not grow what the client reads; a request may not shrink what the vendor takes.

OLD and NEW are each a contract file (any OpenAPI 3.0 or 3.1 document, Swagger 2.0, or
AsyncAPI), a vendor folder holding openapi.yaml (and asyncapi.yaml), or a folder of vendor
folders (then every vendor both hold). Operations are paired by operationId, else by method
and path template ({id} and {userId} in the same place are the same path).

Exit status: 0 no breaking change, 1 breaking changes, 2 unusable contract.
"""

PROXY_HELP = """\
Stand between your client and a vendor (or an emulator), forward every request and answer
unchanged (status, headers, cookies, bodies; Track's socket frame by frame), and check each
exchange against the vendor's contract, off the forwarding path. What the vendor sent and the
contract does not say is drift (the same findings as `trackmock check`); a request your client
sent that breaks the contract is a client finding (your bug, not the vendor's).

Point your client at the proxy's URL. For trackops the proxy listens with TLS (a test CA made
at start; its path is in the ready file) and keeps the Host header, so subdomain accounts work.
The --ready-file is written as JSON once the proxy listens:
  {"url": "http://127.0.0.1:PORT", "upstream": URL, "ca_cert": PATH (trackops only)}

On Ctrl-C or SIGTERM it writes the report (--report, else standard output) and, with --har,
the traffic as HAR 1.2 that `trackmock check` reads. Secrets (Authorization, cookies, session
ids, tokens, passwords) are masked in both.

Exit status: 0 no breaking finding, 1 a breaking finding (drift or client), 2 unusable
options, contract or port, 3 nothing to check (no exchange went through that matches an
operation of the contract: is the client really using the proxy?).
"""

PROBE_HELP = """\
Call a live vendor's read operations (GET, and Track's POST /api/session login) and check the
answers against the contract, like `trackmock check`. It never writes: path ids come from the
lists it has read, and an operation it cannot safely reach is reported as skipped, with the
reason. It keeps each vendor's rules as the reference clients do: Trackops at most 1 request a
second, waiting out 429 (Retry-After); Tracker never the same GET twice within 61 s; Track logs
in, then keeps the socket open for --seconds, answering its PING, and checks every frame.

--credentials is a JSON file shaped like the `credentials` block of a ready file:
  tracker   {"token": ..., "organizationId": 1, "officeId": 1}
  trackops  {"username": "NAME/token", "password": API_TOKEN, "host"?: "acme.viewcases.com"}
  track     {"email": ..., "password": ...}
A whole ready file (from `trackmock serve --ready-file`) works too.

Exit status: 0 no breaking drift, 1 breaking drift, 2 unusable options, credentials or
contract, or the vendor refused the login, 3 nothing to check (every operation was skipped).
"""

EXAMPLES_HELP = """\
Copy the files docs/drift.md works with into PATH, so its examples run from any folder:
  PATH/drift/       the worked example: tracker-v99/ and tracker-v100/ contracts, captures/
  PATH/contracts/   the packaged contracts, to change and serve with `serve --contracts`

Exit status: 0 copied, 2 PATH holds files of those names already (nothing is overwritten).
"""

FORMATS = ("text", "json", "junit")


def _vendor_list(value: str) -> list[str]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    if names == ["all"]:
        return list(VENDORS)
    unknown = [name for name in names if name not in VENDORS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown vendor {', '.join(unknown) or value!r}; choose {', '.join(VENDORS)} or all"
        )
    return names


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a port: a port is a whole number from 0 to 65535 "
            "(0 picks a free one)"
        )
    return port


def _instant(value: str) -> str:
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 instant, such as 2025-02-21T10:00:00Z"
        )
    return value


def _settings_file(value: str) -> Path:
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder; give the settings file in it")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such settings file")
    return path


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    return path


def _writable_file(value: str) -> Path:
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder; give a file name in it")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{value}: cannot write in {folder}")
    return path


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds (0 or more)")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trackmock",
        description=(
            "Stateful emulators of the Tracker Products SAFE, Trackops and Safectory Track APIs, "
            "driven by their contracts, and tools that hold the real vendors to them."
        ),
        epilog="Exit status of each command: see `trackmock COMMAND --help`.",
    )
    parser.add_argument("--version", action="version", version=f"trackmock {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_serve(commands)
    _add_check(commands)
    _add_diff(commands)
    _add_proxy(commands)
    _add_probe(commands)
    _add_examples(commands)
    return parser


def _command(commands: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _add_serve(commands: Any) -> None:
    serve = _command(commands, "serve", "run the emulators", SERVE_HELP)
    _serve_where(serve)
    _serve_state(serve)
    _serve_access(serve)
    _serve_integration(serve)


def _serve_where(serve: argparse.ArgumentParser) -> None:
    """Which emulators, and where they listen."""
    serve.add_argument(
        "--vendor",
        type=_vendor_list,
        default=list(VENDORS),
        metavar="NAME",
        help="which emulators to run: tracker, trackops, track, a comma-separated list, or all "
        "(default: all)",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    for name, vendor in VENDORS.items():
        serve.add_argument(
            f"--{name}-port",
            type=_port,
            default=vendor.default_port,
            metavar="N",
            help=f"port of the {vendor.title} emulator "
            f"(default {vendor.default_port}; 0 picks a free one)",
        )
    serve.add_argument(
        "--ready-file",
        type=Path,
        metavar="PATH",
        help="write URLs and credentials here as JSON once ready",
    )
    serve.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _serve_state(serve: argparse.ArgumentParser) -> None:
    """Data, clock, settings and contracts."""
    serve.add_argument("--seed", type=int, help="seed of generated data (default 0)")
    serve.add_argument(
        "--settings",
        type=_settings_file,
        metavar="FILE",
        help="YAML or JSON settings file (see docs/settings.md)",
    )
    serve.add_argument(
        "--clock-frozen",
        action="store_true",
        default=None,
        help="start with a frozen emulator clock",
    )
    serve.add_argument(
        "--clock-start",
        type=_instant,
        metavar="ISO",
        help="start the emulator clock at this instant (2025-02-21T10:00:00Z)",
    )
    serve.add_argument(
        "--contracts",
        type=Path,
        metavar="DIR",
        help="serve these contracts (a folder with <vendor>/openapi.yaml) "
        "instead of the packaged ones",
    )
    serve.add_argument(
        "--state",
        type=_existing_file,
        action="append",
        default=[],
        metavar="FILE",
        help="start from the snapshots in FILE (one emulator's, or several as --save-state "
        "writes them); repeat for several files",
    )
    serve.add_argument(
        "--save-state",
        type=_writable_file,
        metavar="FILE",
        help="on Ctrl-C or SIGTERM, write every served emulator's snapshot to FILE",
    )


def _serve_access(serve: argparse.ArgumentParser) -> None:
    """How strict the emulators are, and who may use the control API."""
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument(
        "--strict",
        dest="strict",
        action="store_true",
        default=None,
        help="enforce every documented requirement, headers and content types included (default)",
    )
    mode.add_argument(
        "--lenient",
        dest="strict",
        action="store_false",
        help="relax header and content-type requirements for exploratory use",
    )
    serve.add_argument(
        "--admin-token",
        metavar="TOKEN",
        default=os.environ.get("TRACKMOCK_ADMIN_TOKEN"),
        help="require this token (header X-Trackmock-Admin-Token) on /__admin/ calls; "
        "required off loopback; prefer the TRACKMOCK_ADMIN_TOKEN environment variable, "
        "which keeps the token out of the process list",
    )
    serve.add_argument(
        "--journal-secrets",
        action="store_true",
        default=None,
        help="show passwords, credentials and cookies in the journal (masked by default); "
        "for local debugging only",
    )
    serve.add_argument(
        "--trackops-plain-http",
        action="store_true",
        help="serve Trackops over plain HTTP for tools that cannot trust a test CA "
        "(the real API is TLS-only)",
    )


def _serve_integration(serve: argparse.ArgumentParser) -> None:
    """Browsers (CORS) and TLS certificates of your own."""
    serve.add_argument(
        "--cors",
        type=lambda value: [part.strip() for part in value.split(",") if part.strip()],
        metavar="ORIGINS",
        help="let browser pages from these origins call the emulators: a comma-separated list "
        "(http://localhost:3000,https://app.example) or * for any; adds Access-Control-* "
        "headers and answers preflights (setting cors_origins)",
    )
    serve.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="serve TLS (Trackops) with this certificate (PEM, with its chain) instead of a "
        "test CA; needs --tls-key (setting tls_cert)",
    )
    serve.add_argument(
        "--tls-key", metavar="FILE", help="the private key of --tls-cert (setting tls_key)"
    )
    serve.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="the CA clients should trust for --tls-cert, listed as ca_cert in the ready file "
        "(setting tls_ca)",
    )


def _report_options(command: argparse.ArgumentParser, flag: str) -> None:
    """--format and where the report goes (``--output`` or ``--report``)."""
    command.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text for people (default), json or junit (JUnit XML) for CI",
    )
    command.add_argument(
        flag,
        dest="output",
        type=Path,
        metavar="FILE",
        help="write the report here instead of to standard output",
    )


def _vendor_option(command: argparse.ArgumentParser, help_text: str) -> None:
    command.add_argument("--vendor", required=True, choices=list(VENDORS), help=help_text)


def _contracts_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--contracts",
        type=Path,
        metavar="DIR",
        help="use these contracts: a folder with <vendor>/openapi.yaml (as serve takes), the "
        "vendor's folder itself, or one OpenAPI 3.0/3.1 or Swagger 2.0 file (default: the "
        "packaged contracts)",
    )


def _add_check(commands: Any) -> None:
    check = _command(
        commands,
        "check",
        "check captured traffic (HAR, curl output, JSON bodies) against a vendor's contract",
        CHECK_HELP,
    )
    _vendor_option(check, "whose contract the traffic is checked against")
    _contracts_option(check)
    _report_options(check, "--output")
    check.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="HAR files, curl output, or folders of JSON bodies named by operation",
    )


def _add_diff(commands: Any) -> None:
    diff = _command(
        commands,
        "diff",
        "compare two versions of a contract: what changed, and what breaks a client",
        DIFF_HELP,
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="the contract as it was")
    diff.add_argument("new", type=Path, metavar="NEW", help="the contract as it is now")
    _report_options(diff, "--output")


def _add_proxy(commands: Any) -> None:
    proxy = _command(
        commands,
        "proxy",
        "a validating proxy in front of a vendor: forward, check, report on exit",
        PROXY_HELP,
    )
    _vendor_option(proxy, "whose API is behind the proxy (its contract checks the traffic)")
    proxy.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="where to forward: the vendor's base URL (https://acme.viewcases.com) or an "
        "emulator's",
    )
    proxy.add_argument(
        "--upstream-ca",
        type=_existing_file,
        metavar="FILE",
        help="a CA file to trust for the upstream's TLS (an emulator's test CA); default: the "
        "system's",
    )
    proxy.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    proxy.add_argument(
        "--port", type=_port, default=0, metavar="P", help="port to listen on (default 0: free)"
    )
    proxy.add_argument(
        "--ready-file",
        type=Path,
        metavar="F",
        help="write {url, upstream, ca_cert} here as JSON once listening",
    )
    proxy.add_argument(
        "--har", type=Path, metavar="FILE", help="also write the traffic as HAR 1.2 (scrubbed)"
    )
    proxy.add_argument(
        "--tls-dir",
        type=Path,
        metavar="DIR",
        help="where the trackops proxy writes its test CA and certificate (default: a new "
        "temporary folder)",
    )
    _contracts_option(proxy)
    _report_options(proxy, "--report")


def _add_probe(commands: Any) -> None:
    probe = _command(
        commands,
        "probe",
        "a safe, read-only contract test against a live vendor",
        PROBE_HELP,
    )
    _vendor_option(probe, "which vendor's API is at --base-url")
    probe.add_argument(
        "--base-url", required=True, metavar="URL", help="the vendor's (or an emulator's) URL"
    )
    probe.add_argument(
        "--credentials",
        required=True,
        type=_existing_file,
        metavar="FILE",
        help="JSON login values (see above), or a ready file",
    )
    probe.add_argument(
        "--ca-cert", type=_existing_file, metavar="FILE", help="a CA file to trust for TLS"
    )
    probe.add_argument(
        "--seconds",
        type=_seconds,
        default=35.0,
        metavar="N",
        help="how long Track's socket stays open (default 35: one PING, answered)",
    )
    _contracts_option(probe)
    _report_options(probe, "--report")


def _add_examples(commands: Any) -> None:
    examples = _command(
        commands,
        "examples",
        "copy the drift examples and the contracts into a folder",
        EXAMPLES_HELP,
    )
    examples.add_argument("path", type=Path, metavar="PATH", help="the folder to copy into")


def _settings(args: argparse.Namespace) -> tuple[Any, dict[str, dict[str, Any]]]:
    from .core.settings import read_settings_file, split_settings

    data: dict[str, Any] = read_settings_file(args.settings) if args.settings else {}
    overrides = {
        "seed": args.seed,
        "strict": args.strict,
        "clock_frozen": args.clock_frozen,
        "clock_start": args.clock_start,
        "admin_token": args.admin_token,
        "journal_secrets": args.journal_secrets,
        "cors_origins": args.cors,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "tls_ca": args.tls_ca,
    }
    data.update({k: v for k, v in overrides.items() if v is not None})
    core, sections = split_settings(data, VENDORS)
    if args.trackops_plain_http:
        sections["trackops"] = {**sections["trackops"], "plain_http": True}
    return core, sections


def _may_want_test_ca(args: argparse.Namespace) -> bool:
    """Whether Trackops may want a fresh test CA, as far as the command line tells (the
    settings, read later, may still give it a folder or a certificate)."""
    return "trackops" in args.vendor and not (
        args.trackops_plain_http or args.tls_cert or args.tls_key
    )


def _wants_test_ca(args: argparse.Namespace, core: Any, sections: dict[str, Any]) -> bool:
    """Whether Trackops will want a fresh test CA (no ``plain_http``, ``tls_dir`` or own
    certificate): a helper then makes it on another core while this process starts."""
    trackops = sections.get("trackops") or {}
    return (
        "trackops" in args.vendor
        and not (trackops.get("plain_http") or trackops.get("tls_dir"))
        and not (core.tls_cert or core.tls_key)
    )


def _listeners(
    args: argparse.Namespace, settings: tuple[Any, dict[str, dict[str, Any]]] | None = None
) -> list[Listener]:
    from .core.ca_launch import discard_prepared, prepare_test_ca, test_ca_pending
    from .core.emulator import link_siblings
    from .core.server import Listener
    from .vendors import create_emulator

    core, sections = settings or _settings(args)
    _check_exposure(args.host, core.admin_token)
    order = list(args.vendor)
    if _wants_test_ca(args, core, sections):
        if not test_ca_pending():  # ``_run_serve`` starts it first, before its imports
            prepare_test_ca()
        # Trackops is built last, so that the others are built while the helper works.
        order.sort(key=lambda name: name == "trackops")
    built: dict[str, Listener] = {}
    try:
        for name in order:
            emulator = create_emulator(name, core, sections[name], contracts_dir=args.contracts)
            built[name] = Listener(
                emulator,
                host=args.host,
                port=getattr(args, f"{name}_port"),
                tls=emulator.tls.context if emulator.tls else None,
            )
    finally:
        discard_prepared()
    listeners = [built[name] for name in args.vendor]
    link_siblings([listener.emulator for listener in listeners])
    return listeners


def _check_exposure(host: str, admin_token: str | None) -> None:
    """Off loopback, the control API (reset, clock, faults, credentials) is open to the
    network: refuse to start without an admin token (README, "Security")."""
    from .core.settings import SettingsError

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not admin_token:
        raise SettingsError(
            f"listening on {host} opens the control API (reset, clock, faults, credentials) to "
            "the network: set TRACKMOCK_ADMIN_TOKEN (or --admin-token, or admin_token in the "
            "settings file), or listen on 127.0.0.1"
        )


async def _health_check(listener: Listener) -> None:
    """Ask the emulator's health endpoint over a real socket, so "ready" means "answers"."""
    import asyncio
    import ssl

    context = None
    if listener.tls is not None and listener.emulator.ca_cert:
        context = ssl.create_default_context(cafile=listener.emulator.ca_cert)
    elif listener.tls is not None:
        # Your own certificate names your hosts, not this loopback probe: it only asks whether
        # the server answers, so it does not check the certificate.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    host = "127.0.0.1" if listener.host in ("0.0.0.0", "::") else listener.host
    reader, writer = await asyncio.open_connection(
        host, listener.port, ssl=context, server_hostname="localhost" if context else None
    )
    writer.write(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    status = await reader.readline()
    writer.close()
    if b" 200 " not in status and b" 401 " not in status:
        raise RuntimeError(f"{listener.emulator.name} did not answer its health check: {status!r}")


def _print_ready(listeners: list[Listener]) -> None:
    for listener in listeners:
        emulator = listener.emulator
        creds = " ".join(f"{k}={v}" for k, v in emulator.credentials().items())
        extra = f" ca_cert={emulator.ca_cert}" if emulator.ca_cert else ""
        print(f"{emulator.name:<9} {emulator.base_url:<28} {creds}{extra}", flush=True)


def _write_ready_file(path: Path, listeners: list[Listener]) -> None:
    data = {listener.emulator.name: listener.emulator.describe() for listener in listeners}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


class StateFileError(Exception):
    """A ``--state`` file that cannot be restored (exit status 2, as a bad command line)."""


def _restore_states(args: argparse.Namespace, listeners: list[Listener]) -> None:
    from .core.snapshot import SnapshotError, restore_files

    try:
        restore_files(args.state, [listener.emulator for listener in listeners])
    except SnapshotError as exc:
        for listener in listeners:
            listener.emulator.shutdown()
        raise StateFileError(f"--state {exc}") from None


def _save_states(path: Path, listeners: list[Listener]) -> bool:
    """Write every emulator's snapshot to ``path``; False (with the reason) when it fails."""
    from .core.snapshot import snapshot_set, take, write_snapshots

    try:
        write_snapshots(path, snapshot_set(take(listener.emulator) for listener in listeners))
    except OSError as exc:
        print(f"trackmock: --save-state {path}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


async def _serve(args: argparse.Namespace, settings: tuple[Any, dict[str, dict[str, Any]]]) -> int:
    import asyncio

    from .core.server import Runner

    listeners = _listeners(args, settings)
    _restore_states(args, listeners)
    # What start-up built (contracts, fixtures, routes) lives as long as the process: out of
    # the cyclic collector's sight from now on, which then runs as usual (see _run_serve).
    gc.freeze()
    gc.enable()
    runner = Runner(listeners)
    warm_up: threading.Thread | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await runner.start()
    try:
        await asyncio.gather(*(_health_check(listener) for listener in listeners))
        # The file first: whoever waits for the printed lines then finds it in place.
        if args.ready_file:
            _write_ready_file(args.ready_file, listeners)
        if not args.quiet:
            if args.trackops_plain_http and "trackops" in args.vendor:
                print(
                    "trackops  serving plain HTTP (--trackops-plain-http): the real API is TLS-only"
                )
            _print_ready(listeners)
        # Every port answers: werkzeug, which the fast path needs for its first parse of a
        # query string, cookie or content type, and the Flask apps of the full path (both
        # left out of the start, see ``request_view`` and ``Emulator.app``) are made
        # meanwhile on another thread, so that the first request seldom waits for them.
        warm_up = threading.Thread(target=_build_apps, args=(listeners,), name="trackmock-apps")
        warm_up.start()
        await stop.wait()
    finally:
        await runner.stop()
    if warm_up is not None:
        warm_up.join()
    if args.save_state and not _save_states(args.save_state, listeners):
        return 1
    return 0


def _build_apps(listeners: list[Listener]) -> None:
    from .core.request_view import werkzeug_request_class

    for listener in listeners:
        try:
            werkzeug_request_class()  # imported once, for the fast path's first parse
            listener.emulator.app  # noqa: B018 (built on first use)
        except OSError as exc:
            # Out of file descriptors, say: the first request that needs the app builds it.
            print(
                f"trackmock: {listener.emulator.name}: full path not warmed"
                f" ({exc.strerror or exc}); it is built on first use",
                file=sys.stderr,
            )


def _run_serve(args: argparse.Namespace) -> int:
    from .core.ca_launch import discard_prepared, prepare_test_ca

    if _may_want_test_ca(args):
        # First of all, so that the helper's work overlaps the whole start (the imports and
        # the settings too); stopped at once if the settings say Trackops needs none.
        prepare_test_ca()
    from .core.settings import SettingsError

    # Start-up makes a few hundred thousand objects that live as long as the process; the
    # cyclic collector would walk them again and again meanwhile (a fifth of the start).
    gc.disable()
    try:
        settings = _settings(args)
    except (SettingsError, OSError, ValueError) as exc:
        discard_prepared()
        gc.enable()
        print(f"trackmock: {exc}", file=sys.stderr)
        return 1
    if not _wants_test_ca(args, *settings):
        discard_prepared()
    from .core.server import new_event_loop

    loop = new_event_loop()
    try:
        return loop.run_until_complete(_serve(args, settings))
    except StateFileError as exc:
        print(f"trackmock serve: {exc}", file=sys.stderr)
        return 2
    except (SettingsError, OSError, ValueError) as exc:
        print(f"trackmock: {exc}", file=sys.stderr)
        return 1
    finally:
        discard_prepared()
        gc.enable()
        loop.close()


def _run_examples(args: argparse.Namespace) -> int:
    from .examples import copy_examples

    try:
        copied = copy_examples(args.path)
    except FileExistsError as exc:
        print(f"trackmock examples: {exc}", file=sys.stderr)
        return 2
    for line in copied:
        print(line)
    return 0


def _runner(command: str) -> Any:
    """The function that runs ``command`` (imported on demand: start-up stays light)."""
    if command in ("check", "diff"):
        from .drift.command import run

        return run
    if command == "proxy":
        from .proxy.command import run as run_proxy

        return run_proxy
    if command == "probe":
        from .live.command import run as run_probe

        return run_probe
    return {"serve": _run_serve, "examples": _run_examples}[command]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if extra:
        # The command's own usage, naming what it does not take (not the top-level usage).
        commands = next(
            action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
        )
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    return int(_runner(args.command)(args))


if __name__ == "__main__":
    sys.exit(main())
