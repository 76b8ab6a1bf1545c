"""Run ``trackmock probe`` from parsed arguments (see ``cli.py``)."""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from typing import Any

from ..clients.base import Clock, SystemClock
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
from .probe import LoginRefused, Probe
from .vendors import CredentialsError, vendor


def read_credentials(args: argparse.Namespace) -> dict[str, Any]:
    """The credentials block: the file itself, or the vendor's entry of a ready file."""
    try:
        data = json.loads(args.credentials.read_text())
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"{args.credentials}: not a JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"{args.credentials}: a JSON object is expected")
    if isinstance(data.get(args.vendor), dict):
        data = data[args.vendor]
    if isinstance(data.get("credentials"), dict):
        data = data["credentials"]
    return data


def probe(args: argparse.Namespace, clock: Clock) -> int:
    """Probe the vendor; write the report; return the exit status."""
    import requests

    redactor = Redactor()
    bundle = vendor_bundle(args.vendor, args.contracts)
    credentials = read_credentials(args)
    for value in credentials.values():
        if isinstance(value, str):
            redactor.learn(value)
    buffer = io.StringIO()
    report = REPORTS[args.format](buffer, redactor)
    verify: Any = str(args.ca_cert) if args.ca_cert else True
    session = vendor(args.vendor, credentials, clock, verify)
    started = time.perf_counter()
    report.handle(ev.Started("probe", bundle.label, (redactor.scrub(args.base_url),)))
    runner = Probe(bundle, session, args.base_url, redactor, report.handle)
    try:
        notes = runner.run(args.seconds)
    except (LoginRefused, requests.RequestException) as exc:
        print(f"trackmock probe: {redactor.scrub(one_line(str(exc)))}", file=sys.stderr)
        return UNUSABLE
    report.handle(ev.Finished(time.perf_counter() - started, tuple(notes)))
    with output(args.output) as stream:
        stream.write(buffer.getvalue())
    if report.breaking:
        return BREAKING
    reason = nothing_to_check(report, "the probe")
    if reason is not None:
        print(f"trackmock probe: {reason}", file=sys.stderr)
        return NOTHING_TO_CHECK
    return OK


def run(args: argparse.Namespace, clock: Clock | None = None) -> int:
    try:
        return probe(args, clock or SystemClock())
    except (CredentialsError, InputError, ContractError, OSError) as exc:
        print(f"trackmock probe: {one_line(str(exc))}", file=sys.stderr)
        return UNUSABLE
