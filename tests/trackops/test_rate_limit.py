"""1 request per second per credential, by the emulator clock (TO-04)."""

from __future__ import annotations

from typing import Any

import pytest
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import TOKEN, Api, error_of

CLIENTS = "/api/v1/clients"


@pytest.mark.behaviour("TO-04")
def test_a_second_request_within_a_second_is_429_with_a_message(api: Api) -> None:
    assert api.get(CLIENTS).status_code == 200
    refused = api.get(CLIENTS, advance=0)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert error_of(refused)["message"] == (
        "Too Many Requests: the API allows 1 request per second; retry after 1 second"
    )
    assert api.get(CLIENTS, advance=0.4).status_code == 429
    assert api.get(CLIENTS, advance=0.59).status_code == 429
    assert api.get(CLIENTS, advance=0.01).status_code == 200, "one second after the first"


@pytest.mark.behaviour("TO-04")
def test_the_limit_is_per_credential(api: Api) -> None:
    assert api.get(CLIENTS).status_code == 200
    assert api.get(CLIENTS, advance=0, auth=("ncharles/token", TOKEN)).status_code == 200
    other = ("op/token", "5f2c8e1a-7b3d-4c9e-a6f0-2d8b1e4c7a93")
    assert api.get(CLIENTS, advance=0, auth=other, host="continental.localhost").status_code == 200
    assert api.get(CLIENTS, advance=0).status_code == 429


@pytest.mark.behaviour("TO-04")
def test_writes_and_downloads_count_too(api: Api) -> None:
    link = api.get("/api/v1/files/1").json()["download_url"]
    assert api.get(link, auth=None, advance=0).status_code == 200, "its own key"
    assert api.get(link, auth=None, advance=0).status_code == 429
    refused = api.post(
        "/api/v1/events", {"title": "x", "start_at": "2025-03-01T10:00:00Z"}, advance=0
    )
    assert refused.status_code == 429
    assert api.get("/api/v1/events?title=x").json() == [], "a refused write changes nothing"


@pytest.mark.behaviour("TO-04")
def test_the_rate_is_a_setting_and_can_be_off(make_emulator: Any) -> None:
    five = Api(make_emulator("trackops", trackops={"rate_limit": 5}))
    statuses = [five.get(CLIENTS, advance=0).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = five.get(CLIENTS, advance=0)
    assert "5 requests per second" in error_of(refused)["message"]
    off = Api(make_emulator("trackops", trackops={"rate_limit": None}))
    assert {off.get(CLIENTS, advance=0).status_code for _ in range(5)} == {200}


def test_a_reset_forgets_earlier_requests(trackops: EmulatorHandle, api: Api) -> None:
    assert api.get(CLIENTS).status_code == 200
    trackops.reset()
    assert api.get(CLIENTS, advance=0).status_code == 200
