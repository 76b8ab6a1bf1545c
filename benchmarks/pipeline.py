"""The emulators' own cost of a hot GET, in process: no sockets, no load generator.

Each target of ``targets.THROUGHPUT`` is answered by ``EmulatorAsgi.respond`` (the server's
fast path: routing, authentication, usage rules, parameter checks, handler, journal) on the
benchmark settings; the CPU time of the process per request is the emulator's share of what
the server spends (``throughput`` measures the whole, transport included). CPU time, best of
five rounds, so that other work on the machine counts as little as it can.

    python -m benchmarks.pipeline [--requests 5000] [--profile "case by number"]

``--profile`` prints cProfile's top functions for one target (profiling slows every call; the
shares are what counts).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import pstats
import time
from typing import Any

from trackmock.core.asgi import EmulatorAsgi
from trackmock.core.emulator import Emulator
from trackmock.core.settings import CoreSettings
from trackmock.core.wire import Request
from trackmock.vendors import create_emulator

from .targets import BENCH_SETTINGS, THROUGHPUT, Target

ROUNDS = 5


def _headers(emulator: Emulator) -> list[tuple[bytes, bytes]]:
    """What wrk sends in ``throughput``, except that Track authenticates with HTTP Basic (no
    login over a socket here; Traccar takes both)."""
    creds = emulator.credentials()
    headers = {"host": "127.0.0.1:8080", "user-agent": "wrk", "accept": "application/json"}
    if emulator.name == "tracker":
        headers |= {
            "authorization": f"Bearer {creds['token']}",
            "organizationid": str(creds["organizationId"]),
            "officeid": str(creds["officeId"]),
            "statictoken": "true",
            "content-type": "application/x-www-form-urlencoded",
        }
    else:
        user = creds["username"] if emulator.name == "trackops" else creds["email"]
        pair = base64.b64encode(f"{user}:{creds['password']}".encode()).decode()
        headers["authorization"] = f"Basic {pair}"
    return [(name.encode(), value.encode()) for name, value in headers.items()]


def _request(target: Target, emulator: Emulator) -> Request:
    path, _, query = target.path.partition("?")
    return Request(
        "GET", path, target.path.encode(), query.encode(), _headers(emulator), "1.1", True,
        server=("127.0.0.1", 8080), client=("127.0.0.1", 50000),
    )  # fmt: skip


def _emulators() -> dict[str, Emulator]:
    emulators = {}
    for vendor in dict.fromkeys(target.vendor for target in THROUGHPUT):
        # Plain HTTP changes nothing here (no sockets); Trackops refuses nothing over it then.
        section = dict(BENCH_SETTINGS.get(vendor, {}))
        if vendor == "trackops":
            section["plain_http"] = True
        emulators[vendor] = create_emulator(vendor, CoreSettings(), section)
    return emulators


def measure(requests: int = 5000, profile: str | None = None) -> dict[str, Any]:
    """µs of CPU per request for each hot GET; with ``profile``, cProfile's top functions."""
    rows = []
    emulators = _emulators()
    for target in THROUGHPUT:
        if profile and target.name != profile:
            continue
        emulator = emulators[target.vendor]
        app = EmulatorAsgi(emulator)
        request = _request(target, emulator)
        answer = app.respond(request)
        if answer is None or answer.status != 200:
            raise RuntimeError(f"{target.name}: not answered 200 on the fast path")
        for _ in range(200):
            app.respond(request)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        rounds = []
        for _ in range(ROUNDS):
            started = time.process_time()
            for _ in range(requests // ROUNDS):
                app.respond(request)
            rounds.append((time.process_time() - started) / (requests // ROUNDS))
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        row = {
            "vendor": target.vendor,
            "target": target.name,
            "cpu_us_per_request": round(min(rounds) * 1e6, 1),
            "body_bytes": len(answer.body),
        }
        rows.append(row)
        print(row, flush=True)
    return {"pipeline": rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--profile", help="the name of one target to profile")
    args = parser.parse_args()
    measure(args.requests, args.profile)


if __name__ == "__main__":
    main()
