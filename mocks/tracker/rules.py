"""Who may call, and how often: headers, static tokens, licenses and the polling rule.

``Gate.authenticate`` runs before every vendor operation and either returns the caller (a
``Principal``) or raises the refusal for the first thing wrong, each with its own message:
the bearer token (TR-01), the StaticToken header (TR-03), a disabled account (TR-07), Accept
(TR-04) and Content-Type on GETs (TR-05) in strict mode, the organization and office
(TR-02), then a license (TR-06). ``Gate.admit`` applies the polling rule to GETs (TR-07).
Each rule that acts on a request says so (``Call.fire``): the journal lists it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import HttpError
from ..core.store import Record
from .errors import DENIED, DISABLED, NO_LICENSES, forbidden, tracker_error

if TYPE_CHECKING:
    from ..core.clock import Clock
    from ..core.emulator import Call
    from .settings import TrackerSettings
    from .store import Account, Organization, TrackerStore

_POSITIVE_INT = re.compile(r"\s*0*[1-9]\d{0,9}\s*")
_GET_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
WARNING_HEADER = "X-Polling-Warning"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: token, account, organization, office and user."""

    token: Record
    account: Account
    org: Organization
    office_id: int
    user: Record

    @property
    def user_id(self) -> int:
        return int(self.token["userId"])


REMEMBERED_CHARS = 2048
"""Header values and URLs up to this long are remembered once read (a client sends the same
few again and again); longer ones are read each time, so the memos stay small."""


def _accepts_json(accept: str) -> bool:
    """Whether an ``Accept`` header lists ``application/json``."""
    return (
        _accepts_json_remembered(accept) if len(accept) <= REMEMBERED_CHARS else _lists_json(accept)
    )


def _lists_json(accept: str) -> bool:
    return "application/json" in [part.split(";")[0].strip().lower() for part in accept.split(",")]


_accepts_json_remembered = functools.lru_cache(maxsize=256)(_lists_json)


def _polled(path: str, query_string: bytes) -> str:
    """What the polling rule counts as the same GET: the path and its query parameters in any
    order."""
    if len(path) + len(query_string) <= REMEMBERED_CHARS:
        return _polled_remembered(path, query_string)
    return _polled_key(path, query_string)


def _polled_key(path: str, query_string: bytes) -> str:
    query = query_string.decode("latin-1")
    return path + "?" + "&".join(sorted(query.split("&"))) if query else path


_polled_remembered = functools.lru_cache(maxsize=1024)(_polled_key)


def _denied(call: Call, reason: str) -> HttpError:
    return _refused(call, "authentication", tracker_error(401, f"{DENIED} {reason}"))


def _refused(call: Call, rule: str, refusal: HttpError) -> HttpError:
    """``refusal``, noted on the call as what ``rule`` did."""
    call.fire(rule, str(refusal))
    return refusal


@dataclass
class Gate:
    """Authentication, licenses and the polling rule of one Tracker emulator.

    Args:
        strict: strict mode (every documented header is required).
    """

    store: TrackerStore
    settings: TrackerSettings
    clock: Clock
    strict: bool

    # -- authenticate ------------------------------------------------------------------------

    def authenticate(self, call: Call) -> Principal:
        headers = call.request.headers
        scheme, _, token = headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _denied(call, "Send Authorization: Bearer <static token>.")
        static = headers.get("StaticToken")
        if (static is None and self.strict) or (
            static is not None and static.strip().lower() != "true"
        ):
            raise _denied(call, "Send StaticToken: true to use a static token.")
        account = self.store.accounts.get(token.strip())
        if account is None:
            raise _denied(call, "The bearer token is not a known static token.")
        record = account.token
        if record["userId"] in self.store.disabled_users:
            raise _refused(call, "polling-rule", forbidden(DISABLED))
        if self.strict:
            self._check_media_headers(call)
        org = self.store.organization(record["organizationId"])
        user = None if org is None else org.users.get(record["userId"])
        if org is None or user is None:
            raise _denied(call, "The token's user no longer exists.")
        org_id = self._header_int(call, "OrganizationId", record["organizationId"])
        if org_id != org.id:
            raise _refused(
                call, "organization", forbidden(f"The user has no access to organization {org_id}.")
            )
        office_id = self._header_int(call, "OfficeId", user["officeId"])
        if office_id not in org.offices:
            raise _refused(
                call,
                "organization",
                forbidden(f"Office {office_id} is not an office of organization {org.id}."),
            )
        if not self._take_license(record, org):
            raise _refused(call, "licenses", forbidden(NO_LICENSES))
        return Principal(record, account, org, office_id, user)

    def _check_media_headers(self, call: Call) -> None:
        request = call.request
        if self.settings.require_accept and not _accepts_json(request.headers.get("Accept", "")):
            raise _refused(
                call,
                "strict-headers",
                tracker_error(400, "Accept: application/json is required."),
            )
        if (
            self.settings.require_get_content_type
            and request.method == "GET"
            and request.mimetype not in _GET_CONTENT_TYPES
        ):
            refusal = tracker_error(
                400,
                "Content-Type: application/x-www-form-urlencoded is required "
                "(the API overview lists it for every call).",
            )
            raise _refused(call, "strict-headers", refusal)

    def _header_int(self, call: Call, name: str, fallback: int) -> int:
        raw = call.request.headers.get(name)
        if raw is None and not self.strict:
            return fallback
        if raw is None or not _POSITIVE_INT.fullmatch(raw):
            message = f"The {name} header is required and must be a positive integer."
            refusal = tracker_error(400, "The request is invalid.", modelState={name: [message]})
            raise _refused(call, "organization", refusal)
        return int(raw)

    # -- licenses (TR-06) ----------------------------------------------------------------------

    def reserved_users(self, org: Organization) -> set[int]:
        return {
            account.token["userId"]
            for account in self.store.accounts.values()
            if account.token["organizationId"] == org.id and account.token["reservedLicense"]
        }

    def release_idle(self, org: Organization) -> None:
        now = self.clock.now()
        idle = self.settings.license_idle_seconds
        for user_id, seen in list(org.license_holders.items()):
            if now - seen >= idle:
                del org.license_holders[user_id]

    def _take_license(self, token: Record, org: Organization) -> bool:
        """Whether the token's user holds a license now (False: the pool is exhausted)."""
        if token["reservedLicense"]:
            return True
        self.release_idle(org)
        holders = org.license_holders
        user_id = token["userId"]
        pool = org.record["licenseCount"]
        if user_id not in holders and len(holders) + len(self.reserved_users(org)) >= pool:
            return False
        holders[user_id] = self.clock.now()
        return True

    # -- the polling rule (TR-07) ----------------------------------------------------------

    def admit(self, call: Call) -> None:
        if not self.settings.polling_rule or call.operation.method != "GET":
            return
        principal: Principal = call.principal
        account = principal.account
        now = self.clock.now()
        request = call.request
        key = _polled(request.path, request.query_string)
        last = account.last_get.pop(key, None)
        account.last_get[key] = now
        self._forget_old_gets(account, now)
        window = self.settings.polling_repeat_window
        if last is None or not 0 <= now - last < window:
            return
        self._violation(call, principal, now)

    def _forget_old_gets(self, account: Account, now: float) -> None:
        # Oldest first (each GET moves to the end), so only the front can be stale.
        window = self.settings.polling_repeat_window
        last_get = account.last_get
        while last_get:
            key, seen = next(iter(last_get.items()))
            if now - seen < window:
                break
            del last_get[key]

    def _violation(self, call: Call, principal: Principal, now: float) -> None:
        violations = principal.account.violations
        period = self.settings.polling_violation_window
        violations.append(now)
        while violations and violations[0] <= now - period:
            violations.popleft()
        limit = self.settings.polling_violations_to_disable
        warning = (
            f"Repeated GET within {self.settings.polling_repeat_window:g} s: violation "
            f"{len(violations)} of {limit} allowed within {period:g} s; poll about every "
            "10 minutes"
        )
        if len(violations) >= limit:
            self.store.disabled_users.add(principal.user_id)
            warning += "; the account is now disabled"
        else:
            warning += " or the account will be disabled"
        call.response_headers[WARNING_HEADER] = warning
        call.fire("polling-rule", warning)

    def enable(self, user_id: int) -> None:
        """Re-enable a disabled account and forget its violations (control API)."""
        self.store.disabled_users.discard(user_id)
        for account in self.store.accounts.values():
            if account.token["userId"] == user_id:
                account.violations.clear()
                account.last_get.clear()
