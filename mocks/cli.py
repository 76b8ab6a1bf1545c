"""The ``trackmock`` command: serve the emulators (``serve``); more subcommands join here."""

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
        "--admin-token", metavar="TOKEN", help="require this token on /__admin/ calls"
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
    return parser


def _settings(args: argparse.Namespace) -> tuple[Any, dict[str, dict[str, Any]]]:
    from .core.settings import read_settings_file, split_settings

    data: dict[str, Any] = read_settings_file(args.settings) if args.settings else {}
    overrides = {
        "seed": args.seed,
        "strict": args.strict,
        "clock_frozen": args.clock_frozen,
        "clock_start": args.clock_start,
        "admin_token": args.admin_token,
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
        if not args.quiet:
            if args.trackops_plain_http and "trackops" in args.vendor:
                print(
                    "trackops  serving plain HTTP (--trackops-plain-http): the real API is TLS-only"
                )
            _print_ready(listeners)
        if args.ready_file:
            _write_ready_file(args.ready_file, listeners)
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
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
