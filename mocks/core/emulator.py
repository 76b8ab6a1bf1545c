"""One emulator: a vendor's provider on the core's request pipeline.

Every operation of the vendor's contract becomes a route. A request then goes through one
pipeline, written once here (``Emulator.run``):

    authenticate -> admit (rate and usage rules) -> validate against the contract
    -> the provider's handler (named by operationId) -> shape the reply by the contract
    -> check the reply against the contract (when ``check_responses`` is on)

Two ways lead into it: ``Emulator.answer`` for the server's fast path (a bodiless request,
routed by ``core/routing.py``, read through ``core/request_view.py``, no Flask), and the
Flask app's views (``core/flask_app.py``, thin adapters; the app is built on first use) for
everything else. Both answer with the same status, headers (``answer_headers``: werkzeug's
order) and body.

Journal and faults sit in front of it, in the ASGI layer (``asgi.py``), so they also see
requests that never reach a route.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import orjson

from .clock import Clock
from .conformance import FrameAudit
from .contracts import Contract, Operation
from .errors import JSON, ErrorShape, HttpError, admin_error
from .faults import Faults
from .journal import Journal
from .offload import Offload
from .recent import Recent
from .redact import Redactor, learn_body
from .request_view import LATE_IMPORTS, RequestView, werkzeug_request_class
from .routing import RouteTable
from .settings import CoreSettings
from .validation import Parsed, Problem, clipped, parse_request

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.exceptions import HTTPException

    from .conformance import MessageCatalog
    from .snapshot import Apply
    from .state_tables import StateTable
    from .tls import ServerTls
    from .websocket import SocketConnection
    from .wire import Request as WireRequest

log = logging.getLogger("trackmock")

SocketHandler = Callable[["SocketConnection"], Awaitable[None]]
Answer = tuple[int, list[tuple[str, str]], bytes]
"""Status, headers (names as sent, in order) and body: what both ways in answer."""
Handler = Callable[["Call"], Any]
"""What serves one operation: takes the ``Call``, returns a body, a ``Reply`` or None (204)."""
SettingsT = TypeVar("SettingsT")
HEAVY_CONTROL = frozenset({"listJournal"})
"""Control operations whose work grows with the data: they run off the event loop. (A reset
too, where the provider says so: Track's sockets read its store on the loop meanwhile.)"""
MESSAGE_CHARS = 4096
"""A violation's message, and an emulator error's traceback, are cut to this many characters."""


@dataclass
class Reply:
    """What a handler answers. ``body`` is shaped by the contract; ``raw`` is sent as is."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = JSON

    @classmethod
    def empty(cls, status: int = 204, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status=status, raw=b"", content_type="", headers=dict(headers or {}))

    @classmethod
    def encoded(cls, raw: bytes, status: int = 200, content_type: str = JSON) -> Reply:
        return cls(status=status, raw=raw, content_type=content_type)


@dataclass
class Call:
    """One request on its way through the pipeline."""

    operation: Operation
    request: Any
    emulator: Emulator
    path_args: dict[str, str]
    """The path parameters as the URL spelled them (strings); ``path_params`` converts them."""
    params: Parsed = field(default_factory=Parsed)
    principal: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    """Headers any step adds to the response (a warning, a cookie)."""
    rules: list[dict[str, str]] = field(default_factory=list)
    """The rules that fired on this request (``fire``); the journal keeps them."""
    journal_notes: dict[str, Any] | None = None
    """What the pipeline tells the request's journal entry (``JOURNAL_NOTES``), on both paths."""

    def fire(self, rule: str, detail: str) -> None:
        """Note that ``rule`` (a vendor's polling rule, a rate limit ...) acted on this request,
        and how; the journal entry of the request lists it."""
        self.rules.append({"rule": rule, "detail": detail})

    @property
    def now(self) -> float:
        return self.emulator.clock.now()

    def withhold_bodies(self) -> None:
        """Keep this exchange's bodies out of the journal (a snapshot: every token and session)."""
        if self.journal_notes is not None:
            self.journal_notes["withhold_bodies"] = True

    @property
    def query(self) -> dict[str, Any]:
        return self.params.query

    @property
    def path_params(self) -> dict[str, Any]:
        """The path parameters, converted to the contract's types."""
        return self.params.path

    @property
    def body(self) -> Any:
        return self.params.body


@dataclass(frozen=True)
class Route:
    """One operation as the emulator serves it: the hooks that guard it and its handler."""

    operation: Operation
    hooks: PipelineHooks
    handler: Handler | None
    """None: a gap, answered 501 naming the operation."""


class PipelineHooks(Protocol):
    """What the pipeline asks of the owner of an operation (the vendor's provider for its API,
    the control API for ``/__admin/``), in the order it asks (see the module docstring)."""

    @property
    def error(self) -> ErrorShape:
        """The owner's error shape: every refusal is ``raise self.error(status, message)``."""
        ...

    def authenticate(self, call: Call) -> Any:
        """Return who is calling, or raise the refusal. Runs on secured operations."""
        ...

    def admit(self, call: Call) -> None:
        """Apply usage rules (rate limits, polling rules) before the request is handled."""
        ...

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        """The refusal of a request that breaks the contract."""
        ...

    def handler_for(self, operation: Operation) -> Handler | None:
        """The function serving ``operation`` (None: a gap, answered 501 naming it)."""
        ...


class ProviderHooks(PipelineHooks, Protocol):
    """Every hook a vendor's provider implements; ``Provider`` gives each a default."""

    name: str

    def reset(self) -> None:
        """Load the starting state (fixture files); called at start and on ``/__admin/reset``."""
        ...

    def credentials(self) -> dict[str, Any]:
        """What a client needs to log in (shown by the CLI and ``/__admin/credentials``)."""
        ...

    def not_found(self, path: str) -> HttpError:
        """The answer to a path the contract lacks."""
        ...

    def method_not_allowed(self, method: str, path: str, allowed: list[str]) -> HttpError:
        """The answer to a method the contract lacks on a known path."""
        ...

    def plain_http_refused(self) -> HttpError:
        """The answer to a plain-HTTP request on a TLS-only port."""
        ...

    def sockets(self) -> dict[str, SocketHandler]:
        """WebSocket endpoints by path, served on the same port as the REST API."""
        ...

    def admin_contract(self) -> Path | None:
        """The OpenAPI document of the vendor's control actions under ``/__admin/``."""
        ...

    def asyncapi_contract(self) -> Path | None:
        """The AsyncAPI document of the vendor's socket messages."""
        ...

    def server_tls(self) -> ServerTls | None:
        """The certificate to serve with, for a TLS-only vendor (None: plain HTTP)."""
        ...

    def heavy(self, call: Call) -> bool:
        """Whether this call's work grows with the data (a report over every position, an
        export): it then runs off the event loop (``core/offload.py``). Asked before
        ``authenticate``; requests with a large body run off the loop anyway."""
        ...

    def shutdown(self) -> None:
        """Stop background work (called when the server stops)."""
        ...

    def state_tables(self) -> list[StateTable]:
        """The vendor's state as tables the control API pages through (the dashboard)."""
        ...

    def dump_state(self) -> dict[str, Any]:
        """The vendor's whole state as JSON, for a snapshot (``core/snapshot.py``)."""
        ...

    def load_state(self, data: Any, where: str) -> Apply:
        """Check a ``dump_state`` (raise ``SnapshotError`` naming what is wrong, with ``where``
        as the path of ``data``) and return the function that puts it in place, which cannot
        fail; nothing changes before it is called. Every cached encoding must go with it."""
        ...


class Provider(Generic[SettingsT]):
    """A vendor: its rules (the hooks of ``ProviderHooks``) and its handlers.

    Subclasses set ``name``, ``error`` (the vendor's error shape) and ``settings_class`` (the
    dataclass of the vendor's settings section; ``self.settings`` is an instance of it), and
    implement ``reset`` and ``credentials``. Handlers are found by ``handler_for``: a method
    named by the operationId, on the provider for the vendor's API and on ``actions`` (the
    vendor's control actions, ``admin.py``) for ``contracts/<vendor>/admin.yaml``.
    """

    name: ClassVar[str]
    error: ClassVar[ErrorShape]
    settings_class: ClassVar[type[Any]]
    actions: object | None = None
    """The vendor's control actions: an object with one method per operationId of its
    ``admin.yaml``."""

    def __init__(self, emulator: Emulator, settings: SettingsT) -> None:
        self.emulator = emulator
        self.settings = settings

    @property
    def clock(self) -> Clock:
        return self.emulator.clock

    @property
    def contract(self) -> Contract:
        return self.emulator.contract

    @property
    def core_settings(self) -> CoreSettings:
        return self.emulator.settings

    def handler_for(self, operation: Operation) -> Handler | None:
        owner = self if operation.contract.uri == self.contract.uri else self.actions
        handler = getattr(owner, operation.id, None)
        return handler if callable(handler) else None

    def reset(self) -> None:
        raise NotImplementedError

    def credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    def authenticate(self, call: Call) -> Any:
        return None

    def admit(self, call: Call) -> None:
        pass

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        if any(p.kind == "unsupported" for p in problems):
            return self.error(415, problems[0].describe())
        return self.error(400, "; ".join(p.describe() for p in problems))

    def not_found(self, path: str) -> HttpError:
        return self.error(404, f"no resource at {path}")

    def method_not_allowed(self, method: str, path: str, allowed: list[str]) -> HttpError:
        error = self.error(405, f"{method} is not allowed on {path}")
        return error.with_headers(Allow=", ".join(allowed))

    def plain_http_refused(self) -> HttpError:
        return self.error(400, "This API is TLS-only: plain HTTP is refused; use https://.")

    def sockets(self) -> dict[str, SocketHandler]:
        return {}

    def admin_contract(self) -> Path | None:
        """``admin.yaml`` beside the vendor's ``openapi.yaml``, when there is one."""
        path = self.emulator.contract_dir / "admin.yaml"
        return path if path.is_file() else None

    def asyncapi_contract(self) -> Path | None:
        """``asyncapi.yaml`` beside the vendor's ``openapi.yaml``, when there is one."""
        path = self.emulator.contract_dir / "asyncapi.yaml"
        return path if path.is_file() else None

    def server_tls(self) -> ServerTls | None:
        return None

    def heavy(self, call: Call) -> bool:
        return False

    def shutdown(self) -> None:
        pass

    def state_tables(self) -> list[StateTable]:
        return []

    def dump_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_state(self, data: Any, where: str) -> Apply:
        raise NotImplementedError


class Emulator:
    """A vendor's API, its state and the control API, ready to be served.

    Args:
        provider_class: the vendor's provider.
        contract_path: the vendor's ``openapi.yaml``; its folder is ``contract_dir``, where
            the vendor's other contracts (``admin.yaml``, ``asyncapi.yaml``) are.
        settings: core settings.
        vendor_settings: the vendor's settings (an instance of its ``settings_class``; its
            defaults when None).
        clock: a clock to share (one per emulator by default).
    """

    def __init__(
        self,
        provider_class: type[Provider[Any]],
        contract_path: Path,
        settings: CoreSettings,
        vendor_settings: object | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.contract_dir = contract_path.parent
        self.clock = clock or Clock(frozen=settings.clock_frozen, start=settings.clock_start)
        self.journal = Journal(
            self.clock,
            size=settings.journal_size,
            body_limit=settings.journal_body_bytes,
            header_limit=settings.journal_header_bytes,
            max_bytes=settings.journal_bytes,
        )
        self.faults = Faults(seed=settings.seed)
        self.contract = Contract.from_path(contract_path)
        self.violations: Recent[dict[str, Any]] = Recent(settings.violations_size)
        self.handler_errors: Recent[str] = Recent(settings.violations_size)
        self.frame_audit = FrameAudit()
        self.base_url = ""
        self.siblings: list[Emulator] = []
        """The other emulators served by the same process (``trackmock serve``)."""
        if vendor_settings is None:
            vendor_settings = provider_class.settings_class()
        self.provider: ProviderHooks = provider_class(self, vendor_settings)
        self.name = provider_class.name
        self.offload = Offload(self.name)
        self.tls: ServerTls | None = self.provider.server_tls()
        """The certificate of a TLS-only vendor; the runner listens with it."""
        self.ca_cert: str | None = str(self.tls.ca_cert) if self.tls and self.tls.ca_cert else None
        self.reject_unknown_query = bool(self.contract.info.get("x-reject-unknown-query"))
        self.sockets = self.provider.sockets()
        self.open_sockets: set[SocketConnection] = set()
        self._messages: MessageCatalog | None = None
        from .admin import AdminApi

        self.admin = AdminApi(self)
        self._collect_routes()
        self._app: Flask | None = None
        self._app_lock = threading.Lock()
        self.provider.reset()

    def reset(self) -> None:
        """Back to the starting state: fixtures, clock, journal, faults, violations."""
        self.clock.reset()
        self.journal.clear()
        self.faults.clear()
        self.violations.clear()
        self.handler_errors.clear()
        self.provider.reset()

    def credentials(self) -> dict[str, Any]:
        return self.provider.credentials()

    def redactor(self) -> Redactor:
        """A redactor that already knows the control API's token (``core/redact.py``)."""
        redactor = Redactor()
        if self.settings.admin_token:
            redactor.learn(self.settings.admin_token)
        return redactor

    def request_redactor(self, request: Any) -> Redactor:
        """A redactor that knows the secrets of ``request`` (headers, query, body)."""
        redactor = self.redactor()
        redactor.learn_form(request.query_string.decode("latin-1"))
        redactor.learn_headers(request.headers.items())
        body = request.get_data(cache=True)
        if body:
            learn_body(
                body[: self.settings.journal_body_bytes].decode("utf-8", "replace"), redactor
            )
        return redactor

    @property
    def dropped_violations(self) -> dict[str, int]:
        return {"violations": self.violations.dropped, "errors": self.handler_errors.dropped}

    def describe(self) -> dict[str, Any]:
        """URL, credentials and CA of this emulator, as the ready-file lists them."""
        out: dict[str, Any] = {"url": self.base_url, "credentials": self.credentials()}
        if self.ca_cert:
            out["ca_cert"] = self.ca_cert
        return out

    # -- the routes ---------------------------------------------------------------------

    def _collect_routes(self) -> None:
        """Every operation as a route: the vendor's API with the provider's hooks, the control
        API with its own, and the vendor's control actions with the control API's hooks and
        the provider's handlers; then the fast path's routing table of them."""
        self.routes: list[Route] = []
        admin, vendor_admin = self.admin.contract, self.admin.vendor_contract
        provider = self.provider
        for operation in self.contract.operations.values():
            self.routes.append(Route(operation, provider, provider.handler_for(operation)))
        for operation in admin.operations.values():
            self.routes.append(Route(operation, self.admin, self.admin.handler_for(operation)))
        if vendor_admin is not None:
            for operation in vendor_admin.operations.values():
                if operation.id in admin.operations:
                    raise ValueError(f"vendor control action {operation.id} shadows a core one")
                self.routes.append(Route(operation, self.admin, provider.handler_for(operation)))
        self.route_table = RouteTable(self.routes)

    @property
    def app(self) -> Flask:
        """The Flask app of the full path (``core/flask_app.py``), built on first use: Flask
        is imported then, not at start. The emulator's worker thread may be the first to ask."""
        app = self._app
        if app is None:
            with self._app_lock:
                if self._app is None:
                    with LATE_IMPORTS:
                        from .flask_app import build_app

                        self._app = build_app(self)
                app = self._app
        return app

    def answer(self, request: WireRequest, notes: dict[str, Any]) -> Answer | None:
        """The pipeline without Flask, for the server's fast path: a bodiless request answered
        as the full path answers it (status, headers in the same order, body), or ``None`` for
        what the routing table leaves to the full path (a 404, a 405, an odd path) and for a
        request that asks for the worker (``Offload``)."""
        found = self.route_table.match(request.method, request.path)
        if found is None:
            return None
        route, path_args = found
        view = RequestView(request)
        call = Call(route.operation, view, self, path_args)
        try:
            answer = self.run(call, route.hooks, route.handler, notes)
        except Exception as exc:
            if _is_http_exception(exc):
                answer = self.http_exception_answer(exc, view)  # type: ignore[arg-type]
            else:  # a bug: answered as the full path's error handler does
                answer = self.unexpected_answer(exc, view)
        if answer is not None and request.method == "HEAD":
            # As werkzeug answers HEAD: the GET's headers (Content-Length too), no body.
            return answer[0], answer[1], b""
        return answer

    def run(
        self,
        call: Call,
        hooks: PipelineHooks,
        handler: Handler | None,
        notes: dict[str, Any] | None,
    ) -> Answer | None:
        """Run one request through the pipeline (see the module docstring); ``None`` when it
        asked to run again on the emulator's worker (``Offload``)."""
        operation = call.operation
        if self.settings.offload and self.offload.wanted() and self._heavy(call, hooks):
            # Nothing has run yet: the request runs again, whole, on the emulator's worker.
            self.offload.ask()
            return None
        call.journal_notes = notes
        if notes is not None:
            notes["operation"] = operation.id
            notes["rules"] = call.rules
        try:
            if operation.secured:
                call.principal = hooks.authenticate(call)
            hooks.admit(call)
            call.params, problems = parse_request(
                operation,
                call.request,
                call.path_args,
                strict=self.settings.strict,
                reject_unknown_query=self.reject_unknown_query,
                max_depth=self.settings.max_json_depth,
            )
            if problems:
                call.fire("contract", "; ".join(p.describe() for p in problems))
                raise hooks.invalid(call, problems)
            if handler is None:
                raise hooks.error(
                    501, f"operation {operation.id} is in the contract but has no handler"
                )
            reply = self._reply(operation, handler(call))
        except HttpError as error:
            reply = Reply(
                status=error.status,
                raw=error.body,
                content_type=error.content_type,
                headers=error.headers,
            )
        extra = call.response_headers
        if extra:
            reply.headers.update({k: v for k, v in extra.items() if k not in reply.headers})
        body = reply.raw or b""
        headers = answer_headers(reply.headers, reply.content_type, reply.status, body)
        answer = reply.status, headers, body
        if self.settings.check_responses:
            self._check_response(operation, answer, call)
        return answer

    def _heavy(self, call: Call, hooks: PipelineHooks) -> bool:
        if (call.request.content_length or 0) > self.settings.offload_body_bytes:
            return True
        if hooks is self.admin and call.operation.id in HEAVY_CONTROL:
            return True
        return self.provider.heavy(call)

    def _reply(self, operation: Operation, result: Any) -> Reply:
        if result is None:
            return Reply.empty()
        reply = result if isinstance(result, Reply) else Reply(body=result)
        if reply.raw is None:
            reply.raw = orjson.dumps(self.shape(operation, reply.status, reply.body))
        return reply

    def shape(self, operation: Operation, status: int, body: Any) -> Any:
        """``body`` shaped by the schema the contract gives for ``status`` (JSON only)."""
        contents = operation.response(status) or {}
        schema = contents.get(JSON)
        if schema is None:
            return body
        return operation.contract.shape(schema).shape(body)

    def _check_response(self, operation: Operation, answer: Answer, call: Call) -> None:
        from .conformance import check_http_response

        status, headers, body = answer
        content_type = next((v for k, v in headers if k == "Content-Type"), "")
        messages = check_http_response(operation, status, content_type, body)
        if not messages:
            return
        redactor = self.request_redactor(call.request)
        redactor.learn_headers(headers)
        for message in messages:
            call.fire("response-contract", redactor.scrub(message))
            self.violations.append(
                {
                    "kind": "response",
                    "operation": operation.id,
                    "status": status,
                    "message": _cut(redactor.scrub(message)),
                }
            )

    def check_frame(self, text: str, times: int = 1) -> None:
        """Record a violation when a frame the server sends is not a documented message
        (``times``: the same frame, sent that many times, counted as checked that often)."""
        if not self.settings.check_responses:
            return
        if self._messages is None:
            path = self.provider.asyncapi_contract()
            if path is None:
                return
            from .conformance import MessageCatalog

            self._messages = MessageCatalog(Contract.from_path(path))
        from .conformance import check_frame

        problems = check_frame(self._messages, text)
        self.frame_audit.checked += times
        if problems:
            self.frame_audit.failed += times
        for message in problems:
            self.violations.append(
                {
                    "kind": "frame",
                    "operation": "socket",
                    "message": _cut(self.redactor().scrub(message)),
                }
            )

    def _error_for(self, path: str) -> ErrorShape:
        return admin_error if path.startswith("/__admin") else self.provider.error

    def http_exception_answer(self, exc: HTTPException, current: Any) -> Answer:
        """The answer to a request werkzeug refused (404, 405 ...), in the owner's shape."""
        from werkzeug.exceptions import MethodNotAllowed

        path = clipped(current.path)
        method = current.method
        error: HttpError
        if isinstance(exc, MethodNotAllowed):
            allowed = sorted(exc.valid_methods or [])
            if path.startswith("/__admin"):
                error = admin_error(405, f"{method} is not allowed on {path}")
                error.with_headers(Allow=", ".join(allowed))
            else:
                error = self.provider.method_not_allowed(method, path, allowed)
        elif exc.code == 404:
            error = (
                admin_error(404, f"no control action at {path}")
                if path.startswith("/__admin")
                else self.provider.not_found(path)
            )
        else:
            error = self._error_for(path)(exc.code or 400, exc.description or exc.name)
        return _error_answer(error, error.headers)

    def unexpected_answer(self, exc: Exception, current: Any) -> Answer:
        """A bug in the emulator: a 500 in the vendor's shape that says nothing of the error;
        the traceback goes to the log and ``/__admin/violations`` (request secrets masked)."""
        if isinstance(exc, HttpError):
            return _error_answer(exc, exc.headers)
        redactor = self.request_redactor(current)
        where = redactor.scrub(f"{current.method} {_cut(current.path, 200)}")
        detail = _cut(redactor.scrub("".join(traceback.format_exception(exc))))
        self.handler_errors.append(f"{where}\n{detail}")
        log.error("emulator error on %s\n%s", where, detail)
        error = self._error_for(current.path)(
            500, "internal emulator error; its details are in the emulator's log"
        )
        return _error_answer(error, {})

    def shutdown(self) -> None:
        self.offload.shutdown()
        self.provider.shutdown()
        if self.tls is not None:
            self.tls.cleanup()


def answer_headers(
    headers: Mapping[str, str], content_type: str, status: int, body: bytes
) -> list[tuple[str, str]]:
    """A reply's headers as werkzeug sends them from ``Response(body, status, headers)`` with
    ``Content-Type`` then set (or removed when empty): the reply's own headers in order, then
    ``Content-Type`` (in place when the reply had one), then ``Content-Length`` (none on a 1xx
    or 204; a 304 keeps no entity header). Both paths answer with these headers."""
    out = list(headers.items())
    if (
        200 <= status != 204
        and status != 304
        and not any(key.lower() in _SIZED_HEADERS for key, _ in out)
    ):
        # The common case, in short: no header of the reply is one werkzeug sets.
        if content_type:
            out.append(("Content-Type", content_type))
        out.append(("Content-Length", str(len(body))))
        return out
    if not any(key.lower() == "content-type" for key, _ in out):
        out.append(("Content-Type", ""))  # where werkzeug puts its default type
    _put(out, "Content-Length", str(len(body)))
    _put(out, "Content-Type", content_type)
    if not content_type:
        out = [(k, v) for k, v in out if k.lower() != "content-type"]
    if status < 200 or status == 204:
        out = [(k, v) for k, v in out if k.lower() != "content-length"]
    elif status == 304:
        werkzeug_request_class()  # werkzeug imported whole first (``LATE_IMPORTS``)
        from werkzeug.http import remove_entity_headers

        remove_entity_headers(out)
    return out


def _is_http_exception(exc: Exception) -> bool:
    """Whether ``exc`` is werkzeug's ``HTTPException`` (a 404, 405 ... werkzeug raised): there
    is none while werkzeug is not imported, and the fast path does not import it at start."""
    module = sys.modules.get("werkzeug.exceptions")
    return module is not None and isinstance(exc, module.HTTPException)


_SIZED_HEADERS = frozenset({"content-type", "content-length"})


def _put(headers: list[tuple[str, str]], name: str, value: str) -> None:
    """Set a header as werkzeug's ``Headers.set`` does: the first one of that name replaced in
    place and the others removed; appended when there is none."""
    lowered = name.lower()
    places = [i for i, (key, _) in enumerate(headers) if key.lower() == lowered]
    if not places:
        headers.append((name, value))
        return
    headers[places[0]] = (name, value)
    for index in reversed(places[1:]):
        del headers[index]


def _error_answer(error: HttpError, headers: Mapping[str, str]) -> Answer:
    body = error.body
    return error.status, answer_headers(headers, error.content_type, error.status, body), body


def _cut(text: str, limit: int = MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more)"


def create_emulator(
    provider_class: type[Provider[Any]],
    core: CoreSettings,
    section: Mapping[str, Any] | None = None,
    *,
    clock: Clock | None = None,
    contracts: Path | None = None,
) -> Emulator:
    """The emulator of a vendor: its settings section checked against its ``settings_class``
    (an unknown key or a wrong type is a ``SettingsError`` naming it), its contracts from
    ``<contracts>/<name>/`` (default: the packaged contracts).

    Args:
        provider_class: the vendor's provider (``TrackerProvider`` ...).
        core: the core settings.
        section: the vendor's settings section (``tracker:`` of a settings file).
        clock: a clock to share (one per emulator by default).
        contracts: a folder holding ``<name>/openapi.yaml`` that replaces the packaged ones.
    """
    from .paths import contracts_dir
    from .settings import from_mapping

    name = provider_class.name
    settings = from_mapping(provider_class.settings_class, section, f"settings.{name}")
    folder = (contracts or contracts_dir()) / name
    return Emulator(provider_class, folder / "openapi.yaml", core, settings, clock=clock)


def link_siblings(emulators: list[Emulator]) -> None:
    """Let each of the emulators one process serves know the others (the dashboard lists
    them, their URLs and credentials, on every emulator's page)."""
    for emulator in emulators:
        emulator.siblings = [other for other in emulators if other is not emulator]
