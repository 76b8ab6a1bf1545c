"""``trackmock check`` on a file uploaded to an emulator (the dashboard's Drift view).

The same engine, redaction and JSON report as the command; the file is held in memory and
bounded by the caller.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from ..core.redact import Redactor
from .bundle import Bundle
from .check import check_captures
from .command import nothing_to_check
from .inputs import read_capture
from .report import JsonReport


def check_upload(bundle: Bundle, name: str, data: bytes) -> dict[str, Any]:
    """The JSON report of ``trackmock check`` for one uploaded capture, with a ``verdict``.

    Raises ``InputError`` for a file the check cannot use."""
    redactor = Redactor()
    stream = io.StringIO()
    report = JsonReport(stream, redactor)
    capture = read_capture(Path(name), data, redactor)
    check_captures(bundle, (name,), [capture], redactor, report.handle)
    document: dict[str, Any] = json.loads(stream.getvalue())
    reason = nothing_to_check(report, "the file")
    if report.breaking:
        document["verdict"] = "breaking-drift"
    elif reason is not None:
        document["verdict"] = "nothing-to-check"
        document["notes"].append(redactor.scrub(reason))
    else:
        document["verdict"] = "no-breaking-drift"
    return document
