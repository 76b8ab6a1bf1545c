"""What ``trackmock proxy`` adds to a request (the bar: at most 2 ms at p50, one connection).

A Track emulator (``trackmock serve``) and a proxy in front of it (``trackmock proxy``) run as
the user runs them, each its own process. One keep-alive connection to each then asks the same
GET (the device list, with basic auth) in turn, direct and through the proxy, interleaved so
that whatever else the machine does weighs on both alike. The proxy checks every exchange
against the contract as it does in use; that work is part of what is measured.

Run: python -m benchmarks.proxy_overhead [--requests 2000]
Prints one JSON line and writes benchmarks/results/proxy.json.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BAR_MS = 2.0
PATH = "/api/devices"
RESULTS = Path(__file__).resolve().parent / "results"


def _wait_for(path: Path, process: subprocess.Popen[bytes], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)
    return dict(json.loads(path.read_text()))


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(requests: int) -> dict[str, Any]:
    cli = [sys.executable, "-m", "trackmock.cli"]
    with tempfile.TemporaryDirectory() as folder:
        served, proxied = Path(folder, "ready.json"), Path(folder, "proxy.json")
        serve = subprocess.Popen(
            [*cli, "serve", "--vendor", "track", "--track-port", "0", "--quiet",
             "--ready-file", str(served)]
        )  # fmt: skip
        proxy = None
        try:
            track = _wait_for(served, serve, "trackmock serve")["track"]
            proxy = subprocess.Popen(
                [*cli, "proxy", "--vendor", "track", "--upstream", track["url"],
                 "--ready-file", str(proxied), "--report", str(Path(folder, "report.txt"))],
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            proxy_url = _wait_for(proxied, proxy, "trackmock proxy")["url"]
            credentials = track["credentials"]
            login = f"{credentials['email']}:{credentials['password']}".encode()
            headers = {"Authorization": "Basic " + base64.b64encode(login).decode()}
            connections = {"direct": _connection(track["url"]), "proxy": _connection(proxy_url)}
            times: dict[str, list[float]] = {"direct": [], "proxy": []}
            for round_ in range(requests + 100):
                for name, connection in connections.items():
                    started = time.perf_counter()
                    connection.request("GET", PATH, headers=headers)
                    response = connection.getresponse()
                    body = response.read()
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status != 200 or not body:
                        raise RuntimeError(f"{name}: {response.status}")
                    if round_ >= 100:  # the first hundred warm both up
                        times[name].append(elapsed)
        finally:
            for process in (proxy, serve):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(30)
    summary: dict[str, Any] = {"requests": requests, "path": PATH, "connections": 1}
    for name, values in times.items():
        summary[name] = {
            "p50_ms": round(statistics.median(values), 3),
            "p90_ms": round(_percentile(values, 0.90), 3),
            "p99_ms": round(_percentile(values, 0.99), 3),
        }
    added = summary["proxy"]["p50_ms"] - summary["direct"]["p50_ms"]
    summary["added_p50_ms"] = round(added, 3)
    summary["bar_ms"] = BAR_MS
    summary["bar_met"] = added <= BAR_MS
    summary["load"] = os.getloadavg()[0]
    summary["measured"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests each way")
    args = parser.parse_args()
    result = measure(args.requests)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "proxy.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
