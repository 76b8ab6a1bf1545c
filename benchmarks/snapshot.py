"""How long a snapshot of a large state takes, how large it is, and how long its restore takes.

Per vendor, an emulator with ``--records`` generated records (Tracker: items, each with its
feed record; Trackops: records across its collections; Track: positions) is snapshotted
(``take``), written as JSON (orjson, as ``GET /__admin/snapshot`` answers it), read back, and
restored into a second emulator (``restore``: every part checked, then put in place). In
process, without HTTP: over HTTP the body limit (``max_body_bytes``) applies too.

Run: python -m benchmarks.snapshot [--records 100000]
Prints one JSON line per vendor and writes benchmarks/results/snapshot.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import orjson
from trackmock.core.settings import CoreSettings
from trackmock.core.snapshot import restore, take
from trackmock.vendors import create_emulator

RESULTS = Path(__file__).resolve().parent / "results"


def _timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, round((time.perf_counter() - started) * 1000, 1)


def measure(vendor: str, records: int) -> dict[str, Any]:
    core = CoreSettings(clock_frozen=True, clock_start="2025-02-21T10:00:00Z")
    section = {"volume": records}
    source = create_emulator(vendor, core, section)
    target = create_emulator(vendor, core)
    try:
        snapshot, take_ms = _timed(lambda: take(source))
        body, encode_ms = _timed(lambda: orjson.dumps(snapshot))
        parsed, decode_ms = _timed(lambda: orjson.loads(body))
        _, restore_ms = _timed(lambda: restore(target, parsed))
        same = orjson.dumps(take(target)["state"]) == orjson.dumps(snapshot["state"])
    finally:
        source.shutdown()
        target.shutdown()
    return {
        "vendor": vendor,
        "records": records,
        "bytes": len(body),
        "take_ms": take_ms,
        "encode_ms": encode_ms,
        "decode_ms": decode_ms,
        "restore_ms": restore_ms,
        "round_trip_identical": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    results = [measure(vendor, args.records) for vendor in ("tracker", "trackops", "track")]
    for line in results:
        print(json.dumps(line))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "snapshot.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
