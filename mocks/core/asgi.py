"""The ASGI face of an emulator: journal and faults in front, the Flask app inline, sockets.

The Flask app runs on the event loop's thread, not in a worker pool: its handlers only touch
memory, so handing each request to a thread would cost more than it saves (measured in
``docs/architecture.md``). Whatever waits (injected latency, sockets) is asynchronous here.
"""

from __future__ import annotations

import asyncio
import io
import sys
from typing import TYPE_CHECKING, Any

import orjson

from .websocket import Receive, Send, SocketConnection

if TYPE_CHECKING:
    from .emulator import Emulator

ADMIN_PREFIX = "/__admin"
TRANSPORT_KEY = "trackmock.transport"


class EmulatorAsgi:
    """ASGI application serving one emulator (HTTP, WebSocket and lifespan scopes)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._wsgi = emulator.app.wsgi_app
        self._serve_http = self._http
        if emulator.settings.cors_origins:
            from .cors import for_emulator

            self._serve_http = for_emulator(emulator, self._journal).wrap(self._http)

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
        body, too_large = await _read_body(receive, emulator.settings.max_body_bytes)
        status: int
        headers: list[tuple[str, str]]
        if too_large:
            error = emulator.provider.error(
                413, f"the request body is larger than {emulator.settings.max_body_bytes} bytes"
            )
            status, headers, payload = (
                error.status,
                [("Content-Type", error.content_type)],
                error.body,
            )
        else:
            fault = None if control or not emulator.faults else emulator.faults.take(method, path)
            if fault is not None and fault.action == "latency":
                await asyncio.sleep(fault.latency_ms / 1000)
                fault = None
            if fault is not None and fault.action == "drop":
                await _drop(scope, receive)
                self._journal(scope, body, 0, [], b"", note=f"dropped by fault {fault.id}")
                return
            if fault is not None:
                status, headers, payload = self._forced(fault)
            else:
                status, headers, payload = self._call_flask(scope, body)
        if not control or emulator.settings.journal_admin:
            self._journal(scope, body, status, headers, payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _forced(self, fault: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        if fault.body is not None:
            payload = orjson.dumps(fault.body)
            content_type = "application/json"
        else:
            error = self.emulator.provider.error(
                fault.status, f"fault {fault.id} injected through the control API"
            )
            payload, content_type = error.body, error.content_type
        headers = [("Content-Type", content_type), *fault.headers.items()]
        return fault.status, headers, payload

    def _call_flask(
        self, scope: dict[str, Any], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [int(status[:3]), headers]
            return lambda data: None

        chunks = self._wsgi(_environ(scope, body), start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = started
        return status, headers, payload

    def _journal(
        self,
        scope: dict[str, Any],
        body: bytes,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        note: str = "",
    ) -> None:
        self.emulator.journal.record(
            "http",
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            status=status,
            # Kept as the server gave them; decoded only when someone reads the journal.
            request_headers=scope["headers"],
            request_body=body,
            response_headers=headers,
            response_body=payload,
            note=note,
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
        await handler(connection)


def _audited(send: Send, emulator: Emulator) -> Send:
    """``send`` counting every data frame that leaves the emulator, whichever code sends it.

    Counted here, apart from the check, so that a frame sent without being checked against the
    AsyncAPI document shows up in ``emulator.frame_audit`` (see ``FrameAudit``)."""
    audit = emulator.frame_audit

    async def send_counted(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            audit.sent += 1
        await send(message)

    return send_counted


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks), size > limit


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


def _environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    server = scope.get("server") or ("127.0.0.1", 0)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        # WSGI wants the path's bytes as latin-1 text; ASGI gives it decoded from UTF-8.
        "PATH_INFO": scope["path"].encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0] if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif name != "CONTENT_LENGTH":
            key = "HTTP_" + name
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ
