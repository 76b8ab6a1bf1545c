"""How long ``trackmock check`` takes on a ~50 MB HAR (the bar: under 30 s).

The HAR is made here, deterministically, from the Track contract's own examples: REST answers
(lists of devices, positions, beacons, each record a little different) and a Chrome-style socket
entry with its frames, so both the OpenAPI and the AsyncAPI side are measured. The capture is
clean: every body is walked to the end, as a capture without drift must be.

Run: python -m benchmarks.drift_check [--megabytes 50] [--keep FILE]
Prints one JSON line: size, exchanges, frames, seconds, and whether the bar is met.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from trackmock.core.contracts import Contract
from trackmock.core.paths import contracts_dir
from trackmock.drift.har import har_document, har_entry

BAR_SECONDS = 30.0
VENDOR = "track"
HOST = "https://track.safectory.com"


def _examples(contract: Contract) -> list[tuple[str, Any]]:
    """(path, example item) for each list GET whose item schema has an example."""
    found = []
    for operation in contract.operations.values():
        location = (operation.responses.get("200") or {}).get("application/json")
        if operation.method != "GET" or location is None or "{" in operation.path:
            continue
        node, loc = contract.deref(contract.resolve(location), location)
        if node.get("type") != "array":
            continue
        item, _ = contract.deref(node["items"], f"{loc}/items")
        if item.get("examples"):
            found.append((operation.path, item["examples"][0]))
    return found


def _vary(record: Any, n: int) -> Any:
    """The record with its integer ids moved by ``n``, so no two bodies are the same."""
    varied = copy.deepcopy(record)
    for key, value in varied.items():
        if isinstance(value, int) and not isinstance(value, bool) and key.lower().endswith("id"):
            varied[key] = value + n
    return varied


def build_har(megabytes: float) -> tuple[dict[str, Any], int, int]:
    contract = Contract.from_path(contracts_dir() / VENDOR / "openapi.yaml")
    asyncapi = Contract.from_path(contracts_dir() / VENDOR / "asyncapi.yaml")
    lists = _examples(contract)
    frames_seen = [
        json.dumps(example["payload"])
        for message in asyncapi.document["components"]["messages"].values()
        for example in message.get("examples", [])
        if isinstance(example["payload"], dict)
    ]
    entries: list[dict[str, Any]] = []
    size, n = 0, 0
    target = megabytes * 1_000_000
    frames: list[dict[str, Any]] = []
    # One socket entry holds a tenth of the bytes; REST answers the rest.
    while size < target:
        n += 1
        path, item = lists[n % len(lists)]
        body = json.dumps([_vary(item, n * 100 + i) for i in range(40)])
        entries.append(har_entry("GET", HOST + path, 200, body=body))
        size += len(body) + 600
        if n % 10 == 0:
            data = frames_seen[(n // 10) % len(frames_seen)]
            frames.append({"type": "receive", "time": 1740132000.0 + n, "opcode": 1, "data": data})
            size += len(data) + 80
    entries.append(har_entry("GET", HOST.replace("https", "wss") + "/api/socket", 101,
                             content_type=None, frames=frames))  # fmt: skip
    return har_document(entries), len(entries), len(frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--keep", type=Path, help="also write the HAR here")
    args = parser.parse_args()
    har, exchanges, frames = build_har(args.megabytes)
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "capture.har"
        path.write_text(json.dumps(har))
        size = path.stat().st_size
        output = Path(folder) / "report.json"
        command = [sys.executable, "-m", "trackmock.cli", "check", "--vendor", VENDOR,
                   "--format", "json", "--output", str(output), str(path)]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        report = (
            json.loads((Path(folder) / "report.json").read_text()) if done.returncode < 2 else {}
        )
    result = {
        "benchmark": "drift_check",
        "har_megabytes": round(size / 1_000_000, 1),
        "exchanges": exchanges,
        "frames": frames,
        "exit_status": done.returncode,
        "findings": report.get("summary", {}).get("breaking", 0)
        + report.get("summary", {}).get("informational", 0),
        "seconds": round(seconds, 2),
        "bar_seconds": BAR_SECONDS,
        "ok": done.returncode == 0 and seconds < BAR_SECONDS,
    }
    print(json.dumps(result))
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
