"""Track's socket: fan-out (N clients, positions pushed through the control API) and scale
(many idle sockets answering their PINGs).

Every client answers each PING with ``pong <uuid>`` (so the emulator must keep it open) and
notes when each pushed position arrives. Latency = arrival minus the moment the control call
was sent, over all clients and pushes. The clients run in this process, on the same cores as
the server, so they are kept lean: a bare asyncio protocol per socket that reads the server's
(unmasked) frames itself and parses only frames it acts on. Their scheduling still counts in
the figures.
"""

from __future__ import annotations

import asyncio
import base64
import os
import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

_TEXT, _CLOSE, _PING = 0x1, 0x8, 0x9


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame, as a client must send it (RFC 6455 section 5.3)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    head = bytes((0x80 | opcode, 0x80 | size)) if size < 126 else None
    if head is None:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    return head + mask + masked


class _Client(asyncio.Protocol):
    """One socket: handshake, then frames; answers PINGs, timestamps pushed positions."""

    def __init__(self, request: bytes, stats: Stats) -> None:
        self.request = request
        self.stats = stats
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.upgraded:
            self.stats.closed += 1
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(self.buffer[:80]).decode()))
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, size, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + size:
                return
            payload = bytes(buffer[start : start + size])
            del buffer[: start + size]
            if opcode == _TEXT:
                self._text(payload)
            elif opcode == _PING:
                self._send(0xA, payload)

    def _text(self, payload: bytes) -> None:
        # Only frames the benchmark acts on are parsed.
        if b'"PING"' in payload:
            for status in orjson.loads(payload).get("status") or []:
                if status.get("type") == "PING":
                    self._send(_TEXT, f"pong {status['message']}".encode())
                    self.stats.pongs += 1
        elif self.stats.marker and self.stats.marker in payload:
            # The push's own latitude, found without parsing the frame.
            self.stats.arrivals[self.stats.latitude].append(time.perf_counter())

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_client_frame(opcode, payload))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Stats:
    def __init__(self) -> None:
        self.closed = 0
        self.pongs = 0
        self.arrivals: dict[float, list[float]] = {}
        self.latitude = 0.0
        self.marker = b""
        """How the pushed position's frame shows the latitude of the current push."""

    def expect(self, latitude: float) -> None:
        self.arrivals[latitude] = []
        self.latitude = latitude
        self.marker = b'"latitude":' + orjson.dumps(latitude)


def _login(info: dict[str, Any]) -> str:
    creds = info["credentials"]
    login = requests.post(
        info["url"] + "/api/session",
        data={"email": creds["email"], "password": creds["password"]},
        timeout=10,
    )
    login.raise_for_status()
    return f"JSESSIONID={login.cookies['JSESSIONID']}"


async def _connect_all(
    info: dict[str, Any], cookie: str, count: int, stats: Stats
) -> list[_Client]:
    address = urlsplit(info["url"])
    loop = asyncio.get_running_loop()
    clients: list[_Client] = []

    async def one() -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /api/socket HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: Upgrade\r\n"
            f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
            f"Cookie: {cookie}\r\n\r\n"
        ).encode()
        _, client = await loop.create_connection(
            lambda: _Client(request, stats), address.hostname, address.port
        )
        await client.opened
        clients.append(client)

    # In batches, so that the server's listen backlog never overflows.
    for start in range(0, count, 500):
        await asyncio.gather(*(one() for _ in range(min(500, count - start))))
    return clients


async def _fanout(info: dict[str, Any], clients: int, pushes: int) -> dict[str, Any]:
    base = info["url"]
    cookie = _login(info)
    devices = requests.get(base + "/api/devices", headers={"Cookie": cookie}, timeout=10).json()
    device_id = devices[0]["id"]
    stats = Stats()
    started = time.perf_counter()
    sockets = await _connect_all(info, cookie, clients, stats)
    connect_s = time.perf_counter() - started
    session = requests.Session()
    loop = asyncio.get_running_loop()
    sent: dict[float, float] = {}
    calls: list[float] = []
    for index in range(pushes):
        await asyncio.sleep(0.5)
        latitude = 49.9 + (index + 1) / 1000
        body = {"deviceId": device_id, "latitude": latitude, "longitude": 10.88}
        stats.expect(latitude)
        sent[latitude] = time.perf_counter()
        answer = await loop.run_in_executor(
            None,
            lambda body=body: session.post(base + "/__admin/positions", json=body, timeout=30),
        )
        answer.raise_for_status()
        # The control call returns once the server wrote the push to every socket.
        calls.append((time.perf_counter() - sent[latitude]) * 1000)
    await asyncio.sleep(3)
    for client in sockets:
        client.close()
    latencies = sorted(
        (t - sent[key]) * 1000 for key, times in stats.arrivals.items() for t in times
    )
    # When the last socket got each push: robust to one push that met a busy moment of the
    # machine, which alone sets the p99 of 20 pushes.
    last = sorted((max(times) - sent[key]) * 1000 for key, times in stats.arrivals.items() if times)
    return {
        "clients": clients,
        "pushes": pushes,
        "connect_all_s": round(connect_s, 2),
        "deliveries": len(latencies),
        "expected_deliveries": clients * pushes,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p99": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
            "max": round(latencies[-1], 1) if latencies else None,
        },
        "last_delivery_per_push_ms": {
            "median": round(statistics.median(last), 1) if last else None,
            "max": round(last[-1], 1) if last else None,
        },
        "push_call_ms": {
            "p50": round(statistics.median(calls), 1),
            "max": round(max(calls), 1),
        },
        "pongs_sent": stats.pongs,
        "sockets_closed_by_server": stats.closed,
    }


async def _idle(
    info: dict[str, Any], sockets: int, hold: float, rss: Callable[[], int]
) -> dict[str, Any]:
    cookie = _login(info)
    stats = Stats()
    started = time.perf_counter()
    clients = await _connect_all(info, cookie, sockets, stats)
    connect_s = time.perf_counter() - started
    peak = rss()
    ends = time.perf_counter() + hold
    while time.perf_counter() < ends:
        await asyncio.sleep(0.5)
        peak = max(peak, rss())
    result = {
        "sockets": sockets,
        "connect_all_s": round(connect_s, 2),
        "held_s": hold,
        "pongs_sent": stats.pongs,
        "sockets_closed_by_server": stats.closed,
        "server_rss_kib_peak": peak,
    }
    for client in clients:
        client.close()
    return result


def _run(coroutine: Any) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def run_fanout(info: dict[str, Any], *, clients: int, pushes: int) -> dict[str, Any]:
    return _run(_fanout(info, clients, pushes))


def run_idle(
    info: dict[str, Any], *, sockets: int, hold: float, rss: Callable[[], int]
) -> dict[str, Any]:
    return _run(_idle(info, sockets, hold, rss))
