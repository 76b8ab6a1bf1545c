"""Error answers: one exception carrying a ready response, and one helper per error shape.

A route never writes an error body itself: it raises what its vendor's shape helper returns,
so every refusal of a vendor looks the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

JSON = "application/json"


class HttpError(Exception):
    """A refusal: status, encoded body, content type and extra headers."""

    def __init__(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = JSON,
        headers: Mapping[str, str] | None = None,
        message: str = "",
    ) -> None:
        super().__init__(message or body.decode("utf-8", "replace"))
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})

    def with_headers(self, **headers: str) -> HttpError:
        self.headers.update(headers)
        return self


ShapeBuilder = Callable[..., Any]


class JsonErrorShape:
    """A vendor's JSON error shape; ``build(status, message, **details)`` returns the body.

    Calling the shape returns an ``HttpError`` ready to raise.
    """

    def __init__(self, build: ShapeBuilder) -> None:
        self._build = build

    def __call__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **details: Any,
    ) -> HttpError:
        body = orjson.dumps(self._build(status, message, **details))
        return HttpError(status, body, headers=headers, message=message)


class TextErrorShape:
    """A vendor that answers errors as short plain-text bodies."""

    def __call__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **_details: Any,
    ) -> HttpError:
        return HttpError(
            status,
            message.encode("utf-8"),
            content_type="text/plain; charset=utf-8",
            headers=headers,
            message=message,
        )


ErrorShape = JsonErrorShape | TextErrorShape


def _admin_body(status: int, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"status": status, "message": message, **details}}


admin_error = JsonErrorShape(_admin_body)
"""The control API's own error shape: ``{"error": {"status", "message", ...details}}``."""
