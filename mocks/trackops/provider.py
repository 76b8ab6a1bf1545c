"""The Trackops emulator's rules and handlers.

LIMITATIONS (each matches an ``x-inferred`` part of ``contracts/trackops/openapi.yaml``;
``docs/vendors/trackops.md`` lists them with the reasons):

- Sixteen objects have no public reference page: their paths (``case/flags``, ``subject/types``
  ...), filters and every record field are designed after the documented objects.
- Record fields are designed for all 32 objects except the expense entry fields the vendor's
  PHP client reads; the read by id of Cases, Case Reviews, Clients, Invoices and Case
  Requests, and the paged answer of the two status-history-by-case paths, are inferred.
- The error body ``{"error": {"status", "message", "parameter"?}}``, the 401/403/404/405
  statuses and messages, the order of the auth checks, and ``Retry-After`` are inferred.
- Creates answer 201 with the record; which body fields are required beyond the documented
  ones, how a new case finds its location and number, and that new employees are Limited
  Access are inferred. ``POST /events`` has an inferred body.
- The download link's form (``/files/{id}/download?expires=&signature=``), that it needs no
  basic auth, and its placeholder bytes are inferred; uploads are not emulated.
- Records are sorted by ``id`` (creation order). Nothing is ever deleted through the API, so a
  client's cache sees no deletions; only the status-history control action deletes records.
- Accounts live in ``fixtures/trackops/accounts.json``; a Host that is an IP, ``localhost`` or
  has no dot selects the default account.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import orjson

from ..core.emulator import Call, Emulator, Provider, Reply
from ..core.errors import HttpError, JsonErrorShape
from ..core.paths import fixtures_dir
from ..core.ratelimit import Policy, RateLimiter
from ..core.settings import SettingsError
from ..core.store import Record
from ..core.validation import Problem
from . import auth, collections
from .admin import AdminActions
from .catalog import View, load_catalog
from .files import LinkSigner, placeholder
from .settings import TrackopsSettings
from .store import Account, FixtureSet, TrackopsStore
from .writes import Writes

_REQUIRED = re.compile(r"^'([^']+)' is a required property$")


def _error_body(status: int, message: str, **details: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "message": message}
    if details.get("parameter"):
        error["parameter"] = details["parameter"]
    return {"error": error}


def _describe(problem: Problem) -> tuple[str, str]:
    """A problem's message in the vendor's words, and the parameter (or body path) it names."""
    if problem.location == "body":
        found = _REQUIRED.match(problem.message)
        where = f"{problem.name}.{found.group(1)}" if found else problem.name
        return f"Invalid request body at {problem.name}: {problem.message}", where
    if problem.location == "content-type":
        return f"Invalid request: {problem.message}", "Content-Type"
    if problem.kind == "unknown":
        return f"Unknown parameter '{problem.name}'", problem.name
    if problem.kind == "missing":
        return f"Missing required parameter '{problem.name}'", problem.name
    return f"Invalid value for parameter '{problem.name}': {problem.message}", problem.name


class TrackopsProvider(Writes, AdminActions, Provider):
    """Trackops: 32 paged collections read from the contract, six writes, basic auth per
    account, 1 request per second, TLS only (the listener refuses plain HTTP)."""

    name = "trackops"
    error = JsonErrorShape(_error_body)

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.settings: TrackopsSettings = emulator.vendor_settings or TrackopsSettings()
        self.catalog = load_catalog(self.contract)
        self.shapes: dict[str, Callable[[Any], Any]] = {
            name: self.contract.shape(record_type.schema).shape
            for name, record_type in self.catalog.records.items()
        }
        self.fixtures = FixtureSet.read(
            fixtures_dir() / "trackops",
            self.catalog,
            lambda record_type, row: self.shapes[record_type.collection](row),
        )
        self.default_subdomain = self.settings.default_subdomain or self.fixtures.default_subdomain
        known = [account.subdomain for account in self.fixtures.accounts]
        if self.default_subdomain not in known:
            raise SettingsError(
                f"settings.trackops.default_subdomain: no account '{self.default_subdomain}'; "
                f"known: {', '.join(known)}"
            )
        self.store = TrackopsStore(self.fixtures, self.catalog, self.shapes)
        policy = self.settings.rate_limit
        self.limiter = (
            RateLimiter(self.clock, Policy(policy, self.settings.rate_period)) if policy else None
        )
        self.links = LinkSigner.for_seed(emulator.settings.seed, self.settings.download_url_ttl)
        self._volume: dict[str, list[Record]] | None = None
        # One code path serves every GET of the contract: its view says what it reads.
        for view in self.catalog.views.values():
            handler = self._list if view.paged else self._get
            setattr(self, view.operation_id, partial(handler, view))

    # -- state --------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
            if self.limiter is not None:
                self.limiter.reset()
            self.store.fill(self._volume_records())

    def _volume_records(self) -> dict[str, list[Record]]:
        """The generated records (made once, on the first reset that needs them)."""
        if self.settings.volume <= 0:
            return {}
        if self._volume is None:
            from trackmock.fixtures.trackops.generate import generate

            made = generate(
                self.settings.volume,
                seed=self.emulator.settings.seed,
                fixtures=self.fixtures.records,
                lookups=self.fixtures.lookups,
                end=self.clock.now(),
            )
            self._volume = {
                name: [self.shapes[name](row) for row in rows] for name, rows in made.items()
            }
        return self._volume

    def credentials(self) -> dict[str, Any]:
        account = self.store.account(self.default_subdomain)
        assert account is not None
        user = next(
            (u for u in account.users.values() if auth.user_refusal(u) is None),
            None,
        )
        username = user["username"] if user else ""
        return {
            "username": f"{username}{auth.TOKEN_SUFFIX}",
            "password": account.api_token,
            "subdomain": account.subdomain,
        }

    def admin_contract(self) -> Path:
        return Path(url2pathname(urlparse(self.contract.uri).path)).parent / "admin.yaml"

    # -- hooks --------------------------------------------------------------------------------

    def account_of(self, call: Call) -> Account:
        host = call.request.headers.get("Host", "")
        subdomain = auth.subdomain_of(host, self.default_subdomain)
        account = self.store.account(subdomain)
        if account is None:
            raise self.error(404, f"Not Found: no account for subdomain '{subdomain}'")
        return account

    def authenticate(self, call: Call) -> auth.Principal:
        account = self.account_of(call)
        return auth.authenticate(account, call.request.headers.get("Authorization"), self.error)

    def admit(self, call: Call) -> None:
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
            raise self.error(
                429,
                f"Too Many Requests: the API allows {limit} request{'s' * (limit != 1)} per "
                f"{per}; retry after {wait} second{'s' * (wait != '1')}",
                headers={"Retry-After": wait},
            )

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        described = [_describe(problem) for problem in problems]
        return self.error(
            400, "; ".join(message for message, _ in described), parameter=described[0][1]
        )

    def not_found(self, path: str) -> HttpError:
        return self.error(404, f"Not Found: {path}")

    def method_not_allowed(self, method: str, path: str, allowed: list[str]) -> HttpError:
        error = self.error(405, f"Method {method} is not allowed on {path}")
        return error.with_headers(Allow=", ".join(allowed))

    def plain_http_refused(self) -> HttpError:
        return self.error(
            403, "SSL required: the Trackops API accepts HTTPS connections only; use https://"
        )

    # -- reads: every GET of the contract ---------------------------------------------------

    def _page_size(self, call: Call) -> int:
        limit = self.settings.max_per_page
        if "per_page" not in call.request.args:
            return limit
        size: int = call.query["per_page"]
        if size > limit:
            raise self.error(
                400,
                f"Invalid value for parameter 'per_page': {size} is greater than the maximum "
                f"of {limit}",
                parameter="per_page",
            )
        return size

    def _missing(self, collection: str, key: Any) -> HttpError:
        record_type = self.catalog.records.get(collection)
        title = record_type.title if record_type else collection
        return self.error(404, f"Not Found: no {title} with id {key}")

    def _list(self, view: View, call: Call) -> Reply | dict[str, int]:
        account: Account = call.principal.account
        size = self._page_size(call)
        for flt in view.filters:
            relation = view.record.fields[flt.field].relation if flt.location == "path" else None
            key = call.path.get(flt.param)
            if relation and key is not None and not account.exists(relation, key):
                raise self._missing(relation, key)
        try:
            test = collections.predicate(view, {**call.query, **call.path})
        except collections.FilterError as exc:
            raise self.error(
                400, f"Invalid value for parameter '{exc.param}': {exc}", parameter=exc.param
            ) from None
        table = account.table(view.record.collection)
        if call.query.get("mode") == "count":
            return collections.count(table, test, size)
        rows = collections.page(
            table,
            test,
            number=call.query["page"],
            size=size,
            descending=call.query["dir"] == "desc",
        )
        expand = {name for param, name in view.expands.items() if call.query.get(param) is True}
        if not expand and not view.record.signed_links:
            return Reply.encoded(table.encoded_list(rows, lambda row: row["id"]))
        return Reply.encoded(orjson.dumps([self._present(view, row, expand, call) for row in rows]))

    def _get(self, view: View, call: Call) -> Reply:
        account: Account = call.principal.account
        key = call.path["id"]
        table = account.table(view.record.collection)
        record = table.get(key)
        if record is None or any(record.get(k) != v for k, v in view.where.items()):
            raise self._missing(view.record.collection, key)
        if not view.record.signed_links:
            return Reply.encoded(table.encoded(key))
        return Reply.encoded(orjson.dumps(self._present(view, record, set(), call)))

    def _present(self, view: View, record: Record, expand: set[str], call: Call) -> Any:
        """A record as one response shows it: unrequested expansions null, links fresh."""
        hidden = dict.fromkeys(view.record.expands - expand)
        shown = {**record, **hidden}
        if view.record.signed_links:
            account: Account = call.principal.account
            shown = self.links.issue(shown, call.request.host_url, account.subdomain, call.now)
        return self.shapes[view.record.collection](shown)

    # -- the download link ----------------------------------------------------------------------

    def downloadFile(self, call: Call) -> Reply:
        account = self.account_of(call)
        if not account.api_access_enabled:
            raise self.error(403, "API access is not activated for this account")
        key, expires = call.path["id"], call.query["expires"]
        if not self.links.valid(account.subdomain, key, expires, call.query["signature"]):
            raise self.error(403, "The download link is not valid")
        if call.now > expires:
            raise self.error(
                403, "The download link has expired; fetch the file record again for a new one"
            )
        record = account.get("files", key)
        if record is None:
            raise self._missing("files", key)
        return Reply.encoded(
            placeholder(record, self.settings.download_max_bytes),
            content_type="application/octet-stream",
        )
