"""The benchmark command: start-up, the emulators' own cost per hot GET in process
(``benchmarks/pipeline.py``), throughput side by side with the bare-ASGI ceiling and
WireMock, flat cost at scale, memory, socket fan-out and scale, stop under load. Results go
to benchmarks/results/<UTC time>.json and RESULTS.md.

    python -m benchmarks.run                      # everything (about 15 minutes on 2 cores)
    python -m benchmarks.run --only startup,throughput --duration 5

Throughput runs on default settings (journal on, strict, every vendor rule applied) except
that the Tracker polling rule's ``polling_violations_to_disable`` and Trackops' ``rate_limit``
are so high that a load test is never refused, while their code still runs (warnings are
still sent). Its reference targets are measured in the same run: the bare-ASGI ceiling
(``benchmarks/ceiling.py``) before and after the emulators, and WireMock with its journal.

Needs wrk (apt-get install wrk) and, for WireMock, Java and npm (WireMock is taken from
../shared/peers and installed under benchmarks/.peers/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from . import pipeline, proxy_overhead, targets
from .heavy_work import measure as bench_heavy
from .wrk import run_wrk, wait_for_port

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PEERS_SOURCE = HERE.parent.parent / "shared" / "peers"
PEERS_WORK = HERE / ".peers"
SECTIONS = (
    "startup",
    "pipeline",
    "throughput",
    "peers",
    "scale",
    "socket",
    "sockets",
    "stop",
    "drift",
    "proxy",
    "heavy",
)


def _all_descriptors() -> None:
    """Raise this process's open-file limit to its hard limit (sockets are files)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


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
        process = subprocess.Popen(command, preexec_fn=_all_descriptors)
        try:
            deadline = time.monotonic() + 120
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"trackmock serve did not start: {command}")
                # Often: the start-up benchmark reads its time here (a 50 ms poll added
                # 25 ms on average to every launch's time).
                time.sleep(0.002)
            yield json.loads(ready.read_text()), process.pid
        finally:
            process.terminate()
            process.wait(10)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


HEAVY_MODULES = ("flask", "werkzeug", "jsonschema", "faker", "yaml", "hypothesis", "trustme")
"""Modules whose import is a noticeable part of a start: which of them serve loads."""

_SERVE_IMPORTS = (
    "import sys, json, trackmock.cli as cli; "
    "args = cli.build_parser().parse_args(['serve', '--tracker-port', '0', "
    "'--trackops-port', '0', '--track-port', '0']); cli._listeners(args); "
    f"print(json.dumps(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))"
)


def bench_startup(runs: int = 7) -> dict[str, Any]:
    """Launch → every emulator answered its health check (the CLI probes before writing the
    ready file), for all three emulators; the CPU time the server (and its TLS helper) used
    until then; the first API request to each emulator right after (work left for first use
    shows there); which heavy modules building the emulators imports; and the cost of
    importing the package.

    As an installed package runs: with its bytecode compiled (one unmeasured launch writes it
    where the environment had turned that off)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with serving(["tracker", "trackops", "track"], {}):
        pass
    samples, cpu, first = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        with serving(["tracker", "trackops", "track"], {}) as (ready, pid):
            samples.append(time.perf_counter() - started)
            cpu.append(cpu_seconds(pid, children=True))
            first.append(_first_requests(ready))
    probe = (
        "import sys, time; t = time.perf_counter(); import trackmock, trackmock.cli; "
        "print(time.perf_counter() - t, 'faker' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    seconds, faker = out.stdout.split()
    imports = subprocess.run(
        [sys.executable, "-c", _SERVE_IMPORTS], capture_output=True, text=True, check=True
    )
    return {
        "all_three_ready_s": _spread(samples),
        "server_cpu_s_until_ready": _spread(cpu),
        "first_request_ms": {
            vendor: _spread([sample[vendor] * 1000 for sample in first], 1) for vendor in first[0]
        },
        "serve_imports": json.loads(imports.stdout),
        "import_trackmock_cli_s": round(float(seconds), 4),
        "import_pulls_faker": faker == "True",
        "load_average": os.getloadavg(),
    }


def _spread(samples: list[float], digits: int = 3) -> dict[str, Any]:
    return {
        "median": round(statistics.median(samples), digits),
        "min": round(min(samples), digits),
        "max": round(max(samples), digits),
        "samples": [round(s, digits) for s in samples],
    }


def _first_requests(ready: dict[str, Any]) -> dict[str, float]:
    """Seconds each emulator takes to answer its first hot GET (the first of THROUGHPUT)."""
    took = {}
    for vendor, info in ready.items():
        verify = info.get("ca_cert") or True
        headers = targets.auth_headers(vendor, info, verify)
        target = next(t for t in targets.THROUGHPUT if t.vendor == vendor)
        started = time.perf_counter()
        answer = requests.get(info["url"] + target.path, headers=headers, verify=verify, timeout=30)
        took[vendor] = time.perf_counter() - started
        answer.raise_for_status()
    return took


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User plus system CPU time ``pid`` has used (with ``children``: and its children it
    has waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _measure(
    url: str, duration: int, headers: dict[str, str], pid: int, warmup: int = 2, **extra: Any
) -> dict[str, Any]:
    """32 connections (req/s, p50, p99, the server's CPU per request) and one connection
    (p50) against ``url``. CPU per request depends less on what else runs than req/s."""
    run_wrk(url, 1, headers=headers, warmup=warmup)
    before = cpu_seconds(pid)
    row = run_wrk(url, duration, headers=headers, warmup=0)
    spent = cpu_seconds(pid) - before
    row["server_cpu_us_per_request"] = round(spent * 1e6 / (row["requests_per_s"] * duration), 1)
    single = run_wrk(url, max(duration // 2, 2), headers=headers, connections=1, threads=1)
    row.update(p50_ms_1_connection=single["p50_ms"], **extra)
    print(json.dumps(row), flush=True)
    return row


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ceiling(duration: int, label: str) -> dict[str, Any]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ceiling", str(port)], cwd=HERE.parent
    )
    try:
        wait_for_port(port, 30)
        return _measure(f"http://127.0.0.1:{port}/", duration, {}, process.pid, target=label)
    finally:
        process.terminate()
        process.wait(10)


def _wiremock_list(duration: int) -> dict[str, Any] | None:
    try:
        work = _peers_ready()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"WireMock skipped: {exc}", flush=True)
        return None
    port = _free_port()
    process = subprocess.Popen(
        ["./start-wiremock.sh", str(port)],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 60)
        url = f"http://127.0.0.1:{port}/api/v1/clients"
        # The JVM needs a longer warm-up than Python to reach its speed.
        label = "wiremock list, journal on"
        return _measure(url, duration, WIREMOCK_AUTH, process.pid, warmup=15, target=label)
    except RuntimeError as exc:
        print(f"WireMock not measured: {exc}", flush=True)
        return None
    finally:
        process.terminate()
        process.wait(15)


def bench_throughput(duration: int) -> dict[str, Any]:
    """The emulators' hot GETs between two runs of the ceiling, and WireMock, in one run."""
    references = [_ceiling(duration, "ceiling, before")]
    wiremock = _wiremock_list(duration)
    results = []
    with serving(["tracker", "trackops", "track"], targets.BENCH_SETTINGS) as (ready, pid):
        for target in targets.THROUGHPUT:
            info = ready[target.vendor]
            verify = info.get("ca_cert") or True
            headers = targets.auth_headers(target.vendor, info, verify)
            url = info["url"] + target.path
            row = _measure(url, duration, headers, pid, vendor=target.vendor, target=target.name)
            results.append(row)
        peak = rss_kib(pid)
    references.append(_ceiling(duration, "ceiling, after"))
    return {
        "ceiling": references,
        "wiremock": wiremock,
        "targets": results,
        "server_rss_mib": round(peak / 1024, 1),
        "load_average": os.getloadavg(),
    }


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


WIREMOCK_AUTH = {"Authorization": "Basic dXNlcjpwYXNz"}


def bench_peers(duration: int) -> dict[str, Any]:
    """WireMock (the fastest peer in ../shared/peers/RESULTS.md) on the same machine, same wrk."""
    work = _peers_ready()
    auth = WIREMOCK_AUTH
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

    _all_descriptors()
    with serving(["track"], {"track": {"ping_interval": 2.0}}) as (ready, _pid):
        result = run_fanout(ready["track"], clients=clients, pushes=pushes)
    result["load_average"] = os.getloadavg()
    print(json.dumps(result), flush=True)
    return result


def bench_sockets(sockets: int) -> dict[str, Any]:
    """Many idle sockets, each answering its PINGs: memory per socket, none dropped."""
    from .socket_fanout import run_idle

    _all_descriptors()
    settings = {"max_connections": sockets + 100, "track": {"ping_interval": 5.0}}
    with serving(["track"], settings) as (ready, pid):
        before = rss_kib(pid)
        result = run_idle(ready["track"], sockets=sockets, hold=12.0, rss=lambda: rss_kib(pid))
    result["server_rss_mib_before"] = round(before / 1024, 1)
    result["rss_per_socket_bytes"] = round(
        (result["server_rss_kib_peak"] - before) * 1024 / sockets
    )
    result["load_average"] = os.getloadavg()
    print(json.dumps(result), flush=True)
    return result


def bench_stop(connections: int = 64) -> dict[str, Any]:
    """SIGTERM while every port is under load (``connections`` kept-alive connections each):
    the time from the signal to the process's exit (the README promises 2 s)."""
    samples = []
    for _ in range(3):
        with serving(["tracker", "trackops", "track"], targets.BENCH_SETTINGS) as (ready, pid):
            loads = []
            for vendor in ("tracker", "trackops", "track"):
                info = ready[vendor]
                headers = targets.auth_headers(vendor, info, info.get("ca_cert") or True)
                args = [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
                loads.append(
                    subprocess.Popen(
                        [
                            "wrk",
                            "-t1",
                            f"-c{connections}",
                            "-d30s",
                            *args,
                            info["url"] + "/__admin/health",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            time.sleep(2)
            started = time.perf_counter()
            os.kill(pid, signal.SIGTERM)
            while Path(f"/proc/{pid}").exists() and _alive(pid):
                time.sleep(0.005)
            samples.append(time.perf_counter() - started)
            for load in loads:
                load.terminate()
                load.wait(10)
    result = {
        "connections_per_port": connections,
        "stop_s": {"max": round(max(samples), 3), "samples": [round(x, 3) for x in samples]},
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result), flush=True)
    return result


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its parent does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


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
    parser.add_argument(
        "--sockets", type=int, default=10_000, help="idle sockets in the socket-scale run"
    )
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    report: dict[str, Any] = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
    }
    runners = {
        "startup": lambda: bench_startup(),
        "pipeline": lambda: pipeline.measure(),
        "throughput": lambda: bench_throughput(args.duration),
        "peers": lambda: bench_peers(args.duration),
        "heavy": lambda: bench_heavy(args.records),
        "scale": lambda: bench_scale(max(args.duration // 2, 3), args.records),
        "socket": lambda: bench_socket(args.clients, args.pushes),
        "sockets": lambda: bench_sockets(args.sockets),
        "stop": bench_stop,
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
