"""Run ``trackmock proxy`` from parsed arguments (see ``cli.py``): serve until SIGTERM or
Ctrl-C, then write the report (and the HAR) and exit by what was found."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.contracts import ContractError
from ..core.limits import Limits
from ..core.redact import Redactor
from ..core.server import Listener
from ..drift import events as ev
from ..drift.bundle import vendor_bundle
from ..drift.command import (
    BREAKING,
    NOTHING_TO_CHECK,
    OK,
    UNUSABLE,
    nothing_to_check,
    one_line,
    output,
)
from ..drift.inputs import InputError
from ..drift.report import REPORTS
from .app import ProxyApp
from .har import traffic_to_har
from .traffic import Recorder

if TYPE_CHECKING:
    from ..core.tls import ServerTls

TLS_VENDORS = frozenset({"trackops"})
"""Vendors whose API is TLS-only: the proxy listens with TLS for them."""


def _upstream_tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.upstream.startswith("https"):
        return None
    return ssl.create_default_context(cafile=str(args.upstream_ca) if args.upstream_ca else None)


def _write_json(path: Path, data: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


def _listener(app: ProxyApp, args: argparse.Namespace, tls: ServerTls | None) -> Listener:
    """The proxy on trackmock's own server: the emulators' limits, and for a TLS-only vendor the
    same kind of test CA as the emulator, with plain HTTP refused in one clear answer."""
    limits = Limits(ws_max_message_bytes=app.check_body_bytes)
    return Listener(
        app=app,
        host=args.host,
        port=args.port,
        tls=tls.context if tls else None,
        name="proxy",
        limits=limits,
    )


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Proxy until ``stop`` is set; returns the exit status."""
    from ..core.server import Runner
    from ..core.tls import make_server_tls

    redactor = Redactor()
    bundle = vendor_bundle(args.vendor, args.contracts)
    buffer = io.StringIO()
    report = REPORTS[args.format](buffer, redactor)
    recorder = Recorder(bundle, redactor, report.handle)
    app = ProxyApp(args.upstream, recorder, upstream_tls=_upstream_tls(args))
    tls = make_server_tls(args.tls_dir, label="proxy TLS") if args.vendor in TLS_VENDORS else None
    listener = _listener(app, args, tls)
    runner = Runner([listener], freeze_heap=False)
    clock = time.perf_counter()
    report.handle(ev.Started("proxy", bundle.label, (args.upstream,)))
    await app.start()
    recorder.start()
    try:
        await runner.start()
        url = listener.url
        ready: dict[str, Any] = {"url": url, "upstream": args.upstream}
        if tls is not None and tls.ca_cert is not None:
            ready["ca_cert"] = str(tls.ca_cert)
        if args.ready_file:
            _write_json(args.ready_file, ready)
        print(
            f"trackmock proxy: {url} -> {redactor.scrub(args.upstream)} ({args.vendor})",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        await runner.stop()
        await app.close()
        await recorder.drain()
        if tls is not None:
            tls.cleanup()
    report.handle(ev.Finished(time.perf_counter() - clock, recorder.notes()))
    with output(args.output) as stream:
        stream.write(buffer.getvalue())
    if args.har:
        _write_json(args.har, traffic_to_har(recorder.kept, args.upstream, redactor))
    if report.breaking:
        return BREAKING
    reason = nothing_to_check(report, "the proxied traffic")
    if reason is not None:
        print(f"trackmock proxy: {reason}", file=sys.stderr)
        return NOTHING_TO_CHECK
    return OK


def run(args: argparse.Namespace) -> int:
    from ..core.server import new_event_loop

    loop = new_event_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        return loop.run_until_complete(serve(args, stop))
    except (InputError, ContractError, OSError, ValueError) as exc:
        print(f"trackmock proxy: {one_line(str(exc))}", file=sys.stderr)
        return UNUSABLE
    finally:
        loop.close()
