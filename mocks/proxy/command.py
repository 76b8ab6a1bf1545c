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
from typing import Any

from ..core.contracts import ContractError
from ..core.redact import Redactor
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
from .tls import make_tls_files
from .traffic import Recorder

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


def _server(app: ProxyApp, args: argparse.Namespace, tls: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        http="httptools",
        ws="wsproto",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,
        ws_ping_interval=None,
        ws_ping_timeout=None,
        ws_per_message_deflate=False,
        ws_max_size=app.check_body_bytes,
        timeout_graceful_shutdown=1,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    config.load()
    server = uvicorn.Server(config)
    # What uvicorn's own ``serve`` sets up before ``startup`` (lifespan is off).
    server.lifespan = config.lifespan_class(config)
    return server


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Proxy until ``stop`` is set; returns the exit status."""
    from ..core.server import bind

    redactor = Redactor()
    bundle = vendor_bundle(args.vendor, args.contracts)
    buffer = io.StringIO()
    report = REPORTS[args.format](buffer, redactor)
    recorder = Recorder(bundle, redactor, report.handle)
    app = ProxyApp(args.upstream, recorder, upstream_tls=_upstream_tls(args))
    tls = make_tls_files(args.tls_dir) if args.vendor in TLS_VENDORS else None
    server = _server(app, args, tls)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    clock = time.perf_counter()
    report.handle(ev.Started("proxy", bundle.label, (args.upstream,)))
    await app.start()
    recorder.start()
    await server.startup(sockets=[sock])
    try:
        main_loop = asyncio.create_task(server.main_loop())
        ready: dict[str, Any] = {"url": url, "upstream": args.upstream}
        if tls is not None:
            ready["ca_cert"] = str(tls.ca_cert)
        if args.ready_file:
            _write_json(args.ready_file, ready)
        print(
            f"trackmock proxy: {url} -> {redactor.scrub(args.upstream)} ({args.vendor})",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
        server.should_exit = True
        await main_loop
    finally:
        await server.shutdown(sockets=[sock])
        await app.close()
        sock.close()
        await recorder.drain()
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
