"""The socket (Track API guide 3 WebSocket): upgrade, initial push, changes, PING/pong,
webSessionTimeout."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
from collections.abc import Callable

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from .helpers import (
    ACCOUNT,
    WAIT,
    frame,
    login,
    nothing_pushed,
    open_socket,
    read_initial,
    session_id,
    socket_url,
)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MakeEmulator = Callable[..., EmulatorHandle]


def raw_upgrade(
    track: EmulatorHandle, key: str | None, cookie: str | None, version: str = "13"
) -> bytes:
    """Send a hand-written upgrade request; return the first bytes of the answer."""
    host, port = track.url.removeprefix("http://").split(":")
    lines = [
        "GET /api/socket HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: Upgrade",
        "Upgrade: websocket",
        f"Sec-WebSocket-Version: {version}",
    ]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if cookie:
        lines.append(f"Cookie: JSESSIONID={cookie}")
    with socket.create_connection((host, int(port)), timeout=WAIT) as raw:
        raw.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return raw.recv(65536)


@pytest.mark.behaviour("SF-02")
def test_an_upgrade_without_a_session_is_503(track: EmulatorHandle) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(track), open_timeout=WAIT)
    assert refused.value.response.status_code == 503
    with pytest.raises(InvalidStatus) as forged:
        connect(socket_url(track), additional_headers={"Cookie": "JSESSIONID=x"})
    assert forged.value.response.status_code == 503
    http = login(track)
    http.delete(track.url_for("/api/session"))
    with pytest.raises(InvalidStatus) as logged_out:
        connect(socket_url(track), additional_headers={"Cookie": f"JSESSIONID={session_id(http)}"})
    assert logged_out.value.response.status_code == 503


@pytest.mark.behaviour("SF-02")
def test_the_seed_32_byte_key_is_accepted(track: EmulatorHandle) -> None:
    http = login(track)
    seed_key = "Glqex2Dld1EaSqg/QK5BJ+9zdt9WbI5I6XndnZL24+4="
    assert len(base64.b64decode(seed_key)) == 32
    for key in (seed_key, base64.b64encode(os.urandom(32)).decode()):
        head = raw_upgrade(track, key, session_id(http))
        assert head.startswith(b"HTTP/1.1 101"), head[:200]
        assert b'{"devices":[' in head or b"Sec-WebSocket-Accept" in head
    assert raw_upgrade(track, seed_key, None).startswith(b"HTTP/1.1 503")


@pytest.mark.behaviour("SF-02")
def test_upgrades_that_are_not_rfc_6455_are_refused(track: EmulatorHandle) -> None:
    cookie = session_id(login(track))
    assert raw_upgrade(track, None, cookie).startswith(b"HTTP/1.1 400")
    wrong_version = raw_upgrade(track, "dGhlIHNhbXBsZSBub25jZQ==", cookie, version="12")
    assert wrong_version.startswith(b"HTTP/1.1 426")
    assert b"Sec-WebSocket-Version: 13" in wrong_version


@pytest.mark.behaviour("SF-02")
def test_a_plain_get_of_the_socket_is_400_with_a_session_and_503_without(
    track: EmulatorHandle,
) -> None:
    anonymous = requests.get(track.url_for("/api/socket"), timeout=10)
    assert anonymous.status_code == 503
    plain = login(track).get(track.url_for("/api/socket"), timeout=10)
    assert plain.status_code == 400
    assert plain.headers["Content-Type"].startswith("text/plain")
    assert "Upgrade" in plain.text


@pytest.mark.behaviour("SF-03", "SF-05", "SF-12")
def test_the_initial_push_holds_every_visible_device_beacon_and_latest_position(
    track: EmulatorHandle,
) -> None:
    http = login(track)
    with open_socket(track, http, initial=False) as ws:
        pushed = read_initial(ws)
    assert pushed["devices"] == http.get(track.url_for("/api/devices")).json()
    assert pushed["beacons"] == http.get(track.url_for("/api/beacons")).json()
    assert pushed["positions"] == http.get(track.url_for("/api/positions")).json()
    assert [p["id"] for p in pushed["positions"]] == [794513912]
    device = next(d for d in pushed["devices"] if d["name"] == "quickstart-guide-device-1")
    position = next(p for p in pushed["positions"] if p["id"] == device["positionId"])
    assert position["rssi"] == -64
    assert pushed["webSessionTimeout"] == [86400]


@pytest.mark.behaviour("SF-03")
def test_each_user_gets_only_what_they_see(track: EmulatorHandle) -> None:
    with open_socket(track, login(track, ACCOUNT), initial=False) as ws:
        pushed = read_initial(ws)
    assert sorted(d["id"] for d in pushed["devices"]) == [
        44969282,
        60031591,
        794524642,
        794524647,
    ]
    assert sorted(b["id"] for b in pushed["beacons"]) == [3921, 794524643]
    assert sorted(p["id"] for p in pushed["positions"]) == [67532839, 75864142, 794524664]


@pytest.mark.behaviour("SF-04", "SF-05", "SF-12")
def test_after_the_push_only_changes_come_one_kind_per_frame(track: EmulatorHandle) -> None:
    http = login(track)
    with open_socket(track, http) as ws:
        assert nothing_pushed(ws), "nothing without a change"
        reported = track.control.call(
            "POST", "positions", json={"deviceId": 794513675, "beaconId": 794513671, "rssi": -51}
        )
        device_frame, position_frame = frame(ws), frame(ws)
        assert list(device_frame) == ["devices"]
        assert [d["id"] for d in device_frame["devices"]] == [794513675]
        assert device_frame["devices"][0]["positionId"] == reported["id"]
        assert position_frame == {"positions": [reported]}
        assert position_frame["positions"][0]["rssi"] == -51
        beacon = http.get(track.url_for("/api/beacons")).json()[0]
        http.put(track.url_for(f"/api/beacons/{beacon['id']}"), json={**beacon, "name": "moved"})
        assert frame(ws) == {"beacons": [{**beacon, "name": "moved"}]}
        device = http.get(track.url_for("/api/devices")).json()[0]
        http.put(track.url_for(f"/api/devices/{device['id']}"), json={**device, "phone": "1"})
        assert frame(ws) == {"devices": [{**device, "phone": "1"}]}
        track.control.call("PUT", f"devices/{device['id']}", json={"status": "online"})
        assert frame(ws)["devices"][0]["status"] == "online"
        assert nothing_pushed(ws)


@pytest.mark.behaviour("SF-04")
def test_changes_reach_only_the_users_who_see_the_record(track: EmulatorHandle) -> None:
    track.control.call(
        "POST",
        "users",
        json={"email": "co@example.com", "password": "pw", "deviceIds": [794513675]},
    )
    with (
        open_socket(track, login(track)) as owner,
        open_socket(track, login(track, ("co@example.com", "pw"))) as colleague,
        open_socket(track, login(track, ACCOUNT)) as other,
    ):
        track.control.call("POST", "positions", json={"deviceId": 794513675})
        for ws in (owner, colleague):
            assert list(frame(ws)) == ["devices"]
            assert list(frame(ws)) == ["positions"]
        assert nothing_pushed(other)
        created = login(track, ACCOUNT).post(
            track.url_for("/api/devices"), json={"name": "new", "uniqueId": "new-1"}
        )
        assert created.status_code == 200
        assert nothing_pushed(owner)


@pytest.mark.behaviour("SF-04")
def test_a_device_created_through_rest_is_pushed_to_its_creator(track: EmulatorHandle) -> None:
    http = login(track)
    with open_socket(track, http) as ws:
        created = http.post(track.url_for("/api/devices"), json={"name": "n", "uniqueId": "u-1"})
        assert frame(ws) == {"devices": [created.json()]}
        beacon = http.post(
            track.url_for("/api/beacons"), json={"name": "b", "uuid": "aa", "major": 1, "minor": 2}
        )
        assert frame(ws) == {"beacons": [beacon.json()]}


@pytest.mark.behaviour("SF-06")
def test_a_ping_with_a_fresh_uuid4_comes_every_30_seconds_of_the_emulator_clock(
    track: EmulatorHandle,
) -> None:
    with open_socket(track, login(track)) as ws:
        track.clock.advance(29)
        assert nothing_pushed(ws)
        messages = []
        for _ in range(3):
            track.clock.advance(1 if not messages else 30)
            ping = frame(ws)
            (status,) = ping["status"]
            assert status["type"] == "PING"
            assert status["localeKey"] is None
            assert status["localeValues"] is None
            assert UUID4.match(status["message"])
            messages.append(status["message"])
            ws.send(f"pong {status['message']}")
        assert len(set(messages)) == 3, "every ping has a new UUID"


@pytest.mark.behaviour("SF-07", "SF-08")
def test_answered_pings_keep_the_socket_open(track: EmulatorHandle) -> None:
    with open_socket(track, login(track)) as ws:
        for _ in range(6):
            track.clock.advance(30)
            (status,) = frame(ws)["status"]
            ws.send(f"pong {status['message']}")
        track.control.call("POST", "positions", json={"deviceId": 794513675})
        assert list(frame(ws)) == ["devices"], "still open after six answered pings"
    pongs = track.control.journal(kind="ws-in")
    assert len(pongs) == 6
    assert all(re.match(r"^pong [0-9a-f-]{36}$", entry["body"]) for entry in pongs)


@pytest.mark.behaviour("SF-08")
def test_a_silent_client_is_closed_after_two_unanswered_pings(track: EmulatorHandle) -> None:
    with open_socket(track, login(track)) as ws:
        track.clock.advance(30)
        assert "status" in frame(ws)
        track.clock.advance(30)
        assert "status" in frame(ws)
        track.clock.advance(29)
        assert nothing_pushed(ws), "the grace lasts until the next ping is due"
        track.clock.advance(1)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000


@pytest.mark.behaviour("SF-07", "SF-08")
def test_a_pong_with_another_uuid_does_not_count(track: EmulatorHandle) -> None:
    with open_socket(track, login(track)) as ws:
        track.clock.advance(30)
        frame(ws)
        ws.send("pong 00000000-0000-4000-8000-000000000000")
        track.clock.advance(30)
        (status,) = frame(ws)["status"]
        ws.send(f"PONG {status['message']}")
        track.clock.advance(30)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=WAIT)


@pytest.mark.behaviour("SF-08")
def test_closing_for_missed_pings_can_be_turned_off(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator("track", track={"missed_pings_before_close": 0})
    with open_socket(emulator, login(emulator)) as ws:
        for _ in range(5):
            emulator.clock.advance(30)
            assert "status" in frame(ws)
        emulator.control.call("POST", "positions", json={"deviceId": 794513675})
        assert list(frame(ws)) == ["devices"]


@pytest.mark.behaviour("SF-06", "SF-08")
def test_ping_interval_and_grace_are_settings(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator(
        "track", track={"ping_interval": 5, "missed_pings_before_close": 1, "ping_close_code": 4000}
    )
    with open_socket(emulator, login(emulator)) as ws:
        emulator.clock.advance(5)
        assert "status" in frame(ws)
        emulator.clock.advance(5)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4000


@pytest.mark.behaviour("SF-09")
def test_web_session_timeout_is_shown_once_and_the_socket_outlives_the_session(
    track: EmulatorHandle,
) -> None:
    http = login(track)
    with open_socket(track, http, initial=False) as ws:
        kinds = [next(iter(frame(ws))) for _ in range(4)]
        assert kinds.count("webSessionTimeout") == 1
        for _ in range(3):  # more than a day, pings answered (a jump fires one ping)
            track.clock.advance(43200)
            (status,) = frame(ws)["status"]
            ws.send(f"pong {status['message']}")
        assert http.get(track.url_for("/api/devices")).status_code == 401, "the session ended"
        track.control.call("POST", "positions", json={"deviceId": 794513675})
        assert list(frame(ws)) == ["devices"], "the socket is still open and pushing"
        assert list(frame(ws)) == ["positions"]
        assert nothing_pushed(ws), "no second webSessionTimeout"


@pytest.mark.behaviour("SF-09")
def test_web_session_timeout_can_be_sent_when_the_session_expires(
    make_emulator: MakeEmulator,
) -> None:
    emulator = make_emulator(
        "track", track={"session_timeout_frame": "expiry", "session_timeout": 600}
    )
    http = login(emulator)
    with open_socket(emulator, http, initial=False) as ws:
        assert [next(iter(frame(ws))) for _ in range(3)] == ["devices", "beacons", "positions"]
        emulator.clock.advance(300)
        assert "status" in frame(ws)
        ws.send("garbage")
        assert http.get(emulator.url_for("/api/devices")).status_code == 200, "activity"
        emulator.clock.advance(599)
        (status,) = frame(ws)["status"]
        ws.send(f"pong {status['message']}")
        assert nothing_pushed(ws)
        emulator.clock.advance(1)
        assert frame(ws) == {"webSessionTimeout": [600]}
        emulator.clock.advance(1000)
        assert "status" in frame(ws)
        assert nothing_pushed(ws), "shown once"
    with open_socket(emulator, login(emulator), initial=False) as ws:
        for _ in range(3):
            frame(ws)
        emulator.control.call("POST", "sessions/expire")
        assert frame(ws) == {"webSessionTimeout": [600]}


@pytest.mark.behaviour("SF-04")
@pytest.mark.parametrize(
    "junk",
    ["", "pong", "pong not-a-uuid", "{", '{"status": 1}', "\x00\xff", "x" * 4096, "pong  a b"],
)
def test_unknown_or_malformed_client_frames_are_ignored_and_journaled(
    track: EmulatorHandle, junk: str
) -> None:
    with open_socket(track, login(track)) as ws:
        ws.send(junk)
        ws.send(junk.encode("utf-8", "replace"))
        track.control.call("POST", "positions", json={"deviceId": 794513675})
        assert list(frame(ws)) == ["devices"], "the socket still works"
        assert list(frame(ws)) == ["positions"]
    assert len(track.control.journal(kind="ws-in")) == 2


def test_reset_closes_open_sockets(track: EmulatorHandle) -> None:
    with open_socket(track, login(track)) as ws:
        track.control.reset()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012


def test_frames_are_documented_messages(track: EmulatorHandle) -> None:
    """Every frame sent in this test is checked against asyncapi.yaml by the emulator itself
    (``check_responses``); the ``track`` fixture fails the test on any violation, and the frame
    audit (which the plugin reads when the emulator stops) counts each frame the client got."""
    before = track.control.conformance()["frames"]
    with open_socket(track, login(track), initial=False) as ws:
        for _ in range(4):
            frame(ws)
        track.clock.advance(30)
        frame(ws)
    after = track.control.conformance()["frames"]
    assert {k: after[k] - before[k] for k in after} == {"sent": 5, "checked": 5, "failed": 0}
    sent = track.control.journal(kind="ws-out")
    assert {next(iter(json.loads(e["body"]))) for e in sent} == {
        "devices",
        "beacons",
        "positions",
        "webSessionTimeout",
        "status",
    }
    found = track.control.violations()
    assert (found["violations"], found["errors"]) == ([], [])


def test_a_logout_closes_the_sessions_sockets_and_ends_its_pushes(track: EmulatorHandle) -> None:
    other = login(track)
    http = login(track)
    with open_socket(track, http) as ws, open_socket(track, other) as stays:
        assert http.delete(track.url_for("/api/session")).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000
        track.control.call("PUT", "devices/794513675", json={"name": "after logout"})
        assert frame(stays)["devices"][0]["name"] == "after logout", "other sessions go on"
    socket_entries = track.control.journal(kind="ws-close")
    assert len(socket_entries) == 2


@pytest.mark.behaviour("SF-02")
def test_a_push_to_many_sockets_reaches_each_once_and_is_journaled_per_socket(
    track: EmulatorHandle,
) -> None:
    """A change fanned out to many sockets (written to all of them first, journaled and
    checked after: ``core/websocket.py`` ``fan_out``) reaches every socket once, in order,
    with the same bytes; the journal and the frame audit count each socket's frames."""
    count = 24
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(open_socket(track, login(track))) for _ in range(count)]
        before = track.control.conformance()["frames"]
        seen = {e["connection"] for e in track.control.journal(kind="ws-open")}
        for latitude in (49.91, 49.92):
            track.control.call(
                "POST", "positions", json={"deviceId": 794513675, "latitude": latitude}
            )
        texts = [[ws.recv(timeout=WAIT) for _ in range(4)] for ws in sockets]
        after = track.control.conformance()["frames"]
        sent = track.control.journal(kind="ws-out")
    assert all(got == texts[0] for got in texts), "every socket got the same frames"
    assert [next(iter(json.loads(text))) for text in texts[0]] == [
        "devices",
        "positions",
        "devices",
        "positions",
    ]
    assert [json.loads(text)["positions"][0]["latitude"] for text in texts[0][1::2]] == [
        49.91,
        49.92,
    ]
    assert {k: after[k] - before[k] for k in after} == {
        "sent": 4 * count,
        "checked": 4 * count,
        "failed": 0,
    }
    by_socket: dict[int, list[str]] = {}
    for entry in sent[-4 * count :]:
        by_socket.setdefault(entry["connection"], []).append(entry["body"])
    assert len(by_socket) == count
    assert set(by_socket) <= seen
    assert all(bodies == texts[0] for bodies in by_socket.values())
