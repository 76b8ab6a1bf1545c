"""Helpers of the Track tests: logins, sockets and the Track API guide's users
(fixtures/track/README.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from trackmock.pytest_plugin import EmulatorHandle
from websockets.sync.client import ClientConnection, connect

ACCOUNT = ("account@yourdomain.de", "9ejKJJAYKw3VCWev")
"""User 1: the 2020 records (Track API guide 3.2) and the quickstart guide's second run
(4.6 Reports, 4.7 Updating Entities)."""
API_USER = ("api-user@safectory.com", "Qs7vTrackApiUser")
"""User 2: the quickstart guide's first run (Track API guide 3.6 Retrieve Beacon RSSI, 4.2 to
4.5)."""

INITIAL_KINDS = ["devices", "beacons", "positions", "webSessionTimeout"]
WAIT = 5.0
"""Seconds to wait for a pushed frame (real time; the emulator's clock is frozen)."""


def login(track: EmulatorHandle, user: tuple[str, str] = API_USER) -> requests.Session:
    """A requests session logged in as ``user`` (its cookie jar holds JSESSIONID)."""
    http = requests.Session()
    answer = http.post(
        track.url_for("/api/session"), data={"email": user[0], "password": user[1]}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return http


def session_id(http: requests.Session) -> str:
    value = http.cookies.get("JSESSIONID", path="/api")
    assert value, "no JSESSIONID cookie"
    return str(value)


def socket_url(track: EmulatorHandle) -> str:
    return track.url.replace("http://", "ws://") + "/api/socket"


@contextmanager
def open_socket(
    track: EmulatorHandle, http: requests.Session, *, initial: bool = True
) -> Iterator[ClientConnection]:
    """A socket opened with the session's cookie; with ``initial`` its initial push is read."""
    with connect(
        socket_url(track),
        additional_headers={"Cookie": f"JSESSIONID={session_id(http)}"},
        open_timeout=WAIT,
        max_size=None,
    ) as ws:
        if initial:
            read_initial(ws)
        yield ws


def read_initial(ws: ClientConnection) -> dict[str, Any]:
    """The four frames of the initial push, by key (checking their order)."""
    frames = [frame(ws) for _ in INITIAL_KINDS]
    assert [next(iter(f)) for f in frames] == INITIAL_KINDS
    return {next(iter(f)): next(iter(f.values())) for f in frames}


def frame(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    """The next frame, decoded; checks it has one key (SF-05)."""
    text = ws.recv(timeout=timeout)
    assert isinstance(text, str), "frames are text frames"
    value = json.loads(text)
    assert isinstance(value, dict)
    assert len(value) == 1, f"a frame holds one kind: {text[:100]}"
    return value


def nothing_pushed(ws: ClientConnection, timeout: float = 0.3) -> bool:
    """True when no frame arrives within ``timeout`` real seconds."""
    try:
        ws.recv(timeout=timeout)
    except TimeoutError:
        return True
    return False


def admin(track: EmulatorHandle, method: str, path: str, json_body: Any = None) -> Any:
    return track.control.call(method, path, json=json_body)
