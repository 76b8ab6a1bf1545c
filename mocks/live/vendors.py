"""Each vendor's rules for a client, as the reference clients keep them: how to log in, and how
fast and how often to ask.

- Tracker: the static-token headers on every call; never the same GET twice within 61 s (the
  account may be disabled otherwise; ``TrackerClient.repeat_interval``).
- Trackops: basic auth ``{username}/token``; at most 1 request a second (the reference
  client's ``TokenBucket``); a 429 is waited out for its ``Retry-After`` and asked again.
- Track: ``POST /api/session`` with the form login; the ``JSESSIONID`` cookie after that.

Every wait goes through a ``Clock`` (``now``, ``sleep``): real time by default, the emulator's
clock in tests, so no test waits a second or a minute of real time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from ..clients.trackops import TokenBucket

if TYPE_CHECKING:
    from ..clients.base import Clock

REPEAT_INTERVAL = 61.0
"""Tracker: seconds between two identical GETs (the rule is a minute; one more for skew)."""
MAX_RETRIES = 3
"""Trackops: how often a 429 is waited out before the answer is taken as it is."""


class CredentialsError(ValueError):
    """Credentials that lack what the vendor's login needs."""


def _need(credentials: dict[str, Any], *names: str) -> list[Any]:
    missing = [name for name in names if credentials.get(name) in (None, "")]
    if missing:
        raise CredentialsError(f"the credentials lack {', '.join(missing)}")
    return [credentials[name] for name in names]


@dataclass
class Vendor:
    """A logged-in session and the vendor's pacing; ``send`` makes one paced request."""

    http: requests.Session
    clock: Clock
    verify: Any = True
    timeout: float = 30.0
    login: tuple[str, str] | None = None
    """The login operation (method, path template) the probe calls first, if any."""
    login_form: dict[str, str] = field(default_factory=dict)

    def wait_turn(self, method: str, url: str) -> None:
        """Wait (on the clock) until the vendor allows this request."""

    def retry_after(self, response: requests.Response) -> float | None:
        """Seconds to wait before asking again, or None to take the answer."""
        return None

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        for _ in range(MAX_RETRIES + 1):
            self.wait_turn(method, url)
            response = self.http.request(
                method, url, verify=self.verify, timeout=self.timeout, **kwargs
            )
            wait = self.retry_after(response)
            if wait is None:
                return response
            self.clock.sleep(wait)
        return response


@dataclass
class Tracker(Vendor):
    sent: dict[str, float] = field(default_factory=dict)

    def wait_turn(self, method: str, url: str) -> None:
        if method != "GET":
            return
        last = self.sent.get(url)
        now = self.clock.now()
        if last is not None and now - last < REPEAT_INTERVAL:
            self.clock.sleep(REPEAT_INTERVAL - (now - last))
            now = self.clock.now()
        self.sent[url] = now


@dataclass
class Trackops(Vendor):
    bucket: TokenBucket | None = None

    def wait_turn(self, method: str, url: str) -> None:
        if self.bucket is None:
            self.bucket = TokenBucket(self.clock, rate=1.0, margin=0.05)
        self.bucket.take()

    def retry_after(self, response: requests.Response) -> float | None:
        if response.status_code != 429:
            return None
        try:
            return max(float(response.headers.get("Retry-After", "1")), 0.0)
        except ValueError:
            return 1.0


def vendor(
    name: str, credentials: dict[str, Any], clock: Clock, verify: Any, timeout: float = 30.0
) -> Vendor:
    """The session of ``name`` logged in (for Track: ready to log in) with ``credentials``."""
    http = requests.Session()
    # A probe talks to one URL: no proxy from the environment, and REQUESTS_CA_BUNDLE must not
    # override the CA given (requests lets it win over ``verify``).
    http.trust_env = False
    http.headers["Accept"] = "application/json"
    if name == "tracker":
        token, organization, office = _need(credentials, "token", "organizationId", "officeId")
        http.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "OrganizationId": str(organization),
                "OfficeId": str(office),
                "StaticToken": "true",
                # The API overview lists it for every call, GETs included (TR-05).
                "Content-Type": "application/x-www-form-urlencoded",
            }
        )
        return Tracker(http, clock, verify, timeout)
    if name == "trackops":
        username, password = _need(credentials, "username", "password")
        user = str(username) if str(username).endswith("/token") else f"{username}/token"
        http.auth = (user, str(password))
        if credentials.get("host"):
            http.headers["Host"] = str(credentials["host"])
        return Trackops(http, clock, verify, timeout)
    if name == "track":
        email, password = _need(credentials, "email", "password")
        return Vendor(
            http,
            clock,
            verify,
            timeout,
            login=("POST", "/api/session"),
            login_form={"email": str(email), "password": str(password)},
        )
    raise CredentialsError(f"no probe rules for the vendor {name!r}")
