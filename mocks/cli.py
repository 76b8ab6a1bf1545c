"""The ``trackmock`` command: serve the emulators (``serve``), check captured traffic against
the contracts (``check``), compare two versions of a contract (``diff``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
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
credentials and the vendor's own actions); see contracts/admin/openapi.yaml.
"""


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
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is between 0 and 65535 (0 picks a free one)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trackmock",
        description=(
            "Stateful emulators of the Tracker Products SAFE, Trackops and Safectory Track APIs, "
            "driven by their contracts."
        ),
    )
    parser.add_argument("--version", action="version", version=f"trackmock {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the emulators",
        description=SERVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    serve.add_argument("--seed", type=int, help="seed of generated data (default 0)")
    serve.add_argument(
        "--settings",
        type=Path,
        metavar="FILE",
        help="YAML or JSON settings file (see docs/settings.md)",
    )
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
        "--ready-file",
        type=Path,
        metavar="PATH",
        help="write URLs and credentials here as JSON once ready",
    )
    serve.add_argument(
        "--clock-frozen",
        action="store_true",
        default=None,
        help="start with a frozen emulator clock",
    )
    serve.add_argument(
        "--clock-start", metavar="ISO", help="start the emulator clock at this instant"
    )
    serve.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="require this token on /__admin/ calls (default: the TRACKMOCK_ADMIN_TOKEN "
        "environment variable, which keeps it out of the process list)",
    )
    serve.add_argument(
        "--trackops-plain-http",
        action="store_true",
        help="serve Trackops over plain HTTP for tools that cannot trust a test CA "
        "(the real API is TLS-only)",
    )
    serve.add_argument(
        "--contracts",
        type=Path,
        metavar="DIR",
        help="serve these contracts (a folder with <vendor>/openapi.yaml) "
        "instead of the packaged ones",
    )
    serve.add_argument("--quiet", action="store_true", help="print nothing but errors")
    _add_integration_options(serve)
    _add_drift_commands(commands)
    return parser


def _add_integration_options(serve: argparse.ArgumentParser) -> None:
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


CHECK_HELP = """\
Check captured traffic of a vendor against its contract (OpenAPI, and AsyncAPI for socket
frames), and report per operation and field path what the vendor sent that the contract does
not say: fields it lacks, required fields missing, other types or formats, enum values outside
the contract, undocumented statuses or content types, unknown operations and socket messages.
Each finding is breaking (a client that follows the contract would break) or informational.

FILE can be:
  a HAR file     exported from the browser's developer tools (Chrome or Firefox, Network tab,
                 "Save all as HAR"); Chrome's HAR keeps socket frames, which are checked too
  curl output    of `curl -i` (status line, headers, body); keep the curl command line at the
                 top or use -v, so the request is known, or name the file <operationId>.txt;
                 after a 101 answer the raw socket stream is read as frames
  a folder       of JSON bodies named <operationId>[.<status>].json, or <message>.json for a
                 socket message

Secrets in the captures (Authorization, Cookie and Set-Cookie headers, tokens in query strings,
passwords in forms, basic-auth user info, JSESSIONID) never appear in a report.

Exit status: 0 no breaking drift, 1 breaking drift, 2 unusable input or contract.
"""

DIFF_HELP = """\
Compare two versions of a contract and list each change, breaking or not for a client: removed
or renamed fields, type and format changes, newly required fields, enum values added or taken
away, removed operations, statuses and content types, new required parameters, changed
security, socket messages added or removed. What breaks depends on who writes the schema:
a response may not grow what the client reads; a request may not shrink what the vendor takes.

OLD and NEW are each a contract file (openapi.yaml or asyncapi.yaml), a vendor folder holding
openapi.yaml (and asyncapi.yaml), or a folder of vendor folders (then every vendor both hold).

Exit status: 0 no breaking change, 1 breaking changes, 2 unusable contract.
"""


def _add_drift_commands(commands: Any) -> None:
    formats = ("text", "json", "junit")
    check = commands.add_parser(
        "check",
        help="check captured traffic (HAR, curl output, JSON bodies) against a vendor's contract",
        description=CHECK_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--vendor",
        required=True,
        choices=list(VENDORS),
        help="whose contract the traffic is checked against",
    )
    check.add_argument(
        "--contracts",
        type=Path,
        metavar="DIR",
        help="check against these contracts: a folder with <vendor>/openapi.yaml (as serve "
        "takes), or the vendor's folder itself (default: the packaged contracts)",
    )
    diff = commands.add_parser(
        "diff",
        help="compare two versions of a contract: what changed, and what breaks a client",
        description=DIFF_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="the contract as it was")
    diff.add_argument("new", type=Path, metavar="NEW", help="the contract as it is now")
    for command in (check, diff):
        command.add_argument(
            "--format",
            choices=formats,
            default="text",
            help="text for people (default), json or junit (JUnit XML) for CI",
        )
        command.add_argument(
            "--output",
            type=Path,
            metavar="FILE",
            help="write the report here instead of to standard output",
        )
    check.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="HAR files, curl output, or folders of JSON bodies named by operation",
    )


def _settings(args: argparse.Namespace) -> tuple[Any, dict[str, dict[str, Any]]]:
    from .control import ADMIN_TOKEN_VARIABLE
    from .core.settings import read_settings_file, split_settings

    data: dict[str, Any] = read_settings_file(args.settings) if args.settings else {}
    overrides = {
        "seed": args.seed,
        "strict": args.strict,
        "clock_frozen": args.clock_frozen,
        "clock_start": args.clock_start,
        "admin_token": args.admin_token or os.environ.get(ADMIN_TOKEN_VARIABLE) or None,
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


def _listeners(args: argparse.Namespace) -> list[Listener]:
    from .core.server import Listener
    from .vendors import create_emulator

    core, sections = _settings(args)
    listeners = []
    for name in args.vendor:
        emulator = create_emulator(name, core, sections[name], contracts_dir=args.contracts)
        listeners.append(
            Listener(
                emulator,
                host=args.host,
                port=getattr(args, f"{name}_port"),
                tls=emulator.tls.context if emulator.tls else None,
            )
        )
    return listeners


async def _probe(listener: Listener) -> None:
    """Ask the emulator's health endpoint over a real socket, so "ready" means "answers"."""
    context = None
    if listener.tls is not None and listener.emulator.ca_cert:
        context = ssl.create_default_context(cafile=listener.emulator.ca_cert)
    elif listener.tls is not None:
        # Your own certificate names your hosts, not this loopback probe: it only asks whether
        # the server answers, so it does not check the certificate.
        context = ssl._create_unverified_context()
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


async def _serve(args: argparse.Namespace) -> int:
    from .core.server import Runner

    listeners = _listeners(args)
    runner = Runner(listeners)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await runner.start()
    try:
        await asyncio.gather(*(_probe(listener) for listener in listeners))
        # The file first: whoever waits for the printed lines then finds it in place.
        if args.ready_file:
            _write_ready_file(args.ready_file, listeners)
        if not args.quiet:
            if args.trackops_plain_http and "trackops" in args.vendor:
                print(
                    "trackops  serving plain HTTP (--trackops-plain-http): the real API is TLS-only"
                )
            _print_ready(listeners)
        await stop.wait()
    finally:
        await runner.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "serve":
        from .core.server import new_event_loop
        from .core.settings import SettingsError

        loop = new_event_loop()
        try:
            return loop.run_until_complete(_serve(args))
        except (SettingsError, OSError, ValueError) as exc:
            print(f"trackmock: {exc}", file=sys.stderr)
            return 1
        finally:
            loop.close()
    if args.command in ("check", "diff"):
        from .drift.command import run

        return run(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
