"""Run ``trackmock check`` and ``trackmock diff`` from parsed arguments (see ``cli.py``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..core.contracts import ContractError
from ..core.redact import Redactor
from .bundle import path_bundles, vendor_bundle
from .check import run_check
from .diff import run_diff
from .events import Event, Handler
from .inputs import InputError
from .report import REPORTS, Collector, Progress

OK, BREAKING, UNUSABLE, NOTHING_TO_CHECK = 0, 1, 2, 3
"""Exit statuses shared by ``check``, ``diff``, ``proxy`` and ``probe``."""


@contextlib.contextmanager
def output(path: Path | None) -> Iterator[IO[str]]:
    """Standard output, or ``path`` written beside and moved in place (so a failed run
    leaves no half-written report)."""
    if path is None:
        yield sys.stdout
        return
    temporary = path.with_name(path.name + ".partial")
    try:
        with temporary.open("w", encoding="utf-8") as stream:
            yield stream
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def nothing_to_check(report: Collector, what: str) -> str | None:
    """Why a run that checked no exchange of the vendor must not pass, or None if it did."""
    if report.matched:
        return None
    seen = report.exchanges + sum(report.skipped.values())
    if not seen:
        return f"nothing to check: {what} held no exchange"
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(report.skipped.items()))
    return (
        f"nothing to check: none of the {seen} exchanges in {what} matches an operation of "
        f"{report.contract}"
        + (f" (skipped: {skipped})" if skipped else "")
        + "; is --vendor right, and did the traffic reach the vendor?"
    )


def one_line(text: str) -> str:
    """A message on one line (a YAML parser's error spans several)."""
    return " ".join(text.split())


def unexpected(command: str, exc: BaseException) -> str:
    """One line for an error no check foresaw (a document shaped in a way nobody expected)."""
    return (
        f"trackmock {command}: cannot use this input: {type(exc).__name__}: {exc} "
        "(this is a trackmock bug if the document is valid; please report it)"
    )


def run(args: argparse.Namespace) -> int:
    redactor = Redactor()
    progress = Progress()
    try:
        with output(args.output) as stream:
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
        print(f"trackmock {args.command}: {one_line(redactor.scrub(str(exc)))}", file=sys.stderr)
        return UNUSABLE
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, RecursionError) as exc:
        progress.stop()
        print(one_line(redactor.scrub(unexpected(args.command, exc))), file=sys.stderr)
        return UNUSABLE
    if report.breaking:
        return BREAKING
    if args.command == "check":
        reason = nothing_to_check(report, "the captures")
        if reason is not None:
            print(f"trackmock check: {reason}", file=sys.stderr)
            return NOTHING_TO_CHECK
    return OK
