"""pytest fixtures of the Tracker tests: a raw API caller and the reference client."""

from __future__ import annotations

from pathlib import Path

import pytest
from trackmock.clients.tracker import TrackerClient
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import Api


@pytest.fixture
def api(tracker: EmulatorHandle) -> Api:
    return Api(tracker)


@pytest.fixture
def client(tracker: EmulatorHandle, tmp_path: Path) -> TrackerClient:
    creds = tracker.credentials
    return TrackerClient(
        tracker.url,
        creds["token"],
        creds["organizationId"],
        creds["officeId"],
        clock=tracker.clock,
        cursor_path=tmp_path / "cursor.sqlite3",
    )
