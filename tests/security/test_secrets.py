"""Known secrets sent to the emulators never reach the journal, the violations, the journal's
HAR export or the proxy's HAR: passwords in Track's ``POST /api/session`` form, Trackops'
basic auth, Tracker's bearer token, Track's ``JSESSIONID`` cookie, the admin token. With
``journal_secrets`` they are shown (local debugging)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from trackmock.control import ControlClient
from trackmock.drift.har import journal_to_har
from trackmock.pytest_plugin import EmulatorHandle

from ..proxy.support import Proxy
from ..tracker.helpers import tracker_headers

ADMIN = "admin-0f1e2d3c4b5a6978"
WRONG_PASSWORD = "Not-The-Password-4711"
NEW_PASSWORD = "New-User-Secret-5150"
WATCHED = {"admin_token": ADMIN, "journal_admin": True}
"""Control calls are journaled too: their token is a secret like any other."""


def _admin(handle: EmulatorHandle) -> dict[str, str]:
    return {"X-Trackmock-Admin-Token": ADMIN}


def _track_traffic(handle: EmulatorHandle) -> list[str]:
    """Logins (a good one, a wrong password, a new user), calls with the cookie and with
    basic auth, a logout; returns the secrets sent."""
    creds = handle.credentials
    url = handle.url
    made = requests.post(
        f"{url}/__admin/users",
        json={"name": "Eve", "email": "eve@example.com", "password": NEW_PASSWORD},
        headers=_admin(handle),
        timeout=10,
    )
    assert made.status_code == 201, made.text
    http = requests.Session()
    form = {"email": creds["email"], "password": creds["password"]}
    assert http.post(f"{url}/api/session", data=form, timeout=10).status_code == 200
    cookie = http.cookies["JSESSIONID"]
    assert http.get(f"{url}/api/devices", timeout=10).status_code == 200
    wrong = {"email": creds["email"], "password": WRONG_PASSWORD}
    assert requests.post(f"{url}/api/session", data=wrong, timeout=10).status_code == 401
    eve = {"email": "eve@example.com", "password": NEW_PASSWORD}
    assert requests.post(f"{url}/api/session", data=eve, timeout=10).status_code == 200
    basic = requests.get(f"{url}/api/devices", auth=(creds["email"], creds["password"]), timeout=10)
    assert basic.status_code == 200
    assert http.delete(f"{url}/api/session", timeout=10).status_code == 204
    return [creds["password"], cookie, WRONG_PASSWORD, NEW_PASSWORD]


def _trackops_traffic(handle: EmulatorHandle) -> list[str]:
    creds = handle.credentials
    auth = (creds["username"], creds["password"])
    url, verify = handle.url, handle.verify
    assert requests.get(f"{url}/api/v1/clients", auth=auth, verify=verify, timeout=10).ok
    handle.clock.advance(1)
    refused = requests.get(
        f"{url}/api/v1/clients", params={"per_page": 1000}, auth=auth, verify=verify, timeout=10
    )
    assert refused.status_code == 400
    return [creds["password"]]


def _tracker_traffic(handle: EmulatorHandle) -> list[str]:
    creds = handle.credentials
    headers = tracker_headers(creds)
    assert requests.get(f"{handle.url}/api/tags", headers=headers, timeout=10).ok
    refused = requests.post(
        f"{handle.url}/api/users/",
        json={"password": "Body-Secret-9090", "email": "not an e-mail"},
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert refused.status_code == 400
    return [creds["token"], "Body-Secret-9090"]


TRAFFIC: dict[str, Callable[[EmulatorHandle], list[str]]] = {
    "track": _track_traffic,
    "trackops": _trackops_traffic,
    "tracker": _tracker_traffic,
}


@pytest.fixture
def watched(make_emulator: Callable[..., EmulatorHandle]) -> Callable[..., EmulatorHandle]:
    def make(vendor: str, **settings: Any) -> EmulatorHandle:
        extra = {vendor: {"rate_limit": None}} if vendor == "trackops" else {}
        return make_emulator(vendor, **WATCHED, **extra, **settings)

    return make


@pytest.mark.parametrize("vendor", sorted(TRAFFIC))
def test_no_known_secret_reaches_the_journal_violations_or_har(
    vendor: str, watched: Callable[..., EmulatorHandle]
) -> None:
    handle = watched(vendor)
    secrets = [*TRAFFIC[vendor](handle), ADMIN]
    control = ControlClient(handle.url, token=ADMIN, verify=handle.verify)
    control.clock.read()
    journal = control.journal()
    shown = json.dumps(journal)
    assert "[redacted]" in shown
    assert any(entry["path"].startswith("/__admin") for entry in journal)
    outputs = {
        "journal": shown,
        "violations": json.dumps(control.violations()),
        "HAR of the journal": json.dumps(journal_to_har(journal, handle.url)),
    }
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} in the {where}"


def test_journal_secrets_shows_them(watched: Callable[..., EmulatorHandle]) -> None:
    handle = watched("tracker", journal_secrets=True)
    token, body_secret = _tracker_traffic(handle)
    control = ControlClient(handle.url, token=ADMIN)
    control.clock.read()
    shown = json.dumps(control.journal())
    assert f"Bearer {token}" in shown
    assert body_secret in shown
    assert ADMIN in shown


def test_the_proxy_har_masks_basic_auth_and_the_admin_token(
    trackops: EmulatorHandle, tmp_path: Path
) -> None:
    proxy = Proxy(tmp_path, "trackops", trackops.url, upstream_ca=trackops.ca_cert)
    try:
        creds = trackops.credentials
        answer = requests.get(
            f"{proxy.url}/api/v1/clients",
            auth=(creds["username"], creds["password"]),
            headers={"X-Trackmock-Admin-Token": ADMIN},
            verify=proxy.ca_cert,
            timeout=10,
        )
        assert answer.ok, answer.text
        code, report, err = proxy.stop()
    finally:
        proxy.kill()
    har = proxy.har.read_text()
    assert "Basic [redacted]" in har
    for secret in (creds["password"], ADMIN):
        for output in (har, report, err):
            assert secret not in output
    assert code == 0, err
