"""Serve ASGI applications (the emulators, or any other) in one process, on one event loop.

Why our own server on httptools and wsproto (public APIs only) is in ``docs/architecture.md``.
In short: state lives in memory, so one process serves every emulator; sockets are bound
here, so port 0 works and the bound port is known; the WebSocket sits on the same port as the
REST API; TLS listeners look at the first byte of a connection, so a plain-HTTP request gets a
clear refusal instead of a failed handshake; and every resource a client can hold is bounded:

- accepting survives running out of file descriptors (EMFILE, ENFILE): it logs one line,
  backs off and goes on, so an emulator answers again as soon as descriptors are free;
- at most ``max_connections`` connections per listener; the excess is refused (503);
- a connection that does not send a whole request within ``idle_timeout`` is closed;
- request heads are bounded (431), socket messages too (see ``wschannel``);
- ``Runner.stop`` ends every connection within ``STOP_GRACE`` seconds, busy or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import socket
import ssl
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import HttpError
from .http import AsgiApp, HttpConnection
from .limits import Limits
from .wire import Response, encode_response, plain_error

if TYPE_CHECKING:
    from .emulator import Emulator
    from .wschannel import WebSocketChannel

log = logging.getLogger("trackmock")

YOUNG_GENERATION_OBJECTS = 20_000
"""Objects made between two young collections in a serving process (Python's default: 700).
A full collection, which walks every live object, can follow every hundred young ones: with
a thousand sockets (about a hundred objects each) and the journal of their frames one took
20-180 ms and held the push it fell on. A young collection of this size takes about a
millisecond (docs/architecture.md, "Sockets", the collector)."""
_TLS_HANDSHAKE = 0x16
SNIFF_TIMEOUT = 10.0
"""Seconds a TLS listener waits for a connection's first byte."""
STOP_GRACE = 1.0
"""Seconds ``Runner.stop`` lets answers in progress finish before cutting connections."""
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_ACCEPT_BACKOFF = (0.05, 0.1, 0.2, 0.25)
"""Pauses between accept attempts while descriptors are short (the last one repeats)."""
_ACCEPTS_PER_WAKEUP = 64


class Site:
    """What the connections of one listener share: the application, limits, counts."""

    def __init__(
        self, app: Any, limits: Limits, *, name: str, scheme: str, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.app: AsgiApp = app
        self.respond = getattr(app, "respond", None)
        self._error = getattr(app, "error_response", None) or plain_error
        self.limits = limits
        self.name = name
        self.scheme = scheme
        self.loop = loop
        self.connections: set[HttpConnection | WebSocketChannel] = set()
        self.opening = 0
        """Accepted sockets not yet connected (TLS sniffing and handshakes)."""
        self.inbound_bytes = 0
        """Socket message bytes received and not yet read by the application."""
        self.tasks: set[asyncio.Task[Any]] = set()
        self.empty = asyncio.Event()
        self.empty.set()
        self._queued: list[HttpConnection] = []
        """Connections with answers waiting for ``flush_all``."""

    def queue(self, connection: HttpConnection) -> None:
        """Have ``connection``'s answers written once the loop has dispatched what its last
        poll read (a callback scheduled now runs after the I/O callbacks of this round)."""
        if not self._queued:
            self.loop.call_soon(self.flush_all)
        self._queued.append(connection)

    def flush_all(self) -> None:
        queued, self._queued = self._queued, []
        for connection in queued:
            connection.flush()

    @property
    def open_count(self) -> int:
        return len(self.connections) + self.opening

    def joined(self, connection: HttpConnection | WebSocketChannel) -> None:
        self.connections.add(connection)
        self.empty.clear()

    def left(self, connection: HttpConnection | WebSocketChannel) -> None:
        self.connections.discard(connection)
        if not self.connections:
            self.empty.set()

    def start(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self.loop.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def error_response(self, status: int, message: str) -> Response:
        """A transport refusal (400, 431, 503) in the application's error shape."""
        try:
            return self._error(status, message)
        except Exception:
            log.exception("error shape failed for %d", status)
            return plain_error(status, message)

    def sweep(self) -> None:
        """Close connections that sat without a whole request for ``idle_timeout``."""
        deadline = self.loop.time() - self.limits.idle_timeout
        for connection in list(self.connections):
            since = connection.idle_since
            if since is not None and since < deadline:
                connection.transport.close()


@dataclass
class Listener:
    """Where one application listens: an emulator, or any ASGI ``app``.

    Args:
        emulator: an emulator to serve (its ASGI face is built here).
        host, port: where to listen (port 0 picks a free one; read ``port`` back).
        tls: serve HTTPS with this context; plain HTTP then gets ``plain_http_refusal``.
        app: an ASGI application to serve instead of an emulator.
        name: for logs (the emulator's name by default).
        plain_http_refusal: the whole HTTP answer to plain HTTP on a TLS port.
        limits: the transport's limits (the emulator's settings by default).
    """

    emulator: Emulator | None = None
    host: str = "127.0.0.1"
    port: int = 0
    tls: ssl.SSLContext | None = None
    app: Any = None
    name: str = ""
    plain_http_refusal: bytes | None = None
    limits: Limits | None = None
    sock: socket.socket | None = field(default=None, repr=False)
    site: Site | None = field(default=None, repr=False)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list, repr=False)
    _acceptor: _Acceptor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        emulator = self.emulator
        if emulator is None and self.app is None:
            raise ValueError("a listener serves an emulator or an ASGI app")
        if emulator is not None:
            if self.app is None:
                from .asgi import EmulatorAsgi

                self.app = EmulatorAsgi(emulator)
            self.name = self.name or emulator.name
            if self.limits is None:
                self.limits = Limits.from_settings(emulator.settings)
            if self.tls is not None and self.plain_http_refusal is None:
                self.plain_http_refusal = http_answer(emulator.provider.plain_http_refused())
        self.name = self.name or "app"
        self.limits = self.limits or Limits()
        if self.tls is not None and self.plain_http_refusal is None:
            refusal = plain_error(400, "This port speaks TLS only: plain HTTP is refused.")
            self.plain_http_refusal = encode_response(refusal, close=True)

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


class _Acceptor:
    """Accepts a listener's connections; survives running out of file descriptors."""

    def __init__(self, listener: Listener, site: Site) -> None:
        assert listener.sock is not None
        self.sock = listener.sock
        self.tls = listener.tls
        self.refusal = listener.plain_http_refusal or b""
        self.site = site
        self.loop = site.loop
        self._starved = 0
        self._retry: asyncio.TimerHandle | None = None
        self._full = False
        self.stopped = False

    def start(self) -> None:
        self.loop.add_reader(self.sock.fileno(), self._ready)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self._retry is not None:
            self._retry.cancel()
        with contextlib.suppress(OSError, ValueError):
            self.loop.remove_reader(self.sock.fileno())

    def _ready(self) -> None:
        for _ in range(_ACCEPTS_PER_WAKEUP):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_DESCRIPTORS:
                    self._back_off(exc)
                    return
                continue  # the client gave up before we took it (ECONNABORTED, ...)
            if self._starved:
                log.warning("%s: accepting connections again", self.site.name)
                self._starved = 0
            self._take(conn)

    def _back_off(self, exc: OSError) -> None:
        if not self._starved:
            log.warning(
                "%s: cannot accept a connection (%s); retrying until descriptors are free",
                self.site.name,
                errno.errorcode.get(exc.errno or 0, exc.strerror),
            )
        delay = _ACCEPT_BACKOFF[min(self._starved, len(_ACCEPT_BACKOFF) - 1)]
        self._starved += 1
        self.loop.remove_reader(self.sock.fileno())
        self._retry = self.loop.call_later(delay, self._resume)

    def _resume(self) -> None:
        self._retry = None
        if not self.stopped:
            self.loop.add_reader(self.sock.fileno(), self._ready)

    def _take(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        site = self.site
        if site.open_count >= site.limits.max_connections:
            self._refuse(conn)
            return
        self._full = False
        site.opening += 1
        site.start(self._connect(conn))

    def _refuse(self, conn: socket.socket) -> None:
        site = self.site
        if not self._full:
            log.warning(
                "%s: %d connections open, refusing more (max_connections)",
                site.name,
                site.limits.max_connections,
            )
            self._full = True
        if self.tls is None:
            answer = site.error_response(503, "too many open connections; try again later")
            answer.headers.append((b"retry-after", b"1"))
            with contextlib.suppress(OSError):
                conn.send(encode_response(answer, close=True))
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    async def _connect(self, conn: socket.socket) -> None:
        site = self.site
        try:
            if self.tls is None:
                await self.loop.connect_accepted_socket(lambda: HttpConnection(site), conn)
            else:
                await self._connect_tls(conn)
        except (OSError, ssl.SSLError, TimeoutError, asyncio.CancelledError):
            conn.close()
        finally:
            site.opening -= 1

    async def _connect_tls(self, conn: socket.socket) -> None:
        first = await asyncio.wait_for(_peek(self.loop, conn), SNIFF_TIMEOUT)
        if not first:
            conn.close()
            return
        if first[0] != _TLS_HANDSHAKE:
            with contextlib.suppress(OSError):
                await self.loop.sock_sendall(conn, self.refusal)
            conn.close()
            return
        site = self.site
        await self.loop.connect_accepted_socket(
            lambda: HttpConnection(site),
            conn,
            ssl=self.tls,
            ssl_handshake_timeout=SNIFF_TIMEOUT,
        )


async def _peek(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> bytes:
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv(1, socket.MSG_PEEK)


async def _sweep(site: Site) -> None:
    interval = max(0.05, min(1.0, site.limits.idle_timeout / 4))
    while True:
        await asyncio.sleep(interval)
        site.sweep()


class Runner:
    """Starts and stops a set of listeners on the running event loop.

    Args:
        listeners: what to serve.
        freeze_heap: once started, move every object made so far (contracts, fixtures,
            routes) out of the garbage collector's sight (``gc.freeze``). A process that
            serves until it stops then never scans them again: no collection pauses of
            hundreds of milliseconds under load, and no second-long collection at exit.
            Off for a runner in a process that goes on making and dropping emulators
            (tests), which would keep their garbage. With it, the young generation's
            threshold is raised to ``YOUNG_GENERATION_OBJECTS`` as well.
    """

    def __init__(self, listeners: list[Listener], *, freeze_heap: bool = True) -> None:
        self.listeners = listeners
        self.freeze_heap = freeze_heap

    async def start(self) -> None:
        """Bind every listener and start serving; on failure, nothing is left open."""
        try:
            for listener in self.listeners:
                self._start_one(listener)
        except BaseException:
            await self.stop()
            raise
        if self.freeze_heap:
            gc.collect()
            gc.freeze()
            _, middle, oldest = gc.get_threshold()
            gc.set_threshold(YOUNG_GENERATION_OBJECTS, middle, oldest)

    def _start_one(self, listener: Listener) -> None:
        loop = asyncio.get_running_loop()
        listener.sock = bind(listener.host, listener.port)
        listener.port = listener.sock.getsockname()[1]
        if listener.emulator is not None:
            listener.emulator.base_url = listener.url
        assert listener.limits is not None
        site = Site(
            listener.app,
            listener.limits,
            name=listener.name,
            scheme="https" if listener.tls else "http",
            loop=loop,
        )
        listener.site = site
        listener._acceptor = _Acceptor(listener, site)
        listener._acceptor.start()
        listener.tasks.append(loop.create_task(_sweep(site)))

    async def stop(self) -> None:
        """Stop accepting, close sockets and idle connections, let answers in progress end,
        and cut whatever is left after ``STOP_GRACE`` seconds."""
        for listener in self.listeners:
            if listener._acceptor is not None:
                listener._acceptor.stop()
            if listener.sock is not None:
                listener.sock.close()
            for task in listener.tasks:
                task.cancel()
            if listener.emulator is not None:
                for connection in list(listener.emulator.open_sockets):
                    connection.close_soon(1001)
        sites = [listener.site for listener in self.listeners if listener.site is not None]
        for site in sites:
            for connection in list(site.connections):
                if isinstance(connection, HttpConnection):
                    connection.shutdown()
                    if site.scheme == "https" and _idle(connection):
                        # Its close_notify is sent; a client's pooled keep-alive connection
                        # never answers with its own, so waiting for that would hold the stop.
                        connection.transport.abort()
        waits = [asyncio.ensure_future(site.empty.wait()) for site in sites]
        if waits:
            _, late = await asyncio.wait(waits, timeout=STOP_GRACE)
            for future in late:
                future.cancel()
        for site in sites:
            for connection in list(site.connections):
                connection.transport.abort()
            for task in list(site.tasks):
                task.cancel()
        for listener in self.listeners:
            if listener.emulator is not None:
                listener.emulator.shutdown()
        # Let cancelled tasks and aborted transports finish their callbacks.
        await asyncio.sleep(0)


def _idle(connection: HttpConnection) -> bool:
    """No answer in progress and nothing of one left to write."""
    return connection.exchange is None and not connection.transport.get_write_buffer_size()


def http_answer(error: HttpError) -> bytes:
    """A complete HTTP/1.1 response for ``error``, closing the connection."""
    headers = [(b"content-type", error.content_type.encode("latin-1"))]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()
    ]
    return encode_response(Response(error.status, headers, error.body), close=True)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (faster), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class BackgroundRunner:
    """Runs listeners on an event loop in a daemon thread (for tests and embedding); as a
    context manager, serves for the ``with`` block."""

    def __init__(self, listeners: list[Listener]) -> None:
        self.runner = Runner(listeners, freeze_heap=False)
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="trackmock", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.runner.start(), self.loop)
        future.result(timeout)

    def __enter__(self) -> BackgroundRunner:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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
