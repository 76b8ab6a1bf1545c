"""Run ``trackmock proxy`` as users do (a process, stopped by SIGTERM) in front of an emulator."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

PROXY = [sys.executable, "-m", "trackmock.cli", "proxy"]
STOP_WAIT = 30.0
"""A hang guard only: the proxy stops in well under a second."""


class Proxy:
    """A running proxy; ``stop()`` sends SIGTERM and returns exit status, report and stderr."""

    def __init__(
        self,
        folder: Path,
        vendor: str,
        upstream: str,
        *extra: str,
        report_format: str = "json",
        upstream_ca: str | None = None,
    ) -> None:
        self.folder = folder
        self.ready = folder / "proxy-ready.json"
        self.report = folder / f"report.{report_format}"
        self.har = folder / "traffic.har"
        command = [
            *PROXY, "--vendor", vendor, "--upstream", upstream, "--ready-file", str(self.ready),
            "--report", str(self.report), "--format", report_format, "--har", str(self.har),
            "--tls-dir", str(folder / "tls"), *extra,
        ]  # fmt: skip
        if upstream_ca:
            command += ["--upstream-ca", upstream_ca]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stderr is not None
        # The proxy prints its line once listening, after writing the ready file (log lines,
        # such as the test CA's, may come first).
        seen: list[str] = []
        while not (line := self.process.stderr.readline()).startswith("trackmock proxy:"):
            seen.append(line)
            assert line, "".join(seen)
            assert len(seen) < 20, "".join(seen)
        info: dict[str, Any] = json.loads(self.ready.read_text())
        self.url: str = info["url"]
        self.ca_cert: str | None = info.get("ca_cert")

    def stop(self) -> tuple[int, str, str]:
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=STOP_WAIT)
        return self.process.returncode, self.report.read_text(), err + out

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=STOP_WAIT)


def findings(report: dict[str, Any]) -> set[tuple[str, str, str, bool, str]]:
    """(operation, kind, path, breaking, side) of every finding of a JSON report."""
    return {
        (op["operation"], f["kind"], f["path"], f["breaking"], f["side"])
        for op in report["operations"]
        for f in op["findings"]
    }
