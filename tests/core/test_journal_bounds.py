"""The journal is bounded in bytes and read a page at a time, whatever clients send.

The attack of issue 11: 40 requests, each with a 10 MB header, took a server from 188 MB to
656 MB, and reading the journal then peaked at 1.5 GB (one 400 MB answer). Eight such requests
here: what each leaves behind is bounded (the total by ``journal_bytes``, tested apart).
"""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Iterator

import orjson
import pytest
import requests
from trackmock.control import ControlClient
from trackmock.core.clock import Clock
from trackmock.core.journal import Journal, Query
from trackmock.core.redact import Redactor
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings

from .helpers import make_sample

MB = 1024 * 1024


def _journal(**limits: int) -> Journal:
    return Journal(Clock(frozen=True, start=0), **limits)


def test_the_oldest_entries_leave_once_the_bytes_are_spent() -> None:
    journal = _journal(size=1000, body_limit=1000, max_bytes=20_000)
    for i in range(100):
        journal.record("http", method="POST", path=f"/p/{i}", request_body=b"x" * 1000)
    kept = journal.select()
    assert journal.bytes <= 20_000
    assert 0 < len(kept) < 100
    assert kept[-1].path == "/p/99", "the newest entry is always kept"
    assert journal.recorded == 100


def test_headers_and_bodies_are_cut_and_marked() -> None:
    journal = _journal(body_limit=8, header_limit=40)
    journal.record(
        "http",
        method="POST",
        path="/x",
        request_headers=[(b"x-big", b"y" * 10 * MB), (b"accept", b"text/plain")],
        request_body="0123456é89".encode(),  # cut inside the é: it is dropped, not mangled
        response_body=b"short",
    )
    entry = json.loads(journal.page(Query(), page_bytes=MB, redactor=None))["entries"][0]
    request = entry["request"]
    assert request["headers"] == {"x-big": "y" * 35}
    assert request["headersTruncated"] is True
    assert request["body"] == "0123456"
    assert (request["bodyTruncated"], request["bodyBytes"]) == (True, 11)
    assert entry["response"] == {"headers": {}, "body": "short"}


def test_pages_stay_under_their_limit_and_chain_with_next() -> None:
    journal = _journal(body_limit=10_000)
    for i in range(50):
        journal.record("ws-in", path="/s", connection=1, request_body=f"{i:04}".encode() * 2000)
    seen: list[int] = []
    since = None
    pages = 0
    while True:
        raw = journal.page(Query(since=since), page_bytes=50_000, redactor=None)
        assert len(raw) <= 50_000 + 200  # the page's own keys
        page = orjson.loads(raw)
        seen += [entry["id"] for entry in page["entries"]]
        pages += 1
        if page["next"] is None:
            break
        since = page["next"]
    assert seen == list(range(1, 51))
    assert pages > 1


def test_one_entry_larger_than_a_page_is_still_read() -> None:
    journal = _journal(body_limit=100_000)
    journal.record("ws-out", path="/s", connection=1, response_body=b"z" * 100_000)
    page = orjson.loads(journal.page(Query(), page_bytes=1000, redactor=None))
    assert [len(entry["body"]) for entry in page["entries"]] == [100_000]
    assert page["next"] is None


def test_limit_still_means_the_last_n_and_the_client_reads_every_page() -> None:
    emulator = make_sample(journal_page_bytes=2000)
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    try:
        for i in range(30):
            requests.get(f"{emulator.base_url}/api/ping?n={i}", timeout=10)
        control = ControlClient(emulator.base_url)
        assert [e["query"] for e in control.journal()] == [f"n={i}" for i in range(30)]
        assert [e["query"] for e in control.journal(limit=12)] == [f"n={i}" for i in range(18, 30)]
        first = requests.get(f"{emulator.base_url}/__admin/journal", timeout=10)
        assert len(first.content) <= 2000
        assert first.json()["next"] is not None
    finally:
        runner.stop()


def _head_limit_raised() -> dict[str, int]:
    """Where the server refuses large heads (431), the limit raised so that the journal sees
    the 10 MB header this attack sends."""
    names = {f.name for f in dataclasses.fields(CoreSettings)}
    raised = {"max_request_head_bytes": 32 * MB, "idle_timeout": 600}
    return {name: value for name, value in raised.items() if name in names}


@pytest.fixture
def attacked() -> Iterator[tuple[str, object]]:
    emulator = make_sample(**_head_limit_raised())
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    yield emulator.base_url, emulator
    runner.stop()


def _get_with_header(url: str, value: bytes) -> bytes:
    """GET /api/ping with ``X-Big: value`` over a raw socket (HTTP clients check each header
    with a regular expression, which takes seconds for 10 MB); the status line back."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=120) as conn:
        conn.sendall(b"GET /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ")
        conn.sendall(value + b"\r\n\r\n")
        return conn.makefile("rb").readline()


def test_ten_megabyte_headers_leave_a_small_journal(attacked: tuple[str, object]) -> None:
    url, emulator = attacked
    defaults = CoreSettings()
    big = b"x" * (10 * MB)
    for _ in range(8):
        assert b" 200 " in _get_with_header(url, big)
    journal = emulator.journal  # type: ignore[attr-defined]
    assert journal.bytes <= 8 * (defaults.journal_header_bytes + 1000)
    entries = ControlClient(url).journal()
    assert len(entries) == 8
    for entry in entries:
        assert entry["request"]["headersTruncated"] is True
        assert len(entry["request"]["headers"]["x-big"]) < defaults.journal_header_bytes
    raw = requests.get(f"{url}/__admin/journal", timeout=60).content
    assert len(raw) <= defaults.journal_page_bytes


def test_a_redactor_learns_an_entrys_secrets_before_any_is_shown() -> None:
    journal = _journal()
    journal.record("http", method="GET", path="/a", response_body=b"token is tok-123456789")
    journal.record(
        "http", method="GET", path="/b", request_headers=[("Authorization", "Bearer tok-123456789")]
    )
    text = journal.page(Query(), page_bytes=MB, redactor=Redactor()).decode()
    assert "tok-123456789" not in text
    assert "Bearer [redacted]" in text


@pytest.mark.parametrize(
    ("limits", "connections", "bodies"),
    [
        ({"size": 1000}, 7, [b"one"]),
        ({"size": 10}, 40, [b"devices", b"positions"]),
        ({"size": 11}, 40, [b"a", b"b", b"c"]),
        ({"size": 1000, "max_bytes": 5000, "body_limit": 600}, 30, [b"x" * 900, b"y"]),
        ({"size": 3}, 1, [b"a", b"b", b"c", b"d"]),
    ],
)
def test_entries_recorded_in_bulk_read_as_if_recorded_one_by_one(
    limits: dict[str, int], connections: int, bodies: list[bytes]
) -> None:
    """``record_each`` (a push's frames on many sockets) leaves the journal as ``record`` per
    socket and frame would: the same entries, ids, sizes and counts, bounds included."""
    bulk, single = _journal(**limits), _journal(**limits)
    for journal in (bulk, single):
        journal.record("http", method="GET", path="/before", response_body=b"z" * 100)
    ids = list(range(100, 100 + connections))
    bulk.record_each("ws-out", ids, [{"path": "/ws", "response_body": b} for b in bodies])
    for connection in ids:
        for body in bodies:
            single.record("ws-out", path="/ws", connection=connection, response_body=body)
    assert [dataclasses.astuple(e) for e in bulk.select()] == [
        dataclasses.astuple(e) for e in single.select()
    ]
    assert (bulk.recorded, bulk.bytes) == (single.recorded, single.bytes)
    # The journal goes on from the same id either way.
    assert bulk.record("ws-close", connection=1).id == single.record("ws-close", connection=1).id
