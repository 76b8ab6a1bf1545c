"""The GitHub Actions composite action (``action.yml``) and its script (``action/start.py``),
run here as a runner would: a real background ``trackmock serve``, the ready file, the
outputs and environment files the next steps read."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCRIPT = ROOT / "action" / "start.py"
TRACKMOCK = str(Path(sys.executable).parent / "trackmock")


def read_pairs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


class Started:
    def __init__(self, run: subprocess.CompletedProcess[str], folder: Path) -> None:
        self.run = run
        self.outputs = read_pairs(folder / "output") if (folder / "output").exists() else {}
        self.env = read_pairs(folder / "env") if (folder / "env").exists() else {}


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Started]]:
    """Run the script like the action's step does; stop what it started afterwards."""
    pids: list[int] = []

    def run(*args: str, token: str | None = None) -> Started:
        env = {**os.environ, "GITHUB_OUTPUT": str(tmp_path / "output")}
        env["GITHUB_ENV"] = str(tmp_path / "env")
        env.pop("TRACKMOCK_ADMIN_TOKEN", None)
        if token:
            env["TRACKMOCK_ADMIN_TOKEN"] = token
        command = [sys.executable, str(SCRIPT), "--trackmock", TRACKMOCK]
        command += ["--ready-file", str(tmp_path / "trackmock" / "ready.json"), *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        started = Started(done, tmp_path)
        if "pid" in started.outputs:
            pids.append(int(started.outputs["pid"]))
        return started

    yield run
    for pid in pids:  # only the servers this test started
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


FREE_PORTS = ("--tracker-port", "0", "--trackops-port", "0", "--track-port", "0")


def test_the_script_starts_every_emulator_and_exports_what_the_action_declares(
    start: Callable[..., Started],
) -> None:
    started = start(*FREE_PORTS)
    assert started.run.returncode == 0, started.run.stdout + started.run.stderr
    declared = set(ACTION["outputs"])
    assert declared <= set(started.outputs), declared - set(started.outputs)
    for name, output in ACTION["outputs"].items():
        assert output["value"] == f"${{{{ steps.start.outputs.{name} }}}}"
    outputs, env = started.outputs, started.env
    assert outputs["ca-cert"] == outputs["trackops-ca-cert"] == env["TRACKMOCK_CA_CERT"]
    assert env["TRACKMOCK_TRACKER_TOKEN"] == outputs["tracker-token"]
    assert env["TRACKMOCK_READY_FILE"] == outputs["ready-file"]
    assert env["TRACKMOCK_TRACKOPS_USERNAME"] == "samspade/token"
    assert requests.get(f"{outputs['tracker-url']}/__admin/health", timeout=10).ok
    assert requests.get(f"{outputs['track-url']}/__admin/health", timeout=10).ok
    trackops = requests.get(
        f"{outputs['trackops-url']}/api/v1/clients",
        auth=(outputs["trackops-username"], outputs["trackops-password"]),
        verify=outputs["ca-cert"],
        timeout=10,
    )
    assert trackops.status_code == 200
    assert Path(outputs["log"]).exists()
    os.kill(int(outputs["pid"]), 0)  # still running after the step ended


def test_a_chosen_vendor_and_the_admin_token(start: Callable[..., Started]) -> None:
    started = start("--vendors", "tracker", "--tracker-port", "0", token="action-secret")
    assert started.run.returncode == 0, started.run.stdout
    assert sorted(k for k in started.outputs if k.endswith("-url")) == ["tracker-url"]
    assert started.env["TRACKMOCK_ADMIN_TOKEN"] == "action-secret"
    assert "action-secret" not in started.run.stdout
    url = started.outputs["tracker-url"]
    assert requests.post(f"{url}/__admin/reset", timeout=10).status_code == 401


def test_a_server_that_stops_fails_the_step_with_its_log(
    start: Callable[..., Started], tmp_path: Path
) -> None:
    broken = tmp_path / "settings.yaml"
    broken.write_text("tracker: {polling_rule: sometimes}\n")
    started = start(*FREE_PORTS, "--settings", str(broken))
    assert started.run.returncode == 1
    assert "trackmock serve stopped (exit 1)" in started.run.stdout
    assert "settings.tracker.polling_rule: expected true or false" in started.run.stdout
    assert started.outputs == {}


def test_every_input_reaches_the_script() -> None:
    steps = ACTION["runs"]["steps"]
    text = yaml.safe_dump(steps)
    for name in ACTION["inputs"]:
        assert f"inputs.{name} }}" in text, name
    (start_step,) = [step for step in steps if step.get("id") == "start"]
    flags = set(re.findall(r"(--[a-z-]+) ", start_step["run"]))
    help_text = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in flags:
        assert flag in help_text, flag
    for name in start_step["env"]:
        if name.startswith("INPUT_"):
            assert f'"${name}"' in start_step["run"], name
