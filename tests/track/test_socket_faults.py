"""Socket faults on Track's ``/api/socket``, seen by a real websockets client: dropped, delayed
and duplicated frames, a close after M frames, a refused upgrade, and their journal entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from trackmock.control import ControlError
from trackmock.pytest_plugin import EmulatorHandle
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .helpers import INITIAL_KINDS, WAIT, frame, login, nothing_pushed, open_socket, socket_url

MakeEmulator = Callable[..., EmulatorHandle]


def kinds(ws: ClientConnection, count: int) -> list[str]:
    return [next(iter(frame(ws))) for _ in range(count)]


def socket_entries(track: EmulatorHandle, kind: str) -> list[dict[str, Any]]:
    return track.control.journal(kind=kind, path="/api/socket")


def fault_details(entries: list[dict[str, Any]]) -> list[str]:
    return [
        next((r["detail"] for r in e.get("rules", []) if r["rule"] == "fault"), "") for e in entries
    ]


def test_a_dropped_frame_never_reaches_the_client(track: EmulatorHandle) -> None:
    http = login(track)
    fault = track.socket_fault("drop", path="/api/socket", times=1)
    with open_socket(track, http, initial=False) as ws:
        assert kinds(ws, 3) == INITIAL_KINDS[1:]
        assert nothing_pushed(ws)
    sent = socket_entries(track, "ws-out")
    assert fault_details(sent) == [
        f"fault {fault['id']} (frame_drop): frame dropped (not sent)",
        "",
        "",
        "",
    ]
    assert sent[0]["note"] == f"frame_drop by fault {fault['id']}"
    assert track.control.faults() == []


def test_a_duplicated_frame_arrives_twice(track: EmulatorHandle) -> None:
    http = login(track)
    fault = track.socket_fault("duplicate", times=2)
    with open_socket(track, http, initial=False) as ws:
        assert kinds(ws, 6) == [
            "devices",
            "devices",
            "beacons",
            "beacons",
            "positions",
            "webSessionTimeout",
        ]
        assert nothing_pushed(ws)
    details = fault_details(socket_entries(track, "ws-out"))
    prefix = f"fault {fault['id']} (frame_duplicate): "
    assert details == [
        prefix + "frame sent twice",
        prefix + "the second copy",
        prefix + "frame sent twice",
        prefix + "the second copy",
        "",
        "",
    ]


def test_a_delayed_frame_holds_the_frames_after_it_in_order(track: EmulatorHandle) -> None:
    http = login(track)
    fault = track.socket_fault("delay", latency_min_ms=100, latency_max_ms=300, times=1)
    with open_socket(track, http, initial=False) as ws:
        # Every frame arrives, in the order sent: the later ones waited behind the delayed one.
        assert kinds(ws, 4) == INITIAL_KINDS
    first, *rest = fault_details(socket_entries(track, "ws-out"))
    assert first.startswith(f"fault {fault['id']} (frame_delay): waited ")
    waited = float(first.split("waited ")[1].split(" ms")[0])
    assert 100 <= waited <= 300
    assert rest == ["", "", ""]


def test_a_delay_in_the_middle_keeps_the_order_of_later_pushes(track: EmulatorHandle) -> None:
    http = login(track)
    with open_socket(track, http) as ws:
        fault = track.socket_fault("delay", latency_ms=200, times=1)
        first = track.control.call("POST", "positions", json={"deviceId": 794513675})
        second = track.control.call("POST", "positions", json={"deviceId": 794513675})
        # The first push's device frame is delayed; its position frame and the whole second
        # push wait behind it: nothing overtakes.
        got = [frame(ws) for _ in range(4)]
        assert [next(iter(f)) for f in got] == ["devices", "positions", "devices", "positions"]
        assert [got[1]["positions"][0]["id"], got[3]["positions"][0]["id"]] == [
            first["id"],
            second["id"],
        ]
        assert nothing_pushed(ws)
    details = fault_details(socket_entries(track, "ws-out"))[len(INITIAL_KINDS) :]
    assert details == [
        f"fault {fault['id']} (frame_delay): waited 200 ms; the frames after it wait behind it",
        "",
        "",
        "",
    ]


def test_a_socket_closes_with_the_code_after_m_frames(track: EmulatorHandle) -> None:
    http = login(track)
    fault = track.socket_fault("close", close_code=4001, after_frames=2, times=1)
    with open_socket(track, http, initial=False) as ws:
        assert kinds(ws, 2) == INITIAL_KINDS[:2]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001
    (close,) = socket_entries(track, "ws-close")
    assert close["status"] == 4001
    assert fault_details([close]) == [
        f"fault {fault['id']} (socket_close): closed with 4001 after 2 frame(s)"
    ]
    # Used up: the next socket gets its whole initial push.
    with open_socket(track, http) as ws:
        assert nothing_pushed(ws)


def test_a_close_counts_frames_from_when_it_is_set(track: EmulatorHandle) -> None:
    http = login(track)
    with open_socket(track, http) as ws:
        track.socket_fault("close", close_code=4002, after_frames=1)
        track.control.call("POST", "positions", json={"deviceId": 794513675})
        # The push is a devices frame then a positions frame: the first goes out, then the close.
        assert list(frame(ws)) == ["devices"]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4002


def test_a_close_after_no_frames_closes_a_new_socket_as_it_opens(track: EmulatorHandle) -> None:
    http = login(track)
    fault = track.socket_fault("close", close_code=3000, times=1)
    with open_socket(track, http, initial=False) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 3000
    assert socket_entries(track, "ws-out") == []
    (close,) = socket_entries(track, "ws-close")
    assert fault_details([close]) == [
        f"fault {fault['id']} (socket_close): closed with 3000 after 0 frame(s)"
    ]


def test_a_refused_upgrade_gets_the_status_then_the_next_one_opens(track: EmulatorHandle) -> None:
    http = login(track)
    cookie = {"Cookie": f"JSESSIONID={http.cookies.get('JSESSIONID', path='/api')}"}
    fault = track.socket_fault("refuse", status=502, headers={"Retry-After": "3"}, times=1)
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(track), additional_headers=cookie, open_timeout=WAIT)
    assert refused.value.response.status_code == 502
    assert refused.value.response.headers["Retry-After"] == "3"
    with open_socket(track, http):
        pass
    (entry,) = track.control.journal(kind="http", path="/api/socket")
    assert entry["status"] == 502
    assert entry["note"] == f"websocket upgrade refused by fault {fault['id']}"
    assert fault_details([entry]) == [
        f"fault {fault['id']} (upgrade_refuse): upgrade refused with 502"
    ]


def test_frame_fault_draws_repeat_with_the_same_seed(make_emulator: MakeEmulator) -> None:
    runs = []
    for _ in range(2):
        emulator = make_emulator("track", seed=21)
        http = login(emulator)
        emulator.socket_fault("drop", probability=0.5)
        for count in range(1, 4):
            with open_socket(emulator, http, initial=False) as ws:
                sent = _sent_frames(emulator, count * len(INITIAL_KINDS))
                through = [e for e in sent[-len(INITIAL_KINDS) :] if "note" not in e]
                # The client gets exactly the frames the journal says were not dropped.
                assert kinds(ws, len(through)) == [e["body"].split('"')[1] for e in through]
                assert nothing_pushed(ws)
        runs.append(fault_details(_sent_frames(emulator, 3 * len(INITIAL_KINDS))))
    assert runs[0] == runs[1], "the same seed drops the same frames"
    dropped = [detail for detail in runs[0] if detail]
    assert 0 < len(dropped) < len(runs[0]), "a probability of one half drops some, not all"


def _sent_frames(track: EmulatorHandle, count: int) -> list[dict[str, Any]]:
    """The journal's ``ws-out`` entries, once there are ``count`` of them (a hang guard)."""
    for _ in range(500):
        sent = socket_entries(track, "ws-out")
        if len(sent) >= count:
            return sent
    pytest.fail(f"fewer than {count} frames were sent")


def test_the_plugin_helper_passes_a_bad_definition_back(track: EmulatorHandle) -> None:
    with pytest.raises(ControlError, match=r"400.*close_code: 1006"):
        track.socket_fault("close", close_code=1006)
    with pytest.raises(ControlError, match=r"400.*probability"):
        track.fault("status", status=503, probability=2)
    assert track.control.faults() == []
    stored = track.fault("truncate", path="/api/devices", truncate_bytes=1, times=1)
    assert stored["remaining"] == 1
    devices = login(track).get(track.url_for("/api/devices"), timeout=10)
    assert (devices.status_code, devices.content) == (200, b"[")
