"""Why a request matched no operation: the question ``GET /__admin/unmatched`` answers.

Asked of the emulator's router after the fact (from the journal), so serving a request costs
nothing extra. A wrong URL is the most common integration bug; the reason names what the
router found instead (another method on that path, or nothing at all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

if TYPE_CHECKING:
    from flask import Flask


def explainer(app: Flask) -> Callable[[str, str], str | None]:
    """A function of (method, path): None when an operation of ``app`` serves that request,
    else why none does."""
    adapter = app.url_map.bind("localhost")

    def explain(method: str, path: str) -> str | None:
        try:
            adapter.match(path, method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(set(exc.valid_methods or []) - {"HEAD", "OPTIONS"}))
            return f"no {method} operation at this path (it has {allowed})"
        except RequestRedirect as exc:
            target = urlsplit(exc.new_url).path
            return f"no operation at this path (the router redirects it to {target})"
        except NotFound:
            return "no operation at this path"
        return None

    return explain


def methods_at(app: Flask) -> Callable[[str], list[str]]:
    """A function of a path: the methods some operation of ``app`` serves there (sorted)."""
    adapter = app.url_map.bind("localhost")

    def methods(path: str) -> list[str]:
        return sorted(adapter.allowed_methods(path))

    return methods
