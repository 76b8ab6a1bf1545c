"""Matching requests to operations (``drift.match``) and reading captures (``drift.inputs``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from trackmock.core.contracts import Contract
from trackmock.core.redact import Redactor
from trackmock.drift.har import har_document, har_entry
from trackmock.drift.inputs import RECEIVED, SENT, InputError, read_captures
from trackmock.drift.match import Matcher

from .support import ws_frame

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "https://{account}.example.com/api/v1"}],
    "paths": {
        "/cases/{id}": {"get": {"operationId": "getCase", "responses": {}}},
        "/cases/search": {"get": {"operationId": "searchCases", "responses": {}}},
        "/cases": {"post": {"operationId": "createCase", "responses": {}}},
    },
}


def test_literal_paths_win_over_templates_and_the_server_path_may_prefix() -> None:
    matcher = Matcher(Contract.from_dict(DOCUMENT))
    assert matcher.match("GET", "/cases/search").id == "searchCases"  # type: ignore[union-attr]
    assert matcher.match("get", "/api/v1/cases/12/").id == "getCase"  # type: ignore[union-attr]
    assert matcher.match("POST", "/api/v1/cases").id == "createCase"  # type: ignore[union-attr]
    assert matcher.match("DELETE", "/cases/12") is None
    assert matcher.template("/cases/12") == "/cases/{id}"
    assert matcher.owns("/api/v1/cases/x/y")
    assert not matcher.owns("/static/app.js")


def read(path: Path) -> list:
    return [
        exchange for capture in read_captures([path], Redactor()) for exchange in capture.exchanges
    ]


def test_a_chrome_har_gives_bodies_statuses_and_socket_frames(tmp_path: Path) -> None:
    frames = [
        {"type": "receive", "time": 1.0, "opcode": 1, "data": '{"a": 1}'},
        {"type": "send", "time": 2.0, "opcode": 1, "data": "pong x"},
        {"type": "receive", "time": 3.0, "opcode": 2, "data": "AAE="},
    ]
    entries = [
        har_entry("GET", "https://h/api/x?q=1", 200, body='{"b": 2}'),
        har_entry("GET", "wss://h/api/socket", 101, content_type=None, frames=frames),
        har_entry(
            "GET",
            "https://h/api/y",
            200,
            body=base64.b64encode(b'{"c": 3}').decode(),
            base64_body=True,
        ),
    ]
    entries[2]["response"]["content"]["mimeType"] = "application/json; charset=utf-8"
    del entries[0]["response"]["content"]["text"]
    entries[0]["response"]["content"]["size"] = 8
    path = tmp_path / "c.har"
    path.write_text(json.dumps(har_document(entries)))
    first, socket, firefox = read(path)
    assert (first.method, first.path, first.status, first.body) == ("GET", "/api/x", 200, None)
    assert [(f.direction, f.text) for f in socket.frames] == [
        (RECEIVED, '{"a": 1}'),
        (SENT, "pong x"),
    ]
    assert firefox.body == '{"c": 3}'


def test_curl_output_with_its_command_line_or_v_lines(tmp_path: Path) -> None:
    with_command = tmp_path / "a.txt"
    with_command.write_bytes(
        b"$ curl -s -i -X PUT -d 'x=1' https://h/api/cases/3?value=1\n"
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}"
    )
    verbose = tmp_path / "b.txt"
    verbose.write_bytes(
        b"* Connected\n> GET /api/cases/4 HTTP/1.1\n> Host: h\n>\n< HTTP/1.1 404 Not Found\n"
        b"< Content-Type: text/plain\n<\nnope"
    )
    named = tmp_path / "getCase.200.txt"
    named.write_bytes(b"HTTP/1.1 200 OK\nContent-Type: application/json\n\n[]")
    (a,), (b,), (c,) = read(with_command), read(verbose), read(named)
    assert (a.method, a.path, a.status, a.content_type, a.body) == (
        "PUT",
        "/api/cases/3",
        200,
        "application/json",
        "{}",
    )
    assert (b.method, b.path, b.status, b.content_type, b.body) == (
        "GET",
        "/api/cases/4",
        404,
        "text/plain",
        "nope",
    )
    assert (c.path, c.operation, c.body) == (None, "getCase", "[]")


def test_curl_socket_output_is_split_into_frames(tmp_path: Path) -> None:
    big = json.dumps({"positions": [{"id": n} for n in range(20)]}).encode()
    raw = tmp_path / "socket.txt"
    raw.write_bytes(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        + ws_frame(b'{"devices": []}')
        + ws_frame(big)
    )
    # The vendor document's own excerpt: frame headers lost in a pasted log, JSON left between them.
    pasted = tmp_path / "pasted.txt"
    pasted.write_text(
        "HTTP/1.1 101 Switching Protocols\nServer: nginx\n\n"
        '~\n{\n"positions": []\n}~{\n"devices": []\n}'
    )
    (socket,), (log,) = read(raw), read(pasted)
    assert [f.text for f in socket.frames] == ['{"devices": []}', big.decode()]
    assert [json.loads(f.text) for f in log.frames] == [{"positions": []}, {"devices": []}]


def test_a_folder_of_bodies_named_by_operation(tmp_path: Path) -> None:
    folder = tmp_path / "bodies"
    folder.mkdir()
    (folder / "getCase.json").write_text("{}")
    (folder / "getCase.404.second.json").write_text("{}")
    found = read(folder)
    assert [(e.operation, e.status) for e in found] == [("getCase", 404), ("getCase", None)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.har", "{not json", "not valid JSON"),
        ("no-entries.har", '{"log": {}}', "without log.entries"),
        ("plain.txt", "hello", "no HTTP status line"),
    ],
)
def test_unusable_inputs_say_why(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read(path)
    with pytest.raises(InputError, match="no such file"):
        read(tmp_path / "missing.har")
