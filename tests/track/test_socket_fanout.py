"""A change pushed to many sockets (``core/websocket.py`` ``fan_out``), seen on the wire: one
encoding per push, one write per socket, byte-identical frames everywhere, and nothing lost
on the way: every socket's frames journaled and counted, faults and the send bound still
acting on each socket alone.

The emulator runs in this process (``BackgroundRunner``) so that the server's writes can be
counted; its clients are raw sockets that read the server's frames byte for byte.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
import requests
from trackmock.core import websocket
from trackmock.core.emulator import Emulator
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings
from trackmock.core.wschannel import WebSocketChannel
from trackmock.vendors import create_emulator

from ..polling import until
from .helpers import API_USER, INITIAL_KINDS

DEVICE = 794513675
"""A device API_USER sees (fixtures/track/README.md)."""
SOCKETS = 8
GUARD = 20.0
"""Seconds any read may take before the test is declared hung."""


@pytest.fixture
def track() -> Iterator[Emulator]:
    core = CoreSettings(clock_frozen=True, clock_start="2026-01-05T09:00:00Z", check_responses=True)
    emulator = create_emulator("track", core, {})
    with BackgroundRunner([Listener(emulator)]):
        yield emulator


class RawSocket:
    """A WebSocket client that keeps the server's frames as the bytes that came."""

    def __init__(self, emulator: Emulator, cookie: str) -> None:
        host, port = emulator.base_url.removeprefix("http://").split(":")
        self.conn = socket.create_connection((host, int(port)), timeout=GUARD)
        key = base64.b64encode(os.urandom(16)).decode()
        self.conn.sendall(
            (
                f"GET /api/socket HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\n"
                f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
                f"Cookie: JSESSIONID={cookie}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101 "), head

    def _recv(self) -> bytes:
        chunk = self.conn.recv(65536)
        assert chunk, "the server closed the socket"
        return chunk

    def frame(self) -> tuple[int, bytes, bytes]:
        """The next frame: its opcode, payload and every byte of it as sent."""
        while True:
            size, start = (self.buffer[1] & 0x7F, 2) if len(self.buffer) >= 2 else (0, 99)
            if size == 126:  # the frames here are shorter than 65 536 bytes
                size, start = int.from_bytes(self.buffer[2:4], "big"), 4
            if len(self.buffer) >= start + size:
                whole, self.buffer = self.buffer[: start + size], self.buffer[start + size :]
                return whole[0] & 0x0F, whole[start:], whole
            self.buffer += self._recv()

    def texts(self, count: int) -> list[bytes]:
        """The next ``count`` frames, as sent (checking they are text frames)."""
        frames = [self.frame() for _ in range(count)]
        assert all(opcode == 0x1 for opcode, _, _ in frames)
        return [whole for _, _, whole in frames]


@contextmanager
def open_sockets(emulator: Emulator, count: int) -> Iterator[list[RawSocket]]:
    """``count`` sockets of one user, each past its initial push."""
    login = requests.post(
        emulator.base_url + "/api/session",
        data={"email": API_USER[0], "password": API_USER[1]},
        timeout=GUARD,
    )
    assert login.status_code == 200, login.text
    cookie = login.cookies["JSESSIONID"]
    with ExitStack() as stack:
        sockets = []
        for _ in range(count):
            raw = RawSocket(emulator, cookie)
            stack.callback(raw.conn.close)
            raw.texts(len(INITIAL_KINDS))
            sockets.append(raw)
        until(lambda: len(emulator.open_sockets) == count, "every socket to be open")
        # The server counts a frame after writing it: the initial pushes' counts are done.
        audit = emulator.frame_audit
        until(lambda: audit.sent == audit.checked == 4 * count, "the initial frames' checks")
        yield sockets


def push_position(emulator: Emulator, latitude: float) -> None:
    answer = requests.post(
        emulator.base_url + "/__admin/positions",
        json={"deviceId": DEVICE, "latitude": latitude, "longitude": 10.88},
        timeout=GUARD,
    )
    assert answer.status_code < 300, answer.text


def payload(whole: bytes) -> dict[str, Any]:
    value = json.loads(whole[2:] if whole[1] < 126 else whole[4:])
    assert isinstance(value, dict)
    return value


@contextmanager
def counted_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[Any]]]:
    """Every ``write_frames`` of the server (socket id, bytes) and every encoding it made."""
    seen: dict[str, list[Any]] = {"writes": [], "encodings": []}
    write, encode = WebSocketChannel.write_frames, websocket.encode_text_frames

    def write_frames(channel: WebSocketChannel, wire: bytes) -> None:
        seen["writes"].append((id(channel), wire))
        write(channel, wire)

    def encode_text_frames(texts: Any) -> bytes:
        seen["encodings"].append(tuple(texts))
        return encode(texts)

    monkeypatch.setattr(WebSocketChannel, "write_frames", write_frames)
    monkeypatch.setattr(websocket, "encode_text_frames", encode_text_frames)
    yield seen


@pytest.mark.behaviour("SF-02", "SF-04")
def test_a_push_is_encoded_once_and_written_once_per_socket_byte_identical(
    track: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_sockets(track, SOCKETS) as sockets:
        audit_before = track.frame_audit.to_json()
        last_entry = track.journal.recorded
        with counted_writes(monkeypatch) as seen:
            push_position(track, 49.93)
            got = [raw.texts(2) for raw in sockets]
    assert all(frames == got[0] for frames in got), "every socket got the same bytes"
    assert [next(iter(payload(whole))) for whole in got[0]] == ["devices", "positions"]
    assert payload(got[0][1])["positions"][0]["latitude"] == 49.93
    # One encoding for the push, one write per socket, of that very encoding.
    assert len(seen["encodings"]) == 1
    assert len(seen["writes"]) == SOCKETS
    assert len({channel for channel, _ in seen["writes"]}) == SOCKETS
    wire = seen["writes"][0][1]
    assert all(sent is wire for _, sent in seen["writes"])
    assert wire == got[0][0] + got[0][1]
    # The journal has each socket's two frames, in order; the audit counts them all.
    entries = [e for e in track.journal.select() if e.id > last_entry and e.kind == "ws-out"]
    by_socket: dict[int | None, list[bytes]] = {}
    for entry in entries:
        by_socket.setdefault(entry.connection, []).append(entry.response_body)
    assert len(by_socket) == SOCKETS
    assert {tuple(bodies) for bodies in by_socket.values()} == {
        tuple(payload_bytes(whole) for whole in got[0])
    }
    after = track.frame_audit.to_json()
    assert {k: after[k] - audit_before[k] for k in after} == {
        "sent": 2 * SOCKETS,
        "checked": 2 * SOCKETS,
        "failed": 0,
    }


def payload_bytes(whole: bytes) -> bytes:
    return whole[2:] if whole[1] < 126 else whole[4:]


def test_frame_faults_act_on_each_socket_alone_in_a_fan_out(
    track: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_sockets(track, 3) as sockets:
        drop = track.faults.add({"action": "frame_drop", "path": "/api/socket", "times": 1})
        push_position(track, 49.94)
        dropped = [e for e in track.journal.select() if e.note == f"frame_drop by fault {drop.id}"]
        assert len(dropped) == 1
        assert json.loads(dropped[0].response_body).keys() == {"devices"}
        loser = client_of(track, sockets, dropped[0].connection)
        # That socket alone lost that frame (the first one the fault met); the others got both.
        kinds = {
            raw: [next(iter(payload(whole))) for whole in raw.texts(1 if raw is loser else 2)]
            for raw in sockets
        }
        assert kinds == {
            raw: ["positions"] if raw is loser else ["devices", "positions"] for raw in sockets
        }
        # The fault used up, the next push goes the shared way again, to every socket.
        with counted_writes(monkeypatch) as seen:
            push_position(track, 49.95)
            got = [raw.texts(2) for raw in sockets]
        assert all(frames == got[0] for frames in got)
        assert len(seen["encodings"]) == 1
        assert len(seen["writes"]) == 3


@pytest.mark.behaviour("SF-04")
def test_a_socket_too_far_behind_is_closed_with_1008_and_the_others_get_the_push(
    track: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_sockets(track, 3) as sockets:
        behind = max(track.open_sockets, key=lambda connection: connection.id)
        limit = track.settings.socket_send_buffer_bytes
        # As if its client had left more than the bound unread (test_hardening fills real
        # buffers for the same bound).
        stuck = client_of(track, sockets, behind.id)
        monkeypatch.setattr(behind._channel, "buffered", lambda: limit + 1)
        push_position(track, 49.96)
        opcode, body, _ = stuck.frame()
        assert (opcode, int.from_bytes(body[:2], "big")) == (0x8, 1008), "a close, not the push"
        for raw in sockets:
            if raw is not stuck:
                assert [next(iter(payload(w))) for w in raw.texts(2)] == ["devices", "positions"]
    entries = [e for e in track.journal.select() if e.kind == "ws-close" and e.status == 1008]
    assert [e.connection for e in entries] == [behind.id]
    assert "bytes behind" in entries[0].note


def client_of(emulator: Emulator, sockets: list[RawSocket], connection_id: int | None) -> RawSocket:
    """Our client of the server's open socket ``connection_id`` (matched by port)."""
    connection = next(c for c in emulator.open_sockets if c.id == connection_id)
    port = connection._channel.transport.get_extra_info("peername")[1]
    return next(raw for raw in sockets if raw.conn.getsockname()[1] == port)
