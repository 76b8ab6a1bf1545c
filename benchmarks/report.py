"""Write benchmarks/results/RESULTS.md from the newest result file of each section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _latest(folder: Path) -> dict[str, tuple[str, Any]]:
    sections: dict[str, tuple[str, Any]] = {}
    for path in sorted(folder.glob("2*.json")):
        data = json.loads(path.read_text())
        for key, value in data.items():
            if key not in ("measured", "machine"):
                sections[key] = (path.name, value)
        sections["machine"] = (path.name, data.get("machine", {}))
    return sections


def _ratio(ours: float, best: float) -> str:
    return f"{ours / best:.2f}x" if best else "n/a"


def _load(data: dict[str, Any]) -> str:
    load = data.get("load_average")
    return f" (machine load average {load[0]:.1f} at the end)" if load else ""


def _throughput(name: str, data: dict[str, Any]) -> list[str]:
    """The hot GETs with their ratios to the same run's ceiling and WireMock."""
    ceilings = [row["requests_per_s"] for row in data.get("ceiling", [])]
    ceiling = sum(ceilings) / len(ceilings) if ceilings else 0.0
    wiremock = (data.get("wiremock") or {}).get("requests_per_s", 0.0)
    lines = [
        f"## Hot GETs side by side, 32 connections ({name})",
        "",
        "Goal: each emulator >= 50 % of the ceiling and >= 1.5x WireMock, p99 < 10 ms, "
        "p50 <= 0.15 ms at 1 connection.",
        "",
        "| server | GET | req/s | p50 ms | p99 ms | p50 ms, 1 conn | CPU µs/req | of ceiling "
        "| vs WireMock |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data.get("ceiling", []):
        lines.append(
            f"| bare ASGI (uvicorn) | {row['target']} | {row['requests_per_s']:,.0f} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {row['p50_ms_1_connection']} | "
            f"{row.get('server_cpu_us_per_request', '')} | | |"
        )
    if data.get("wiremock"):
        row = data["wiremock"]
        lines.append(
            f"| WireMock 3.13 | {row['target']} | {row['requests_per_s']:,.0f} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {row['p50_ms_1_connection']} | "
            f"{row.get('server_cpu_us_per_request', '')} | "
            f"{_ratio(row['requests_per_s'], ceiling)} | |"
        )
    for row in data["targets"]:
        rate = row["requests_per_s"]
        lines.append(
            f"| {row['vendor']} | {row['target']} | {rate:,.0f} | "
            f"{row['p50_ms']} | {row['p99_ms']} | {row['p50_ms_1_connection']} | "
            f"{row.get('server_cpu_us_per_request', '')} | "
            f"{_ratio(rate, ceiling)} | {_ratio(rate, wiremock)} |"
        )
    lines += [
        "",
        f"Ceiling: mean of the runs before and after the emulators. Server RSS after the run: "
        f"{data['server_rss_mib']} MiB (all three emulators){_load(data)}.",
        "",
    ]
    return lines


def _startup(name: str, data: dict[str, Any]) -> list[str]:
    ready = data["all_three_ready_s"]
    lines = [
        f"## Start-up ({name})",
        "",
        "Goal: all three emulators <= 0.3 s median, launch to every port answering. The code "
        "before and after the start-up work, interleaved on this machine: docs/architecture.md "
        "(Start-up).",
        "",
        f"- `trackmock serve` with all three emulators, launch → every emulator answered: "
        f"median **{ready['median']} s** ({ready['median'] / 0.3:.2f}x the goal; min "
        f"{ready['min']}, max {ready['max']}, {len(ready['samples'])} runs){_load(data)}",
    ]
    cpu = data.get("server_cpu_s_until_ready")
    if cpu:
        lines.append(
            f"- CPU time the server used until then (its TLS helper process included): median "
            f"{cpu['median']} s; wall time above CPU time is waiting for a core on a busy machine"
        )
    first = data.get("first_request_ms")
    if first:
        lines.append(
            "- the first API request to each emulator right after: "
            + ", ".join(f"{vendor} {spread['median']} ms" for vendor, spread in first.items())
            + " (median)"
        )
    if "serve_imports" in data:
        lines.append(
            "- heavy modules that building the emulators imports: "
            + (", ".join(data["serve_imports"]) or "none")
        )
    lines += [
        f"- `import trackmock, trackmock.cli`: {data['import_trackmock_cli_s']} s; "
        f"pulls in Faker: {data['import_pulls_faker']}",
        "",
    ]
    return lines


def write_markdown(folder: Path) -> Path:
    sections = _latest(folder)
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks.run`; each section comes "
        "from the newest result file that has it (named in its heading).",
        "",
    ]
    machine = sections.get("machine", ("", {}))[1]
    if machine:
        lines += [
            f"Machine: {machine.get('cores')} cores, {machine.get('cpu')}, Python "
            f"{machine.get('python')}, {machine.get('wrk')}. Server and load generator share "
            "the cores; treat differences under ~20 % as noise.",
            "",
        ]
    if "startup" in sections:
        name, data = sections["startup"]
        lines += _startup(name, data)
    if "peers" in sections:
        name, data = sections["peers"]
        lines += [
            f"## Peers on this machine ({name})",
            "",
            "| peer | path | req/s | p50 ms | p99 ms |",
            "|---|---|---:|---:|---:|",
        ]
        for row in data["peers"]:
            lines.append(
                f"| {row['peer']} | {row['target']} | {row['requests_per_s']:,.0f} | "
                f"{row['p50_ms']} | {row['p99_ms']} |"
            )
        lines.append("")
    if "pipeline" in sections:
        name, data = sections["pipeline"]
        lines += [
            f"## The emulators' own cost of a hot GET, in process ({name})",
            "",
            "`benchmarks/pipeline.py`: the fast path's `respond` called directly (no sockets), "
            "CPU µs per request, best of five rounds.",
            "",
            "| emulator | GET | CPU µs/req | body bytes |",
            "|---|---|---:|---:|",
        ]
        for row in data["pipeline"]:
            lines.append(
                f"| {row['vendor']} | {row['target']} | {row['cpu_us_per_request']} | "
                f"{row['body_bytes']} |"
            )
        lines.append("")
    if "throughput" in sections:
        lines += _throughput(*sections["throughput"])
    if "scale" in sections:
        name, data = sections["scale"]
        lines += [
            f"## Cost as data grows, 1 connection ({name})",
            "",
            "| emulator | probe | p50 ms, fixtures | p50 ms, large | records | memory per record |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for entry in data["scale"]:
            for probe, small in entry["small"]["probes"].items():
                large = entry["large"]["probes"].get(probe, {})
                lines.append(
                    f"| {entry['vendor']} | {probe} | {small['p50_ms']} | "
                    f"{large.get('p50_ms', 'n/a')} | {entry['records']:,} | "
                    f"{entry['memory_per_record_bytes']} B |"
                )
        lines.append("")
    if "socket" in sections:
        name, data = sections["socket"]
        latency = data["latency_ms"]
        lines += [
            f"## Track socket fan-out ({name})",
            "",
            "Before and after the two-pass fan-out, interleaved on this machine: "
            "docs/architecture.md (Sockets).",
            "",
            f"- {data['clients']} clients, {data['pushes']} pushed positions: "
            f"{data['deliveries']}/{data['expected_deliveries']} deliveries, latency p50 "
            f"{latency['p50']} ms, p99 **{latency['p99']} ms** (goal < 50 ms: "
            f"{latency['p99'] / 50:.2f}x), max {latency['max']} ms",
            f"- the last socket got a push after (median of the pushes) "
            f"{data.get('last_delivery_per_push_ms', {}).get('median')} ms, at worst "
            f"{data.get('last_delivery_per_push_ms', {}).get('max')} ms",
            f"- the control call that pushes (it returns once every socket was written to): "
            f"p50 {data.get('push_call_ms', {}).get('p50')} ms, max "
            f"{data.get('push_call_ms', {}).get('max')} ms",
            f"- pings answered: {data['pongs_sent']}; sockets closed by the server: "
            f"{data['sockets_closed_by_server']}; all connected in {data['connect_all_s']} s"
            f"{_load(data)}",
            "",
        ]
    if "sockets" in sections:
        name, data = sections["sockets"]
        lines += [
            f"## Track sockets at scale ({name})",
            "",
            f"- {data['sockets']:,} sockets connected in {data['connect_all_s']} s and held "
            f"{data['held_s']} s: {data['pongs_sent']:,} PINGs answered, "
            f"{data['sockets_closed_by_server']} sockets closed by the server",
            f"- server RSS {data['server_rss_mib_before']} MiB before, "
            f"{round(data['server_rss_kib_peak'] / 1024, 1)} MiB at peak: "
            f"**{data['rss_per_socket_bytes']:,} bytes per socket**{_load(data)}",
            "",
        ]
    if "stop" in sections:
        name, data = sections["stop"]
        lines += [
            f"## SIGTERM under load ({name})",
            "",
            f"- all three emulators, {data['connections_per_port']} kept-alive busy "
            f"connections per port: signal to exit **{data['stop_s']['max']} s** at most "
            f"(samples {data['stop_s']['samples']}; README promises 2 s){_load(data)}",
            "",
        ]
    if "drift" in sections:
        name, data = sections["drift"]
        lines += [
            f"## Drift check of a large HAR ({name})",
            "",
            "```",
            json.dumps(data, indent=2),
            "```",
            "",
        ]
    notes = folder / "notes.md"
    if notes.is_file():
        # What a run cannot say of itself (what changed, under what load), kept by hand.
        lines += ["", notes.read_text().rstrip(), ""]
    out = folder / "RESULTS.md"
    out.write_text("\n".join(lines))
    return out
