"""``trackmock proxy`` in front of the emulators: traffic forwarded unchanged, each exchange and
socket frame checked with the drift engine, the report and HAR written on SIGTERM, exit
statuses by what was found, no secret in any output."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from trackmock.clients.trackops import TrackopsClient
from trackmock.core.paths import contracts_dir
from trackmock.drift.inputs import socket_frames
from trackmock.pytest_plugin import EmulatorHandle
from websockets.sync.client import connect

from ..drift.support import run_cli
from ..polling import until
from ..tracker.helpers import tracker_headers
from .support import Proxy, findings

WAIT = 10.0
"""Hang guard for socket reads."""
SCRIPTS = Path(__file__).parents[1] / "track" / "scripts"


@pytest.fixture
def proxies(tmp_path: Path) -> Iterator[list[Proxy]]:
    started: list[Proxy] = []
    yield started
    for proxy in started:
        proxy.kill()


def _start(proxies: list[Proxy], folder: Path, *args: Any, **kwargs: Any) -> Proxy:
    folder.mkdir(parents=True, exist_ok=True)
    proxy = Proxy(folder, *args, **kwargs)
    proxies.append(proxy)
    return proxy


def _journaled(track: EmulatorHandle, text: str) -> bool:
    """Whether the emulator received the client frame ``text`` (asked until it has, within a
    hang guard: the frame crosses the proxy on its own time)."""
    return bool(
        until(
            lambda: any(entry.get("body") == text for entry in track.control.journal(kind="ws-in")),
            f"the frame {text!r} in the journal",
            WAIT,
        )
    )


def _track_login(base: str, track: EmulatorHandle) -> requests.Session:
    http = requests.Session()
    answer = http.post(
        f"{base}/api/session",
        data={"email": track.credentials["email"], "password": track.credentials["password"]},
        timeout=WAIT,
    )
    assert answer.status_code == 200, answer.text
    return http


def test_tracker_answers_pass_unchanged_and_a_bad_request_is_the_clients(
    tracker: EmulatorHandle, tmp_path: Path, proxies: list[Proxy]
) -> None:
    proxy = _start(proxies, tmp_path, "tracker", tracker.url)
    headers = tracker_headers(tracker.credentials)
    through = requests.get(f"{proxy.url}/api/groups", headers=headers, timeout=WAIT)
    tracker.clock.advance(120)  # the polling rule: the same GET again after a minute
    direct = requests.get(tracker.url_for("/api/groups"), headers=headers, timeout=WAIT)
    assert (through.status_code, through.content) == (direct.status_code, direct.content)
    assert through.headers["content-type"] == direct.headers["content-type"]
    # The client forgets a header the contract requires: the vendor refuses, and it is the
    # client's bug, not drift.
    missing = {k: v for k, v in headers.items() if k != "OrganizationId"}
    refused = requests.get(f"{proxy.url}/api/forms", headers=missing, timeout=WAIT)
    assert refused.status_code >= 400
    code, text, err = proxy.stop()
    report = json.loads(text)
    found = findings(report)
    assert (
        "listForms",
        "missing-required-parameter",
        "header OrganizationId",
        True,
        "client",
    ) in found
    assert not [f for f in found if f[4] == "vendor"], found
    assert report["summary"]["exchanges"] == 2
    assert code == 1, err


def test_a_field_added_to_the_served_contract_is_informational_and_exit_0(
    make_emulator: Any, tmp_path: Path, proxies: list[Proxy]
) -> None:
    changed = tmp_path / "contracts"
    shutil.copytree(contracts_dir(), changed)
    device = changed / "track" / "schemas" / "Device.json"
    schema = json.loads(device.read_text())
    schema["properties"]["floorName"] = {"type": "string", "default": "ground floor"}
    device.write_text(json.dumps(schema))
    track = make_emulator("track", contracts_dir=changed)
    proxy = _start(proxies, tmp_path / "proxy", "track", track.url)
    http = _track_login(proxy.url, track)
    devices = http.get(f"{proxy.url}/api/devices", timeout=WAIT).json()
    assert all(d["floorName"] == "ground floor" for d in devices)
    code, text, err = proxy.stop()
    found = findings(json.loads(text))
    assert ("getDevices", "undocumented-field", "[].floorName", False, "vendor") in found
    assert all(not breaking for *_, breaking, _ in found)
    assert code == 0, err


def test_a_fault_answering_without_required_fields_is_breaking_and_exit_1(
    tracker: EmulatorHandle, tmp_path: Path, proxies: list[Proxy]
) -> None:
    proxy = _start(proxies, tmp_path, "tracker", tracker.url)
    tracker.control.add_fault(
        action="status", status=200, path="/api/groups", body=[{"unexpected": True}], times=1
    )
    answer = requests.get(
        f"{proxy.url}/api/groups", headers=tracker_headers(tracker.credentials), timeout=10
    )
    assert answer.json() == [{"unexpected": True}]
    code, text, err = proxy.stop()
    found = findings(json.loads(text))
    breaking = {(op, kind) for op, kind, _, is_breaking, _ in found if is_breaking}
    assert ("listGroups", "missing-required-field") in breaking
    assert code == 1, err


def test_trackops_over_tls_keeps_the_host_of_a_subdomain_account(
    trackops: EmulatorHandle, tmp_path: Path, proxies: list[Proxy]
) -> None:
    proxy = _start(proxies, tmp_path, "trackops", trackops.url, upstream_ca=trackops.ca_cert)
    assert proxy.url.startswith("https://")
    assert proxy.ca_cert is not None
    credentials = trackops.credentials
    host = f"{credentials['subdomain']}.localhost"
    client = TrackopsClient(
        proxy.url,
        credentials["username"].removesuffix("/token"),
        credentials["password"],
        ca_cert=proxy.ca_cert,
        host=host,
        clock=trackops.clock,
    )
    cases = client.get("cases")
    assert cases
    hosts = {
        value
        for entry in trackops.control.journal(path="/api/v1/cases")
        for name, value in entry["request"]["headers"].items()
        if name.lower() == "host"
    }
    assert hosts == {host}
    code, text, err = proxy.stop()
    report = json.loads(text)
    assert report["summary"]["exchanges"] == 1
    assert findings(report) == set()
    assert code == 0, err


def test_track_socket_frames_are_relayed_both_ways_and_checked(
    track: EmulatorHandle, tmp_path: Path, proxies: list[Proxy]
) -> None:
    proxy = _start(proxies, tmp_path, "track", track.url)
    http = _track_login(proxy.url, track)
    cookie = http.cookies.get("JSESSIONID", path="/api")
    assert cookie, "the session cookie (Path=/api) comes back through the proxy"
    socket_url = "ws" + proxy.url.removeprefix("http") + "/api/socket"
    with connect(socket_url, additional_headers={"Cookie": f"JSESSIONID={cookie}"}) as socket:
        initial = [json.loads(socket.recv(timeout=WAIT)) for _ in range(4)]
        assert [next(iter(frame)) for frame in initial] == [
            "devices",
            "beacons",
            "positions",
            "webSessionTimeout",
        ]
        track.clock.advance(30)
        ping = json.loads(socket.recv(timeout=WAIT))
        uuid = ping["status"][0]["message"]
        socket.send(f"pong {uuid}")
        assert _journaled(track, f"pong {uuid}"), "the pong reached the emulator via the proxy"
    code, text, err = proxy.stop()
    report = json.loads(text)
    assert report["summary"]["frames"] == 5
    assert findings(report) == set()
    assert code == 0, err
    # The HAR is a capture `check` reads: the same exchanges and frames, no drift, no secret.
    har = proxy.har.read_text()
    for secret in (track.credentials["password"], cookie):
        assert secret not in har
        assert secret not in text
    check_code, out, _ = run_cli("check", "--vendor", "track", proxy.har, "--format", "json")
    checked = json.loads(out)
    assert (checked["summary"]["exchanges"], checked["summary"]["frames"]) == (2, 5)
    assert check_code == 0


def test_the_seed_socket_script_with_its_32_byte_key_runs_through_the_proxy(
    track: EmulatorHandle, tmp_path: Path, proxies: list[Proxy]
) -> None:
    if not shutil.which("curl"):
        pytest.skip("the seed's script needs curl (.ci/run installs it)")
    proxy = _start(proxies, tmp_path / "proxy", "track", track.url)
    script = (SCRIPTS / "socket_curl.sh").read_text()
    script = (
        script.replace("<User>", track.credentials["api_user_email"])
        .replace("<Password>", track.credentials["api_user_password"])
        .replace("https://", "http://")
        .replace("track.safectory.com", proxy.url.removeprefix("http://"))
        # The seed's curl streams until stopped; a bound lets it end by itself here.
        .replace("curl -i -b", "curl --max-time 3 -i -b")
    )
    (tmp_path / "socket.sh").write_text(script)
    done = subprocess.run(
        ["bash", "socket.sh"], cwd=tmp_path, capture_output=True, timeout=30, check=False
    )
    stream = done.stdout
    assert b"HTTP/1.1 101" in stream
    head_end = stream.index(b"\r\n\r\n", stream.index(b"HTTP/1.1 101")) + 4
    keys = [next(iter(json.loads(frame.text))) for frame in socket_frames(stream[head_end:])]
    assert keys[:4] == ["devices", "beacons", "positions", "webSessionTimeout"]
    code, text, err = proxy.stop()
    report = json.loads(text)
    assert findings(report) == set()
    assert report["summary"]["frames"] >= 4
    assert code == 0, err


def test_the_seed_route_report_script_runs_through_the_proxy(
    track: EmulatorHandle, tmp_path: Path, proxies: list[Proxy]
) -> None:
    if not all(shutil.which(tool) for tool in ("curl", "jq")):
        pytest.skip("the seed's script needs curl and jq (.ci/run installs them)")
    proxy = _start(proxies, tmp_path / "proxy", "track", track.url)
    script = (SCRIPTS / "route_report.sh").read_text()
    script = script.replace("https://", "http://").replace(
        "track.safectory.com", proxy.url.removeprefix("http://")
    )
    (tmp_path / "route.sh").write_text(script)
    (tmp_path / "userdata").write_text(
        f"EMAIL={track.credentials['email']}\nPASSWORD={track.credentials['password']}\n"
    )
    done = subprocess.run(
        ["bash", "route.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    code, text, err = proxy.stop()
    report = json.loads(text)
    assert report["summary"]["exchanges"] >= 2
    assert findings(report) == set()
    assert code == 0, err


@pytest.mark.parametrize("report_format", ["text", "json", "junit"])
def test_no_secret_reaches_any_report_or_the_har(
    tracker: EmulatorHandle, tmp_path: Path, proxies: list[Proxy], report_format: str
) -> None:
    proxy = _start(proxies, tmp_path, "tracker", tracker.url, report_format=report_format)
    headers = tracker_headers(tracker.credentials)
    token = tracker.credentials["token"]
    # A secret in a query string and in a body too, and a refused call that echoes its input.
    requests.get(
        f"{proxy.url}/api/cases/typeahead",
        params={"search": "a", "api_token": "s3cr3t-query-value"},
        headers={**headers, "Cookie": "session=c00kie-s3cr3t-value"},
        timeout=WAIT,
    )
    requests.post(
        f"{proxy.url}/api/users",
        json={"password": "b0dy-s3cr3t-value"},
        headers=tracker_headers(tracker.credentials, "POST"),
        timeout=WAIT,
    )
    code, text, err = proxy.stop()
    har = proxy.har.read_text()
    for secret in (token, "s3cr3t-query-value", "c00kie-s3cr3t-value", "b0dy-s3cr3t-value"):
        for output in (text, har, err):
            assert secret not in output
    assert "Bearer [redacted]" in har
    assert code in (0, 1)


def test_nothing_through_the_proxy_is_exit_3(
    tracker: EmulatorHandle, tmp_path: Path, proxies: list[Proxy]
) -> None:
    proxy = _start(proxies, tmp_path, "tracker", tracker.url, report_format="text")
    code, text, err = proxy.stop()
    assert code == 3
    assert "nothing to check" in err
    assert "Result: no breaking drift" in text
