"""The README's fault example, run as a test, with what a client then sees."""

from __future__ import annotations

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle
from websockets.exceptions import ConnectionClosed

from ..track.helpers import WAIT, frame, login, open_socket


def test_my_sync_survives_a_503_and_a_lost_frame(
    trackmock_tracker: EmulatorHandle, trackmock_track: EmulatorHandle
) -> None:
    trackmock_tracker.fault("status", status=503, path="/api/cases", times=1)
    trackmock_tracker.fault("truncate", path="/api/cases/*", probability=0.2)
    trackmock_track.socket_fault("drop", times=1)
    trackmock_track.socket_fault("close", close_code=4000, after_frames=3)

    assert requests.post(trackmock_tracker.url_for("/api/cases"), timeout=10).status_code == 503
    with open_socket(trackmock_track, login(trackmock_track), initial=False) as ws:
        # The first frame is dropped; the close fault counts the three frames it let through.
        assert [next(iter(frame(ws))) for _ in range(3)] == [
            "beacons",
            "positions",
            "webSessionTimeout",
        ]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4000
