"""Serve emulators: uvicorn (httptools + wsproto) in one process, one event loop, own sockets.

Why this stack is in ``docs/architecture.md``. In short: state lives in memory, so one
process serves every emulator; sockets are bound here, so port 0 works and the bound port is
known; the WebSocket sits on the same port as the REST API; and TLS listeners look at the
first byte of a connection, so a plain-HTTP request gets a clear refusal instead of a failed
handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from wsproto.events import RejectConnection, RejectData
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .asgi import TRANSPORT_KEY, EmulatorAsgi
from .errors import HttpError

if TYPE_CHECKING:
    from .emulator import Emulator

log = logging.getLogger("trackmock")

_TLS_HANDSHAKE = 0x16
SNIFF_TIMEOUT = 10.0


class _Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, telling the app its transport (to drop connections)."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {TRANSPORT_KEY: self.transport}  # type: ignore[typeddict-unknown-key]


class _WSProtocol(WSProtocol):
    """uvicorn's wsproto protocol, whose refusal of an upgrade that is not RFC 6455 says why: a
    405 with ``Allow: GET`` for another method, else a 400 with a short text (instead of an
    empty 400)."""

    def data_received(self, data: bytes) -> None:
        try:
            self.conn.receive_data(data)
        except RemoteProtocolError as err:
            hint = err.event_hint
            if isinstance(hint, RejectConnection) and hint.status_code == 400:
                # Before the handshake, ``data`` is the request uvicorn read: its method first.
                method = data.split(b" ", 1)[0].decode("latin-1")
                if method != "GET":
                    out = _refusal(self.conn, 405, f"{method} is not allowed: an upgrade is a GET")
                else:
                    out = _refusal(self.conn, 400, f"Not a WebSocket upgrade (RFC 6455): {err}")
            else:
                out = self.conn.send(hint)  # type: ignore[arg-type]
            self.transport.write(out)
            self.transport.close()
        except LocalProtocolError:
            # Data after the close handshake (a late pong, say): as uvicorn does.
            self.transport.close()
        else:
            self.handle_events()


def _refusal(conn: Any, status: int, message: str) -> bytes:
    body = message.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 405:
        headers.append((b"allow", b"GET"))
    return bytes(conn.send(RejectConnection(status, headers, has_body=True))) + bytes(
        conn.send(RejectData(body))
    )


@dataclass
class Listener:
    """Where one emulator listens."""

    emulator: Emulator
    host: str = "127.0.0.1"
    port: int = 0
    tls: ssl.SSLContext | None = None
    server: uvicorn.Server | None = field(default=None, repr=False)
    sock: socket.socket | None = field(default=None, repr=False)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it back from the socket)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def _config(emulator: Emulator) -> uvicorn.Config:
    config = uvicorn.Config(
        EmulatorAsgi(emulator),
        http=_Protocol,
        ws=_WSProtocol,
        interface="asgi3",
        lifespan="off",
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        ws_ping_interval=None,
        ws_ping_timeout=None,
        # Per-socket deflate costs a zlib context (~300 KB) and a compression of every frame
        # for every socket: with 1 000 sockets it doubles the time a push takes.
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=1,
    )
    config.load()
    return config


class Runner:
    """Starts and stops a set of listeners on the running event loop."""

    def __init__(self, listeners: list[Listener]) -> None:
        self.listeners = listeners

    async def start(self) -> None:
        """Bind every listener and start serving; on failure, nothing is left open."""
        try:
            for listener in self.listeners:
                await self._start_one(listener)
        except BaseException:
            await self.stop()
            raise

    async def _start_one(self, listener: Listener) -> None:
        listener.sock = bind(listener.host, listener.port)
        listener.port = listener.sock.getsockname()[1]
        listener.emulator.base_url = listener.url
        config = _config(listener.emulator)
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        listener.server = server
        if listener.tls is None:
            await server.startup(sockets=[listener.sock])
        else:
            server.servers = []
            loop = asyncio.get_running_loop()

            def make_protocol() -> asyncio.Protocol:
                return config.http_protocol_class(  # type: ignore[call-arg]
                    config=config,
                    server_state=server.server_state,
                    app_state=server.lifespan.state,
                    _loop=loop,
                )

            refusal = _http_answer(listener.emulator.provider.plain_http_refused())
            listener.tasks.append(
                asyncio.create_task(
                    _accept_tls(listener.sock, listener.tls, make_protocol, refusal)
                )
            )
        listener.tasks.append(asyncio.create_task(server.main_loop()))

    async def stop(self) -> None:
        """Close sockets of every emulator, stop accepting, end connections (bounded time)."""
        for listener in self.listeners:
            for connection in list(listener.emulator.open_sockets):
                connection.close_soon(1001)
        for listener in self.listeners:
            server = listener.server
            if server is not None:
                server.should_exit = True
            for task in listener.tasks:
                task.cancel()
            if listener.sock is not None and listener.tls is not None:
                listener.sock.close()
        await asyncio.gather(
            *(self._shutdown(listener) for listener in self.listeners), return_exceptions=True
        )
        for listener in self.listeners:
            listener.emulator.shutdown()

    async def _shutdown(self, listener: Listener) -> None:
        if listener.server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(listener.server.shutdown(), timeout=1.5)
        if listener.sock is not None:
            listener.sock.close()


def _http_answer(error: HttpError) -> bytes:
    """A complete HTTP/1.1 response for ``error``, closing the connection."""
    try:
        reason = HTTPStatus(error.status).phrase
    except ValueError:
        reason = ""
    head = [f"HTTP/1.1 {error.status} {reason}", f"Content-Type: {error.content_type}"]
    head += [f"{name}: {value}" for name, value in error.headers.items()]
    head += ["Connection: close", f"Content-Length: {len(error.body)}", "", ""]
    return "\r\n".join(head).encode("latin-1") + error.body


async def _accept_tls(
    sock: socket.socket, context: ssl.SSLContext, make_protocol: Any, refusal: bytes
) -> None:
    """Accept connections; TLS ones go to HTTP over TLS, plain ones get a refusal."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()
    try:
        while True:
            conn, _ = await loop.sock_accept(sock)
            task = asyncio.create_task(_route_connection(conn, context, make_protocol, refusal))
            pending.add(task)
            task.add_done_callback(pending.discard)
    finally:
        for task in pending:
            task.cancel()


async def _route_connection(
    conn: socket.socket, context: ssl.SSLContext, make_protocol: Any, refusal: bytes
) -> None:
    loop = asyncio.get_running_loop()
    conn.setblocking(False)
    try:
        first = await asyncio.wait_for(_peek(loop, conn), SNIFF_TIMEOUT)
    except (TimeoutError, OSError):
        conn.close()
        return
    if not first:
        conn.close()
        return
    if first[0] == _TLS_HANDSHAKE:
        try:
            await loop.connect_accepted_socket(make_protocol, conn, ssl=context)
        except (OSError, ssl.SSLError, TimeoutError):
            conn.close()
        return
    with contextlib.suppress(OSError):
        await loop.sock_sendall(conn, refusal)
    conn.close()


async def _peek(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> bytes:
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv(1, socket.MSG_PEEK)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (faster), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class BackgroundRunner:
    """Runs listeners on an event loop in a daemon thread (for tests and embedding)."""

    def __init__(self, listeners: list[Listener]) -> None:
        self.runner = Runner(listeners)
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="trackmock", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.runner.start(), self.loop)
        future.result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self.runner.stop(), self.loop)
        with contextlib.suppress(Exception):
            future.result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
