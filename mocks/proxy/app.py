"""The proxy's ASGI application: forward HTTP unchanged, relay sockets frame by frame.

HTTP goes out through one pooled ``aiohttp`` client session (keep-alive connections to the
upstream, bodies passed through undecoded, no cookie jar, no headers of its own). Requests
and answers keep their method, target, status, headers (every ``Set-Cookie`` included;
``Host`` too, unless it only addresses the proxy itself) and bodies; only hop-by-hop headers,
which belong to each connection, are not passed on. A socket upgrade opens a socket to the
upstream with the client's headers (cookies), relays each frame both ways as it comes, and
passes a refused upgrade on as the upstream answered it.

Each finished exchange, and each frame, is handed to the ``Recorder`` after the client has
it; checking never delays forwarding.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from .traffic import Seen

if TYPE_CHECKING:
    import aiohttp

    from .traffic import Recorder

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "trailers",
        "transfer-encoding", "upgrade",
    }
)  # fmt: skip
"""Headers about one connection (RFC 9110 §7.6.1): a proxy does not pass them on."""
_HANDSHAKE = frozenset(
    {
        "host", "content-length", "sec-websocket-key", "sec-websocket-version",
        "sec-websocket-extensions", "sec-websocket-accept", "sec-websocket-protocol",
    }
)  # fmt: skip
"""Headers of the upgrade handshake itself, made afresh for the upstream socket."""


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _text(pairs: Any) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in pairs]


def _raw(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body; False when it is larger than ``limit`` (then the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), True


class ProxyApp:
    """Forwards to ``upstream`` (``http[s]://host:port[/prefix]``) and records the traffic."""

    def __init__(
        self,
        upstream: str,
        recorder: Recorder,
        *,
        upstream_tls: ssl.SSLContext | None = None,
        max_body_bytes: int = 10 * 1024 * 1024,
        check_body_bytes: int = 10 * 1024 * 1024,
        timeout: float = 120.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.upstream_host = urlsplit(self.upstream).netloc
        self.recorder = recorder
        self.upstream_tls = upstream_tls
        self.max_body_bytes = max_body_bytes
        self.check_body_bytes = check_body_bytes
        self.timeout = timeout
        self.session: aiohttp.ClientSession | None = None
        self.sockets: set[Any] = set()

    def _host(self, value: str) -> str:
        """The Host to send: the client's when it names a host (``acme.viewcases.com``,
        ``acme.localhost``: subdomain accounts), the upstream's when the client only addressed
        the proxy (``127.0.0.1:8090``, ``localhost:8090``)."""
        name = urlsplit(f"//{value}").hostname or ""
        if name == "localhost" or _is_address(name):
            return self.upstream_host
        return value

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=256, ssl=self.upstream_tls if self.upstream_tls is not None else True
            ),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=self.timeout),
        )

    async def close(self) -> None:
        for socket in list(self.sockets):
            with contextlib.suppress(Exception):
                await socket.close(1001)
        if self.session is not None:
            await self.session.close()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)

    def _seen(self, scope: dict[str, Any]) -> Seen:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope["query_string"].decode("latin-1")
        target = raw_path.decode("latin-1") + (f"?{query}" if query else "")
        return Seen(
            index=self.recorder.next_index(),
            started=time.time(),
            method=scope.get("method", "GET"),
            path=scope["path"],
            target=target,
            query=query,
            request_headers=_text(scope["headers"]),
        )

    # -- HTTP -------------------------------------------------------------------------------

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        import aiohttp
        from yarl import URL

        assert self.session is not None
        clock = time.perf_counter()
        seen = self._seen(scope)
        body, whole = await _read_body(receive, self.max_body_bytes)
        if not whole:
            await _answer(send, 413, f"the request body is larger than {self.max_body_bytes} bytes")
            return
        seen.request_body = body[: self.check_body_bytes]
        seen.request_complete = len(body) <= self.check_body_bytes
        headers = [
            (k, self._host(v) if k.lower() == "host" else v)
            for k, v in seen.request_headers
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
        ]
        data = body if body or seen.method in ("POST", "PUT", "PATCH") else None
        started = False
        try:
            async with self.session.request(
                seen.method,
                URL(self.upstream + seen.target, encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
            ) as response:
                seen.status = response.status
                seen.response_headers = [
                    (k, v) for k, v in _text(response.raw_headers) if k.lower() not in HOP_BY_HOP
                ]
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": _raw(seen.response_headers),
                    }
                )
                started = True
                kept = bytearray()
                async for chunk in response.content.iter_any():
                    if len(kept) + len(chunk) <= self.check_body_bytes:
                        kept += chunk
                    else:
                        seen.response_complete = False
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
                seen.response_body = bytes(kept)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            seen.note = f"the upstream did not answer ({type(exc).__name__})"
            if started:
                raise
            await _answer(send, 502, f"trackmock proxy: {self.upstream} did not answer: {exc}")
        finally:
            seen.elapsed_ms = (time.perf_counter() - clock) * 1000
            self.recorder.exchange(seen)

    # -- WebSocket --------------------------------------------------------------------------

    def _socket_url(self, seen: Seen) -> str:
        base = self.upstream
        scheme = "wss" if base.startswith("https") else "ws"
        return scheme + base[base.index(":") :] + seen.target

    async def _websocket(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus

        clock = time.perf_counter()
        if (await receive())["type"] != "websocket.connect":
            return
        seen = self._seen(scope)
        seen.websocket = True
        headers = [
            (k, v)
            for k, v in seen.request_headers
            if k.lower() not in HOP_BY_HOP and k.lower() not in _HANDSHAKE
        ]
        try:
            upstream = await connect(
                self._socket_url(seen),
                additional_headers=headers,
                user_agent_header=None,
                compression=None,
                ssl=self.upstream_tls if self._socket_url(seen).startswith("wss") else None,
                max_size=self.check_body_bytes,
                ping_interval=None,
                open_timeout=10,
                close_timeout=2,
                subprotocols=scope.get("subprotocols") or None,
            )
        except InvalidStatus as exc:
            await self._refused(seen, exc.response, send, clock)
            return
        except (InvalidHandshake, OSError, TimeoutError) as exc:
            seen.note = f"the upstream did not open the socket ({type(exc).__name__})"
            seen.elapsed_ms = (time.perf_counter() - clock) * 1000
            self.recorder.exchange(seen)
            await send({"type": "websocket.close", "code": 1011})
            return
        response = upstream.response
        seen.status = response.status_code
        seen.response_headers = list(response.headers.raw_items())
        accept_headers = [
            (k, v)
            for k, v in seen.response_headers
            if k.lower() not in HOP_BY_HOP and k.lower() not in _HANDSHAKE
        ]
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": upstream.subprotocol,
                "headers": _raw(accept_headers),
            }
        )
        seen.elapsed_ms = (time.perf_counter() - clock) * 1000
        self.recorder.exchange(seen)
        self.sockets.add(upstream)
        try:
            await _relay(upstream, receive, send, seen, self.recorder)
        finally:
            self.sockets.discard(upstream)

    async def _refused(self, seen: Seen, response: Any, send: Send, clock: float) -> None:
        """The upstream refused the upgrade: the client gets the same answer."""
        seen.status = response.status_code
        seen.response_headers = [
            (k, v)
            for k, v in response.headers.raw_items()
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
        ]
        body = bytes(response.body or b"")
        seen.websocket = False
        seen.response_body = body[: self.check_body_bytes]
        seen.elapsed_ms = (time.perf_counter() - clock) * 1000
        self.recorder.exchange(seen)
        await send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": _raw([*seen.response_headers, ("content-length", str(len(body)))]),
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})


async def _relay(upstream: Any, receive: Receive, send: Send, seen: Seen, recorder: Recorder):
    """Frames both ways until either side closes; the other side is then closed too."""
    from websockets.exceptions import ConnectionClosed

    async def client_to_upstream() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(_sendable(message.get("code")))
                return
            text = message.get("text")
            payload = text if text is not None else message.get("bytes") or b""
            await upstream.send(payload)
            if text is not None:
                recorder.frame(seen, "send", text, time.time())

    async def upstream_to_client() -> None:
        try:
            async for payload in upstream:
                if isinstance(payload, str):
                    await send({"type": "websocket.send", "text": payload})
                    recorder.frame(seen, "receive", payload, time.time())
                else:
                    await send({"type": "websocket.send", "bytes": payload})
        except ConnectionClosed:
            pass
        code = _sendable(upstream.close_code)
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": code})

    tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await upstream.close()


def _sendable(code: int | None) -> int:
    """A close code that may be sent (1005, 1006 and 1015 only report what happened)."""
    return 1000 if code is None or code in (1005, 1006, 1015) else code


async def _answer(send: Send, status: int, message: str) -> None:
    body = orjson.dumps({"error": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
