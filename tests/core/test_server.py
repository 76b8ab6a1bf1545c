"""The core over real sockets: pipeline, control API, faults, sockets, TLS."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from trackmock.control import ControlClient
from trackmock.core import server
from trackmock.core.emulator import Emulator
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.tls import make_server_tls
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from ..polling import HANG_GUARD
from .helpers import make_sample

AUTH = {"Authorization": "Bearer good", "X-Tenant": "1"}


def admin(emulator: Emulator, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, f"{emulator.base_url}/__admin/{path}", timeout=5, **kwargs)  # type: ignore[arg-type]


def test_requests_are_authenticated_validated_and_shaped(sample: Emulator) -> None:
    url = sample.base_url
    assert requests.get(f"{url}/api/widgets").status_code == 401
    listed = requests.get(f"{url}/api/widgets", headers=AUTH)
    assert listed.status_code == 200
    assert [w["name"] for w in listed.json()] == ["alpha", "beta"]
    assert "secret" not in listed.json()[0]
    bad = requests.get(f"{url}/api/widgets?per_page=abc", headers=AUTH)
    assert bad.status_code == 400
    assert bad.json() == {
        "message": "query parameter 'per_page': 'abc' is not an integer",
        "status": 400,
    }


def test_query_arrays_and_enums_are_converted_and_checked(sample: Emulator) -> None:
    url = sample.base_url
    ok = requests.get(f"{url}/api/widgets?ids=1&ids=2&color=blue", headers=AUTH)
    assert ok.status_code == 200
    admin(sample, "POST", "clock", json={"advance": 5})
    bad = requests.get(f"{url}/api/widgets?ids=1&ids=x", headers=AUTH)
    assert bad.status_code == 400
    assert "'x' is not an integer" in bad.json()["message"]


def test_header_parameters_are_required_in_strict_mode_only() -> None:
    for strict, expected in ((True, 400), (False, 200)):
        emulator = make_sample(strict=strict)
        runner = BackgroundRunner([Listener(emulator)])
        runner.start()
        try:
            answer = requests.get(
                f"{emulator.base_url}/api/widgets", headers={"Authorization": "Bearer good"}
            )
            assert answer.status_code == expected
            if strict:
                assert answer.json()["message"] == "header parameter 'X-Tenant': is required"
        finally:
            runner.stop()


def test_bodies_are_checked_by_content_type(sample: Emulator) -> None:
    url = sample.base_url
    created = requests.post(f"{url}/api/widgets", json={"name": "gamma", "size": 2}, headers=AUTH)
    assert created.status_code == 201
    assert created.json()["id"] == 3
    admin(sample, "POST", "clock", json={"advance": 5})
    form = requests.post(f"{url}/api/widgets", data={"name": "delta", "size": "3"}, headers=AUTH)
    assert form.status_code == 201
    assert form.json()["size"] == 3
    admin(sample, "POST", "clock", json={"advance": 5})
    wrong = requests.post(
        f"{url}/api/widgets", data=b"name", headers={**AUTH, "Content-Type": "text/plain"}
    )
    assert wrong.status_code == 415
    admin(sample, "POST", "clock", json={"advance": 5})
    broken = requests.post(
        f"{url}/api/widgets", data=b"{", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert broken.json()["message"] == "request body: the request body is not valid JSON"
    admin(sample, "POST", "clock", json={"advance": 5})
    extra = requests.post(f"{url}/api/widgets", json={"name": "x", "nope": 1}, headers=AUTH)
    assert extra.status_code == 400
    assert "Additional properties are not allowed" in extra.json()["message"]


def test_rate_limits_follow_the_emulator_clock(sample: Emulator) -> None:
    url = sample.base_url
    statuses = [requests.get(f"{url}/api/widgets", headers=AUTH).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = requests.get(f"{url}/api/widgets", headers=AUTH)
    assert refused.headers["Retry-After"] == "1"
    admin(sample, "POST", "clock", json={"advance": 1})
    assert requests.get(f"{url}/api/widgets", headers=AUTH).status_code == 200


def test_unknown_paths_methods_and_missing_handlers_answer_in_the_vendor_shape(
    sample: Emulator,
) -> None:
    url = sample.base_url
    assert requests.get(f"{url}/api/nothing").json() == {
        "message": "no resource at /api/nothing",
        "status": 404,
    }
    not_allowed = requests.delete(f"{url}/api/widgets")
    assert not_allowed.status_code == 405
    assert "GET" in not_allowed.headers["Allow"]
    missing = requests.get(f"{url}/api/missing")
    assert missing.status_code == 501
    assert "notImplemented" in missing.json()["message"]


def test_a_concrete_path_wins_over_a_templated_one_for_every_method(sample: Emulator) -> None:
    """OpenAPI matches /api/widgets/count before /api/widgets/{id}: DELETE, which only the
    templated path takes, is a 405 there, not a delete of the widget "count"."""
    url = sample.base_url
    assert requests.get(f"{url}/api/widgets/count", headers=AUTH).json() == {"count": 2}
    wrong = requests.delete(f"{url}/api/widgets/count", headers=AUTH)
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, HEAD, OPTIONS"
    options = requests.options(f"{url}/api/widgets/count", headers=AUTH)
    assert "DELETE" not in options.headers["Allow"]
    assert requests.delete(f"{url}/api/widgets/counts", headers=AUTH).status_code == 400
    admin(sample, "POST", "clock", json={"advance": 1})  # the sample allows 2 calls a second
    assert requests.delete(f"{url}/api/widgets/1", headers=AUTH).status_code == 204


def test_integer_formats_are_ranges(sample: Emulator) -> None:
    url = sample.base_url
    too_big = requests.get(f"{url}/api/widgets/2147483648", headers=AUTH)
    assert too_big.status_code == 400
    assert "greater than the maximum of 2147483647" in too_big.json()["message"]
    assert requests.get(f"{url}/api/widgets/2147483647", headers=AUTH).status_code == 404


def test_responses_that_break_the_contract_are_recorded(sample: Emulator) -> None:
    assert requests.get(f"{sample.base_url}/api/broken").status_code == 200
    found = admin(sample, "GET", "violations").json()
    assert len(found["violations"]) == 1
    assert "'yes' is not of type 'boolean'" in found["violations"][0]["message"]
    assert admin(sample, "DELETE", "violations").status_code == 204
    assert admin(sample, "GET", "violations").json() == {
        "violations": [],
        "errors": [],
        "dropped": {"violations": 0, "errors": 0},
    }


def test_handler_errors_answer_500_and_are_kept_for_the_test(sample: Emulator) -> None:
    answer = requests.get(f"{sample.base_url}/api/explode")
    assert answer.status_code == 500
    assert answer.json()["message"] == (
        "internal emulator error; its details are in the emulator's log"
    )
    assert "boom" not in answer.text, "no exception text reaches the client"
    errors = admin(sample, "GET", "violations").json()["errors"]
    assert len(errors) == 1
    assert "KeyError: 'boom'" in errors[0]


def test_control_api_reads_and_moves_the_clock(sample: Emulator) -> None:
    assert admin(sample, "GET", "clock").json() == {
        "now": "2025-02-21T10:00:00.000Z",
        "epoch": 1740132000.0,
        "frozen": True,
    }
    moved = admin(
        sample, "POST", "clock", json={"set": "2025-03-01T00:00:00Z", "advance": 1}
    ).json()
    assert moved["now"] == "2025-03-01T00:00:01.000Z"
    assert admin(sample, "POST", "clock", json={"set": "soon"}).status_code == 400
    assert admin(sample, "POST", "clock", json={}).status_code == 400


def test_control_api_resets_state_and_lists_credentials(sample: Emulator) -> None:
    requests.post(f"{sample.base_url}/api/widgets", json={"name": "gamma"}, headers=AUTH)
    admin(sample, "POST", "clock", json={"advance": 100})
    assert admin(sample, "POST", "reset").status_code == 204
    assert len(requests.get(f"{sample.base_url}/api/widgets", headers=AUTH).json()) == 2
    assert admin(sample, "GET", "clock").json()["now"] == "2025-02-21T10:00:00.000Z"
    creds = admin(sample, "GET", "credentials").json()
    assert creds == {
        "vendor": "sample",
        "url": sample.base_url,
        "credentials": {"token": "good", "tenant": 1},
        "ca_cert": None,
    }


def test_journal_records_requests_but_not_control_calls(sample: Emulator) -> None:
    requests.get(f"{sample.base_url}/api/widgets/1", headers=AUTH)
    requests.get(f"{sample.base_url}/api/widgets/99", headers=AUTH)
    page = admin(sample, "GET", "journal", params={"path_prefix": "/api/widgets"}).json()
    assert [(e["path"], e["status"]) for e in page["entries"]] == [
        ("/api/widgets/1", 200),
        ("/api/widgets/99", 404),
    ]
    # Credentials are masked, keeping the scheme (the same rules as `trackmock check`).
    assert page["entries"][0]["request"]["headers"]["authorization"] == "Bearer [redacted]"
    assert json.loads(page["entries"][0]["response"]["body"])["name"] == "alpha"
    assert (
        admin(sample, "GET", "journal", params={"status": 404}).json()["entries"][0]["path"]
        == "/api/widgets/99"
    )
    assert admin(sample, "GET", "journal", params={"status": "x"}).status_code == 400
    assert admin(sample, "DELETE", "journal").status_code == 204
    assert admin(sample, "GET", "journal").json()["entries"] == []


def test_control_client_filters_the_journal_by_path(sample: Emulator) -> None:
    from trackmock.control import ControlClient

    requests.get(f"{sample.base_url}/api/widgets/1", headers=AUTH)
    requests.get(f"{sample.base_url}/api/ping")
    entries = ControlClient(sample.base_url).journal(path="/api/ping")
    assert [e["path"] for e in entries] == ["/api/ping"]


def test_status_faults_answer_for_the_next_calls_only(sample: Emulator) -> None:
    created = admin(
        sample,
        "POST",
        "faults",
        json={"action": "status", "status": 503, "path": "/api/ping", "times": 2},
    )
    assert created.status_code == 201
    assert created.json()["remaining"] == 2
    answers = [requests.get(f"{sample.base_url}/api/ping") for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert "fault" in answers[0].json()["message"]
    assert admin(sample, "GET", "faults").json() == {"faults": []}
    admin(
        sample, "POST", "faults", json={"action": "status", "status": 500, "body": {"custom": True}}
    )
    assert requests.get(f"{sample.base_url}/api/ping").json() == {"custom": True}
    assert admin(sample, "GET", "health").status_code == 200, "control paths are never faulted"
    assert admin(sample, "DELETE", "faults").status_code == 204
    assert admin(sample, "POST", "faults", json={"action": "status"}).status_code == 400


def test_drop_faults_close_the_connection_without_an_answer(sample: Emulator) -> None:
    admin(sample, "POST", "faults", json={"action": "drop", "path": "/api/ping", "times": 1})
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sample.base_url}/api/ping")
    assert requests.get(f"{sample.base_url}/api/ping").status_code == 200
    notes = [
        e.get("note")
        for e in admin(sample, "GET", "journal", params={"path": "/api/ping"}).json()["entries"]
    ]
    assert notes[0].startswith("dropped by fault")


def test_latency_faults_delay_the_answer(sample: Emulator) -> None:
    admin(sample, "POST", "faults", json={"action": "latency", "latency_ms": 300, "times": 1})
    answer = requests.get(f"{sample.base_url}/api/ping")
    assert answer.status_code == 200
    assert answer.elapsed.total_seconds() >= 0.3


def test_large_bodies_are_refused() -> None:
    emulator = make_sample(max_body_bytes=100)
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    try:
        answer = requests.post(
            f"{emulator.base_url}/api/widgets", json={"name": "x" * 200}, headers=AUTH
        )
        assert answer.status_code == 413
    finally:
        runner.stop()


def test_admin_token_protects_the_control_api_but_not_health() -> None:
    emulator = make_sample(admin_token="letmein")
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    try:
        assert admin(emulator, "POST", "reset").status_code == 401
        assert (
            admin(
                emulator, "POST", "reset", headers={"X-Trackmock-Admin-Token": "letmein"}
            ).status_code
            == 204
        )
        assert admin(emulator, "GET", "health").status_code == 200
    finally:
        runner.stop()


@pytest.fixture
def ws_url(sample: Emulator) -> str:
    return sample.base_url.replace("http://", "ws://") + "/api/feed"


def test_socket_refuses_an_upgrade_without_a_session(ws_url: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, open_timeout=5)
    assert refused.value.response.status_code == 503


def test_socket_ticks_by_the_emulator_clock_echoes_and_pushes(
    sample: Emulator, ws_url: str
) -> None:
    with connect(ws_url, additional_headers={"Cookie": "sid=1"}, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5)) == {"tick": 0}
        admin(sample, "POST", "clock", json={"advance": 25})
        assert [json.loads(ws.recv(timeout=5)) for _ in range(2)] == [{"tick": 1}, {"tick": 2}]
        ws.send("hello")
        assert json.loads(ws.recv(timeout=5)) == {"echo": "hello"}
        requests.post(f"{sample.base_url}/api/widgets", json={"name": "gamma"}, headers=AUTH)
        assert json.loads(ws.recv(timeout=5)) == {"echo": "created 3"}
        assert admin(sample, "POST", "sockets/close", json={"code": 4000}).json() == {"closed": 1}
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4000
    kinds = [
        e["kind"]
        for e in admin(sample, "GET", "journal", params={"path": "/api/feed"}).json()["entries"]
    ]
    assert kinds[0] == "ws-open"
    assert kinds.count("ws-in") == 1
    assert kinds[-1] == "ws-close"
    assert admin(sample, "GET", "violations").json()["violations"] == []


def test_socket_session_can_close_and_frames_are_checked(sample: Emulator, ws_url: str) -> None:
    with connect(ws_url, additional_headers={"Cookie": "sid=1"}, open_timeout=5) as ws:
        ws.recv(timeout=5)
        ws.send("bye")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert admin(sample, "GET", "violations").json()["violations"] == []


def test_an_upgrade_that_is_not_rfc_6455_is_refused_with_a_reason(sample: Emulator) -> None:
    host, port = sample.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            (
                "GET /api/feed HTTP/1.1\r\n"
                f"Host: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Version: 13\r\nCookie: sid=1\r\n\r\n"
            ).encode()
        )
        head, _, body = raw.recv(4096).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: text/plain; charset=utf-8" in head
    assert body == b"Not a WebSocket upgrade (RFC 6455): Missing header, 'Sec-WebSocket-Key'"
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            (
                "TRACE /api/feed HTTP/1.1\r\n"
                f"Host: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ).encode()
        )
        head = raw.recv(4096)
    assert head.startswith(b"HTTP/1.1 405")
    assert b"allow: GET" in head


def test_sockets_do_not_negotiate_compression(ws_url: str) -> None:
    with connect(ws_url, additional_headers={"Cookie": "sid=1"}, open_timeout=5) as ws:
        assert "permessage-deflate" in ws.request.headers["Sec-WebSocket-Extensions"]
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None


def test_upgrade_with_a_32_byte_key_is_accepted(sample: Emulator) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    host, port = sample.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            (
                "GET /api/feed HTTP/1.1\r\n"
                f"Host: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nCookie: sid=1\r\n\r\n"
            ).encode()
        )
        head = raw.recv(4096)
    assert head.startswith(b"HTTP/1.1 101")


def test_tls_listener_serves_https_and_refuses_plain_http(tmp_path: Path) -> None:
    emulator = make_sample()
    tls = make_server_tls(tmp_path)
    runner = BackgroundRunner([Listener(emulator, tls=tls.context)])
    runner.start()
    try:
        assert emulator.base_url.startswith("https://")
        assert requests.get(f"{emulator.base_url}/api/ping", verify=str(tls.ca_cert)).json() == {
            "pong": True
        }
        plain = requests.get(emulator.base_url.replace("https://", "http://") + "/api/ping")
        assert plain.status_code == 400
        assert "TLS-only" in plain.json()["message"]
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{emulator.base_url}/api/ping")
    finally:
        runner.stop()


def test_a_stop_closes_an_idle_tls_connection_at_once_with_its_close_notify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client's pooled keep-alive TLS connection never answers the server's close_notify:
    the stop sends it and closes, without waiting for the grace given to answers in progress
    (made endless here, so that waiting would hang the test)."""
    monkeypatch.setattr(server, "STOP_GRACE", 3600.0)
    emulator = make_sample()
    tls = make_server_tls(tmp_path)
    runner = BackgroundRunner([Listener(emulator, tls=tls.context)])
    runner.start()
    url = urlsplit(emulator.base_url)
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    raw = socket.create_connection((url.hostname, url.port))
    with context.wrap_socket(
        raw, server_hostname=url.hostname, suppress_ragged_eofs=False
    ) as client:
        try:
            client.sendall(b"GET /api/ping HTTP/1.1\r\nHost: emulator\r\n\r\n")
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
            stopping = asyncio.run_coroutine_threadsafe(runner.runner.stop(), runner.loop)
            stopping.result(HANG_GUARD)
            # A clean TLS close (close_notify), not a cut: a cut raises SSLEOFError here.
            assert client.recv(100) == b""
        finally:
            runner.stop()


def test_control_client_trusts_the_given_ca_despite_requests_ca_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests lets REQUESTS_CA_BUNDLE override a session's ``verify``; the control client
    must still trust the emulator's CA (CI machines often set that variable)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "elsewhere.pem"))
    emulator = make_sample()
    tls = make_server_tls(tmp_path)
    runner = BackgroundRunner([Listener(emulator, tls=tls.context)])
    runner.start()
    try:
        control = ControlClient(emulator.base_url, verify=str(tls.ca_cert))
        assert control.health()["status"] == "ok"
    finally:
        runner.stop()


def test_two_emulators_share_one_loop_on_their_own_ports() -> None:
    first, second = make_sample(), make_sample()
    runner = BackgroundRunner([Listener(first), Listener(second)])
    runner.start()
    try:
        assert first.base_url != second.base_url
        requests.post(f"{first.base_url}/api/widgets", json={"name": "only-here"}, headers=AUTH)
        assert len(requests.get(f"{second.base_url}/api/widgets", headers=AUTH).json()) == 2
    finally:
        runner.stop()


def test_a_path_outside_latin_1_reaches_the_vendor_not_a_500(sample: Emulator) -> None:
    url = sample.base_url
    bad_id = requests.get(f"{url}/api/widgets/%F0%B5%97%B6%C2%B3", headers=AUTH)
    assert bad_id.status_code == 400
    assert bad_id.json()["message"].startswith("path parameter 'id'")
    assert requests.get(f"{url}/api/n%C3%A4%E2%82%AC").status_code == 404


def test_pipelined_requests_are_answered_in_order(sample: Emulator) -> None:
    """Bodiless requests (the fast path) and one with a body (ASGI) in one write."""
    host, port = sample.base_url.removeprefix("http://").split(":")
    body = b'{"name": "piped"}'
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            b"GET /api/ping HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /api/widgets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n"
            b"X-Tenant: 1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
            + b"HEAD /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answers = b""
        while chunk := raw.recv(65536):
            answers += chunk
    heads = [part for part in answers.split(b"HTTP/1.1 ")[1:]]
    assert [h[:3] for h in heads] == [b"200", b"201", b"200"]
    assert b'"name":"piped"' in heads[1]
    assert heads[2].endswith(b"\r\n\r\n"), "a HEAD answer has no body"
    assert b"connection: close" in heads[2]


def test_queued_answers_go_out_before_a_refusal_on_the_same_connection(sample: Emulator) -> None:
    """Fast-path answers wait for the end of the loop's round (``Site.queue``); a refusal
    written at once in the same round must not overtake them."""
    host, port = sample.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            b"GET /api/ping HTTP/1.1\r\nHost: x\r\n\r\n" * 2
            + b"GET /api/ping HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"
        )
        answers = b""
        while chunk := raw.recv(65536):
            answers += chunk
    heads = [part[:3] for part in answers.split(b"HTTP/1.1 ")[1:]]
    assert heads == [b"200", b"200", b"400"]


def test_a_malformed_request_gets_a_400_in_the_vendor_shape(sample: Emulator) -> None:
    host, port = sample.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"GET /api/ping HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        answer = raw.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body) == {"message": "Invalid HTTP request received.", "status": 400}


def test_any_asgi_app_can_be_served_with_tls_and_a_plain_http_refusal(tmp_path: Path) -> None:
    """Not only emulators: a listener serves any ASGI app (the ASGI path, no fast path)."""

    async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer = f"{scope['method']} {scope['path']} {len(body)}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": answer, "more_body": True})
        await send({"type": "http.response.body", "body": b"!"})

    tls = make_server_tls(tmp_path)
    listener = Listener(app=echo, tls=tls.context, name="echo")
    runner = BackgroundRunner([listener])
    runner.start()
    try:
        url = listener.url
        answer = requests.post(f"{url}/any/path", data=b"x" * 10, verify=str(tls.ca_cert))
        assert answer.text == "POST /any/path 10!"
        assert answer.headers["Transfer-Encoding"] == "chunked"
        plain = requests.get(url.replace("https://", "http://") + "/")
        assert plain.status_code == 400
        assert "TLS only" in plain.text
    finally:
        runner.stop()
