"""Who may call: web sessions (the ``JSESSIONID`` cookie), HTTP Basic, and who sees a device.

The Track API guide ("2 Login"): ``POST /api/session`` with the form ``email``/``password``
answers the user and sets the cookie (``Path=/api``); sessions end after ``session_timeout``
seconds of inactivity ("3.4 Web Session Timeout"). REST calls also take HTTP Basic
``email:password``, as Traccar does. The socket reads only the cookie, and the old Traccar
server (Jetty) answers an upgrade without a user with 503.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import NO_SESSION, NOT_LOGGED_IN, track_error
from .times import to_ms

if TYPE_CHECKING:
    from ..core.emulator import Call
    from .records import Record
    from .settings import TrackSettings
    from .store import TrackStore, WebSession

COOKIE = "JSESSIONID"
SWEEP_INTERVAL = 60.0
"""Seconds of the emulator clock between two sweeps of ended sessions (a login triggers one)."""
SWEEP_SLACK = 1024
"""Sessions that may pile up between sweeps before one is due anyway (a frozen clock)."""


@dataclass
class Gate:
    """Logins, sessions and device visibility of one Track emulator."""

    store: TrackStore
    settings: TrackSettings
    _swept_at: float = field(default=float("-inf"), init=False)
    _kept: int = field(default=0, init=False)
    """How many sessions the last sweep kept."""

    def open_session(self, session: WebSession, now: float) -> None:
        """Keep a new login's session, forgetting the sessions that have ended (each costs
        about 390 bytes: never purged, they would pile up with every login)."""
        sessions = self.store.sessions
        if now - self._swept_at >= SWEEP_INTERVAL or len(sessions) >= 2 * self._kept + SWEEP_SLACK:
            timeout = self.settings.session_timeout
            for key in [k for k, old in sessions.items() if not old.valid(now, timeout)]:
                del sessions[key]
            self._swept_at, self._kept = now, len(sessions)
        sessions[session.id] = session

    def session(self, session_id: str | None, now: float) -> WebSession | None:
        """The valid session of a cookie value (touched: sessions end after inactivity)."""
        if not session_id:
            return None
        session = self.store.sessions.get(session_id)
        if session is None:
            return None
        if not session.valid(now, self.settings.session_timeout):
            del self.store.sessions[session_id]
            return None
        session.last_seen = now
        return session

    def login(self, email: str | None, password: str | None, now: float) -> Record | None:
        """The user these credentials name, if they may log in now."""
        user = self.store.user_by_email(email or "")
        if user is None or self.store.passwords.get(user["id"]) != password:
            return None
        expires = user.get("expirationTime")
        if user.get("disabled") or (expires is not None and expires <= to_ms(now)):
            return None
        return user

    def _basic(self, call: Call) -> Record | None:
        header = call.request.headers.get("Authorization", "")
        if not self.settings.basic_auth or header[:6].lower() != "basic ":
            return None
        try:
            email, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.login(email, password, call.now)

    def caller(self, call: Call) -> Record | None:
        """The user of the session cookie, else of HTTP Basic; None when neither names one."""
        session = self.session(call.request.cookies.get(COOKIE), call.now)
        if session is not None:
            return self.store.users.get(session.user_id)
        return self._basic(call)

    def authenticate(self, call: Call) -> Record:
        if call.operation.id == "openSocket":
            # The socket reads only the cookie, and Jetty answers a missing user with 503.
            session = self.session(call.request.cookies.get(COOKIE), call.now)
            if session is None:
                call.fire("session", f"{self._why_no_session(call)}: the upgrade answers 503")
                raise track_error(503, NO_SESSION)
            user = self.store.users.get(session.user_id)
        else:
            user = self.caller(call)
        if user is None:
            call.fire("session", self._why_no_session(call))
            headers = {}
            if call.request.headers.get("X-Requested-With") != "XMLHttpRequest":
                headers["WWW-Authenticate"] = 'Basic realm="api"'
            raise track_error(401, NOT_LOGGED_IN, headers=headers)
        return user

    def _why_no_session(self, call: Call) -> str:
        if call.request.cookies.get(COOKIE):
            return f"the {COOKIE} cookie names no live session (logged out, or timed out)"
        return f"no {COOKIE} cookie (nor valid credentials by HTTP Basic)"

    def check_device(self, user_id: int, device_id: int) -> None:
        """Refuse (400, as Traccar does) a device the user does not see."""
        if not self.store.sees_device(user_id, device_id):
            raise track_error(400, f"Device access denied: no device {device_id} for this user")
