"""The README's verification example, run as a test (its failure message included)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle
from trackmock.verification import NotReceived


def my_sync(url: str, credentials: dict[str, Any], *, create_at: str = "/api/cases") -> None:
    """A stand-in for an integrator's code: find a case, create one."""
    headers = {
        "Authorization": f"Bearer {credentials['token']}",
        "OrganizationId": str(credentials["organizationId"]),
        "OfficeId": str(credentials["officeId"]),
        "StaticToken": "true",
        "Accept": "application/json",
    }
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    requests.get(
        f"{url}/api/cases/getByNumber",
        params={"value": "2018-0521-01"},
        headers={**headers, **form},
        timeout=10,
    )
    requests.post(f"{url}{create_at}", json={}, headers=headers, timeout=10)


def test_my_sync_creates_one_case(trackmock_tracker: EmulatorHandle) -> None:
    my_sync(trackmock_tracker.url, trackmock_tracker.credentials)
    trackmock_tracker.assert_received("POST", "/api/cases", times=1)
    trackmock_tracker.assert_received("GET", "/api/cases/getByNumber", at_least=1)
    assert trackmock_tracker.unmatched() == []  # no wrong URL on the way


def test_a_wrong_url_is_explained(trackmock_tracker: EmulatorHandle) -> None:
    my_sync(trackmock_tracker.url, trackmock_tracker.credentials, create_at="/api/case")
    with pytest.raises(NotReceived) as failure:
        trackmock_tracker.assert_received("POST", "/api/cases", times=1)
    first, second, third = str(failure.value).splitlines()
    assert first == "expected POST /api/cases exactly 1 time(s); the emulator received it 0 time(s)"
    assert second == "near misses (closest first):"
    # The entry's number goes on across tests (a reset empties the journal, not the count).
    assert re.fullmatch(
        r"  #\d+ POST /api/case -> 404: path /api/case does not match /api/cases", third
    )
    (wrong,) = trackmock_tracker.unmatched()
    assert (wrong["path"], wrong["reason"]) == ("/api/case", "no operation at this path")
