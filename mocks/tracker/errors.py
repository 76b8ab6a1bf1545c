"""Tracker's refusals: the inferred ASP.NET Web API shape, and the documented auto-disposition one.

Every refusal but one is ``{"message", "modelState"?}`` (``schemas/Error.json``); the seed's
only error body is ``{"autoDispoErrors": [...]}`` (``schemas/AutoDispoError.json``).
"""

from __future__ import annotations

from typing import Any

from trackmock.core.errors import HttpError, JsonErrorShape

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
