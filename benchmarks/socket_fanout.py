"""Track's socket fan-out: N clients on /api/socket, positions pushed through the control API.

Every client answers each PING with ``pong <uuid>`` (so the emulator must keep them open) and
notes when each pushed position arrives. Latency = arrival minus the moment the control call was
sent, over all clients and pushes. Clients run in this process, on the same cores as the
server, so the figures include the clients' own scheduling.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import orjson
import requests
import websockets


async def _client(
    url: str,
    cookie: str,
    arrivals: dict[int, list[float]],
    state: dict[str, int],
    ready: asyncio.Event,
    total: int,
    stop: asyncio.Event,
) -> None:
    async with websockets.connect(
        url,
        additional_headers={"Cookie": cookie},
        max_size=None,
        open_timeout=60,
        ping_interval=None,
    ) as ws:
        state["open"] += 1
        if state["open"] == total:
            ready.set()
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed:
                state["closed"] += 1
                return
            # Only frames the benchmark acts on are parsed, so that the clients (on the same
            # cores as the server) spend as little as possible per frame.
            if '"PING"' not in text and '"positions"' not in text:
                continue
            frame = orjson.loads(text)
            for status in frame.get("status") or []:
                if status.get("type") == "PING":
                    await ws.send(f"pong {status['message']}")
                    state["pongs"] += 1
            for position in frame.get("positions") or []:
                # Each push has its own latitude, known before the control call is sent.
                if position.get("latitude") in arrivals:
                    arrivals[position["latitude"]].append(time.perf_counter())


async def _run(info: dict[str, Any], clients: int, pushes: int) -> dict[str, Any]:
    base = info["url"]
    creds = info["credentials"]
    login = requests.post(
        base + "/api/session",
        data={"email": creds["email"], "password": creds["password"]},
        timeout=10,
    )
    login.raise_for_status()
    cookie = f"JSESSIONID={login.cookies['JSESSIONID']}"
    devices = requests.get(base + "/api/devices", headers={"Cookie": cookie}, timeout=10).json()
    device_id = devices[0]["id"]
    url = base.replace("http://", "ws://") + "/api/socket"
    arrivals: dict[float, list[float]] = {}
    sent: dict[float, float] = {}
    state = {"open": 0, "closed": 0, "pongs": 0}
    ready, stop = asyncio.Event(), asyncio.Event()
    connect_started = time.perf_counter()
    tasks = [
        asyncio.create_task(_client(url, cookie, arrivals, state, ready, clients, stop))
        for _ in range(clients)
    ]
    await asyncio.wait_for(ready.wait(), 120)
    connect_s = time.perf_counter() - connect_started
    session = requests.Session()
    loop = asyncio.get_running_loop()
    for index in range(pushes):
        await asyncio.sleep(0.5)
        latitude = 49.9 + (index + 1) / 1000
        body = {"deviceId": device_id, "latitude": latitude, "longitude": 10.88}
        arrivals[latitude] = []
        sent[latitude] = time.perf_counter()
        answer = await loop.run_in_executor(
            None,
            lambda body=body: session.post(base + "/__admin/positions", json=body, timeout=30),
        )
        answer.raise_for_status()
    await asyncio.sleep(3)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted((t - sent[key]) * 1000 for key, times in arrivals.items() for t in times)
    expected = clients * pushes
    return {
        "clients": clients,
        "pushes": pushes,
        "connect_all_s": round(connect_s, 2),
        "deliveries": len(latencies),
        "expected_deliveries": expected,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p99": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
            "max": round(latencies[-1], 1) if latencies else None,
        },
        "pongs_sent": state["pongs"],
        "sockets_closed_by_server": state["closed"],
    }


def run_fanout(info: dict[str, Any], *, clients: int, pushes: int) -> dict[str, Any]:
    return asyncio.run(_run(info, clients, pushes))
