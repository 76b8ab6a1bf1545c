"""The polling rule (TR-07): a GET repeated within a minute is a violation; enough of them
disable the account until support (the control API) re-enables it. POSTs never count."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import DOC_CASE, DOC_CASE_NUMBER, Api, new_case

WARNING = "X-Polling-Warning"
DISABLED = "This account has been disabled for polling the API more than once a minute."


def _token_state(tracker: EmulatorHandle, token: str) -> dict[str, Any]:
    return next(t for t in tracker.control.call("GET", "tokens") if t["token"] == token)


@pytest.mark.behaviour("TR-07")
def test_a_repeated_get_within_a_minute_is_answered_with_a_warning(
    tracker: EmulatorHandle, api: Api
) -> None:
    path = f"/api/cases/{DOC_CASE}"
    first = api.get(path)
    assert first.status_code == 200
    assert WARNING not in first.headers
    tracker.clock.advance(59.9)
    again = api.get(path)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert "violation 1 of 10" in again.headers[WARNING]
    tracker.clock.advance(60)
    assert WARNING not in api.get(path).headers
    # Another query is another GET; a 404 and the end of the feed count like any GET.
    assert WARNING not in api.get(path, params={"x": "1"}).headers
    api.get("/api/cases/getByNumber", params={"value": "nope"})
    assert WARNING in api.get("/api/cases/getByNumber", params={"value": "nope"}).headers
    api.get("/api/items/seqOrgItemHistoryId/99")
    end = api.get("/api/items/seqOrgItemHistoryId/99")
    assert end.status_code == 204
    assert WARNING in end.headers


@pytest.mark.behaviour("TR-07")
def test_posts_and_puts_never_count(tracker: EmulatorHandle, api: Api) -> None:
    case = api.case()
    case["formData"] = []
    for n in range(15):
        assert api.put(f"/api/cases/{DOC_CASE}", case).status_code == 204
        assert api.post("/api/cases/search", {}).status_code == 200
        assert api.post("/api/cases", new_case(f"2025-{n:04d}")).status_code == 200
    assert _token_state(tracker, tracker.credentials["token"])["violations"] == 0


@pytest.mark.behaviour("TR-07")
def test_ten_violations_disable_the_account_until_it_is_re_enabled(
    tracker: EmulatorHandle, api: Api
) -> None:
    token = tracker.credentials["token"]
    assert api.get("/api/tags").status_code == 200
    for n in range(1, 11):
        tracker.clock.advance(30)
        answer = api.get("/api/tags")
        assert answer.status_code == 200
        assert f"violation {n} of 10" in answer.headers[WARNING]
    assert "now disabled" in answer.headers[WARNING]
    tracker.clock.advance(3600)
    for method, path in (("GET", "/api/races"), ("POST", "/api/cases/search")):
        refused = api.request(method, path, {} if method == "POST" else None)
        assert refused.status_code == 403
        assert DISABLED in refused.json()["message"]
    assert _token_state(tracker, token)["disabled"] is True
    # Another user's token is another account.
    assert api.as_token(tracker.credentials["limitedToken"]).get("/api/tags").status_code == 200
    enabled = tracker.control.call("POST", f"tokens/{token}/enable")
    assert enabled["disabled"] is False
    assert enabled["violations"] == 0
    assert api.get("/api/tags").status_code == 200


@pytest.mark.behaviour("TR-07")
def test_violations_older_than_the_window_are_forgotten(tracker: EmulatorHandle, api: Api) -> None:
    api.get("/api/races")
    for _ in range(9):
        tracker.clock.advance(10)
        api.get("/api/races")
    tracker.clock.advance(3600)
    api.get("/api/races")
    for _ in range(9):
        tracker.clock.advance(10)
        assert api.get("/api/races").status_code == 200
    assert _token_state(tracker, tracker.credentials["token"])["disabled"] is False


@pytest.mark.behaviour("TR-07")
def test_the_rule_is_configurable(make_emulator: Any) -> None:
    strict = Api(make_emulator("tracker", tracker={"polling_violations_to_disable": 2}))
    for _ in range(3):
        strict.get("/api/races")
    assert strict.get("/api/races").status_code == 403
    off = Api(make_emulator("tracker", tracker={"polling_rule": False}))
    for _ in range(15):
        answer = off.get("/api/races")
        assert answer.status_code == 200
        assert WARNING not in answer.headers
    wide = make_emulator("tracker", tracker={"polling_repeat_window": 600})
    wide_api = Api(wide)
    wide_api.get("/api/races")
    wide.clock.advance(300)
    assert WARNING in wide_api.get("/api/races").headers


GET_PATHS = [
    "/api/tags",
    f"/api/cases/{DOC_CASE}",
    f"/api/cases/getByNumber?value={DOC_CASE_NUMBER}",
    "/api/items/seqOrgItemHistoryId/1",
    "/api/forms?formType=Cases",
]


@pytest.mark.behaviour("TR-07")
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(GET_PATHS),
    interval=st.floats(min_value=0, max_value=59.5),
    threshold=st.just(10),
)
def test_a_raw_polling_loop_always_gets_disabled(
    tracker: EmulatorHandle, path: str, interval: float, threshold: int
) -> None:
    tracker.reset()
    api = Api(tracker)
    for call in range(threshold + 1):
        assert api.get(path).status_code in (200, 204), call
        tracker.clock.advance(interval)
    assert api.get(path).status_code == 403


@pytest.mark.behaviour("TR-07")
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(GET_PATHS),
    interval=st.floats(min_value=60, max_value=3600),
    calls=st.integers(min_value=2, max_value=25),
)
def test_polling_once_a_minute_or_less_is_never_a_violation(
    tracker: EmulatorHandle, path: str, interval: float, calls: int
) -> None:
    tracker.reset()
    api = Api(tracker)
    for _ in range(calls):
        answer = api.get(path)
        assert answer.status_code in (200, 204)
        assert WARNING not in answer.headers
        tracker.clock.advance(interval)
