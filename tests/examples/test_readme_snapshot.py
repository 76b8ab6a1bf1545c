"""The README's snapshot example, run as a test: a state built once, started from in a test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle

IMPORTED = 10
"""Items the slow set-up creates (the fixtures hold 2 history records already)."""


def import_items(tracker: EmulatorHandle) -> None:
    """A stand-in for an integrator's slow set-up: items created as a SAFE user would."""
    for number in range(IMPORTED):
        body = {"item": {"primaryCaseId": 2933671, "description": f"Exhibit {number}"}}
        tracker.control.call("POST", "items", json=body)


def my_sync(url: str, credentials: dict[str, Any]) -> list[dict[str, Any]]:
    """A stand-in for an integrator's code: read the item-history feed to its end (204)."""
    headers = {
        "Authorization": f"Bearer {credentials['token']}",
        "OrganizationId": str(credentials["organizationId"]),
        "OfficeId": str(credentials["officeId"]),
        "StaticToken": "true",
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    records: list[dict[str, Any]] = []
    while True:
        answer = requests.get(
            f"{url}/api/items/seqOrgItemHistoryId/{len(records) + 1}", headers=headers, timeout=10
        )
        if answer.status_code == 204:
            return records
        assert answer.status_code == 200, answer.text
        records.append(answer.json())


@pytest.fixture(scope="session")
def after_import(
    make_tracker_server: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    make_tracker_server.reset()
    import_items(make_tracker_server)
    return make_tracker_server.snapshot(tmp_path_factory.mktemp("state") / "tracker.json")


def test_my_sync_reads_the_imported_items(
    make_emulator: Callable[..., EmulatorHandle], after_import: Any
) -> None:
    tracker = make_emulator("tracker", state=after_import)
    assert len(my_sync(tracker.url, tracker.credentials)) == 12
    tracker.assert_received("GET", "/api/items/seqOrgItemHistoryId/*", at_least=1)
