"""``trackmock serve --contracts DIR``: a field added to a schema of a changed copy of the
contracts appears in the emulators' answers and socket frames, with no code change."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from trackmock.control import ControlClient
from trackmock.core.paths import contracts_dir, fixtures_dir
from websockets.sync.client import connect

from ..tracker.helpers import tracker_headers

WAIT = 20.0
ADDED = {"type": "string", "default": "next-version", "x-source": "a test", "x-inferred": True}


def add_field(schema: Path, name: str) -> None:
    data = json.loads(schema.read_text())
    data["properties"][name] = ADDED
    schema.write_text(json.dumps(data, indent=2))


@pytest.fixture
def changed_contracts(tmp_path: Path) -> Path:
    folder = tmp_path / "contracts"
    shutil.copytree(contracts_dir(), folder)
    add_field(folder / "track" / "schemas" / "Device.json", "firmwareChannel")
    add_field(folder / "tracker" / "schemas" / "Case.json", "caseColor")
    add_field(folder / "trackops" / "schemas" / "Client.json", "loyaltyTier")
    return folder


@pytest.fixture
def served(changed_contracts: Path) -> Iterator[dict[str, Any]]:
    """``trackmock serve`` of the three emulators with the changed contracts, on free ports."""
    serve = [sys.executable, "-m", "trackmock.cli", "serve", "--vendor", "all"]
    ports = ["--track-port", "0", "--tracker-port", "0", "--trackops-port", "0"]
    given = ["--contracts", str(changed_contracts)]
    process = subprocess.Popen(
        [*serve, *ports, *given],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    try:
        # It prints one line per emulator once each answers: wait for them, not for a time.
        assert process.stdout is not None
        printed = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while printed.count(b"\n") < 3:
                assert selector.select(WAIT), "trackmock serve did not get ready"
                chunk = os.read(process.stdout.fileno(), 65536)
                assert chunk, process.stderr.read()  # type: ignore[union-attr]
                printed += chunk
        yield {
            name: _describe(line)
            for line in printed.decode().splitlines()
            for name in [line.split()[0]]
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(WAIT)


def _describe(line: str) -> dict[str, Any]:
    """URL, CA and credentials of an emulator from its line (``name url … ca_cert=PATH``)."""
    url = line.split()[1]
    ca_cert = line.rsplit("ca_cert=", 1)[1] if "ca_cert=" in line else None
    control = ControlClient(url, verify=ca_cert or True)
    return {"url": url, "ca_cert": ca_cert, "credentials": control.credentials()["credentials"]}


def test_an_added_field_shows_in_each_emulators_answers_and_frames(
    served: dict[str, Any],
) -> None:
    track = served["track"]
    http = requests.Session()
    login = {key: track["credentials"][key] for key in ("email", "password")}
    assert http.post(track["url"] + "/api/session", data=login, timeout=10).status_code == 200
    devices = http.get(track["url"] + "/api/devices", timeout=10).json()
    assert devices
    assert {device["firmwareChannel"] for device in devices} == {"next-version"}
    cookie = f"JSESSIONID={http.cookies.get('JSESSIONID', path='/api')}"
    url = track["url"].replace("http://", "ws://") + "/api/socket"
    with connect(url, additional_headers={"Cookie": cookie}, open_timeout=WAIT) as ws:
        frame = json.loads(ws.recv(timeout=WAIT))
        while "devices" not in frame:
            frame = json.loads(ws.recv(timeout=WAIT))
    assert {device["firmwareChannel"] for device in frame["devices"]} == {"next-version"}

    tracker = served["tracker"]
    credentials = tracker["credentials"]
    case_id = json.loads((fixtures_dir() / "tracker" / "cases.json").read_text())[0]["id"]
    answer = requests.get(
        f"{tracker['url']}/api/cases/{case_id}",
        headers=tracker_headers(credentials),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["caseColor"] == "next-version"

    trackops = served["trackops"]
    login = (trackops["credentials"]["username"], trackops["credentials"]["password"])
    clients = requests.get(
        trackops["url"] + "/api/v1/clients", auth=login, verify=trackops["ca_cert"], timeout=10
    )
    assert clients.status_code == 200, clients.text
    assert clients.json()
    assert {client["loyaltyTier"] for client in clients.json()} == {"next-version"}
