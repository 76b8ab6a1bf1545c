"""``POST /api/v1/events`` with what the long conformance run sends (its fixed seed found both):
timestamps at the edges of the range a record's UTC form can hold, and keys the create schema
does not list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle


@pytest.fixture
def post_event(trackops: EmulatorHandle) -> Callable[..., requests.Response]:
    def post(**body: Any) -> requests.Response:
        trackops.clock.advance(1)  # TO-05: one request per second
        return requests.post(
            trackops.url_for("/api/v1/events"),
            json={"title": "Surveillance", **body},
            auth=(trackops.credentials["username"], trackops.credentials["password"]),
            verify=trackops.ca_cert,
            timeout=10,
        )

    return post


@pytest.mark.behaviour("TO-06")
@pytest.mark.parametrize(
    "start_at",
    ["0001-01-01T00:01:00+01:00", "9999-12-31T23:30:00-01:00", "9999-12-31t23:30:00-02:30"],
)
def test_an_instant_utc_cannot_hold_is_refused_by_the_contract(
    post_event: Callable[..., requests.Response], start_at: str
) -> None:
    answer = post_event(start_at=start_at)
    assert answer.status_code == 400
    assert answer.json()["error"]["parameter"] == "$.start_at"


@pytest.mark.behaviour("TO-06")
@pytest.mark.parametrize(
    ("start_at", "stored"),
    [
        ("0001-01-01T00:01:00Z", "0001-01-01T00:01:00Z"),
        ("0001-01-01T05:00:00-01:00", "0001-01-01T06:00:00Z"),
        ("9999-12-31T23:30:00+01:00", "9999-12-31T22:30:00Z"),
        ("2025-02-21T11:00:00+01:00", "2025-02-21T10:00:00Z"),
    ],
)
def test_the_edges_utc_can_hold_are_kept_in_utc(
    post_event: Callable[..., requests.Response], start_at: str, stored: str
) -> None:
    answer = post_event(start_at=start_at)
    assert answer.status_code == 201, answer.text
    assert answer.json()["start_at"] == stored


def test_keys_the_create_schema_does_not_list_are_ignored(
    post_event: Callable[..., requests.Response], trackops: EmulatorHandle
) -> None:
    answer = post_event(
        start_at="2025-03-01T09:00:00Z",
        updated_at=[-108492640294, None],
        created_at="1999-01-01T00:00:00Z",
        created_by_id=999,
        nickname="not a field",
    )
    assert answer.status_code == 201, answer.text
    event = answer.json()
    assert event["created_at"] == event["updated_at"] == "2025-02-21T10:00:01Z"
    assert event["created_by_id"] != 999
    assert "nickname" not in event
