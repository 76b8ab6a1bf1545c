"""``check`` on captures built from the contracts' own examples and the Track API guide's frames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from trackmock.core.conformance import MessageCatalog
from trackmock.core.contracts import Contract
from trackmock.core.paths import contracts_dir
from trackmock.drift.har import har_entry

from .support import (
    HOST,
    check,
    contract,
    example_entries,
    message_examples,
    mutate,
    mutated_entries,
    path_text,
    write_har,
    ws_frame,
)


@pytest.mark.parametrize("vendor", ["tracker", "trackops", "track"])
def test_the_vendors_own_examples_show_no_drift(tmp_path: Path, vendor: str) -> None:
    outcome = check(vendor, write_har(tmp_path / "c.har", example_entries(vendor)))
    assert outcome.findings == set()
    assert len(outcome.checked) == len(example_entries(vendor))


# Tracker's documented answers hold no enum field (its enums are in item history and custody).
@pytest.mark.parametrize(
    ("vendor", "how"),
    [
        (vendor, how)
        for vendor in ("tracker", "trackops", "track")
        for how in ("add", "remove", "retype", "enum")
        if (vendor, how) != ("tracker", "enum")
    ],
)
def test_one_changed_field_gives_exactly_that_finding(
    tmp_path: Path, vendor: str, how: str
) -> None:
    changed, expected = mutated_entries(contract(vendor), example_entries(vendor), how)
    assert check(vendor, write_har(tmp_path / "c.har", changed)).findings == {expected}


def socket_entry(frames: list[dict]) -> dict:
    return har_entry(
        "GET", "wss://vendor.example/api/socket", 101, content_type=None, frames=frames
    )


def test_chrome_socket_frames_are_checked_against_the_asyncapi_messages(tmp_path: Path) -> None:
    frames = message_examples("track")
    outcome = check("track", write_har(tmp_path / "ws.har", [socket_entry(frames)]))
    assert outcome.findings == set()
    received = [f for f in frames if f["type"] == "receive"]
    checked = sorted(e.operation for e in outcome.checked if e.frame)
    assert len(checked) == len(received)
    assert {"message devices", "message positions", "message status"} <= set(checked)


@pytest.mark.parametrize("how", ["add", "remove", "retype", "enum"])
def test_a_changed_frame_gives_exactly_that_finding(tmp_path: Path, how: str) -> None:
    asyncapi = Contract.from_path(contracts_dir() / "track" / "asyncapi.yaml")
    payloads = MessageCatalog(asyncapi).payloads
    frames = message_examples("track")
    for index, item in enumerate(frames):
        value = json.loads(item["data"]) if item["type"] == "receive" else None
        if not isinstance(value, dict):
            continue
        name = next(iter(value))
        try:
            kind, path = mutate(asyncapi, value, payloads[name], how)
        except AssertionError:
            continue
        frames[index] = {**item, "data": json.dumps(value)}
        outcome = check("track", write_har(tmp_path / "ws.har", [socket_entry(frames)]))
        assert outcome.findings == {(f"message {name}", kind, path_text(path))}
        return
    pytest.fail(f"no frame to {how}")


def test_curl_socket_output_is_checked_frame_by_frame(tmp_path: Path) -> None:
    frames = [f for f in message_examples("track") if f["type"] == "receive"]
    capture = tmp_path / "socket.txt"
    capture.write_bytes(
        b"$ curl -i -b ./track_cookie --no-buffer --header 'Connection: Upgrade' "
        b"https://track.safectory.com/api/socket --output -\n"
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n\r\n"
        + b"".join(ws_frame(f["data"].encode()) for f in frames)
    )
    outcome = check("track", capture)
    assert outcome.findings == set()
    assert len([e for e in outcome.checked if e.frame]) == len(frames)


def test_a_frame_like_no_message_is_informational(tmp_path: Path) -> None:
    frames = [{"type": "receive", "time": 1.0, "opcode": 1, "data": '{"geofences": []}'}]
    outcome = check("track", write_har(tmp_path / "ws.har", [socket_entry(frames)]))
    assert outcome.findings == {("socket", "unknown-message", "(frame)")}
    assert not any(f.breaking for e in outcome.checked for f in e.findings)


def tracker_entry(path: str, status: int, body: str, content_type: str | None) -> dict:
    return har_entry("GET", HOST + path, status, body=body, content_type=content_type)


@pytest.mark.parametrize(
    ("entry", "expected", "breaking"),
    [
        (
            tracker_entry("/api/nothing/here", 200, "{}", "application/json"),
            "unknown-operation",
            False,
        ),
        (tracker_entry("/api/tags", 418, "{}", "application/json"), "undocumented-status", True),
        (tracker_entry("/api/tags", 502, "<html>", "text/html"), "undocumented-status", False),
        (tracker_entry("/api/tags", 200, "[]", "text/html"), "undocumented-content-type", True),
        (tracker_entry("/api/tags", 200, "[oops", "application/json"), "body-not-json", True),
    ],
)
def test_status_content_type_and_unknown_operations(
    tmp_path: Path, entry: dict, expected: str, breaking: bool
) -> None:
    outcome = check("tracker", write_har(tmp_path / "c.har", [entry]))
    (finding,) = [f for e in outcome.checked for f in e.findings]
    assert (finding.kind, finding.breaking) == (expected, breaking)


def test_what_is_not_the_contracts_business_is_skipped(tmp_path: Path) -> None:
    entries = [
        tracker_entry("/index.html", 200, "<html>", "text/html"),
        tracker_entry("/__admin/journal", 200, "{}", "application/json"),
        har_entry("OPTIONS", HOST + "/api/tags", 204, content_type=None),
        tracker_entry("/api/tags", 304, "", None),
    ]
    outcome = check("tracker", write_har(tmp_path / "c.har", entries))
    assert outcome.findings == set()
    skipped = [e for e in outcome.events if type(e).__name__ == "Skipped"]
    assert len(skipped) == 3
