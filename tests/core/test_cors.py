"""CORS for browser-based integrations (``cors_origins``, ``trackmock serve --cors``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle

APP = "http://localhost:3000"


def preflight(
    handle: EmulatorHandle, path: str, origin: str, method: str, **headers: str
) -> requests.Response:
    return requests.options(
        handle.url_for(path),
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            **headers,
        },
        timeout=10,
    )


@pytest.fixture
def track_cors(make_emulator: Callable[..., EmulatorHandle]) -> EmulatorHandle:
    return make_emulator("track", cors_origins=[APP, "https://app.example"])


def test_without_the_setting_no_cors_header_is_sent(trackmock_track: EmulatorHandle) -> None:
    answer = preflight(trackmock_track, "/api/devices", APP, "GET")
    assert not [name for name in answer.headers if name.lower().startswith("access-control")]
    plain = requests.get(
        trackmock_track.url_for("/api/devices"), headers={"Origin": APP}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in plain.headers


def test_a_preflight_gets_the_paths_methods_and_the_asked_headers(
    track_cors: EmulatorHandle,
) -> None:
    answer = preflight(
        track_cors,
        "/api/devices/1",
        APP,
        "PUT",
        **{"Access-Control-Request-Headers": "content-type, x-custom"},
    )
    assert answer.status_code == 204
    assert answer.content == b""
    assert answer.headers["Access-Control-Allow-Origin"] == APP
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type, x-custom"
    assert answer.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in answer.headers["Vary"]
    (entry,) = track_cors.control.journal(method="OPTIONS")
    assert entry["status"] == 204
    assert entry["note"] == "CORS preflight"


def test_a_preflight_to_no_operation_lets_the_browser_see_the_404(
    track_cors: EmulatorHandle,
) -> None:
    answer = preflight(track_cors, "/api/devicez", APP, "GET")
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Methods"] == "GET"
    real = requests.get(track_cors.url_for("/api/devicez"), headers={"Origin": APP}, timeout=10)
    assert real.status_code == 404
    assert real.headers["Access-Control-Allow-Origin"] == APP


def test_a_preflight_from_another_origin_is_refused_naming_the_setting(
    track_cors: EmulatorHandle,
) -> None:
    answer = preflight(track_cors, "/api/devices", "http://evil.example", "GET")
    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "--cors http://evil.example" in answer.text
    assert "cors_origins" in answer.text
    plain = requests.get(
        track_cors.url_for("/api/devices"), headers={"Origin": "http://evil.example"}, timeout=10
    )
    assert plain.status_code == 401
    assert "Access-Control-Allow-Origin" not in plain.headers


def test_answers_carry_the_origin_credentials_and_exposed_headers(
    track_cors: EmulatorHandle,
) -> None:
    creds = track_cors.credentials
    login = requests.post(
        track_cors.url_for("/api/session"),
        data={"email": creds["email"], "password": creds["password"]},
        headers={"Origin": "https://app.example"},
        timeout=10,
    )
    assert login.status_code == 200
    assert login.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert login.headers["Access-Control-Allow-Credentials"] == "true"
    assert login.headers["Vary"] == "Origin"
    # Set-Cookie is never exposed to scripts; the browser stores it all the same.
    assert "set-cookie" not in login.headers.get("Access-Control-Expose-Headers", "")


def test_faults_and_control_calls_carry_cors_headers_too(
    make_emulator: Callable[..., EmulatorHandle],
) -> None:
    handle = make_emulator("tracker", cors_origins=["*"])
    handle.control.add_fault(
        action="status", status=503, path="/api/cases/*", headers={"Retry-After": "5"}
    )
    origin = "http://anything.test:8000"
    faulted = requests.get(handle.url_for("/api/cases/1"), headers={"Origin": origin}, timeout=10)
    assert faulted.status_code == 503
    assert faulted.headers["Access-Control-Allow-Origin"] == origin  # the origin, never "*"
    assert faulted.headers["Access-Control-Expose-Headers"] == "retry-after"
    control = requests.get(
        handle.url_for("/__admin/health"), headers={"Origin": origin}, timeout=10
    )
    assert control.headers["Access-Control-Allow-Origin"] == origin
    refused = preflight(handle, "/__admin/reset", origin, "POST")
    assert refused.headers["Access-Control-Allow-Methods"] == "POST"
