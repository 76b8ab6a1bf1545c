"""CORS for browser-based integrations: ``Access-Control-*`` headers and preflight answers.

Off unless ``cors_origins`` is set (``trackmock serve --cors ORIGINS``): the vendors' documents
say nothing of CORS, so by default an emulator sends no such header, as a server without CORS
does. When on, for a request whose ``Origin`` is allowed:

- a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here, 204, with
  the methods the path serves (the requested one when no operation serves the path, so the
  browser goes on and shows the API's own 404), the requested headers, credentials allowed and
  a ``Max-Age``;
- every other answer (faults and refusals included) gets ``Access-Control-Allow-Origin`` (the
  origin itself, never ``*``, so cookies and ``Authorization`` work), ``-Allow-Credentials``,
  ``-Expose-Headers`` (the answer's own headers a script could not read otherwise) and
  ``Vary: Origin``.

A preflight from an origin that is not allowed gets a 403 naming the setting; other requests
from it are answered without CORS headers, so the browser keeps their answers from the page.
Sockets need no CORS (browsers send ``Origin`` and the server decides): they are left alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .errors import HttpError, admin_error

if TYPE_CHECKING:
    from .emulator import Emulator

Journal = Callable[..., None]
"""``EmulatorAsgi._journal_scope``: (scope, body, (status, headers, payload), notes)."""

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

MAX_AGE = 600
"""Seconds a browser may cache a preflight answer."""

SAFELISTED = frozenset(
    {
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    }
)
"""Response headers a script reads without ``Access-Control-Expose-Headers`` (Fetch standard)."""

NEVER_EXPOSED = frozenset({"set-cookie", "set-cookie2"})


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class Cors:
    """CORS around one emulator's HTTP handling.

    Args:
        origins: allowed origins (``https://app.example:3000``), or ``*`` for any.
        methods: the methods the emulator serves at a path (empty when none serves it).
        refuse: the error of the emulator's shape at a path (path, status, message), for the
            refusal of a preflight.
        record: journals a preflight answered here (method, path, query, status, headers).
    """

    def __init__(
        self,
        origins: Iterable[str],
        methods: Callable[[str], list[str]],
        refuse: Callable[[str, int, str], HttpError],
        record: Callable[[dict[str, Any], int, list[tuple[str, str]], bytes], None],
    ) -> None:
        listed = [origin.strip() for origin in origins if origin.strip()]
        self.any = "*" in listed
        self.origins = frozenset(origin.rstrip("/").lower() for origin in listed if origin != "*")
        self.methods = methods
        self.refuse = refuse
        self.record = record

    def allows(self, origin: str) -> bool:
        return self.any or origin.rstrip("/").lower() in self.origins

    def wrap(self, app: Asgi) -> Asgi:
        """``app`` (an HTTP ASGI callable) with CORS in front of it."""

        async def with_cors(scope: dict[str, Any], receive: Any, send: Any) -> None:
            origin = _header(scope, b"origin")
            if origin is None:
                await app(scope, receive, send)
                return
            wanted = _header(scope, b"access-control-request-method")
            if scope["method"] == "OPTIONS" and wanted is not None:
                await self._preflight(scope, send, origin, wanted)
                return
            if self.allows(origin):
                send = self._decorating(send, origin)
            await app(scope, receive, send)

        return with_cors

    async def _preflight(self, scope: dict[str, Any], send: Any, origin: str, wanted: str) -> None:
        body = b""
        if self.allows(origin):
            status = 204
            served = [m for m in self.methods(scope["path"]) if m not in ("HEAD", "OPTIONS")]
            headers = [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Methods", ", ".join(served or [wanted.upper()])),
                ("Access-Control-Max-Age", str(MAX_AGE)),
                ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            ]
            asked = _header(scope, b"access-control-request-headers")
            if asked:
                headers.append(("Access-Control-Allow-Headers", asked))
        else:
            error = self.refuse(
                scope["path"],
                403,
                f"CORS: the origin {origin} is not allowed; allow it with trackmock serve "
                f"--cors {origin} (setting cors_origins)",
            )
            status, body = error.status, error.body
            headers = [("Content-Type", error.content_type), ("Vary", "Origin")]
        self.record(scope, status, headers, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _decorating(send: Any, origin: str) -> Any:
        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.decode("latin-1").lower() for name, _ in headers}
                exposed = sorted(names - SAFELISTED - NEVER_EXPOSED - {"vary"})
                vary = [value for name, value in headers if name.lower() == b"vary"]
                headers = [(name, value) for name, value in headers if name.lower() != b"vary"]
                headers += [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-credentials", b"true"),
                    (b"vary", b", ".join([*vary, b"Origin"])),
                ]
                if exposed:
                    headers.append(
                        (b"access-control-expose-headers", ", ".join(exposed).encode("latin-1"))
                    )
                message = {**message, "headers": headers}
            await send(message)

        return send_with_cors


def for_emulator(emulator: Emulator, journal: Journal) -> Cors:
    """CORS for ``emulator`` as its settings say (``cors_origins``); ``journal`` records the
    preflights answered here as the ASGI layer records other requests."""
    from .asgi import ADMIN_PREFIX

    app = emulator.app  # first: it imports Flask and werkzeug (``LATE_IMPORTS``)
    from .unmatched import methods_at

    methods = methods_at(app)

    def refuse(path: str, status: int, message: str) -> HttpError:
        shape = admin_error if path.startswith(ADMIN_PREFIX) else emulator.provider.error
        return shape(status, message)

    def record(
        scope: dict[str, Any], status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        if not scope["path"].startswith(ADMIN_PREFIX) or emulator.settings.journal_admin:
            journal(scope, b"", (status, headers, body), {"note": "CORS preflight"})

    return Cors(emulator.settings.cors_origins or (), methods, refuse, record)
