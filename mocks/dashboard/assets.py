"""The page's files, shipped as package data in ``static/`` and served from memory.

Only the files found there are served, by exact name; each answer carries a Content Security
Policy that lets the page load nothing but its own files and talk to nothing but its emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
TOKEN_MARK = b'data-admin-token=""'
TOKEN_REQUIRED = b'data-admin-token="required"'
"""How ``index.html`` tells the page that the control API needs the admin token."""
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


@cache
def assets() -> dict[str, Asset]:
    """Every file of the page by name (read once)."""
    return {
        path.name: Asset(path.read_bytes(), CONTENT_TYPES[path.suffix])
        for path in sorted(STATIC.iterdir())
        if path.suffix in CONTENT_TYPES
    }
