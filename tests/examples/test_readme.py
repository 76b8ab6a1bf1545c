"""The README's examples, run as tests."""

from __future__ import annotations

from trackmock.clients.trackops import TrackopsClient
from trackmock.pytest_plugin import EmulatorHandle


def test_acme_is_a_client(trackops: EmulatorHandle) -> None:
    user = trackops.credentials["username"].removesuffix("/token")
    client = TrackopsClient(
        trackops.url,
        user,
        trackops.credentials["password"],
        ca_cert=trackops.ca_cert,
        clock=trackops.clock,  # its 1 request/s waits advance emulated time
    )
    found = list(client.iterate("clients", name="ACME Insurance"))
    assert [c["name"] for c in found] == ["ACME Insurance"]


def test_control_api_moves_the_clock_and_faults_a_path(tracker: EmulatorHandle) -> None:
    before = tracker.clock.now()
    assert tracker.clock.advance(30) == before + 30
    tracker.control.add_fault(action="status", status=503, path="/api/tags", times=1)
    assert tracker.control.faults()[0]["remaining"] == 1
