"""The reference client: basic auth, TLS against the CA, throttling, paging, sync (TO-16)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from trackmock.clients.trackops import (
    AccessDenied,
    AuthenticationFailed,
    BadRequest,
    NotFound,
    RateLimited,
    TokenBucket,
    TrackopsCache,
    TrackopsClient,
    Unreachable,
)
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import TOKEN, Api, make_client


def _api_calls(trackops: EmulatorHandle) -> list[dict[str, Any]]:
    return trackops.control.journal(path_prefix="/api/")


def _seconds(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()


def _gaps(entries: list[dict[str, Any]]) -> list[float]:
    times = [_seconds(e) for e in entries]
    return [round(b - a, 3) for a, b in pairwise(times)]


@pytest.mark.behaviour("TO-02")
def test_the_client_sends_the_vendors_basic_auth(
    make_emulator: Callable[..., EmulatorHandle],
) -> None:
    # The journal masks credentials; this test reads what the client really sent.
    trackops = make_emulator("trackops", journal_secrets=True)
    with make_client(trackops) as client:
        assert client.get("clients", name="ACME Insurance")[0]["id"] == 4
    header = _api_calls(trackops)[-1]["request"]["headers"]
    sent = {k.lower(): v for k, v in header.items()}["authorization"]
    assert base64.b64decode(sent.removeprefix("Basic ")).decode() == f"samspade/token:{TOKEN}"


@pytest.mark.behaviour("TO-01")
def test_the_client_verifies_tls_against_the_given_ca(trackops: EmulatorHandle) -> None:
    untrusting = TrackopsClient(trackops.url, "samspade", TOKEN, clock=trackops.clock)
    with pytest.raises(Unreachable, match=r"SSL|certificate"):
        untrusting.get("clients")
    plain = TrackopsClient(
        trackops.url.replace("https://", "http://"), "samspade", TOKEN, clock=trackops.clock
    )
    with pytest.raises(AccessDenied, match="SSL required"):
        plain.get("clients")


@pytest.mark.behaviour("TO-04")
def test_the_client_spaces_its_requests_a_second_apart(
    trackops: EmulatorHandle, client: TrackopsClient
) -> None:
    for _ in range(4):
        client.get("case/types")
    calls = _api_calls(trackops)
    assert [c["status"] for c in calls] == [200] * 4
    assert all(gap >= 1 for gap in _gaps(calls))


@pytest.mark.behaviour("TO-04")
def test_a_429_is_waited_out_and_retried_a_bounded_number_of_times(
    trackops: EmulatorHandle, client: TrackopsClient
) -> None:
    trackops.control.add_fault(
        action="status", status=429, headers={"Retry-After": "3"}, path="/api/v1/clients", times=2
    )
    started = trackops.clock.now()
    assert client.get("clients")
    assert trackops.clock.now() - started >= 6, "waited Retry-After twice"
    trackops.control.add_fault(action="status", status=429, path="/api/v1/clients", times=10)
    stubborn = make_client(trackops, max_retries=2)
    with pytest.raises(RateLimited) as raised:
        stubborn.get("clients")
    assert raised.value.status == 429


def test_refusals_are_typed(trackops: EmulatorHandle, client: TrackopsClient) -> None:
    with pytest.raises(BadRequest) as bad:
        client.get("cases", per_page=500)
    assert bad.value.parameter == "per_page"
    with pytest.raises(NotFound):
        client.record("cases", 999)
    with pytest.raises(AuthenticationFailed):
        make_client(trackops, api_token="0" * 8).get("clients")
    with pytest.raises(AccessDenied, match="Limited Access"):
        make_client(trackops, username="eperine").get("clients")
    with pytest.raises(ValueError, match="per_page"):
        next(client.pages("cases", per_page=101))


@pytest.mark.behaviour("TO-07", "TO-08")
def test_paging_stops_at_a_short_or_empty_page(
    trackops: EmulatorHandle, client: TrackopsClient
) -> None:
    updates = list(client.iterate("case/updates", per_page=3, dir="asc"))
    assert [u["id"] for u in updates] == list(range(1, 8))
    assert len(_api_calls(trackops)) == 3, "3 + 3 + 1: the short page ends it"
    trackops.control.clear_journal()
    cases = list(client.iterate("cases", per_page=3))
    assert [c["id"] for c in cases] == [6, 5, 4, 3, 2, 1]
    assert len(_api_calls(trackops)) == 3, "3 + 3 + an empty page"


def test_the_client_downloads_a_file_and_creates_records(client: TrackopsClient) -> None:
    record = client.record("files", 2)
    assert client.download(record["download_url"]).startswith(b"trackmock placeholder")
    made = client.create("events", {"title": "Stakeout", "start_at": "2025-03-01T10:00:00Z"})
    assert made["created_by_id"] == 1
    assert client.count("events", title="stakeout")["record_count"] == 1


OBJECTS = ["cases", "case/updates", "clients", "files"]
STORES = {"cases": "cases", "case/updates": "case_updates", "clients": "clients", "files": "files"}


def _server(api: Api, name: str) -> list[dict[str, Any]]:
    volatile = ("download_url", "download_url_expires_at")
    return [
        {k: v for k, v in record.items() if k not in volatile and k != "field_values"}
        for record in api.records(STORES[name])
    ]


@pytest.mark.behaviour("TO-16")
def test_sync_keeps_new_and_updated_records_incrementally(
    trackops: EmulatorHandle, client: TrackopsClient, api: Api
) -> None:
    cache = TrackopsCache()
    first = client.sync(OBJECTS, cache)
    assert first == {name: len(api.records(STORES[name])) for name in OBJECTS}
    for name in OBJECTS:
        assert cache.records(name) == _server(api, name)
    assert client.sync(OBJECTS, cache) == dict.fromkeys(OBJECTS, 0), "idempotent"
    trackops.control.clear_journal()
    client.create("case/updates", {"casefile_id": 2, "access_group_id": 1, "content": "New."})
    trackops.control.call("PATCH", "trackops/records/clients/2", {"phone": "555-0142"})
    changed = client.sync(OBJECTS, cache)
    assert changed == {"cases": 0, "case/updates": 1, "clients": 1, "files": 0}
    for name in OBJECTS:
        assert cache.records(name) == _server(api, name)
    queries = [e["query"] for e in _api_calls(trackops) if e["method"] == "GET"]
    assert all("updated_from=" in q for q in queries), "only what changed since the last sync"
    newest = max(c["updated_at"] for c in api.records("clients"))
    assert cache.watermark("clients") == newest


def test_the_cache_lives_in_a_sqlite_file(trackops: EmulatorHandle, tmp_path: Any) -> None:
    path = tmp_path / "trackops.sqlite"
    with make_client(trackops) as client:
        client.sync(["clients"], path)
    reopened = TrackopsCache(path)
    assert [c["id"] for c in reopened.records("clients")] == [1, 2, 3, 4]
    assert reopened.get("clients", 4)["name"] == "ACME Insurance"
    assert reopened.get("clients", 99) is None


class _FakeClock:
    def __init__(self) -> None:
        self.time = 100.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds


def test_the_token_bucket_allows_its_burst_then_its_rate() -> None:
    clock = _FakeClock()
    bucket = TokenBucket(clock, rate=2.0, burst=2)
    for _ in range(4):
        bucket.take()
    assert clock.slept == [0.5, 0.5]
    clock.time += 10
    bucket.take()
    bucket.take()
    assert clock.slept == [0.5, 0.5], "refilled to the burst, no more"
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(clock, rate=0)


@pytest.mark.behaviour("TO-16")
def test_sync_misses_nothing_changed_in_the_same_second_as_its_watermark(
    trackops: EmulatorHandle, client: TrackopsClient, api: Api
) -> None:
    cache = TrackopsCache()
    client.sync(["clients"], cache)
    trackops.clock.advance(10)
    trackops.control.call("PATCH", "trackops/records/clients/1", {"phone": "555-0001"})
    assert client.sync(["clients"], cache) == {"clients": 1}
    watermark = cache.watermark("clients")
    trackops.control.call("PATCH", "trackops/records/clients/3", {"phone": "555-0003"})
    assert api.records("clients")[2]["updated_at"] == watermark, "the same second"
    assert client.sync(["clients"], cache) == {"clients": 1}
    assert cache.records("clients") == api.records("clients")
