"""Track's refusals: short ``text/plain`` bodies (inferred: the Track API guide shows none; the
old Traccar server answers errors as text), and the messages each refusal uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import HttpError, TextErrorShape

if TYPE_CHECKING:
    from ..core.contracts import Operation
    from ..core.validation import Problem

track_error = TextErrorShape()
"""``track_error(status, message)`` → an ``HttpError`` to raise."""

NOT_LOGGED_IN = (
    "Not logged in: send the JSESSIONID cookie from POST /api/session, or HTTP Basic email:password"
)
LOGIN_FAILED = "Login failed: unknown email or wrong password"
NO_SESSION = "No session: log in with POST /api/session and send the JSESSIONID cookie"
NOT_UPGRADE = "Not a WebSocket upgrade: send Connection: Upgrade and Upgrade: websocket"
NOT_ACCEPTABLE = (
    "Not acceptable: reports are answered as application/json only (send Accept: application/json)"
)


def own_refusal(operation: Operation, path: str, problems: list[Problem]) -> HttpError | None:
    """Where a request that breaks the contract gets Track's own answer, as the real server
    gives it: a failed login for the login form, a refused upgrade for the socket, 404 for an
    id Jersey would not match (None: the core's 415 or 400 naming every problem)."""
    unsupported = any(p.kind == "unsupported" for p in problems)
    if operation.id == "createSession" and not unsupported:
        return track_error(401, LOGIN_FAILED)
    if operation.id == "openSocket":
        return track_error(400, NOT_UPGRADE)
    if all(p.location == "path" for p in problems):
        return track_error(404, f"no resource at {path}")
    return None
