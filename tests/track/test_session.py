"""Login, sessions and authentication (SF-01, SF-09 on REST)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import ACCOUNT, API_USER, login, session_id

MakeEmulator = Callable[..., EmulatorHandle]


@pytest.mark.behaviour("SF-01")
def test_login_sets_the_session_cookie_on_api_and_answers_the_user(track: EmulatorHandle) -> None:
    answer = requests.post(
        track.url_for("/api/session"),
        data={"email": ACCOUNT[0], "password": ACCOUNT[1]},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Set-Cookie"].startswith("JSESSIONID=")
    assert answer.headers["Set-Cookie"].endswith("; Path=/api")
    assert "name" in answer.text
    user = answer.json()
    assert user["email"] == ACCOUNT[0]
    assert "password" not in user, "the password is write-only"


@pytest.mark.behaviour("SF-01")
@pytest.mark.parametrize(
    "form",
    [
        {"email": ACCOUNT[0], "password": "wrong"},
        {"email": "nobody@example.com", "password": ACCOUNT[1]},
        {"email": ACCOUNT[0]},
        {},
    ],
    ids=["wrong-password", "unknown-email", "no-password", "empty"],
)
def test_a_failed_login_is_a_401_without_name_in_the_body(
    track: EmulatorHandle, form: dict[str, str]
) -> None:
    answer = requests.post(track.url_for("/api/session"), data=form, timeout=10)
    assert answer.status_code == 401
    assert "name" not in answer.text.lower()
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "Set-Cookie" not in answer.headers


def test_a_login_that_is_not_a_form_is_415(track: EmulatorHandle) -> None:
    answer = requests.post(
        track.url_for("/api/session"), json={"email": ACCOUNT[0], "password": ACCOUNT[1]}
    )
    assert answer.status_code == 415
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_disabled_and_expired_users_cannot_log_in(track: EmulatorHandle) -> None:
    track.control.call(
        "POST", "users", json={"email": "off@example.com", "password": "pw", "disabled": True}
    )
    track.control.call(
        "POST",
        "users",
        json={
            "email": "old@example.com",
            "password": "pw",
            "expirationTime": "2025-02-21T09:00:00.000+00:00",
        },
    )
    for email in ("off@example.com", "old@example.com"):
        answer = requests.post(
            track.url_for("/api/session"), data={"email": email, "password": "pw"}
        )
        assert answer.status_code == 401


def test_rest_without_a_session_is_401_with_a_basic_challenge(track: EmulatorHandle) -> None:
    answer = requests.get(track.url_for("/api/devices"), timeout=10)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="api"'
    assert answer.headers["Content-Type"].startswith("text/plain")
    xhr = requests.get(
        track.url_for("/api/devices"), headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert xhr.status_code == 401
    assert "WWW-Authenticate" not in xhr.headers
    forged = requests.get(track.url_for("/api/devices"), cookies={"JSESSIONID": "FORGED"})
    assert forged.status_code == 401


def test_http_basic_is_accepted_on_rest_and_opens_no_session(track: EmulatorHandle) -> None:
    answer = requests.get(track.url_for("/api/devices"), auth=API_USER, timeout=10)
    assert answer.status_code == 200
    assert {d["name"] for d in answer.json()} == {
        "quickstart-guide-device-1",
        "quickstart-guide-device-2",
    }
    assert "Set-Cookie" not in answer.headers
    wrong = requests.get(track.url_for("/api/devices"), auth=(API_USER[0], "nope"))
    assert wrong.status_code == 401


def test_basic_auth_can_be_turned_off(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator("track", track={"basic_auth": False})
    assert requests.get(emulator.url_for("/api/devices"), auth=API_USER).status_code == 401


@pytest.mark.behaviour("SF-09")
def test_a_session_ends_after_a_day_of_inactivity_by_the_emulator_clock(
    track: EmulatorHandle,
) -> None:
    http = login(track)
    track.clock.advance(86399)
    assert http.get(track.url_for("/api/devices")).status_code == 200, "activity keeps it"
    track.clock.advance(86399)
    assert http.get(track.url_for("/api/devices")).status_code == 200
    track.clock.advance(86400)
    expired = http.get(track.url_for("/api/devices"))
    assert expired.status_code == 401
    assert http.get(track.url_for("/api/session")).status_code == 404


@pytest.mark.behaviour("SF-09")
def test_the_session_timeout_is_a_setting(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator("track", track={"session_timeout": 60})
    http = login(emulator)
    emulator.clock.advance(59)
    assert http.get(emulator.url_for("/api/beacons")).status_code == 200
    emulator.clock.advance(60)
    assert http.get(emulator.url_for("/api/beacons")).status_code == 401


def test_get_session_answers_the_user_and_delete_logs_out(track: EmulatorHandle) -> None:
    assert requests.get(track.url_for("/api/session")).status_code == 404
    http = login(track, ACCOUNT)
    assert http.get(track.url_for("/api/session")).json()["email"] == ACCOUNT[0]
    cookie = session_id(http)
    assert http.delete(track.url_for("/api/session")).status_code == 204
    later = requests.get(track.url_for("/api/devices"), cookies={"JSESSIONID": cookie})
    assert later.status_code == 401


def test_expired_sessions_through_the_control_api(track: EmulatorHandle) -> None:
    first, second = login(track, ACCOUNT), login(track, API_USER)
    assert track.control.call("POST", "sessions/expire", json={"email": ACCOUNT[0]}) == {
        "expired": 1
    }
    assert first.get(track.url_for("/api/devices")).status_code == 401
    assert second.get(track.url_for("/api/devices")).status_code == 200
    assert track.control.call("POST", "sessions/expire") == {"expired": 1}
    assert second.get(track.url_for("/api/devices")).status_code == 401


def test_ended_sessions_are_forgotten_once_the_clock_passed_them() -> None:
    """Each web session costs about 390 bytes: they must not pile up with every login."""
    from trackmock.pytest_plugin import TEST_CLOCK_START, start_emulator

    settings = {"clock_frozen": True, "clock_start": TEST_CLOCK_START}
    handle, runner = start_emulator("track", {**settings, "track": {"session_timeout": 600}})
    try:
        store = runner.runner.listeners[0].emulator.provider.store
        form = {"email": ACCOUNT[0], "password": ACCOUNT[1]}
        http = requests.Session()
        for _ in range(300):
            assert http.post(handle.url_for("/api/session"), data=form, timeout=10).ok
        assert len(store.sessions) == 300
        handle.clock.advance(601)
        assert http.post(handle.url_for("/api/session"), data=form, timeout=10).ok
        assert len(store.sessions) == 1, "only the new login's session is left"
    finally:
        runner.stop()


def test_sessions_are_swept_when_they_pile_up_between_sweeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Short sessions and a slow clock: the count of sessions also triggers a sweep."""
    from trackmock.pytest_plugin import TEST_CLOCK_START, start_emulator
    from trackmock.track import rules

    monkeypatch.setattr(rules, "SWEEP_SLACK", 10)
    settings = {"clock_frozen": True, "clock_start": TEST_CLOCK_START}
    handle, runner = start_emulator("track", {**settings, "track": {"session_timeout": 1}})
    try:
        store = runner.runner.listeners[0].emulator.provider.store
        form = {"email": ACCOUNT[0], "password": ACCOUNT[1]}
        http = requests.Session()
        for _ in range(40):
            assert http.post(handle.url_for("/api/session"), data=form, timeout=10).ok
            handle.clock.advance(0.5)  # 20 s in all: the next timed sweep is not due
        assert len(store.sessions) < 12, "swept each time 10 more piled up"
    finally:
        runner.stop()
