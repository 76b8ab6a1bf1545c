"""Run wrk and read its numbers; wait for servers to listen."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"cannot read the latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    url: str,
    duration: int,
    *,
    headers: dict[str, str] | None = None,
    connections: int = 32,
    threads: int = 2,
    warmup: int = 2,
) -> dict[str, float | int | str]:
    """req/s, p50 and p99 (ms) of wrk against ``url`` after an unmeasured warm-up."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    header_args = [arg for k, v in (headers or {}).items() for arg in ("-H", f"{k}: {v}")]
    base = ["wrk", f"-t{threads}", f"-c{connections}", *header_args]
    if warmup:
        subprocess.run([*base, f"-d{warmup}s", url], capture_output=True, check=True)
    out = subprocess.run(
        [*base, f"-d{duration}s", "--latency", url], capture_output=True, text=True, check=True
    ).stdout
    if not re.search(r"^\s+99%", out, re.M):
        raise RuntimeError(f"wrk measured no answers from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # Percentiles are the lines of "Latency Distribution" (thread stats also print "…50%").
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "url": url,
        "connections": connections,
        "duration_s": duration,
        "requests_per_s": round(rps, 1),
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }
