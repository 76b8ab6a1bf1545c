"""Run ``trackmock check`` and ``trackmock diff`` from parsed arguments (see ``cli.py``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..core.contracts import ContractError
from .bundle import path_bundles, vendor_bundle
from .check import run_check
from .diff import run_diff
from .events import Event, Handler
from .inputs import InputError
from .redact import Redactor
from .report import REPORTS, Progress


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    # Written beside and moved in place, so a failed run leaves no half-written report.
    temporary = path.with_name(path.name + ".partial")
    try:
        with temporary.open("w", encoding="utf-8") as stream:
            yield stream
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    redactor = Redactor()
    progress = Progress()
    try:
        with _output(args.output) as stream:
            # The report writes once, at the end: an unusable input leaves no report behind.
            report = REPORTS[args.format](stream, redactor)
            handlers: list[Handler] = [progress, report]

            def emit(event: Event) -> None:
                for handler in handlers:
                    handler.handle(event)

            if args.command == "check":
                run_check(vendor_bundle(args.vendor, args.contracts), args.files, redactor, emit)
            else:
                run_diff(path_bundles(args.old), path_bundles(args.new), emit)
    except (InputError, ContractError, OSError) as exc:
        progress.stop()
        print(f"trackmock {args.command}: {redactor.scrub(str(exc))}", file=sys.stderr)
        return 2
    return 1 if report.breaking else 0
