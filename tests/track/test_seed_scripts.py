"""The Track API guide's own shell scripts and curl examples, run as written against the emulator.

Only the host changes (``track.safectory.com`` → the emulator, ``https`` → ``http``) and the
guide's placeholders are filled; see ``scripts/README.md``. Needs bash, curl and jq.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from trackmock.core.paths import fixtures_dir
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import ACCOUNT, API_USER

SCRIPTS = Path(__file__).parent / "scripts"
STREAM_WAIT = 10.0

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq")),
    reason="the vendor document's scripts need bash, curl and jq (.ci/run installs them)",
)

SEED_4_7_PUT = (
    "curl -b ./track_cookie -X PUT "
    "-H 'Accept: */*' -H 'Content-Type: application/json' "
    """--data '{"id":794524643,"name":"quickstart-guide-beacon-2","attributes":{},"""
    """"deviceId":794524642,"uuid":"d87b32bdcc0e437a81b3383833bc5ff8","major":4242,"""
    """"roleGroupId":794314697,"minor":2,"lastSeen":"2025-02-21T12:04:24.093+00:00","""
    """"batteryLevel":100.0,"relative":false,"latitude":49.897644460986925,"""
    """"longitude":10.878723934292793}' """
    "'https://track.safectory.com/api/beacons/794524643'"
)
SEED_4_7_RESPONSE = {
    "id": 794524643,
    "name": "quickstart-guide-beacon-2",
    "attributes": {},
    "deviceId": 794524642,
    "uuid": "d87b32bdcc0e437a81b3383833bc5ff8",
    "major": 4242,
    "roleGroupId": 794314697,
    "minor": 2,
    "latitude": 49.897644460986925,
    "longitude": 10.878723934292793,
    "lastSeen": "2025-02-21T12:04:24.093+00:00",
    "batteryLevel": 100,
    "relative": False,
}


def here(track: EmulatorHandle, text: str) -> str:
    """The vendor document's text aimed at the emulator: the host is the only change."""
    host = track.url.removeprefix("http://")
    return text.replace("https://", "http://").replace("track.safectory.com", host)


def login_lines(user: tuple[str, str]) -> str:
    """The login of the "3.2 Connection Requirements" script (the "2 Login" example writes
    ``./track_cookies`` instead of the ``./track_cookie`` that every later example reads), with
    its placeholders filled."""
    lines = (SCRIPTS / "socket_curl.sh").read_text().splitlines()[1:7]
    return "\n".join(lines).replace("<User>", user[0]).replace("<Password>", user[1]) + "\n"


def run(track: EmulatorHandle, folder: Path, script: str) -> str:
    path = folder / "script.sh"
    path.write_text(here(track, script))
    done = subprocess.run(
        ["bash", str(path)], cwd=folder, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def frames(stream: bytes) -> list[dict[str, Any]]:
    """The JSON frames in a raw server-to-client WebSocket stream (after the 101 head)."""
    start = stream.find(b"HTTP/1.1 101")
    body_at = stream.find(b"\r\n\r\n", start)
    if start < 0 or body_at < 0:
        return []
    data, found = stream[body_at + 4 :], []
    while len(data) >= 2:
        length, offset = data[1] & 0x7F, 2
        if length == 126:
            length, offset = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            length, offset = int.from_bytes(data[2:10], "big"), 10
        if len(data) < offset + length:
            break
        if data[0] & 0x0F == 1:
            found.append(json.loads(data[offset : offset + length]))
        data = data[offset + length :]
    return found


def stream_until(folder: Path, command: str, out: Path, count: int) -> list[dict[str, Any]]:
    """Start a script that streams the socket; stop it once ``count`` frames came.

    The stream is read from a pipe as it arrives (no polling) and kept in ``out``, as the
    guide's ``> /tmp/log_from_websocket.log`` keeps it.
    """
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=folder, stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    received = b""
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + STREAM_WAIT
            while len(frames(received)) < count and time.monotonic() < deadline:
                if not selector.select(timeout=max(deadline - time.monotonic(), 0)):
                    break
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                received += chunk
        return frames(received)
    finally:
        out.write_bytes(received)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
        process.stdout.close()


def seed_record(name: str, record_id: int) -> dict[str, Any]:
    rows = json.loads((fixtures_dir() / "track" / f"{name}.json").read_text())
    return dict(next(r for r in rows if r["id"] == record_id))


def contains(record: dict[str, Any], seed: dict[str, Any]) -> bool:
    return all(record.get(key) == value for key, value in seed.items())


@pytest.mark.behaviour("SF-01")
def test_section_2_login_writes_the_seed_cookie_jar(track: EmulatorHandle, tmp_path: Path) -> None:
    out = run(
        track,
        tmp_path,
        "curl -s -c ./track_cookies https://track.safectory.com/api/session --data "
        "'email=account@yourdomain.de&password=9ejKJJAYKw3VCWev'\n",
    )
    assert '"name"' in out
    (line,) = [
        row for row in (tmp_path / "track_cookies").read_text().splitlines() if "JSESSIONID" in row
    ]
    host, include_subdomains, path, secure, expires, name, value = line.split("\t")
    assert (host, include_subdomains, path, secure, expires, name) == (
        "127.0.0.1",
        "FALSE",
        "/api",
        "FALSE",
        "0",
        "JSESSIONID",
    )
    assert value


@pytest.mark.behaviour("SF-02", "SF-03")
def test_section_3_2_curl_upgrade_with_a_32_byte_key_streams_the_push(
    track: EmulatorHandle, tmp_path: Path
) -> None:
    script = (SCRIPTS / "socket_curl.sh").read_text()
    script = script.replace("<User>", API_USER[0]).replace("<Password>", API_USER[1])
    (tmp_path / "socket.sh").write_text(here(track, script))
    out = tmp_path / "out.bin"
    got = stream_until(tmp_path, "bash socket.sh", out, 4)
    raw = out.read_bytes()
    assert raw.startswith(b'{"id":2,"name":"api-user"'), "the login's answer comes first"
    assert b"HTTP/1.1 101 Switching Protocols" in raw
    assert [next(iter(f)) for f in got] == ["devices", "beacons", "positions", "webSessionTimeout"]


@pytest.mark.behaviour("SF-01", "SF-02", "SF-03", "SF-12")
def test_section_3_6_read_websocket_and_find_the_rssi(
    track: EmulatorHandle, tmp_path: Path
) -> None:
    (tmp_path / "read_websocket.sh").write_text(
        here(track, (SCRIPTS / "read_websocket.sh").read_text())
    )
    (tmp_path / "userdata").write_text(f"EMAIL={API_USER[0]}\nPASSWORD={API_USER[1]}\n")
    log = tmp_path / "log_from_websocket.log"
    got = stream_until(tmp_path, "bash read_websocket.sh", log, 4)
    assert log.read_bytes().startswith(b"Logged In...\n")
    # Step 3 and 4, as the vendor document runs them.
    for pattern in ('"quickstart-guide-device-1"', "794513912"):
        found = subprocess.run(
            f"grep -a {pattern} {log.name}", shell=True, cwd=tmp_path, capture_output=True
        )
        assert found.returncode == 0
    devices = next(f["devices"] for f in got if "devices" in f)
    device = next(d for d in devices if d["name"] == "quickstart-guide-device-1")
    assert device["positionId"] == 794513912
    positions = next(f["positions"] for f in got if "positions" in f)
    position = next(p for p in positions if p["id"] == device["positionId"])
    assert position["rssi"] == -64
    assert contains(position, seed_record("positions", 794513912))


@pytest.mark.behaviour("SF-01")
def test_section_3_6_script_detects_a_failed_login(track: EmulatorHandle, tmp_path: Path) -> None:
    (tmp_path / "read_websocket.sh").write_text(
        here(track, (SCRIPTS / "read_websocket.sh").read_text())
    )
    (tmp_path / "userdata").write_text(f"EMAIL={API_USER[0]}\nPASSWORD=<REDACTED>\n")
    done = subprocess.run(
        ["bash", "read_websocket.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert done.stdout == "LOGIN failed\n"


@pytest.mark.behaviour("SF-19")
def test_section_4_6_route_report_script(track: EmulatorHandle, tmp_path: Path) -> None:
    (tmp_path / "userdata").write_text(f"EMAIL={ACCOUNT[0]}\nPASSWORD={ACCOUNT[1]}\n")
    out = run(track, tmp_path, (SCRIPTS / "route_report.sh").read_text())
    head, _, body = out.partition("\n")
    assert head == "Logged In..."
    (position,) = json.loads(body)
    assert contains(position, seed_record("positions", 794524664))
    assert not (tmp_path / "track_cookie").exists(), "the script cleans up"


@pytest.mark.behaviour("SF-20", "SF-13")
def test_section_4_7_beacon_update(track: EmulatorHandle, tmp_path: Path) -> None:
    find = (
        """curl -sS -b ./track_cookie "https://track.safectory.com/api/beacons" | """
        """jq -r '.. | objects | select(.major == 4242 and .minor == 2) | .id'\n"""
    )
    run(track, tmp_path, login_lines(ACCOUNT))
    assert run(track, tmp_path, find) == "794524643\n"
    assert json.loads(run(track, tmp_path, SEED_4_7_PUT + "\n")) == SEED_4_7_RESPONSE


@pytest.mark.behaviour("SF-14", "SF-15", "SF-16", "SF-17", "SF-18", "SF-10", "SF-11")
@pytest.mark.parametrize(
    ("section", "command", "expected"),
    [
        (
            "4.2",
            """curl -s -b ./track_cookie "https://track.safectory.com/api/positions" | jq""",
            [("positions", 794513912)],
        ),
        (
            "4.3.1",
            "curl -s -b ./track_cookie "
            "'https://track.safectory.com/api/positions?id=794513672' | jq",
            [("positions", 794513672)],
        ),
        (
            "4.3.2",
            "curl -s -b ./track_cookie 'https://track.safectory.com/api/positions?deviceId=794513675'",
            [("positions", 794513912)],
        ),
        (
            "4.4",
            "curl -s -b ./track_cookie https://track.safectory.com/api/devices | "
            "jq -r '.. | objects | select(.name and "
            """(.name | contains("quickstart-guide-device-1"))) | select(.id)'""",
            ("devices", 794513675),
        ),
        (
            "4.5",
            "curl -sS -b ./track_cookie https://track.safectory.com/api/beacons | jq -r '.. | "
            "objects | select(.major == 4242 and .minor == 1)'",
            ("beacons", 794513676),
        ),
    ],
)
def test_section_4_curl_examples(
    track: EmulatorHandle, tmp_path: Path, section: str, command: str, expected: Any
) -> None:
    run(track, tmp_path, login_lines(API_USER))
    answer = json.loads(run(track, tmp_path, command + "\n"))
    if isinstance(expected, list):
        assert [p["id"] for p in answer] == [record_id for _, record_id in expected]
        for got, (name, record_id) in zip(answer, expected, strict=True):
            assert contains(got, seed_record(name, record_id)), section
    else:
        assert answer == seed_record(*expected), section
