"""Who may call, and how often: the account (by the Host's first label), the user (by HTTP
basic auth), and the rate limit.

The Trackops API overview: basic auth with the username ``{username}/token`` and the company
API token; only active Full Access employees; Limited Access employees and client contacts are
refused; API access must be activated for the account; about 1 request per second, else 429.
The order of the checks and each message follow the contract's ``info.description`` and its
401/403/429 examples (all inferred). Each refusal is noted on the call (``Call.fire``), so the
journal says which rule refused a request.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.errors import HttpError
from ..core.ratelimit import Policy, RateLimiter
from .errors import trackops_error
from .store import Account

if TYPE_CHECKING:
    from ..core.clock import Clock
    from ..core.emulator import Call
    from .settings import TrackopsSettings
    from .store import TrackopsStore

TOKEN_SUFFIX = "/token"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Trackops API"'}
NEEDS_CREDENTIALS = (
    "Authentication required: use HTTP basic auth with '{username}/token' and the company API token"
)

Refuse = Callable[..., HttpError]


@dataclass(frozen=True)
class Principal:
    """A user the API let in, and the account they called."""

    account: Account
    username: str
    name: str
    staff_id: int | None


def subdomain_of(host: str, default: str) -> str:
    """The account's subdomain: the first label of the Host; a bare IP, ``localhost`` or a
    name without a dot (a container's service name) mean the default account. (Remembered for
    a Host of ordinary length: a client sends the same one every time.)"""
    if len(host) <= 255:
        return _subdomain_remembered(host, default)
    return _subdomain(host, default)


def _subdomain(host: str, default: str) -> str:
    hostname = host.strip().lower()
    if hostname.startswith("["):
        hostname = hostname[1 : hostname.find("]")]
    elif hostname.count(":") == 1:
        hostname = hostname.split(":", 1)[0]
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return default
    if "." not in hostname:
        return default
    return hostname.split(".", 1)[0]


_subdomain_remembered = functools.lru_cache(maxsize=256)(_subdomain)


def _credentials(header: str) -> tuple[str, str] | None:
    """The login and token of a basic ``Authorization`` header; None when it carries none."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, token = decoded.partition(":")
    return (username, token) if colon else None


_credentials_remembered = functools.lru_cache(maxsize=256)(_credentials)

REMEMBERED_HEADER_CHARS = 512
"""An ``Authorization`` value longer than this is decoded each time, never remembered."""


def _basic(header: str, refuse: Refuse) -> tuple[str, str]:
    """The header's login and token (decoded once per value of ordinary length: a client
    sends the same one every time), or the 401 refusal."""
    if len(header) <= REMEMBERED_HEADER_CHARS:
        found = _credentials_remembered(header)
    else:
        found = _credentials(header)
    if found is None:
        raise refuse(401, NEEDS_CREDENTIALS, headers=CHALLENGE)
    return found


def user_refusal(user: dict[str, Any]) -> str | None:
    """Why a known user may not use the API (None: they may)."""
    if user["user_type"] == "client_contact":
        return "Client contacts cannot use the API: use an active Full Access employee"
    if not user["is_active"]:
        return f"The user '{user['username']}' is inactive"
    if user["access_level"] != "full_access":
        return "Limited Access employees cannot use the API: use an active Full Access employee"
    return None


def authenticate(account: Account, header: str | None, refuse: Refuse) -> Principal:
    """The principal of a request to ``account``, or raise the refusal (see the module doc)."""
    if not header:
        raise refuse(401, NEEDS_CREDENTIALS, headers=CHALLENGE)
    login, token = _basic(header, refuse)
    username = login[: -len(TOKEN_SUFFIX)] if login.endswith(TOKEN_SUFFIX) else ""
    if not username:
        raise refuse(401, "The username must have the form '{username}/token'", headers=CHALLENGE)
    if not account.api_access_enabled:
        raise refuse(403, "API access is not activated for this account")
    if not hmac.compare_digest(token.encode(), account.api_token.encode()):
        raise refuse(401, "Invalid API token", headers=CHALLENGE)
    user = account.users.get(username)
    if user is None:
        raise refuse(401, f"Unknown user '{username}' for this account", headers=CHALLENGE)
    reason = user_refusal(user)
    if reason is not None:
        raise refuse(403, reason)
    return Principal(account, username, user["name"], user.get("staff_id"))


@dataclass
class Gate:
    """The account, the caller and the rate limit of each request to one Trackops emulator.

    Args:
        default_subdomain: the account of a Host without a subdomain.
    """

    store: TrackopsStore
    settings: TrackopsSettings
    clock: Clock
    default_subdomain: str
    limiter: RateLimiter | None = field(init=False)
    """Requests per credential (None: no limit)."""

    def __post_init__(self) -> None:
        limit, period = self.settings.rate_limit, self.settings.rate_period
        self.limiter = RateLimiter(self.clock, Policy(limit, period)) if limit else None

    def reset(self) -> None:
        if self.limiter is not None:
            self.limiter.reset()

    def account_of(self, call: Call) -> Account:
        """The account the Host names (404 when there is none)."""
        host = call.request.headers.get("Host", "")
        subdomain = subdomain_of(host, self.default_subdomain)
        account = self.store.account(subdomain)
        if account is None:
            message = f"Not Found: no account for subdomain '{subdomain}'"
            call.fire("account", message)
            raise trackops_error(404, message)
        return account

    def authenticate(self, call: Call) -> Principal:
        account = self.account_of(call)

        def refuse(status: int, message: str, **details: Any) -> HttpError:
            call.fire("api-access" if status == 403 else "authentication", message)
            return trackops_error(status, message, **details)

        return authenticate(account, call.request.headers.get("Authorization"), refuse)

    def admit(self, call: Call) -> None:
        """The rate limit, per credential (per address for the download link)."""
        if self.limiter is None:
            return
        principal = call.principal
        if principal is not None:
            key: Any = (principal.account.subdomain, principal.username)
        else:
            # The download link is its own credential: limit by the caller's address.
            key = ("link", call.request.remote_addr)
        decision = self.limiter.hit(key)
        if not decision.allowed:
            limit, period = self.settings.rate_limit, self.settings.rate_period
            per = "second" if period == 1 else f"{period:g} seconds"
            wait = decision.retry_after_header
            message = (
                f"Too Many Requests: the API allows {limit} request{'s' * (limit != 1)} per "
                f"{per}; retry after {wait} second{'s' * (wait != '1')}"
            )
            call.fire("rate-limit", message)
            raise trackops_error(429, message, headers={"Retry-After": wait})
