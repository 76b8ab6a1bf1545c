"""Off loopback, ``trackmock serve`` refuses to open the control API to the network without an
admin token, and takes it from ``TRACKMOCK_ADMIN_TOKEN`` (out of the process list)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from trackmock.cli import _check_exposure
from trackmock.core.settings import SettingsError

SERVE = [sys.executable, "-m", "trackmock.cli", "serve", "--vendor", "tracker"]
TOKEN = "env-token-3c4d5e6f7a8b"


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRACKMOCK_ADMIN_TOKEN"}
    return {**env, **extra}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    _check_exposure(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "trackmock.example"])
def test_anything_else_needs_one(host: str) -> None:
    with pytest.raises(SettingsError, match="TRACKMOCK_ADMIN_TOKEN"):
        _check_exposure(host, None)
    _check_exposure(host, "a-token")


def test_serve_on_every_interface_without_a_token_refuses_to_start() -> None:
    done = subprocess.run(
        [*SERVE, "--host", "0.0.0.0", "--tracker-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_environment(),
    )
    assert done.returncode == 1
    assert "TRACKMOCK_ADMIN_TOKEN" in done.stderr
    assert done.stdout == ""


def test_the_token_comes_from_the_environment_and_stays_out_of_ps(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [*SERVE, "--host", "0.0.0.0", "--tracker-port", "0", "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(TRACKMOCK_ADMIN_TOKEN=TOKEN),
    )
    try:
        assert process.stdout is not None
        printed = process.stdout.readline()
        assert printed, process.stderr.read() if process.stderr else ""
        url = json.loads(ready.read_text())["tracker"]["url"]
        assert requests.get(f"{url}/__admin/health", timeout=10).status_code == 200
        assert requests.post(f"{url}/__admin/reset", timeout=10).status_code == 401
        allowed = requests.post(
            f"{url}/__admin/reset", headers={"X-Trackmock-Admin-Token": TOKEN}, timeout=10
        )
        assert allowed.status_code == 204
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert TOKEN.encode() not in command_line
        assert TOKEN not in printed
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert TOKEN not in out + err
