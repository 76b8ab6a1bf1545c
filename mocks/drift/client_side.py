"""The request side of an exchange: what the integrator's client sent, against the contract.

Only ``trackmock proxy`` sees whole requests (captures keep too little of them, and hold
secrets), so only it asks. The rules are the emulators' own (``core.validation``, strict
mode: every documented header, parameter, content type and body field), so the proxy refuses
nothing the emulator would take and lets nothing through that it would refuse. A bad request
is the client's bug: its findings say ``side="client"`` and are breaking (the vendor may
refuse it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import events as ev

if TYPE_CHECKING:
    from ..core.contracts import Operation
    from ..core.redact import Redactor
    from ..core.validation import Problem

_KINDS = {
    ("missing", False): ev.MISSING_PARAMETER,
    ("invalid", False): ev.INVALID_PARAMETER,
    ("unknown", False): ev.UNKNOWN_PARAMETER,
    ("missing", True): ev.MISSING_REQUEST_BODY,
    ("invalid", True): ev.INVALID_REQUEST_BODY,
    ("unsupported", True): ev.UNSUPPORTED_CONTENT_TYPE,
}


@dataclass(slots=True)
class ClientRequest:
    """A request as the client sent it (the proxy's copy; the body may be cut)."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    complete: bool = True
    """False when the body was larger than the proxy keeps: it is then not checked."""


def path_arguments(template: str, path: str) -> dict[str, str]:
    """``{"id": "7"}`` for the template ``/cases/{id}`` and the path ``…/cases/7``."""
    names = re.findall(r"\{([^}/]+)\}", template)
    pattern = re.sub(r"\\\{[^}/]+\\\}", "([^/]+)", re.escape(template.rstrip("/")))
    found = re.search(pattern + "/?$", path)
    return dict(zip(names, found.groups(), strict=True)) if found else {}


def check_request(
    operation: Operation, request: ClientRequest, redactor: Redactor
) -> tuple[ev.Finding, ...]:
    """Client findings of ``request`` against ``operation``."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from ..core.validation import parse_request

    builder = EnvironBuilder(
        path=request.path,
        method=request.method,
        query_string=request.query,
        headers=request.headers,
        data=request.body if request.complete else b"",
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    arguments = path_arguments(operation.path, request.path)
    _, problems = parse_request(operation, Request(environ), arguments, strict=True)
    if not request.complete:
        problems = [p for p in problems if p.location not in ("body", "content-type")]
    return tuple(_finding(problem, redactor) for problem in problems)


def _finding(problem: Problem, redactor: Redactor) -> ev.Finding:
    body = problem.location in ("body", "content-type")
    fallback = ev.INVALID_REQUEST_BODY if body else ev.INVALID_PARAMETER
    kind = _KINDS.get((problem.kind, body), fallback)
    if problem.location == "body":
        path = "request body" if problem.name == "$" else f"request body {problem.name}"
    elif problem.location == "content-type":
        path = "request Content-Type"
    else:
        path = f"{problem.location} {problem.name}"
    message = redactor.scrub(f"the client sent a request whose {problem.describe()}")
    return ev.Finding(kind, True, path, message, side="client")
