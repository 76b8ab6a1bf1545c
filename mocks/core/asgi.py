"""The server face of an emulator: journal and faults in front, the Flask app inline, sockets.

Two ways in, one answer (``tests/core/test_fast_path.py`` proves them byte-identical):

- ``respond(request)``, the server's fast path (``core/http.py``): a request without a body,
  answered synchronously by ``Emulator.answer`` (the pipeline without Flask), with no ASGI
  messages or task. It steps aside (``None``) while a fault is set, since faults may wait or
  drop the connection, and for what the emulator's routing table leaves to Flask.
- ``__call__(scope, receive, send)``, ASGI 3: requests with a body (bounded per operation and
  refused with 413 before they are read whole), faults, WebSockets; these reach the pipeline
  through the Flask app (``core/flask_app.py``, built on the first such request).

The Flask app runs on the event loop's thread, not in a worker pool: its handlers only touch
memory, so handing each request to a thread would cost more than it saves (measured in
``docs/architecture.md``). Whatever waits (injected latency, sockets) is asynchronous here.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from .faults import Fault, Firing, malformed
from .journal import JOURNAL_NOTES
from .websocket import Receive, Send, SocketConnection
from .wire import LINE_BYTES_KEPT, LINES_KEPT, TRANSPORT_KEY, Headers, Request, Response

if TYPE_CHECKING:
    from .contracts import Operation
    from .emulator import Answer, Emulator

ADMIN_PREFIX = "/__admin"
BODY_LIMIT_EXTENSION = "x-max-body-bytes"
"""An operation's largest request body, in its contract (the global ``max_body_bytes`` caps it)."""

__all__ = ["ADMIN_PREFIX", "TRANSPORT_KEY", "BodyLimits", "EmulatorAsgi"]


class BodyLimits:
    """The largest request body each operation takes.

    An operation's ``x-max-body-bytes`` if its contract gives one, else ``default``. A path
    matches the most concrete operation first, as OpenAPI routing does.
    """

    def __init__(self, operations: Iterable[Operation], default: int) -> None:
        self.default = default
        routes: dict[str, list[tuple[int, re.Pattern[str], int]]] = {}
        for operation in operations:
            limit = operation.extensions.get(BODY_LIMIT_EXTENSION)
            pattern = re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(operation.path))
            routes.setdefault(operation.method.upper(), []).append(
                (
                    operation.path.count("{"),
                    re.compile(pattern + "/?"),
                    default if limit is None else min(int(limit), default),
                )
            )
        self._routes = {
            method: [(pattern, limit) for _, pattern, limit in sorted(found, key=lambda r: r[0])]
            for method, found in routes.items()
        }

    def limit(self, method: str, path: str) -> int:
        for pattern, limit in self._routes.get(method, ()):
            if pattern.fullmatch(path):
                return limit
        return self.default


class EmulatorAsgi:
    """Serves one emulator: the server's fast path, ASGI (HTTP and WebSocket), lifespan.

    Args:
        emulator: the emulator.
        fast_path: answer bodiless requests synchronously (False: everything through ASGI).
    """

    def __init__(self, emulator: Emulator, *, fast_path: bool = True) -> None:
        self.emulator = emulator
        self.fast_path = fast_path
        self._body_limits: BodyLimits | None = None
        self._serve_http = self._http
        if emulator.settings.cors_origins:
            from .cors import for_emulator

            self._serve_http = for_emulator(emulator, self._journal_scope).wrap(self._http)
            # CORS headers are added on the ASGI way: every request takes it.
            self.fast_path = False

    @property
    def body_limits(self) -> BodyLimits:
        if self._body_limits is None:
            emulator = self.emulator
            contracts = [emulator.contract, emulator.admin.contract, emulator.admin.vendor_contract]
            operations = [
                op for contract in contracts if contract for op in contract.operations.values()
            ]
            self._body_limits = BodyLimits(operations, emulator.settings.max_body_bytes)
        return self._body_limits

    # -- the server's fast path ------------------------------------------------------------

    def respond(self, request: Request) -> Response | None:
        """Answer a bodiless request now, or ``None`` to take the ASGI way."""
        emulator = self.emulator
        if not self.fast_path or emulator.faults:
            return None
        notes: dict[str, Any] = {}
        """What the pipeline tells the journal (the operation, the rules that fired)."""

        # A heavy request, or one arriving while the emulator's worker runs, takes the ASGI way,
        # which can wait for the worker; so does what the routing table leaves to Flask (a 404,
        # a 405, an odd path).
        done, answered = emulator.offload.attempt(lambda: emulator.answer(request, notes))
        if not done or answered is None:
            return None
        status, headers, payload = answered
        if not request.path.startswith(ADMIN_PREFIX) or emulator.settings.journal_admin:
            self._journal(
                request.method, request.path, request.query_string, request.headers,
                b"", status, headers, payload, notes,
            )  # fmt: skip
        return Response(status, _raw_headers(headers), payload)

    def error_response(self, status: int, message: str) -> Response:
        """A refusal by the server (400, 431, 503) in the vendor's error shape."""
        error = self.emulator.provider.error(status, message)
        headers = [("Content-Type", error.content_type), *error.headers.items()]
        return Response(status, _raw_headers(headers), error.body)

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._serve_http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        emulator = self.emulator
        method: str = scope["method"]
        path: str = scope["path"]
        control = path.startswith(ADMIN_PREFIX)
        limit = self.body_limits.limit(method, path) if _may_have_body(scope) else 0
        body, too_large = await _read_body(receive, limit, scope["headers"])
        answer: Answer
        notes: dict[str, Any] = {}
        """What the pipeline tells the journal (the operation, the rules that fired, a fault)."""
        if too_large:
            error = emulator.provider.error(413, f"the request body is larger than {limit} bytes")
            answer = (
                error.status,
                [("Content-Type", error.content_type), *error.headers.items()],
                error.body,
            )
        else:
            firing = None if control or not emulator.faults else emulator.faults.take(method, path)
            if firing is not None and firing.latency_ms:
                # Real waiting, off the loop's back: other requests go on meanwhile.
                await asyncio.sleep(firing.latency_ms / 1000)
            if firing is not None and firing.fault.action == "drop":
                await _drop(scope, receive)
                notes["note"] = f"dropped by fault {firing.fault.id}"
                notes["rules"] = [firing.rule(_joined(firing.waited(), "connection dropped"))]
                self._journal_scope(scope, body, (0, [], b""), notes)
                return
            answer = await self._answer_with(firing, scope, body, notes)
        if not control or emulator.settings.journal_admin:
            self._journal_scope(scope, body, answer, notes)
        status, headers, payload = answer
        raw = _raw_headers(headers)
        if status not in (204, 304) and not any(name == b"content-length" for name, _ in raw):
            raw.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})

    async def _answer_with(
        self, firing: Firing | None, scope: dict[str, Any], body: bytes, notes: dict[str, Any]
    ) -> Answer:
        """The answer to a request some fault may act on (``drop`` aside), and its journal
        notes: the fault's rule comes first, before the rules the pipeline fired."""
        fault = None if firing is None else firing.fault
        if fault is not None and fault.status is not None and fault.action != "latency":
            answer = self._forced(fault)
            notes["note"] = f"status forced by fault {fault.id}"
            did = f"answered {fault.status}"
        else:
            answer = await self.emulator.offload.run(
                lambda: self._call_flask(_environ_of(scope, body, notes))
            )
            did = ""
        if firing is None or fault is None:
            return answer
        if fault.action in ("truncate", "content_type"):
            answer, spoiled = malformed(firing, answer)
            did = _joined(did, spoiled)
        notes["rules"] = [firing.rule(_joined(firing.waited(), did)), *notes.get("rules", ())]
        return answer

    def _forced(self, fault: Fault) -> Answer:
        if fault.body is not None:
            payload = orjson.dumps(fault.body)
            content_type = "application/json"
        else:
            error = self.emulator.provider.error(
                fault.status, f"fault {fault.id} injected through the control API"
            )
            payload, content_type = error.body, error.content_type
        content_type = fault.content_type or content_type
        headers = [("Content-Type", content_type), *fault.headers.items()]
        return fault.status, headers, payload

    def _call_flask(self, environ: dict[str, Any]) -> Answer:
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [int(status[:3]), headers]
            return lambda data: None

        chunks = self.emulator.app.wsgi_app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = started
        return status, headers, payload

    def _journal_scope(
        self, scope: dict[str, Any], body: bytes, answer: Answer, notes: dict[str, Any]
    ) -> None:
        status, headers, payload = answer
        self._journal(
            scope["method"], scope["path"], scope["query_string"], scope["headers"],
            body, status, headers, payload, notes,
        )  # fmt: skip

    def _journal(
        self,
        method: str,
        path: str,
        query: bytes,
        request_headers: Headers,
        body: bytes,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        notes: dict[str, Any],
    ) -> None:
        self.emulator.journal.record_http(
            method,
            path,
            query.decode("latin-1"),
            status,
            # Kept as the server gave them; decoded only when someone reads the journal.
            request_headers,
            body,
            headers,
            payload,
            notes,
        )

    async def _websocket(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        connection = SocketConnection(self.emulator, scope, receive, _audited(send, self.emulator))
        await connection.handshake()
        if connection.closed:
            return
        handler = self.emulator.sockets.get(scope["path"])
        if handler is None:
            error = self.emulator.provider.not_found(scope["path"])
            await connection.reject(error.status, error.body, error.content_type)
            return
        faults = self.emulator.faults
        firing = faults.take_upgrade(scope["path"]) if faults else None
        if firing is not None:
            await connection.refuse_by_fault(firing)
            return
        await handler(connection)


def _joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


_RAW: dict[tuple[str, str], tuple[bytes, bytes]] = {}
"""Header pairs already encoded (answers repeat most of theirs); bounded as ``wire._LINES``."""


def _raw_headers(headers: list[tuple[str, str]]) -> Headers:
    raw = []
    for pair in headers:
        found = _RAW.get(pair)
        if found is None:
            name, value = pair
            found = (name.lower().encode("latin-1"), value.encode("latin-1"))
            if len(name) + len(value) <= LINE_BYTES_KEPT:
                if len(_RAW) >= LINES_KEPT:
                    _RAW.clear()
                _RAW[pair] = found
        raw.append(found)
    return raw


def _audited(send: Send, emulator: Emulator) -> Send:
    """``send`` counting every data frame that leaves the emulator, whichever code sends it.

    Counted here, apart from the check, so that a frame sent without being checked against the
    AsyncAPI document shows up in ``emulator.frame_audit`` (see ``FrameAudit``). Frames written
    already encoded are counted where ``SocketConnection`` writes them."""
    audit = emulator.frame_audit

    async def send_counted(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            audit.sent += 1
        await send(message)

    return send_counted


def _may_have_body(scope: dict[str, Any]) -> bool:
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])


async def _read_body(receive: Receive, limit: int, headers: Headers) -> tuple[bytes, bool]:
    """The request body, or ``(b"", True)`` as soon as it is known to exceed ``limit``."""
    for name, value in headers:
        if name == b"content-length" and value.strip().isdigit() and int(value) > limit:
            return b"", True
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks), False


async def _drop(scope: dict[str, Any], receive: Receive) -> None:
    """Close the connection without an answer, as a dropped network link would."""
    transport = scope.get("extensions", {}).get(TRANSPORT_KEY)
    if transport is None:
        raise ConnectionAbortedError("fault: connection dropped")
    transport.abort()
    # Wait for the server to notice, so it does not try to answer on the dead connection.
    await receive()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _environ_of(scope: dict[str, Any], body: bytes, notes: dict[str, Any]) -> dict[str, Any]:
    return _environ(
        scope["method"],
        scope["path"],
        scope["query_string"],
        scope["headers"],
        body,
        notes,
        server=scope.get("server"),
        client=scope.get("client"),
        scheme=scope.get("scheme", "http"),
        http_version=scope.get("http_version", "1.1"),
    )


def _environ(
    method: str,
    path: str,
    query: bytes,
    headers: Headers,
    body: bytes,
    notes: dict[str, Any],
    *,
    server: tuple[str, int] | None,
    client: tuple[str, int] | None,
    scheme: str,
    http_version: str,
) -> dict[str, Any]:
    server = server or ("127.0.0.1", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        # WSGI wants the path's bytes as latin-1 text; ASGI gives it decoded from UTF-8.
        "PATH_INFO": path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{http_version}",
        "REMOTE_ADDR": client[0] if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
        # The pipeline writes the operation and the rules that fired here, for the journal.
        JOURNAL_NOTES: notes,
    }
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif name != "CONTENT_LENGTH":
            key = "HTTP_" + name
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ
