"""Captures made by driving the emulators themselves: a client's traffic, recorded in the
emulator's journal and written as the HAR a browser would save, shows no drift; the same
capture with one field added, removed, retyped or given an unknown enum value shows exactly
that finding; no login secret of it reaches a report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from trackmock.drift.har import journal_to_har
from trackmock.pytest_plugin import EmulatorHandle
from websockets.sync.client import connect

from ..tracker.helpers import tracker_headers
from .support import check, contract, mutate, mutated_entries, path_text, run_cli, write_har

WAIT = 5.0
BIG_JOURNAL = {"journal_body_bytes": 50_000_000, "journal_size": 100_000}
"""Whole bodies in the journal: a cut one would not be JSON."""


def _query(operation: Any) -> dict[str, Any] | None:
    """Values for the required query parameters, from their schemas; None if one has none."""
    query = {}
    for parameter in operation.parameters:
        if parameter.location != "query" or not parameter.required:
            continue
        schema = parameter.schema
        for key in ("default", "example"):
            if key in schema:
                query[parameter.name] = schema[key]
                break
        else:
            if not schema.get("enum"):
                return None
            query[parameter.name] = schema["enum"][0]
    return query


def _tags(operation: Any) -> list[str]:
    document = operation.contract.document
    return document["paths"][operation.path][operation.method.lower()].get("tags", [])


def drive_gets(handle: EmulatorHandle, http: requests.Session, between: Callable[[], None]) -> int:
    """Every GET of the contract that needs no path parameter; returns how many were made."""
    made = 0
    for operation in contract(handle.vendor).operations.values():
        query = _query(operation)
        if operation.method != "GET" or "{" in operation.path or query is None:
            continue
        # Not a client's traffic: the socket upgrade, and Track's own API description.
        if operation.extensions.get("x-websocket") or "Meta" in _tags(operation):
            continue
        # Per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
        http.get(handle.url_for(operation.path), params=query, timeout=10, verify=handle.verify)
        made += 1
        between()
    return made


def tracker_client(handle: EmulatorHandle) -> requests.Session:
    http = requests.Session()
    credentials = handle.credentials
    http.headers.update(tracker_headers(credentials))
    return http


def trackops_client(handle: EmulatorHandle) -> requests.Session:
    http = requests.Session()
    http.auth = (handle.credentials["username"], handle.credentials["password"])
    return http


def track_client(handle: EmulatorHandle) -> requests.Session:
    http = requests.Session()
    login = {"email": handle.credentials["email"], "password": handle.credentials["password"]}
    assert http.post(handle.url_for("/api/session"), data=login, timeout=10).status_code == 200
    return http


def record(handle: EmulatorHandle, folder: Path) -> Path:
    har = journal_to_har(handle.control.journal(), handle.url)
    path = folder / f"{handle.vendor}.har"
    path.write_text(json.dumps(har))
    return path


def tracker_capture(make_emulator: Callable[..., EmulatorHandle], folder: Path) -> Path:
    handle = make_emulator("tracker", **BIG_JOURNAL)
    assert drive_gets(handle, tracker_client(handle), lambda: None) > 5
    return record(handle, folder)


def trackops_capture(make_emulator: Callable[..., EmulatorHandle], folder: Path) -> Path:
    handle = make_emulator("trackops", **BIG_JOURNAL)
    # One request per second is the vendor's rule: move the emulator's clock, never wait.
    made = drive_gets(handle, trackops_client(handle), lambda: handle.clock.advance(1.0))
    assert made > 5
    return record(handle, folder)


def track_capture(make_emulator: Callable[..., EmulatorHandle], folder: Path) -> Path:
    handle = make_emulator("track", **BIG_JOURNAL)
    http = track_client(handle)
    assert drive_gets(handle, http, lambda: None) > 2
    cookie = f"JSESSIONID={http.cookies.get('JSESSIONID', path='/api')}"
    url = handle.url.replace("http://", "ws://") + "/api/socket"
    with connect(url, additional_headers={"Cookie": cookie}, open_timeout=WAIT) as ws:
        # The initial push: devices, beacons, positions, then webSessionTimeout (asyncapi.yaml).
        while "webSessionTimeout" not in json.loads(ws.recv(timeout=WAIT)):
            pass
    return record(handle, folder)


CAPTURES = {"tracker": tracker_capture, "trackops": trackops_capture, "track": track_capture}


@pytest.mark.parametrize("vendor", list(CAPTURES))
def test_an_emulator_capture_shows_no_drift_and_each_change_exactly_its_finding(
    make_emulator: Callable[..., EmulatorHandle], tmp_path: Path, vendor: str
) -> None:
    capture = CAPTURES[vendor](make_emulator, tmp_path)
    clean = check(vendor, capture)
    assert clean.findings == set()
    assert len(clean.checked) > 2
    entries = json.loads(capture.read_text())["log"]["entries"]
    answered = [e["response"]["status"] for e in entries if e["response"]["status"] < 300]
    assert len(answered) * 2 > len(entries), "the client's requests were mostly refused"
    for how in ("add", "remove", "retype", "enum"):
        try:
            changed, expected = mutated_entries(contract(vendor), entries, how)
        except AssertionError:
            assert how == "enum", f"the {vendor} capture has no field to {how}"
            continue
        found = check(vendor, write_har(tmp_path / f"{how}.har", changed)).findings
        assert found == {expected}, how


def test_a_recorded_socket_frame_changed_gives_exactly_that_finding(
    make_emulator: Callable[..., EmulatorHandle], tmp_path: Path
) -> None:
    from trackmock.core.conformance import MessageCatalog
    from trackmock.core.contracts import Contract
    from trackmock.core.paths import contracts_dir

    capture = track_capture(make_emulator, tmp_path)
    document = json.loads(capture.read_text())
    (socket,) = [e for e in document["log"]["entries"] if "_webSocketMessages" in e]
    asyncapi = Contract.from_path(contracts_dir() / "track" / "asyncapi.yaml")
    payloads = MessageCatalog(asyncapi).payloads
    frame = next(m for m in socket["_webSocketMessages"] if '"devices"' in m["data"])
    value = json.loads(frame["data"])
    kind, path = mutate(asyncapi, value, payloads["devices"], "retype")
    frame["data"] = json.dumps(value)
    found = check("track", write_har(tmp_path / "frame.har", document["log"]["entries"]))
    assert found.findings == {("message devices", kind, path_text(path))}


def test_the_login_secrets_of_a_recorded_capture_reach_no_report(
    make_emulator: Callable[..., EmulatorHandle], tmp_path: Path
) -> None:
    capture = track_capture(make_emulator, tmp_path)
    document = json.loads(capture.read_text())
    login = next(e for e in document["log"]["entries"] if e["request"]["method"] == "POST")
    body = json.loads(login["response"]["content"]["text"])
    body["attributes"] = "now a string"  # some drift, so reports have findings to show
    login["response"]["content"]["text"] = json.dumps(body)
    changed = write_har(tmp_path / "changed.har", document["log"]["entries"])
    # The session cookie (sent and set) and the login form's password.
    secrets = [
        value
        for entry in document["log"]["entries"]
        for header in entry["request"]["headers"] + entry["response"]["headers"]
        if header["name"].lower() in ("cookie", "set-cookie")
        for value in [header["value"].split(";")[0].split("=", 1)[1]]
    ]
    secrets.append(login["request"]["postData"]["text"].split("password=")[1].split("&")[0])
    assert all(len(secret) > 6 for secret in secrets)
    for form in ("text", "json", "junit"):
        code, out, err = run_cli("check", "--vendor", "track", "--format", form, changed)
        assert code == 1
        for secret in secrets:
            assert secret not in out + err
