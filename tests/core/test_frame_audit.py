"""The frame audit: every socket frame that leaves an emulator is counted apart from its check,
so the plugin can prove at the end of a session that each one was a documented message."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from trackmock.control import ControlClient
from trackmock.core.conformance import FrameAudit, MessageCatalog, check_frame
from trackmock.core.contracts import Contract
from trackmock.core.emulator import Emulator
from trackmock.pytest_plugin import FrameAuditFailed, FrameLedger, _fail_on
from websockets.sync.client import connect


@pytest.fixture
def feed(sample: Emulator) -> Any:
    url = sample.base_url.replace("http://", "ws://") + "/api/feed"
    with connect(url, additional_headers={"Cookie": "sid=1"}, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5)) == {"tick": 0}
        yield ws


def the_socket(sample: Emulator) -> Any:
    (connection,) = sample.open_sockets
    return connection


def test_every_frame_sent_is_counted_and_checked(sample: Emulator, feed: Any) -> None:
    for text in ("one", "two"):
        feed.send(text)
        assert json.loads(feed.recv(timeout=5)) == {"echo": text}
    audit = ControlClient(sample.base_url).conformance()
    assert audit == {"checking": True, "frames": {"sent": 3, "checked": 3, "failed": 0}}


def test_an_undocumented_frame_is_counted_as_failed(sample: Emulator, feed: Any) -> None:
    the_socket(sample).push({"bogus": 1})
    assert json.loads(feed.recv(timeout=5)) == {"bogus": 1}
    assert sample.frame_audit == FrameAudit(sent=2, checked=2, failed=1)
    assert "Received an undocumented message" in sample.violations[0]["message"]


def test_a_frame_sent_around_the_check_shows_as_sent_but_not_checked(
    sample: Emulator, feed: Any
) -> None:
    connection = the_socket(sample)
    # A code path that writes to the socket without ``send_text`` (and so without the check).
    raw = connection._send({"type": "websocket.send", "text": '{"tick": 99}'})
    asyncio.run_coroutine_threadsafe(raw, connection._loop).result(5)
    assert json.loads(feed.recv(timeout=5)) == {"tick": 99}
    assert sample.frame_audit == FrameAudit(sent=2, checked=1, failed=0)
    assert sample.frame_audit.problems() == [
        "Received 2 socket frames sent / Documented: 1 checked against the AsyncAPI messages"
    ]


def test_a_reset_keeps_the_counts(sample: Emulator, feed: Any) -> None:
    ControlClient(sample.base_url).reset()  # reloads two widgets, each pushed to the socket
    assert [json.loads(feed.recv(timeout=5)) for _ in range(2)] == [
        {"echo": "created 1"},
        {"echo": "created 2"},
    ]
    assert sample.frame_audit == FrameAudit(sent=3, checked=3, failed=0)


class _Control:
    def __init__(self, frames: dict[str, int] | Exception) -> None:
        self.frames = frames

    def conformance(self) -> dict[str, Any]:
        if isinstance(self.frames, Exception):
            raise self.frames
        return {"checking": True, "frames": self.frames}


class _Handle:
    vendor = "track"

    def __init__(self, url: str, frames: dict[str, int] | Exception) -> None:
        self.url = url
        self.control = _Control(frames)

    def take_violations(self) -> list[str]:
        return []


def test_the_ledger_fails_on_unchecked_failed_unreadable_or_unaudited_emulators() -> None:
    ledger = FrameLedger()
    handles = {
        "good": _Handle("http://a", {"sent": 5, "checked": 5, "failed": 0}),
        "unchecked": _Handle("http://b", {"sent": 5, "checked": 4, "failed": 0}),
        "failed": _Handle("http://c", {"sent": 5, "checked": 5, "failed": 1}),
        "dead": _Handle("http://d", ConnectionError("refused")),
        "forgotten": _Handle("http://e", {"sent": 0, "checked": 0, "failed": 0}),
    }
    for name, handle in handles.items():
        ledger.register(handle, name)  # type: ignore[arg-type]
    assert ledger.close(handles["good"]) == []  # type: ignore[arg-type]
    for name in ("unchecked", "failed", "dead"):
        assert ledger.close(handles[name])  # type: ignore[arg-type]
    problems = ledger.problems()
    assert [p.split(": ", 1)[0] for p in problems] == [
        "the track emulator at http://b (unchecked)",
        "the track emulator at http://c (failed)",
        "the track emulator at http://d (dead)",
        "the track emulator at http://e (forgotten)",
    ]
    assert problems[-1].endswith("never audited")
    assert ledger.totals() == {"sent": 15, "checked": 14, "failed": 1}
    with pytest.raises(FrameAuditFailed, match="could not be read: refused"):
        _fail_on(problems)


def test_a_frame_must_be_a_message_the_server_documents_sending() -> None:
    contract = Contract.from_dict(
        {
            "asyncapi": "3.0.0",
            "channels": {"feed": {"messages": {"tick": {"$ref": "#/components/messages/tick"}}}},
            "operations": {
                "sendTick": {
                    "action": "send",
                    "channel": {"$ref": "#/channels/feed"},
                    "messages": [{"$ref": "#/channels/feed/messages/tick"}],
                },
                "receivePong": {"action": "receive", "channel": {"$ref": "#/channels/feed"}},
            },
            "components": {
                "messages": {
                    "tick": {"payload": {"type": "object", "required": ["tick"]}},
                    "pong": {"payload": {"type": "string", "pattern": "^pong "}},
                }
            },
        },
        uri="file:///sample/asyncapi.yaml",
    )
    catalog = MessageCatalog(contract)
    assert catalog.sent == ["tick"]
    assert check_frame(catalog, '{"tick": 1}') == []
    (problem,) = check_frame(catalog, "pong 1")  # a client's message, never the server's
    assert "Received an undocumented message / Documented: tick:" in problem
