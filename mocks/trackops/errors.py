"""Trackops' refusals: ``{"error": {"status", "message", "parameter"?}}`` (inferred: the API
overview names the statuses, not the body), in the vendor's words for each kind of problem."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..core.errors import HttpError, JsonErrorShape

if TYPE_CHECKING:
    from ..core.validation import Problem

_REQUIRED = re.compile(r"^'([^']+)' is a required property$")


def _error_body(status: int, message: str, **details: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "message": message}
    if details.get("parameter"):
        error["parameter"] = details["parameter"]
    return {"error": error}


trackops_error = JsonErrorShape(_error_body)
"""``trackops_error(status, message, parameter=...)`` → an ``HttpError`` to raise."""


def _describe(problem: Problem) -> tuple[str, str]:
    """A problem's message in the vendor's words, and the parameter (or body path) it names."""
    if problem.location == "body":
        found = _REQUIRED.match(problem.message)
        where = f"{problem.name}.{found.group(1)}" if found else problem.name
        return f"Invalid request body at {problem.name}: {problem.message}", where
    if problem.location == "content-type":
        return f"Invalid request: {problem.message}", "Content-Type"
    if problem.kind == "unknown":
        return f"Unknown parameter '{problem.name}'", problem.name
    if problem.kind == "missing":
        return f"Missing required parameter '{problem.name}'", problem.name
    return f"Invalid value for parameter '{problem.name}': {problem.message}", problem.name


def contract_refusal(problems: list[Problem]) -> HttpError:
    """A request that breaks the contract: one 400 naming every problem and the first one's
    parameter (or body path)."""
    described = [_describe(problem) for problem in problems]
    return trackops_error(
        400, "; ".join(message for message, _ in described), parameter=described[0][1]
    )


def no_route(path: str) -> HttpError:
    return trackops_error(404, f"Not Found: {path}")


def method_not_allowed(method: str, path: str, allowed: list[str]) -> HttpError:
    error = trackops_error(405, f"Method {method} is not allowed on {path}")
    return error.with_headers(Allow=", ".join(allowed))


def plain_http_refused() -> HttpError:
    return trackops_error(
        403, "SSL required: the Trackops API accepts HTTPS connections only; use https://"
    )
