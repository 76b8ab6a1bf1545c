"""One heavy request must not stall the other emulators (they share one event loop).

While one emulator does heavy work (a 100 000-record control batch on Trackops; Track's
positions and route report over a device's 100 000 positions; Track's CSV export of 20 000
devices), a probe asks Tracker for one small record again and again on one keep-alive
connection. Reported per scenario: how long the heavy request took, and the probe's p50, p99
and maximum latency while it ran (bar: p99 under 50 ms), next to the probe with nothing else
running.

Every scenario runs side by side on two servers started together: one with the defaults
(heavy work on the emulator's worker thread, ``offload: true``) and one with ``offload:
false`` (everything on the loop, as before), alternating, so that whatever else the machine
does weighs on both alike.

Run: python -m benchmarks.heavy_work [--records 100000]
Prints one JSON line per scenario and writes benchmarks/results/heavy.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

from . import targets

RESULTS = Path(__file__).resolve().parent / "results"
BAR_MS = 50.0
PROBE = "/api/items/seqOrgItemHistoryId/1"
MODES = {"offloaded": {"offload": True}, "inline": {"offload": False}}
SPAN = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    pick = lambda share: ordered[min(len(ordered) - 1, int(share * len(ordered)))]  # noqa: E731
    return {
        "n": len(ordered),
        "p50_ms": round(pick(0.5), 1),
        "p99_ms": round(pick(0.99), 1),
        "max_ms": round(ordered[-1], 1),
    }


class Probe:
    """Tracker's small GET in a loop on its own thread; latencies with their start times."""

    def __init__(self, ready: dict[str, Any]) -> None:
        info = ready["tracker"]
        self.url = info["url"] + PROBE
        self.headers = targets.auth_headers("tracker", info, True)
        self.http = requests.Session()
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._stop.clear()
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join(30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            self.http.get(self.url, headers=self.headers, timeout=120)
            self.samples.append((started, (time.perf_counter() - started) * 1000))

    def between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.samples if start <= at <= end]


def _batch(ready: dict[str, Any], records: int) -> requests.Response:
    info = ready["trackops"]
    body = {"records": [{"name": f"Heavy client {i}"} for i in range(records)]}
    url = info["url"] + "/__admin/trackops/records/clients/batch"
    return requests.post(url, json=body, verify=info["ca_cert"], timeout=600)


def _track(
    path: str, *, one_device: bool, **params: Any
) -> Callable[[dict[str, Any], int], requests.Response]:
    """A Track GET (of the last device's data when ``one_device``), with basic auth."""

    def call(ready: dict[str, Any], records: int) -> requests.Response:
        info = ready["track"]
        creds = info["credentials"]
        auth = (creds["email"], creds["password"])
        query = dict(params)
        if one_device:
            devices = requests.get(info["url"] + "/api/devices", auth=auth, timeout=60).json()
            query["deviceId"] = devices[-1]["id"]
        return requests.get(
            info["url"] + path,
            params=query,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=600,
        )

    return call


SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any], int], requests.Response]]] = {
    "trackops control batch": ({}, _batch),
    "track positions over a span": (
        {"volume_devices": 1},
        _track("/api/positions", one_device=True, **SPAN),
    ),
    "track route report": (
        {"volume_devices": 1},
        _track("/api/reports/route", one_device=True, **SPAN),
    ),
    "track devices as CSV": (
        {"volume_devices": 20_000},
        _track("/api/devices", one_device=False, responseType="csv"),
    ),
}


def _settings(mode: str, track: dict[str, Any], records: int) -> dict[str, Any]:
    return {
        **targets.BENCH_SETTINGS,
        **MODES[mode],
        "track": {"volume": records, **track},
    }


def measure(records: int = 100_000) -> dict[str, Any]:
    from .run import serving

    rows = []
    layouts = {json.dumps(track, sort_keys=True): track for track, _ in SCENARIOS.values()}
    for layout, track in layouts.items():
        with contextlib.ExitStack() as stack:
            ready = {
                mode: stack.enter_context(
                    serving(["tracker", "trackops", "track"], _settings(mode, track, records))
                )[0]
                for mode in MODES
            }
            probes = {mode: Probe(ready[mode]) for mode in MODES}
            idle = {}
            for mode, probe in probes.items():
                with probe.running():
                    time.sleep(2)
                idle[mode] = _percentiles([ms for _, ms in probe.samples])
            for name, (wanted, heavy) in SCENARIOS.items():
                if json.dumps(wanted, sort_keys=True) != layout:
                    continue
                row: dict[str, Any] = {"scenario": name, "records": records}
                for mode, probe in probes.items():
                    with probe.running():
                        time.sleep(0.3)
                        start = time.perf_counter()
                        answer = heavy(ready[mode], records)
                        end = time.perf_counter()
                        time.sleep(0.3)
                    row[mode] = {
                        "status": answer.status_code,
                        "heavy_s": round(end - start, 2),
                        "answer_bytes": len(answer.content),
                        "tracker_probe": _percentiles(probe.between(start, end)),
                        "tracker_probe_idle": idle[mode],
                    }
                p99 = row["offloaded"]["tracker_probe"].get("p99_ms")
                row["bar_met"] = p99 is not None and p99 < BAR_MS
                rows.append(row)
                print(json.dumps(row), flush=True)
    return {"bar_p99_ms": BAR_MS, "scenarios": rows}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    result = measure(args.records)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "heavy.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
