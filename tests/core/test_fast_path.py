"""The server's fast path and the full (ASGI) path give byte-identical answers.

Two emulators of each vendor with the same settings (frozen clock, checks on), one served with
the fast path and one without, get the same recorded mix of requests: hot GETs, refusals,
HEAD, control calls, and writes that invalidate the cached encodings, then the GETs again.
Every answer must match in status, headers (in order) and body; only ``date`` is the wall
clock's. The journal, read at the end, must match too.
"""

from __future__ import annotations

import base64
import http.client
from collections.abc import Iterator
from typing import Any

import pytest
from trackmock.core.asgi import EmulatorAsgi
from trackmock.core.emulator import Emulator
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings
from trackmock.core.wire import Request, Response
from trackmock.vendors import create_emulator

START = "2025-02-21T10:00:00Z"
Step = tuple[str, str, dict[str, str], bytes]
Answer = tuple[int, list[tuple[str, str]], bytes]


class CountingAsgi(EmulatorAsgi):
    """Counts the requests answered on the fast path, to prove it was taken."""

    fast_answers = 0

    def respond(self, request: Request) -> Response | None:
        answer = super().respond(request)
        if answer is not None:
            self.fast_answers += 1
        return answer


def _make(vendor: str) -> Emulator:
    core = CoreSettings(clock_frozen=True, clock_start=START, check_responses=True)
    section = {"plain_http": True} if vendor == "trackops" else {}
    return create_emulator(vendor, core, section)


@pytest.fixture
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Emulator, Emulator, CountingAsgi]]:
    vendor = request.param
    fast, full = _make(vendor), _make(vendor)
    fast_app = CountingAsgi(fast)
    runner = BackgroundRunner(
        [
            Listener(fast, app=fast_app),
            Listener(full, app=EmulatorAsgi(full, fast_path=False)),
        ]
    )
    runner.start()
    yield fast, full, fast_app
    runner.stop()


def _exchange(emulator: Emulator, step: Step) -> Answer:
    method, path, headers, body = step
    host, port = emulator.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        # The same Host for both, so that the journals (which keep it) match too.
        connection.request(
            method, path, body=body or None, headers={"Host": "localhost", **headers}
        )
        answer = connection.getresponse()
        payload = answer.read()
        kept = [(k.lower(), v) for k, v in answer.getheaders() if k.lower() != "date"]
        return answer.status, kept, payload
    finally:
        connection.close()


JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def _mix(vendor: str, credentials: dict[str, Any]) -> list[Step]:
    advance = ("POST", "/__admin/clock", JSON, b'{"advance": 61}')
    if vendor == "tracker":
        auth = {
            "Authorization": f"Bearer {credentials['token']}",
            "OrganizationId": str(credentials["organizationId"]),
            "OfficeId": str(credentials["officeId"]),
            "StaticToken": "true",
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        reads: list[Step] = [
            ("GET", "/api/cases/getByNumber?value=2018-0521-01", auth, b""),
            ("GET", "/api/cases/getByNumber?value=2018-0521-01", auth, b""),
            ("GET", "/api/items/seqOrgItemHistoryId/1", auth, b""),
            ("HEAD", "/api/items/seqOrgItemHistoryId/1", auth, b""),
            ("GET", "/api/items/seqOrgItemHistoryId/999999", auth, b""),
            ("GET", "/api/cases/getByNumber", auth, b""),
            ("GET", "/api/cases/getByNumber?value=2018-0521-01", {}, b""),
            ("DELETE", "/api/items/seqOrgItemHistoryId/1", auth, b""),
            ("GET", "/api/nowhere", auth, b""),
            advance,
        ]
        item = b'{"item": {"primaryCaseId": 2933671, "description": "Knife"}}'
        writes: list[Step] = [("POST", "/__admin/items", JSON, item), advance]
    elif vendor == "trackops":
        pair = f"{credentials['username']}:{credentials['password']}".encode()
        auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        one = ("POST", "/__admin/clock", JSON, b'{"advance": 1}')
        reads = [
            ("GET", "/api/v1/clients", auth, b""),
            ("GET", "/api/v1/clients", auth, b""),
            one,
            ("GET", "/api/v1/case/updates?per_page=2&page=2", auth, b""),
            one,
            ("GET", "/api/v1/clients?per_page=abc", auth, b""),
            one,
            ("HEAD", "/api/v1/clients", auth, b""),
            one,
            ("GET", "/api/v1/clients", {"Authorization": "Basic eDp5"}, b""),
            ("GET", "/api/v1/nowhere", auth, b""),
            one,
        ]
        record = b'{"name": "Fast Path Ltd"}'
        writes = [("POST", "/__admin/trackops/records/clients", JSON, record), one]
    else:
        pair = f"{credentials['email']}:{credentials['password']}".encode()
        auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        reads = [
            ("GET", "/api/devices", auth, b""),
            ("GET", "/api/positions", auth, b""),
            ("GET", "/api/positions?deviceId=44969282", auth, b""),
            ("GET", "/api/beacons", {**auth, "Accept": "text/csv"}, b""),
            ("HEAD", "/api/devices", auth, b""),
            ("GET", "/api/devices", {}, b""),
            ("GET", "/api/socket", auth, b""),
            ("GET", "/api/nowhere", auth, b""),
        ]
        position = b'{"deviceId": 44969282, "latitude": 49.95, "longitude": 10.88}'
        writes = [("POST", "/__admin/positions", JSON, position)]
    journal = ("GET", "/__admin/journal?limit=50", {}, b"")
    return [*reads, *writes, *reads, journal]


@pytest.mark.parametrize("pair", ["tracker", "trackops", "track"], indirect=True)
def test_fast_and_full_paths_answer_byte_for_byte_alike(
    pair: tuple[Emulator, Emulator, CountingAsgi],
) -> None:
    fast, full, fast_app = pair
    steps = _mix(fast.name, fast.credentials())
    for step in steps:
        assert _exchange(fast, step) == _exchange(full, step), step[:2]
    assert fast_app.fast_answers >= len(steps) // 3, "the fast path was not taken"
    assert list(fast.violations) == list(full.violations) == []
    assert list(fast.handler_errors) == list(full.handler_errors) == []
