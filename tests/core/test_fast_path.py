"""The server's fast path and the full (ASGI) path give byte-identical answers.

Two emulators of each vendor with the same settings (frozen clock, checks on), one served with
the fast path and one without, get the same recorded mix of requests: hot GETs, refusals,
HEAD, control calls, and writes that invalidate the cached encodings, then the GETs again.
Every answer must match in status, headers (in order) and body; only ``date`` is the wall
clock's. The journal, read at the end, must match too. The mixes cover each vendor's refusals
(authentication, Trackops' 1 request/s rule with ``Retry-After``, Tracker's polling warnings,
disabled accounts and exhausted licenses), unmatched paths, HEAD, query parameter errors and
numbers too long to convert; the fast path's pieces (routing table, request view) are held
against werkzeug's own.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from trackmock.core import asgi as asgi_module
from trackmock.core import request_view, routing
from trackmock.core.asgi import EmulatorAsgi
from trackmock.core.emulator import Emulator, Reply
from trackmock.core.errors import HttpError
from trackmock.core.request_view import RequestView
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings
from trackmock.core.store import Table
from trackmock.core.wire import Request, Response
from trackmock.trackops import collections as trackops_collections
from trackmock.trackops import errors as trackops_errors
from trackmock.trackops import rules as trackops_rules
from trackmock.vendors import create_emulator
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request as WerkzeugRequest

from ..tracker.helpers import tracker_headers

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


Served = tuple[Emulator, Emulator, CountingAsgi]
"""The emulator served with the fast path, its twin without, and the fast one's app."""


def _make(vendor: str, section: dict[str, Any] | None = None) -> Emulator:
    core = CoreSettings(clock_frozen=True, clock_start=START, check_responses=True)
    section = {**({"plain_http": True} if vendor == "trackops" else {}), **(section or {})}
    return create_emulator(vendor, core, section)


@contextmanager
def _serving(
    vendor: str, section: dict[str, Any]
) -> Iterator[tuple[Emulator, Emulator, CountingAsgi]]:
    fast, full = _make(vendor, section), _make(vendor, section)
    fast_app = CountingAsgi(fast)
    runner = BackgroundRunner(
        [
            Listener(fast, app=fast_app),
            Listener(full, app=EmulatorAsgi(full, fast_path=False)),
        ]
    )
    runner.start()
    try:
        yield fast, full, fast_app
    finally:
        runner.stop()


@pytest.fixture
def pair(request: pytest.FixtureRequest) -> Iterator[Served]:
    vendor, section = request.param if isinstance(request.param, tuple) else (request.param, {})
    with _serving(vendor, section) as served:
        yield served


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


POOLED_TOKEN = "b7d2e4f6-1a3c-4b5d-8e9f-0a1b2c3d4e5f"
"""The fixtures' Tracker user without a reserved license (Mike Singleton, office 1)."""
POOLED_OFFICE = "1"
HUGE = "9" * 5000
"""More digits than Python converts to an integer (``sys.get_int_max_str_digits``)."""


def _mix(vendor: str, credentials: dict[str, Any]) -> list[Step]:
    advance = ("POST", "/__admin/clock", JSON, b'{"advance": 61}')
    if vendor == "tracker":
        auth = tracker_headers(credentials)
        reads: list[Step] = [
            ("GET", "/api/cases/getByNumber?value=2018-0521-01", auth, b""),
            ("GET", "/api/cases/getByNumber?value=2018-0521-01", auth, b""),
            ("GET", "/api/items/seqOrgItemHistoryId/1", auth, b""),
            ("HEAD", "/api/items/seqOrgItemHistoryId/1", auth, b""),
            ("GET", "/api/items/seqOrgItemHistoryId/999999", auth, b""),
            ("GET", f"/api/items/seqOrgItemHistoryId/{HUGE}", auth, b""),
            ("GET", "/api/items/seqOrgItemHistoryId/-1", auth, b""),
            ("GET", "/api/cases/getByNumber", auth, b""),
            ("GET", "/api/cases/getByNumber?value=2018-0521-01", {}, b""),
            ("GET", "/api/cases/getByNumber?value=x", {**auth, "StaticToken": "no"}, b""),
            ("GET", "/api/cases/getByNumber?value=y", {**auth, "OfficeId": "abc"}, b""),
            ("GET", "/api/cases/getByNumber?value=z", {**auth, "Accept": "text/html"}, b""),
            ("DELETE", "/api/items/seqOrgItemHistoryId/1", auth, b""),
            ("GET", "/api/nowhere", auth, b""),
            ("GET", "/api/items/seqOrgItemHistoryId/1/", auth, b""),
            ("GET", "/__admin/tokens", {}, b""),
            ("GET", "/__admin/licenses", {}, b""),
            advance,
        ]
        item = b'{"item": {"primaryCaseId": 2933671, "description": "Knife"}}'
        writes: list[Step] = [("POST", "/__admin/items", JSON, item), advance]
        # A user without a reserved license finds none left (TR-06).
        pooled = {**auth, "Authorization": f"Bearer {POOLED_TOKEN}", "OfficeId": POOLED_OFFICE}
        exhausted = ("PUT", "/__admin/licenses", JSON, b'{"licenseCount": 0}')
        after = [
            ("GET", "/api/items/seqOrgItemHistoryId/1", pooled, b""),
            exhausted,
            ("GET", "/api/items/seqOrgItemHistoryId/2", pooled, b""),
            ("GET", "/api/items/seqOrgItemHistoryId/2", auth, b""),
        ]
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
            ("GET", f"/api/v1/clients?per_page={HUGE}", auth, b""),
            one,
            ("GET", "/api/v1/clients?per_page=2&per_page=3", auth, b""),
            one,
            ("HEAD", "/api/v1/clients", auth, b""),
            one,
            ("GET", "/api/v1/clients", {"Authorization": "Basic eDp5"}, b""),
            ("GET", "/api/v1/clients", {}, b""),
            ("GET", "/api/v1/nowhere", auth, b""),
            one,
        ]
        record = b'{"name": "Fast Path Ltd"}'
        update = b'{"casefile_id": 1, "access_group_id": 1, "content": "fast path"}'
        writes = [
            ("POST", "/__admin/trackops/records/clients", JSON, record),
            one,
            ("POST", "/api/v1/case/updates", {**auth, **JSON}, update),
            one,
        ]
        after = []
    else:
        pair = f"{credentials['email']}:{credentials['password']}".encode()
        auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        reads = [
            ("GET", "/api/devices", auth, b""),
            ("GET", "/api/positions", auth, b""),
            ("GET", "/api/positions?deviceId=44969282", auth, b""),
            ("GET", f"/api/positions?deviceId={HUGE}", auth, b""),
            ("GET", "/api/positions?deviceId=abc", auth, b""),
            ("GET", "/api/devices?id=1&id=2", auth, b""),
            ("GET", "/api/beacons", {**auth, "Accept": "text/csv"}, b""),
            ("HEAD", "/api/devices", auth, b""),
            ("GET", "/api/devices", {}, b""),
            ("GET", "/api/devices", {"Authorization": "Basic eDp5"}, b""),
            ("GET", "/api/devices", {"Cookie": "JSESSIONID=nope"}, b""),
            ("GET", "/api/socket", auth, b""),
            ("GET", "/api/nowhere", auth, b""),
        ]
        position = b'{"deviceId": 44969282, "latitude": 49.95, "longitude": 10.88}'
        writes = [("POST", "/__admin/positions", JSON, position)]
        after = []
    journal = ("GET", "/__admin/journal?limit=50", {}, b"")
    return [*reads, *writes, *reads, *after, journal]


# Which statuses each vendor's mix must meet (so that it covers what it claims to).
COVERED = {
    "tracker": {200, 400, 401, 403, 404, 405},
    "trackops": {200, 400, 401, 404, 429},
    "track": {200, 400, 401, 404},
}


def _compare(fast: Emulator, full: Emulator, steps: list[Step]) -> list[Answer]:
    answers = []
    for step in steps:
        answer = _exchange(fast, step)
        assert answer == _exchange(full, step), step[:2]
        answers.append(answer)
    assert list(fast.violations) == list(full.violations)
    # An error's traceback names the frames of its way in; where and what are the same.
    errors = [(e.splitlines()[0], e.splitlines()[-1]) for e in fast.handler_errors]
    assert errors == [(e.splitlines()[0], e.splitlines()[-1]) for e in full.handler_errors]
    return answers


def _routed(emulator: Emulator, steps: list[Step]) -> int:
    """How many steps the fast path must take: bodiless, to a path an operation serves."""
    table = emulator.route_table
    return sum(
        1 for method, path, _, body in steps
        if not body and table.match(method, path.partition("?")[0]) is not None
    )  # fmt: skip


@pytest.mark.behaviour("TR-06", "TR-07", "TO-04", "TO-05")
@pytest.mark.parametrize("pair", ["tracker", "trackops", "track"], indirect=True)
def test_fast_and_full_paths_answer_byte_for_byte_alike(
    pair: Served,
) -> None:
    fast, full, fast_app = pair
    steps = _mix(fast.name, fast.credentials())
    answers = _compare(fast, full, steps)
    # All but the journal read at the end, whose work grows with the data (the worker's).
    assert fast_app.fast_answers == _routed(fast, steps[:-1]) > len(steps) // 3
    statuses = {status for status, _, _ in answers}
    assert COVERED[fast.name] <= statuses, statuses
    assert list(fast.violations) == list(full.violations) == []
    assert list(fast.handler_errors) == list(full.handler_errors) == []
    if fast.name == "trackops":
        limited = [headers for status, headers, _ in answers if status == 429]
        assert all(("retry-after", "1") in headers for headers in limited), limited
    if fast.name == "tracker":
        warned = [h for _, headers, _ in answers for h, _ in headers if h == "x-polling-warning"]
        assert warned, "no polling warning in the mix"


@pytest.mark.behaviour("TR-07")
@pytest.mark.parametrize("pair", [("tracker", {"polling_violations_to_disable": 2})], indirect=True)
def test_polling_rule_disables_the_account_alike(
    pair: Served,
) -> None:
    fast, full, fast_app = pair
    credentials = fast.credentials()
    auth = tracker_headers(credentials)
    get = ("GET", "/api/cases/getByNumber?value=2018-0521-01", auth, b"")
    enable = ("POST", f"/__admin/tokens/{credentials['token']}/enable", JSON, b"")
    steps = [get, get, get, get, ("GET", "/__admin/tokens", {}, b""), enable, get]
    answers = _compare(fast, full, steps)
    assert [status for status, _, _ in answers] == [200, 200, 200, 403, 200, 200, 200]
    assert fast_app.fast_answers == 7


def test_response_checks_and_emulator_errors_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply outside the contract is a violation on both paths, a handler's crash a 500 in
    the vendor's shape and a recorded error."""
    provider = type(_make("track").provider)
    monkeypatch.setattr(provider, "getDevices", lambda self, call: Reply.empty(418))
    monkeypatch.setattr(provider, "getPositions", _crash)
    with _serving("track", {}) as (fast, full, fast_app):
        credentials = fast.credentials()
        pair_text = f"{credentials['email']}:{credentials['password']}".encode()
        auth = {"Authorization": "Basic " + base64.b64encode(pair_text).decode()}
        steps = [("GET", "/api/devices", auth, b""), ("GET", "/api/positions", auth, b"")]
        answers = _compare(fast, full, steps)
    assert [status for status, _, _ in answers] == [418, 500]
    assert [v["status"] for v in fast.violations] == [418]
    assert "Received status 418" in fast.violations[0]["message"]
    assert len(fast.handler_errors) == 1
    assert "a handler's bug" in fast.handler_errors[0]
    assert fast_app.fast_answers == 2


def _crash(self: Any, call: Any) -> None:
    raise RuntimeError("a handler's bug")


def test_cors_takes_the_full_path() -> None:
    core = CoreSettings(clock_frozen=True, clock_start=START, cors_origins=["http://app.test"])
    emulator = create_emulator("track", core, {})
    app = EmulatorAsgi(emulator)
    request = Request("GET", "/api/devices", b"/api/devices", b"", [], "1.1", True)
    assert app.respond(request) is None


def test_the_routing_table_matches_as_werkzeug_does() -> None:
    for vendor in ("tracker", "trackops", "track"):
        emulator = _make(vendor)
        adapter = emulator.app.url_map.bind("localhost")
        table = emulator.route_table
        paths = {route.operation.path for route in emulator.routes}
        literals = {segment for path in paths for segment in path.split("/")}
        for route in emulator.routes:
            operation = route.operation
            # Each templated segment as a number, and as every literal another path spells.
            for value in ["7", *sorted(s for s in literals if s and "{" not in s)]:
                path = re.sub(r"\{[^}/]+\}", value, operation.path)
                for method in (operation.method.upper(), "HEAD"):
                    found = table.match(method, path)
                    try:
                        endpoint, args = adapter.match(path, method)
                    except HTTPException:
                        assert found is None, (method, path)
                        continue
                    assert found is not None, (method, path)
                    matched, path_args = found
                    assert f"{matched.operation.contract.uri}#{matched.operation.id}" == endpoint
                    names = matched.operation.path_names
                    assert path_args == {names[k]: v for k, v in args.items()}
        assert table.match("GET", "/api/devices/") is None
        assert table.match("GET", "//api/devices") is None


def test_the_request_view_reads_as_werkzeug_does() -> None:
    raw = [
        (b"host", b"acme.example.com:8443"),
        (b"authorization", b"Basic eDp5"),
        (b"x_custom", b"under"),
        (b"accept", b"application/json"),
        (b"accept", b"text/csv"),
        (b"content-type", b"text/plain"),
        (b"content-type", b"Application/X-WWW-Form-Urlencoded; charset=utf-8"),
        (b"cookie", b"JSESSIONID=abc; other=1"),
        (b"content-length", b"0"),
        (b"user-agent", b"caf\xe9"),
    ]
    query = b"a=1&a=2&b=&c=%ZZ&d=caf%C3%A9"
    for headers in (raw, raw[:2], []):
        request = Request(
            "GET", "/api/caf\u00e9", b"/api/caf%C3%A9", query, headers, "1.1", True,
            server=("127.0.0.1", 8443), client=("10.0.0.9", 5555),
        )  # fmt: skip
        view = RequestView(request)
        environ = asgi_module._environ(
            "GET", request.path, query, headers, b"", {},
            server=request.server, client=request.client, scheme="http", http_version="1.1",
        )  # fmt: skip
        werkzeug_request = WerkzeugRequest(environ)
        expected = werkzeug_request.headers
        assert list(view.headers.items()) == list(expected.items())
        for name in ("Accept", "content-type", "X-Custom", "x_custom", "Host", "Missing"):
            assert view.headers.get(name) == expected.get(name)
            assert (name in view.headers) == (name in expected)
        for attribute in (
            "path", "method", "query_string", "mimetype", "host_url", "remote_addr",
            "content_length", "host", "url", "root_url", "scheme", "full_path",
        ):  # fmt: skip
            assert getattr(view, attribute) == getattr(werkzeug_request, attribute), attribute
        assert list(view.args.items(multi=True)) == list(werkzeug_request.args.items(multi=True))
        assert view.args.getlist("a") == ["1", "2"]
        assert view.args.get("zz") is None
        assert dict(view.cookies) == dict(werkzeug_request.cookies)
        assert view.get_data() == werkzeug_request.get_data() == b""
        assert dict(view.form) == dict(werkzeug_request.form) == {}


def test_what_the_fast_path_remembers_stays_bounded() -> None:
    """Every memo of the fast path is bounded in entries, and long values are never kept."""
    emulator = _make("track")
    table = emulator.route_table
    for n in range(routing.MATCHES_KEPT + 10):
        table.match("GET", f"/api/devices/{n}")
    assert len(table._matched) <= routing.MATCHES_KEPT
    table._matched.clear()
    long_path = "/api/devices/" + "7" * routing.MATCHED_PATH_CHARS
    assert table.match("GET", long_path) is not None
    assert not table._matched
    for n in range(request_view.PARSES_KEPT + 10):
        query = f"id={n}".encode()
        request = Request("GET", "/api/devices", b"/api/devices", query, [], "1.1", True)
        assert RequestView(request).args.getlist("id") == [str(n)]
    assert len(request_view._ARGS) <= request_view.PARSES_KEPT
    long_query = b"id=" + b"7" * request_view.REMEMBERED_CHARS
    request = Request("GET", "/api/devices", b"/api/devices", long_query, [], "1.1", True)
    assert RequestView(request).args.get("id") == "7" * request_view.REMEMBERED_CHARS
    assert long_query not in request_view._ARGS


def _status_body(emulator: Emulator, step: Step) -> tuple[int, bytes]:
    status, _, body = _exchange(emulator, step)
    return status, body


def test_a_cached_trackops_page_follows_writes_reset_and_restore() -> None:
    """A page served from the page cache is the page the table holds now: after an API write,
    a control write, a snapshot restore and a reset it is rebuilt (and equals a page built
    with nothing kept)."""
    with _serving("trackops", {"rate_limit": 1000}) as (fast, _, _):
        pages = fast.provider.pages  # type: ignore[attr-defined]
        pair = f"{fast.credentials()['username']}:{fast.credentials()['password']}".encode()
        auth = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        read = ("GET", "/api/v1/case/updates?per_page=100&dir=desc", auth, b"")

        def fresh() -> tuple[int, bytes]:
            pages.clear()
            return _status_body(fast, read)

        original = _status_body(fast, read)
        assert original[0] == 200
        assert pages._pages
        assert _status_body(fast, read) == original == fresh()
        snapshot = _exchange(fast, ("GET", "/__admin/snapshot", {}, b""))[2]

        update = b'{"casefile_id": 1, "access_group_id": 1, "content": "kept page"}'
        made = _exchange(fast, ("POST", "/api/v1/case/updates", {**auth, **JSON}, update))
        assert made[0] == 201, made
        after_write = _status_body(fast, read)
        assert after_write != original
        assert b"kept page" in after_write[1]
        assert after_write == fresh()

        changed = b'{"content": "changed by control"}'
        new_id = json.loads(made[2])["id"]
        control = ("PATCH", f"/__admin/trackops/records/case_updates/{new_id}", JSON, changed)
        assert _exchange(fast, control)[0] == 200
        after_control = _status_body(fast, read)
        assert b"changed by control" in after_control[1]
        assert after_control == fresh()

        restore = ("POST", "/__admin/snapshot", JSON, snapshot)
        assert _exchange(fast, restore)[0] == 200
        assert _status_body(fast, read) == original

        _exchange(fast, ("POST", "/api/v1/case/updates", {**auth, **JSON}, update))
        assert _exchange(fast, ("POST", "/__admin/reset", {}, b""))[0] in (200, 204)
        assert _status_body(fast, read) == original


def test_the_trackops_page_cache_stays_bounded() -> None:
    """The page cache keeps at most ``PAGES_KEPT`` pages and ``PAGE_BYTES_KEPT`` bytes, the
    oldest going first; a page bigger than the whole budget is never kept."""
    cache = trackops_collections.PageCache()
    table: Table[int] = Table()
    for n in range(trackops_collections.PAGES_KEPT + 10):
        cache.put(n, table, table.version, b"[]")
    assert len(cache._pages) == trackops_collections.PAGES_KEPT
    assert cache.get(0, table) is None
    assert cache.get(n, table) == b"[]"
    big = b"x" * (trackops_collections.PAGE_BYTES_KEPT // 2 + 1)
    cache.put("big", table, table.version, big)
    cache.put("bigger", table, table.version, big)
    assert cache.get("big", table) is None
    assert cache.get("bigger", table) == big
    assert cache._bytes <= trackops_collections.PAGE_BYTES_KEPT
    cache.put("huge", table, table.version, big + big)
    assert cache.get("huge", table) is None
    table.put(1, {"id": 1})
    assert cache.get("bigger", table) is None


def test_decoded_trackops_credentials_are_remembered_within_bounds() -> None:
    """The decoded ``Authorization`` values are bounded in number, a long value is never kept,
    and a header that carries no credentials is refused alike, remembered or not."""
    remembered = trackops_rules._credentials_remembered
    remembered.cache_clear()
    assert remembered.cache_info().maxsize == 256
    for n in range(300):
        pair = base64.b64encode(f"user{n}/token:secret".encode()).decode()
        assert trackops_rules._basic(f"Basic {pair}", _refuse) == (f"user{n}/token", "secret")
    assert remembered.cache_info().currsize == 256
    remembered.cache_clear()
    long_pair = base64.b64encode(b"u/token:" + b"t" * trackops_rules.REMEMBERED_HEADER_CHARS)
    assert trackops_rules._basic(f"Basic {long_pair.decode()}", _refuse)[0] == "u/token"
    assert remembered.cache_info().currsize == 0
    for bad in ("Bearer abc", "Basic ", "Basic !!", "Basic eHl6", "Basic " + "A" * 600):
        for _ in range(2):
            with pytest.raises(HttpError) as refused:
                trackops_rules._basic(bad, _refuse)
            assert refused.value.status == 401


def _refuse(status: int, message: str, **details: Any) -> HttpError:
    return trackops_errors.trackops_error(status, message, **details)
