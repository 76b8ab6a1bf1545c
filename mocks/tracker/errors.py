"""Tracker's refusals: the inferred ASP.NET Web API shape, and the documented auto-disposition one.

Every refusal but one is ``{"message", "modelState"?}`` (``schemas/Error.json``); the only
error body the vendor documents is ``{"autoDispoErrors": [...]}`` (``schemas/AutoDispoError.json``,
from "API - Edit a Case", docs/vendors/sources.md).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..core.errors import HttpError, JsonErrorShape

if TYPE_CHECKING:
    from ..core.validation import Problem

INVALID = "The request is invalid."
DENIED = "Authorization has been denied for this request."
NO_LICENSES = "No licenses are available."
DISABLED = (
    "This account has been disabled for polling the API more than once a minute. "
    "Contact Tracker support."
)
AUTO_DISPOSITION_MISSING = "Offense Type and Auto Disposition Settings are not found"


def _body(status: int, message: str, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if details.get("modelState"):
        body["modelState"] = details["modelState"]
    return body


tracker_error = JsonErrorShape(_body)
"""``tracker_error(status, message, modelState={...})`` → an ``HttpError`` to raise."""

_auto_dispo = JsonErrorShape(lambda status, message, **_: {"autoDispoErrors": [message]})


def invalid(field: str, message: str) -> HttpError:
    """A 400 naming one field, the way ASP.NET reports a model-validation failure."""
    return tracker_error(400, INVALID, modelState={field: [message]})


def invalid_fields(problems: dict[str, list[str]]) -> HttpError:
    return tracker_error(400, INVALID, modelState=problems)


def not_found(message: str) -> HttpError:
    return tracker_error(404, message)


def conflict(message: str) -> HttpError:
    return tracker_error(409, message)


def forbidden(message: str) -> HttpError:
    return tracker_error(403, message)


def auto_disposition_missing() -> HttpError:
    return _auto_dispo(400, AUTO_DISPOSITION_MISSING)


def no_route(path: str) -> HttpError:
    """A path the contract lacks, in ASP.NET's words."""
    return tracker_error(404, f"No HTTP resource was found that matches the request URI {path}.")


def method_not_allowed(method: str, allowed: list[str]) -> HttpError:
    error = tracker_error(405, f"The requested resource does not support http method {method}.")
    return error.with_headers(Allow=", ".join(allowed))


def _words(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: " " + m.group(1).lower(), name)


def contract_refusal(
    problems: list[Problem], prefix: str, extra: dict[str, list[str]]
) -> HttpError:
    """A request that breaks the contract: 415 for a media type, else the 400 whose
    ``modelState`` names each field under ``prefix`` (the body's name, ``case``), plus
    ``extra`` field problems found by the vendor's own rules."""
    unsupported = next((p for p in problems if p.kind == "unsupported"), None)
    if unsupported is not None:
        return tracker_error(
            415,
            f"The request entity's media type '{unsupported.name}' is not supported for "
            "this resource; send application/json.",
        )
    state: dict[str, list[str]] = {}
    for problem in problems:
        field, message = problem.name, problem.message
        if problem.location == "body":
            field = prefix + problem.name[1:]
            if message == "None is not of type 'array'":
                name = problem.name.rsplit(".", 1)[-1]
                message = f"{name} must be an array; send [] when the {prefix} has no "
                message += f"{_words(name)}."
        state.setdefault(field, []).append(message)
    return tracker_error(400, INVALID, modelState=state | extra)
