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
        ready = data["all_three_ready_s"]
        lines += [
            f"## Start-up ({name})",
            "",
            f"- `trackmock serve` with all three emulators, launch → every emulator answered: "
            f"median **{ready['median']} s** (min {ready['min']}, max {ready['max']}, "
            f"{len(ready['samples'])} runs)",
            f"- `import trackmock, trackmock.cli`: {data['import_trackmock_cli_s']} s; "
            f"pulls in Faker: {data['import_pulls_faker']}",
            "",
        ]
    best_peer = 0.0
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
            if row["target"] == "/api/v1/clients":
                best_peer = max(best_peer, row["requests_per_s"])
        lines.append("")
    if "throughput" in sections:
        name, data = sections["throughput"]
        lines += [
            f"## Emulator GETs, 32 connections ({name})",
            "",
            "| emulator | GET | req/s | p50 ms | p99 ms | p50 ms, 1 conn | vs best WireMock list |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for row in data["targets"]:
            lines.append(
                f"| {row['vendor']} | {row['target']} | {row['requests_per_s']:,.0f} | "
                f"{row['p50_ms']} | {row['p99_ms']} | {row['p50_ms_1_connection']} | "
                f"{_ratio(row['requests_per_s'], best_peer)} |"
            )
        lines += [
            "",
            f"Server RSS after the run: {data['server_rss_mib']} MiB (all three emulators).",
            "",
        ]
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
            f"- {data['clients']} clients, {data['pushes']} pushed positions: "
            f"{data['deliveries']}/{data['expected_deliveries']} deliveries, latency p50 "
            f"{latency['p50']} ms, p99 **{latency['p99']} ms**, max {latency['max']} ms",
            f"- pings answered: {data['pongs_sent']}; sockets closed by the server: "
            f"{data['sockets_closed_by_server']}; all connected in {data['connect_all_s']} s",
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
    out = folder / "RESULTS.md"
    out.write_text("\n".join(lines))
    return out
