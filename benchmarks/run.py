"""The benchmark command: start-up, throughput against the peers, flat cost at scale, memory,
socket fan-out. Results go to benchmarks/results/<UTC time>.json and RESULTS.md.

    python -m benchmarks.run                      # everything (about 10 minutes on 2 cores)
    python -m benchmarks.run --only startup,throughput --duration 5

Needs wrk (apt-get install wrk) and, for the peer comparison, Java and npm (WireMock is taken
from ../shared/peers and installed under benchmarks/.peers/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import proxy_overhead, targets
from .heavy_work import measure as bench_heavy
from .wrk import run_wrk, wait_for_port

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PEERS_SOURCE = HERE.parent.parent / "shared" / "peers"
PEERS_WORK = HERE / ".peers"
SECTIONS = ("startup", "throughput", "peers", "scale", "socket", "drift", "proxy", "heavy")


@contextmanager
def serving(vendors: list[str], settings: dict[str, Any]) -> Any:
    """``trackmock serve`` on free ports; yields (ready-file data, server pid)."""
    with tempfile.TemporaryDirectory() as folder:
        settings_file = Path(folder, "settings.json")
        settings_file.write_text(json.dumps(settings))
        ready = Path(folder, "ready.json")
        command = [
            sys.executable,
            "-m",
            "trackmock.cli",
            "serve",
            "--vendor",
            ",".join(vendors),
            "--tracker-port",
            "0",
            "--trackops-port",
            "0",
            "--track-port",
            "0",
            "--settings",
            str(settings_file),
            "--ready-file",
            str(ready),
            "--quiet",
        ]
        process = subprocess.Popen(command)
        try:
            deadline = time.monotonic() + 120
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"trackmock serve did not start: {command}")
                time.sleep(0.05)
            yield json.loads(ready.read_text()), process.pid
        finally:
            process.terminate()
            process.wait(10)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bench_startup(runs: int = 5) -> dict[str, Any]:
    """Launch → every emulator answered its health check (the CLI probes before writing the
    ready file), for all three emulators; and the cost of importing the package."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with serving(["tracker", "trackops", "track"], {}):
            samples.append(time.perf_counter() - started)
    probe = (
        "import sys, time; t = time.perf_counter(); import trackmock, trackmock.cli; "
        "print(time.perf_counter() - t, 'faker' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    seconds, faker = out.stdout.split()
    return {
        "all_three_ready_s": {
            "median": round(statistics.median(samples), 3),
            "min": round(min(samples), 3),
            "max": round(max(samples), 3),
            "samples": [round(s, 3) for s in samples],
        },
        "import_trackmock_cli_s": round(float(seconds), 4),
        "import_pulls_faker": faker == "True",
    }


def bench_throughput(duration: int) -> dict[str, Any]:
    results = []
    with serving(["tracker", "trackops", "track"], targets.BENCH_SETTINGS) as (ready, pid):
        for target in targets.THROUGHPUT:
            info = ready[target.vendor]
            verify = info.get("ca_cert") or True
            headers = targets.auth_headers(target.vendor, info, verify)
            url = info["url"] + target.path
            row = run_wrk(url, duration, headers=headers)
            single = run_wrk(url, max(duration // 2, 2), headers=headers, connections=1, threads=1)
            row.update(
                vendor=target.vendor, target=target.name, p50_ms_1_connection=single["p50_ms"]
            )
            results.append(row)
            print(json.dumps(row), flush=True)
        peak = rss_kib(pid)
    return {"targets": results, "server_rss_mib": round(peak / 1024, 1)}


def _peers_ready() -> Path:
    """A writable copy of ../shared/peers with WireMock installed."""
    if not PEERS_SOURCE.is_dir():
        raise RuntimeError(f"{PEERS_SOURCE} is missing")
    if not (PEERS_WORK / "node_modules" / "wiremock").is_dir():
        shutil.copytree(
            PEERS_SOURCE,
            PEERS_WORK,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("node_modules", ".venv", "results", "logs"),
        )
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", "wiremock@3.13.2"],
            cwd=PEERS_WORK,
            check=True,
            capture_output=True,
        )
    return PEERS_WORK


def bench_peers(duration: int) -> dict[str, Any]:
    """WireMock (the fastest peer in ../shared/peers/RESULTS.md) on the same machine, same wrk."""
    work = _peers_ready()
    auth = {"Authorization": "Basic dXNlcjpwYXNz"}
    rows = []
    for label, extra in (
        ("wiremock", []),
        ("wiremock --no-request-journal", ["--no-request-journal"]),
    ):
        port = 18190 + len(rows)
        process = subprocess.Popen(
            ["./start-wiremock.sh", str(port), *extra],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, 60)
            for path in ("/api/v1/clients", "/api/v1/clients/1"):
                row = run_wrk(f"http://127.0.0.1:{port}{path}", duration, headers=auth, warmup=5)
                row.update(peer=label, target=path)
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            process.terminate()
            process.wait(15)
    return {"peers": rows}


def bench_scale(duration: int, big: int) -> dict[str, Any]:
    """The same probes with the fixtures only and with ``big`` generated records."""
    out = []
    for vendor in ("tracker", "trackops", "track"):
        measured: dict[int, dict[str, Any]] = {}
        for volume in (0, big):
            settings = json.loads(json.dumps(targets.BENCH_SETTINGS))
            settings.setdefault(vendor, {})["volume"] = volume
            with serving([vendor], settings) as (ready, pid):
                info = ready[vendor]
                headers = targets.auth_headers(vendor, info, info.get("ca_cert") or True)
                rows = {}
                for target in targets.scale_targets(vendor, volume):
                    row = run_wrk(
                        info["url"] + target.path,
                        duration,
                        headers=headers,
                        connections=1,
                        threads=1,
                    )
                    rows[target.name] = {
                        "p50_ms": row["p50_ms"],
                        "p99_ms": row["p99_ms"],
                        "requests_per_s": row["requests_per_s"],
                        "path": target.path,
                    }
                measured[volume] = {"rss_kib": rss_kib(pid), "probes": rows}
        per_record = (measured[big]["rss_kib"] - measured[0]["rss_kib"]) * 1024 / big
        entry = {
            "vendor": vendor,
            "records": big,
            "small": measured[0],
            "large": measured[big],
            "memory_per_record_bytes": round(per_record),
        }
        out.append(entry)
        print(json.dumps(entry), flush=True)
    return {"scale": out}


def bench_socket(clients: int, pushes: int) -> dict[str, Any]:
    from .socket_fanout import run_fanout

    with serving(["track"], {"track": {"ping_interval": 2.0}}) as (ready, _pid):
        result = run_fanout(ready["track"], clients=clients, pushes=pushes)
    print(json.dumps(result), flush=True)
    return result


def bench_drift() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.drift_check"],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--records", type=int, default=100_000, help="generated records for the scale run"
    )
    parser.add_argument("--clients", type=int, default=1000, help="sockets for the fan-out run")
    parser.add_argument(
        "--pushes", type=int, default=20, help="pushed positions in the fan-out run"
    )
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    report: dict[str, Any] = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
    }
    runners = {
        "startup": lambda: bench_startup(),
        "throughput": lambda: bench_throughput(args.duration),
        "peers": lambda: bench_peers(args.duration),
        "heavy": lambda: bench_heavy(args.records),
        "scale": lambda: bench_scale(max(args.duration // 2, 3), args.records),
        "socket": lambda: bench_socket(args.clients, args.pushes),
        "drift": bench_drift,
        "proxy": lambda: proxy_overhead.measure(2000),
    }
    for section in chosen:
        print(f"== {section}", flush=True)
        report[section] = runners[section]()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = report["measured"].replace(":", "").replace("-", "")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    from .report import write_markdown

    write_markdown(RESULTS)
    print(f"results: {RESULTS / (stamp + '.json')} and {RESULTS / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
