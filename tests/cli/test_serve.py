"""`trackmock serve` as users run it: a real process, real ports, signals."""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from trackmock.cli import build_parser
from websockets.sync.client import connect

SERVE = [sys.executable, "-m", "trackmock.cli", "serve"]
FREE_PORTS = ["--tracker-port", "0", "--trackops-port", "0", "--track-port", "0"]


def start(*args: str, ready: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SERVE, *args, "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(process: subprocess.Popen[str], ready: Path) -> dict[str, dict[str, object]]:
    """Block on the first printed line (written after the ready file), then read the file."""
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"serve printed nothing; stderr: {process.stderr.read() if process.stderr else ''}"
    return json.loads(ready.read_text())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, dict[str, object]]]]:
    ready = tmp_path / "ready.json"
    process = start(*FREE_PORTS, ready=ready)
    try:
        yield process, wait_ready(process, ready)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_help_explains_every_option() -> None:
    commands = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    serve_help = subprocess.run([*SERVE, "--help"], capture_output=True, text=True, check=True)
    for action in commands.choices["serve"]._actions:
        for option in action.option_strings:
            assert option in serve_help.stdout
        assert action.help, f"{action.option_strings} has no help"
    top = subprocess.run(
        [sys.executable, "-m", "trackmock.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("serve", "check", "diff"):
        assert command in top.stdout


def test_serve_lists_every_emulator_and_each_answers(
    served: tuple[subprocess.Popen[str], dict],
) -> None:  # type: ignore[type-arg]
    _, ready = served
    assert sorted(ready) == ["track", "tracker", "trackops"]
    assert ready["tracker"]["credentials"]["token"]  # type: ignore[index]
    assert str(ready["trackops"]["url"]).startswith("https://")
    for name, info in ready.items():
        verify = info.get("ca_cert") or True
        health = requests.get(f"{info['url']}/__admin/health", verify=verify, timeout=5)
        assert health.json() == {"status": "ok", "vendor": name}


def test_sigterm_stops_everything_with_an_open_socket(
    served: tuple[subprocess.Popen[str], dict],
) -> None:  # type: ignore[type-arg]
    process, ready = served
    track = ready["track"]
    creds = track["credentials"]
    login = requests.post(
        f"{track['url']}/api/session",
        data={"email": creds["email"], "password": creds["password"]},  # type: ignore[index]
        timeout=5,
    )
    socket_url = str(track["url"]).replace("http://", "ws://") + "/api/socket"
    with connect(
        socket_url, additional_headers={"Cookie": f"JSESSIONID={login.cookies['JSESSIONID']}"}
    ) as ws:
        assert ws.recv(timeout=5)
        process.send_signal(signal.SIGTERM)
        # The bar is "cleanly within 2 s": a hang, not a slow machine, is what this catches.
        assert process.wait(timeout=2) == 0


def test_ctrl_c_stops_too(served: tuple[subprocess.Popen[str], dict]) -> None:  # type: ignore[type-arg]
    process, ready = served
    tls_folder = Path(ready["trackops"]["ca_cert"]).parent
    assert tls_folder.is_dir()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=2) == 0
    assert not tls_folder.exists(), "a clean stop removes the temporary TLS folder"


def test_one_vendor_on_a_chosen_port_in_lenient_mode(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = tmp_path / "ready.json"
    process = start("--vendor", "tracker", "--tracker-port", str(port), "--lenient", ready=ready)
    try:
        info = wait_ready(process, ready)
        assert list(info) == ["tracker"]
        assert info["tracker"]["url"] == f"http://127.0.0.1:{port}"
        token = info["tracker"]["credentials"]["token"]  # type: ignore[index]
        # Lenient: no Accept, StaticToken or Content-Type needed.
        answer = requests.get(
            f"http://127.0.0.1:{port}/api/tags",
            headers={"Authorization": f"Bearer {token}", "OrganizationId": "1", "OfficeId": "1"},
            timeout=5,
        )
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(5)


def test_plain_http_trackops_says_so(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    process = start(
        "--vendor", "trackops", "--trackops-port", "0", "--trackops-plain-http", ready=ready
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "TLS-only" in first
        info = json.loads(ready.read_text())["trackops"]
        assert str(info["url"]).startswith("http://")
        assert "ca_cert" not in info
    finally:
        process.terminate()
        process.wait(5)


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*SERVE, "--vendor", "track", "--track-port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_bad_settings_are_refused_naming_the_key(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("tracker:\n  polling_rul: false\n")
    result = subprocess.run(
        [*SERVE, "--vendor", "tracker", "--settings", str(settings)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "polling_rul" in result.stderr
