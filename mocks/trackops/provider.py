"""The Trackops API: one handler per operationId, over the core pipeline.

Every GET of a collection or of one record is served by one of two generic handlers,
``list_records`` and ``get_record``: ``COLLECTION_READS`` names each such operationId, and the
contract's ``x-collection`` says which store it reads (``catalog.py``). The writes are thin
handlers over ``writes.py``; the rules (account, basic auth, rate limit) are in ``rules.py``;
control actions in ``admin.py``; the state in ``store.py``. What is emulated and what is
inferred: docs/vendors/trackops.md.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..core.emulator import Call, Handler, Provider, Reply
from ..core.errors import HttpError
from ..core.paths import fixtures_dir
from ..core.settings import SettingsError
from ..core.snapshot import (
    ANY,
    NUMBER,
    STR,
    Apply,
    Field,
    ListOf,
    MapOf,
    SnapshotError,
    TupleOf,
    load_fields,
)
from ..core.state_tables import StateTable
from ..core.store import Record
from ..core.tls import DEFAULT_NAMES, ServerTls, make_server_tls
from . import collections
from .admin import TrackopsAdmin
from .catalog import View, load_catalog
from .errors import (
    contract_refusal,
    method_not_allowed,
    no_route,
    plain_http_refused,
    trackops_error,
)
from .files import LinkSigner, placeholder
from .initial_state import FixtureFiles, generate_volume, load_initial_state
from .rules import TOKEN_SUFFIX, Gate, Principal, user_refusal
from .settings import TrackopsSettings
from .store import Account, TrackopsStore
from .writes import Writes

if TYPE_CHECKING:
    from ..core.contracts import Operation
    from ..core.emulator import Emulator
    from ..core.validation import Problem

SERVICE_NAME = "trackops"
"""The host name other containers use in Docker Compose (the default account)."""
HEAVY = frozenset(
    {
        "listTrackopsRecords",
        "createTrackopsRecords",
        "resetEmulator",
        "getSnapshot",
        "restoreSnapshot",
    }
)
"""Control calls that read or write a whole store: they run off the event loop."""

RATE_HITS = MapOf(TupleOf((STR, STR)), ListOf(NUMBER, deque))
"""The rate limit's window of each credential ((subdomain, username), or ("link", address))."""


class LinkKey:
    """The key that signs download links, written in hex."""

    def dump(self, value: bytes) -> str:
        return value.hex()

    def load(self, data: Any, where: str) -> bytes:
        try:
            key = bytes.fromhex(STR.load(data, where))
        except ValueError:
            raise SnapshotError(f"{where}: expected the key in hex") from None
        if len(key) < 16:
            raise SnapshotError(f"{where}: a key of at least 16 bytes is expected")
        return key


STATE = [Field("store", ANY), Field("rate_limit", RATE_HITS), Field("link_key", LinkKey())]

COLLECTION_READS = {
    **dict.fromkeys(
        (
            "listCaseContacts",
            "listCaseFlags",
            "listCaseRegions",
            "listCaseRequests",
            "listCaseReviews",
            "listCaseServices",
            "listCaseStatusChanges",
            "listCaseStatuses",
            "listCaseTypes",
            "listCaseUpdateNotifications",
            "listCaseUpdates",
            "listCases",
            "listCaseStatusHistory",
            "listCaseStatusHistoryOfCase",
            "listCaseStatusHistoryOfCaseStatus",
            "listClientContactNotes",
            "listClientContacts",
            "listClientLocations",
            "listClientNotes",
            "listClients",
            "listEventCheckins",
            "listEvents",
            "listExpenseEntries",
            "listPaymentSlips",
            "listFiles",
            "listInvoicePayments",
            "listInvoices",
            "listItemCodes",
            "listReferralSources",
            "listStaff",
            "listStaffNotes",
            "listSubjectTypes",
            "listSubjects",
            "listTasks",
            "listTrackingCategories",
        ),
        "list_records",
    ),
    **dict.fromkeys(
        (
            "getCaseContact",
            "getCaseFlag",
            "getCaseRegion",
            "getCaseRequest",
            "getCaseReview",
            "getCaseService",
            "getCaseStatusChange",
            "getCaseStatus",
            "getCaseType",
            "getCaseUpdateNotification",
            "getCaseUpdate",
            "getCase",
            "getClientContactNote",
            "getClientContact",
            "getClientLocation",
            "getClientNote",
            "getClient",
            "getEventCheckin",
            "getEvent",
            "getExpenseEntry",
            "getPaymentSlip",
            "getFile",
            "getInvoicePayment",
            "getInvoice",
            "getItemCode",
            "getReferralSource",
            "getStaffNote",
            "getStaff",
            "getSubjectType",
            "getSubject",
            "getTask",
            "getTrackingCategory",
        ),
        "get_record",
    ),
}
"""Each collection GET's operationId → the generic handler serving it (``handler_for``)."""


class TrackopsProvider(Provider[TrackopsSettings]):
    """Trackops: 32 paged collections read from the contract, six writes, basic auth per
    account, 1 request per second, TLS only (the listener refuses plain HTTP)."""

    name = "trackops"
    error = trackops_error
    settings_class = TrackopsSettings

    def __init__(self, emulator: Emulator, settings: TrackopsSettings) -> None:
        super().__init__(emulator, settings)
        contract = self.contract
        self.catalog = load_catalog(contract)
        self.shapes: dict[str, Any] = {
            name: contract.shape(record_type.schema).shape
            for name, record_type in self.catalog.records.items()
        }
        self.fixture_files = FixtureFiles.read(
            fixtures_dir() / "trackops",
            self.catalog,
            lambda record_type, row: self.shapes[record_type.collection](row),
        )
        default = settings.default_subdomain or self.fixture_files.default_subdomain
        known = [account.subdomain for account in self.fixture_files.accounts]
        if default not in known:
            raise SettingsError(
                f"settings.trackops.default_subdomain: no account '{default}'; "
                f"known: {', '.join(known)}"
            )
        self.default_subdomain = default
        self.store = TrackopsStore(self.fixture_files.accounts, self.catalog, self.shapes)
        self.gate = Gate(self.store, settings, clock=self.clock, default_subdomain=default)
        self.writes = Writes(self.catalog, self.shapes)
        ttl = settings.download_url_ttl
        self.links = (
            LinkSigner.for_seed(self.core_settings.seed, ttl)
            if settings.link_key == "seed"
            else LinkSigner.random(ttl)
        )
        self.actions = TrackopsAdmin(
            contract, self.store, self.catalog, self.shapes, default_subdomain=default
        )
        self._volume: dict[str, list[Record]] | None = None
        self.pages = collections.PageCache()

    def handler_for(self, operation: Operation) -> Handler | None:
        """A collection GET is served by its generic handler with the operation's view."""
        generic = COLLECTION_READS.get(operation.id)
        view = self.catalog.views.get(operation.id)
        if generic is not None and view is not None:
            return partial(getattr(self, generic), view)
        return super().handler_for(operation)

    # -- state -----------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
            self.gate.reset()
            self.pages.clear()
            load_initial_state(self.store, self.fixture_files, self._volume_records())

    def dump_state(self) -> dict[str, Any]:
        return {
            "store": self.store.dump_state(),
            "rate_limit": RATE_HITS.dump(self.gate.limiter.state() if self.gate.limiter else {}),
            "link_key": self.links.key.hex(),
        }

    def load_state(self, data: Any, where: str) -> Apply:
        """The accounts, the rate limit's windows and the key of download links (links issued
        before the snapshot still work after its restore)."""
        loaded = load_fields(data, STATE, where)
        key = loaded.pop("link_key")
        put_in_place = self.store.load_state(loaded.pop("store"), f"{where}.store")
        hits = loaded.pop("rate_limit")

        def apply() -> None:
            with self.store.lock:
                put_in_place()
                self.pages.clear()
                if self.gate.limiter is not None:
                    self.gate.limiter.restore(hits)
                self.links = LinkSigner(key, self.links.ttl)

        return apply

    def _volume_records(self) -> dict[str, list[Record]]:
        """The generated records (made once, on the first reset that needs them)."""
        if self.settings.volume <= 0:
            return {}
        if self._volume is None:
            self._volume = generate_volume(
                self.fixture_files,
                self.settings.volume,
                seed=self.core_settings.seed,
                end=self.clock.now(),
                shapes=self.shapes,
            )
        return self._volume

    def state_tables(self) -> list[StateTable]:
        return self.store.state_tables()

    def credentials(self) -> dict[str, Any]:
        account = self.store.account(self.default_subdomain)
        assert account is not None
        user = next((u for u in account.users.values() if user_refusal(u) is None), None)
        username = user["username"] if user else ""
        return {
            "username": f"{username}{TOKEN_SUFFIX}",
            "password": account.api_token,
            "subdomain": account.subdomain,
        }

    def server_tls(self) -> ServerTls | None:
        """HTTPS (unless ``plain_http``) with the user's certificate (core ``tls_cert``), or
        one from a test CA kept in ``tls_dir`` (reused across restarts), else made now in a
        temporary folder."""
        if self.settings.plain_http:
            return None
        core = self.core_settings
        # Clients refuse a ``*.localhost`` wildcard, so every account's host is named.
        hosts = [
            f"{account.subdomain}.{domain}"
            for account in self.fixture_files.accounts
            for domain in ("localhost", "viewcases.com")
        ]
        return make_server_tls(
            Path(self.settings.tls_dir) if self.settings.tls_dir else None,
            (*DEFAULT_NAMES, *hosts, SERVICE_NAME),
            cert_file=Path(core.tls_cert) if core.tls_cert else None,
            key_file=Path(core.tls_key) if core.tls_key else None,
            ca_file=Path(core.tls_ca) if core.tls_ca else None,
            label="trackops TLS",
        )

    # -- pipeline hooks --------------------------------------------------------------------------

    def authenticate(self, call: Call) -> Principal:
        return self.gate.authenticate(call)

    def heavy(self, call: Call) -> bool:
        """The control actions that read or write a whole store, and a reset (nothing else on
        the event loop reads Trackops' state meanwhile: it has no socket)."""
        return call.operation.id in HEAVY

    def admit(self, call: Call) -> None:
        self.gate.admit(call)

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        return contract_refusal(problems)

    def not_found(self, path: str) -> HttpError:
        return no_route(path)

    def method_not_allowed(self, method: str, path: str, allowed: list[str]) -> HttpError:
        return method_not_allowed(method, path, allowed)

    def plain_http_refused(self) -> HttpError:
        return plain_http_refused()

    # -- reads: the two generic handlers of COLLECTION_READS -------------------------------------

    def list_records(self, view: View, call: Call) -> Reply | dict[str, int]:
        """One page of a collection (or its count, ``mode=count``), filtered as asked."""
        account: Account = call.principal.account
        size = self._page_size(call)
        path_params = call.path_params
        for flt in view.filters:
            relation = view.record.fields[flt.field].relation if flt.location == "path" else None
            key = path_params.get(flt.param)
            if relation and key is not None and not account.exists(relation, key):
                raise self._missing(relation, key)
        table = account.table(view.record.collection)
        expand = {name for param, name in view.expands.items() if call.query.get(param) is True}
        # A page of stored encodings (no expansion, no signed link, not a count) depends only
        # on the request and the table: kept until the table changes.
        plain = not expand and not view.record.signed_links
        request = call.request
        page_key = (account.subdomain, call.operation.id, request.path, request.query_string, size)
        if plain and call.query.get("mode") != "count":
            body = self.pages.get(page_key, table)
            if body is not None:
                return Reply.encoded(body)
        version = table.version
        try:
            test = collections.predicate(view, {**call.query, **path_params})
        except collections.FilterError as exc:
            raise trackops_error(
                400, f"Invalid value for parameter '{exc.param}': {exc}", parameter=exc.param
            ) from None
        if call.query.get("mode") == "count":
            return collections.count(table, test, size)
        rows = collections.page(
            table,
            test,
            number=call.query["page"],
            size=size,
            descending=call.query["dir"] == "desc",
        )
        if plain:
            body = table.encoded_list(rows, lambda row: row["id"])
            self.pages.put(page_key, table, version, body)
            return Reply.encoded(body)
        return Reply.encoded(orjson.dumps([self._present(view, row, expand, call) for row in rows]))

    def get_record(self, view: View, call: Call) -> Reply:
        """One record by id (404 when there is none, or it is not of the view's kind)."""
        account: Account = call.principal.account
        key = call.path_params["id"]
        table = account.table(view.record.collection)
        record = table.get(key)
        if record is None or any(record.get(k) != v for k, v in view.where.items()):
            raise self._missing(view.record.collection, key)
        if not view.record.signed_links:
            return Reply.encoded(table.encoded(key))
        return Reply.encoded(orjson.dumps(self._present(view, record, set(), call)))

    def _page_size(self, call: Call) -> int:
        limit = self.settings.max_per_page
        if "per_page" not in call.request.args:
            return limit
        size: int = call.query["per_page"]
        if size > limit:
            raise trackops_error(
                400,
                f"Invalid value for parameter 'per_page': {size} is greater than the maximum "
                f"of {limit}",
                parameter="per_page",
            )
        return size

    def _missing(self, collection: str, key: Any) -> HttpError:
        record_type = self.catalog.records.get(collection)
        title = record_type.title if record_type else collection
        return trackops_error(404, f"Not Found: no {title} with id {key}")

    def _present(self, view: View, record: Record, expand: set[str], call: Call) -> Any:
        """A record as one response shows it: unrequested expansions null, links fresh."""
        hidden = dict.fromkeys(view.record.expands - expand)
        shown = {**record, **hidden}
        if view.record.signed_links:
            account: Account = call.principal.account
            shown = self.links.issue(shown, call.request.host_url, account.subdomain, call.now)
        return self.shapes[view.record.collection](shown)

    # -- writes ----------------------------------------------------------------------------------

    def createCase(self, call: Call) -> Reply:
        return self.writes.create_case(call)

    def createCaseUpdate(self, call: Call) -> Reply:
        return self.writes.create_case_update(call)

    def createSubject(self, call: Call) -> Reply:
        return self.writes.create_subject(call)

    def createClientContact(self, call: Call) -> Reply:
        return self.writes.create_client_contact(call)

    def createStaffEmployee(self, call: Call) -> Reply:
        return self.writes.create_staff_employee(call)

    def createEvent(self, call: Call) -> Reply:
        return self.writes.create_event(call)

    # -- the download link -----------------------------------------------------------------------

    def downloadFile(self, call: Call) -> Reply:
        account = self.gate.account_of(call)
        if not account.api_access_enabled:
            raise trackops_error(403, "API access is not activated for this account")
        key, expires = call.path_params["id"], call.query["expires"]
        if not self.links.valid(account.subdomain, key, expires, call.query["signature"]):
            raise trackops_error(403, "The download link is not valid")
        if call.now > expires:
            raise trackops_error(
                403, "The download link has expired; fetch the file record again for a new one"
            )
        record = account.get("files", key)
        if record is None:
            raise self._missing("files", key)
        return Reply.encoded(
            placeholder(record, self.settings.download_max_bytes),
            content_type="application/octet-stream",
        )
