"""Property-based checks of paging, refusals, throttling and the client's cache.

Each test keeps one emulator for all its examples and resets it per example (hypothesis runs
examples inside one call of the test function).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trackmock.clients.trackops import TrackopsCache
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import Api, make_client
from .test_auth import COLLECTIONS, CONTINENTAL

SHARED = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


@pytest.fixture
def unlimited(make_emulator: Any) -> EmulatorHandle:
    """An emulator without the rate limit, for properties that need many requests."""
    handle: EmulatorHandle = make_emulator("trackops", trackops={"rate_limit": None})
    return handle


# -- paging ------------------------------------------------------------------------------------


@pytest.mark.behaviour("TO-07", "TO-08", "TO-09")
@settings(SHARED, max_examples=25)
@given(
    count=st.one_of(st.integers(0, 1000), st.sampled_from([0, 1, 99, 100, 101, 1000])),
    per_page=st.one_of(st.integers(1, 100), st.sampled_from([1, 100])),
    direction=st.sampled_from(["asc", "desc", None]),
)
def test_paging_yields_every_record_once_in_order(
    unlimited: EmulatorHandle, count: int, per_page: int, direction: str | None
) -> None:
    unlimited.control.reset()
    made = unlimited.control.call(
        "POST",
        "trackops/records/case_flags/batch",
        {"records": [{"name": f"Flag {i}"} for i in range(count)]},
        account="continental",
    )["records"]
    expected = [r["id"] for r in made]
    if direction != "asc":
        expected.reverse()
    api = Api(unlimited, auth=CONTINENTAL)
    seen: list[int] = []
    number = 1
    while True:
        params: dict[str, Any] = {"per_page": per_page, "page": number}
        if direction:
            params["dir"] = direction
        page = api.get(
            "/api/v1/case/flags", params=params, host="continental.localhost", advance=0
        ).json()
        assert len(page) <= per_page
        seen += [r["id"] for r in page]
        if len(page) < per_page:
            break
        number += 1
    assert seen == expected
    counted = api.get(
        "/api/v1/case/flags",
        params={"mode": "count", "per_page": per_page},
        host="continental.localhost",
        advance=0,
    ).json()
    assert counted == {"record_count": count, "page_count": -(-count // per_page)}


# -- refusals ----------------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
BAD_PER_PAGE = st.one_of(
    st.integers(max_value=0), st.integers(min_value=101), TEXT.filter(lambda t: not t.isdigit())
)
BAD_PAGE = st.one_of(st.integers(max_value=0), TEXT.filter(lambda t: not t.isdigit()))
BAD_DIR = TEXT.filter(lambda t: t not in ("asc", "desc"))
UNKNOWN = st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(
    lambda name: name not in {"per_page", "page", "dir", "mode"}
)


@st.composite
def invalid_queries(draw: st.DrawFn) -> tuple[str, dict[str, Any], set[str]]:
    """A collection and a query with at least one invalid common or unknown parameter."""
    path = draw(st.sampled_from(COLLECTIONS))
    bad: dict[str, Any] = {}
    for name, strategy in (("per_page", BAD_PER_PAGE), ("page", BAD_PAGE), ("dir", BAD_DIR)):
        if draw(st.booleans()):
            bad[name] = draw(strategy)
    if not bad or draw(st.booleans()):
        bad["x_" + draw(UNKNOWN)] = draw(TEXT)
    return path, bad, set(bad)


@pytest.mark.behaviour("TO-11")
@settings(SHARED, max_examples=60)
@given(case=invalid_queries())
def test_an_invalid_common_or_unknown_parameter_is_always_400(
    unlimited: EmulatorHandle, case: tuple[str, dict[str, Any], set[str]]
) -> None:
    path, query, bad = case
    response = Api(unlimited).get(path, params=query, advance=0)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["parameter"] in bad


FILTER_NAMES = [
    *("id", "case", "client", "name", "status", "from", "to", "created_from", "is_active"),
    *("updated_to", "per_page", "page", "dir", "mode", "title", "role", "user"),
]


@pytest.mark.behaviour("TO-10", "TO-11")
@settings(SHARED, max_examples=60)
@given(
    path=st.sampled_from(COLLECTIONS),
    query=st.dictionaries(
        st.sampled_from(FILTER_NAMES),
        st.one_of(TEXT, st.integers(-5, 5).map(str), st.sampled_from(["2025-01-01", "true"])),
        max_size=4,
    ),
)
def test_any_filter_values_answer_200_or_400_never_500(
    unlimited: EmulatorHandle, path: str, query: dict[str, str]
) -> None:
    response = Api(unlimited).get(path, params=query, advance=0)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]["parameter"] in query


# -- throttling --------------------------------------------------------------------------------

BURSTS = st.lists(
    st.tuples(st.integers(0, 12).map(lambda quarters: quarters / 4), st.integers(1, 4)),
    min_size=1,
    max_size=6,
)


def _times(entries: list[dict[str, Any]]) -> list[float]:
    return [datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in entries]


@pytest.mark.behaviour("TO-04")
@settings(SHARED, max_examples=15)
@given(pattern=BURSTS)
def test_the_client_never_sees_429_and_stays_at_one_request_per_second(
    trackops: EmulatorHandle, pattern: list[tuple[float, int]]
) -> None:
    trackops.reset()
    with make_client(trackops) as client:
        for gap, size in pattern:
            trackops.clock.advance(gap)
            for _ in range(size):
                client.get("case/types", per_page=1)
    calls = trackops.control.journal(path_prefix="/api/")
    assert len(calls) == sum(size for _, size in pattern)
    assert {c["status"] for c in calls} == {200}
    assert all(later - earlier >= 1 for earlier, later in pairwise(_times(calls)))


@pytest.mark.behaviour("TO-04")
@settings(SHARED, max_examples=15)
@given(pattern=BURSTS)
def test_a_raw_burst_gets_429_for_all_but_one_request_per_second(
    trackops: EmulatorHandle, pattern: list[tuple[float, int]]
) -> None:
    trackops.reset()
    api = Api(trackops)
    now, last_allowed = 0.0, None
    for gap, size in pattern:
        trackops.clock.advance(gap)
        now += gap
        statuses = [api.get("/api/v1/case/types", advance=0).status_code for _ in range(size)]
        allowed = last_allowed is None or now - last_allowed >= 1
        assert statuses == ([200] if allowed else [429]) + [429] * (size - 1)
        if allowed:
            last_allowed = now


# -- the client's cache ------------------------------------------------------------------------

OBJECTS = {"clients": "clients", "case/updates": "case_updates"}
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("api-update"), st.integers(1, 6)),
        st.tuples(st.just("admin-create-client"), st.integers(0, 99)),
        st.tuples(st.just("admin-change-client"), st.integers(1, 4)),
        st.tuples(st.just("admin-change-update"), st.integers(1, 7)),
        st.tuples(st.just("advance"), st.integers(0, 5)),
        st.tuples(st.just("sync"), st.just(0)),
    ),
    max_size=8,
)


def _server_state(trackops: EmulatorHandle) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for name, store in OBJECTS.items():
        records = trackops.control.call("GET", f"trackops/records/{store}")["records"]
        yield name, records


@pytest.mark.behaviour("TO-16")
@settings(SHARED, max_examples=12)
@given(steps=STEPS)
def test_after_any_creates_and_updates_the_synced_cache_equals_the_server(
    trackops: EmulatorHandle, steps: list[tuple[str, int]]
) -> None:
    trackops.reset()
    control = trackops.control
    cache = TrackopsCache()
    with make_client(trackops) as client:
        client.sync(list(OBJECTS), cache)
        for action, value in steps:
            if action == "api-update":
                client.create("case/updates", {"casefile_id": value, "access_group_id": 2})
            elif action == "admin-create-client":
                control.call("POST", "trackops/records/clients", {"name": f"Client {value}"})
            elif action == "admin-change-client":
                control.call("PATCH", f"trackops/records/clients/{value}", {"phone": "555"})
            elif action == "admin-change-update":
                control.call("PATCH", f"trackops/records/case_updates/{value}", {"is_valid": True})
            elif action == "advance":
                trackops.clock.advance(value)
            else:
                client.sync(list(OBJECTS), cache)
        client.sync(list(OBJECTS), cache)
    for name, records in _server_state(trackops):
        assert cache.records(name) == records, name
