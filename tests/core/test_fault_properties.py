"""Properties of fault definitions: the contract and the parser agree on valid ones, and any
JSON body gets a 201 or a 400 in the admin error shape, never a 500, never a change on 400."""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trackmock.core.faults import ACTIONS, SOCKET_ACTIONS, FaultError, parse_fault

from .test_fault_kinds import served

CLOSE_CODES = st.sampled_from([1000, 1001, 1002, 1003, 1007, 1011, 1014]) | st.integers(3000, 4999)
LATENCY = st.floats(0, 60000, allow_nan=False)
JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
)  # fmt: skip
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    "action", "method", "path", "status", "body", "headers", "latency_ms", "latency_min_ms",
    "latency_max_ms", "probability", "content_type", "truncate_bytes", "close_code",
    "after_frames", "times", "when",
]  # fmt: skip
"""The fields a fault takes, and one it does not."""


@st.composite
def valid_faults(draw: st.DrawFn) -> dict[str, Any]:
    action = draw(st.sampled_from(ACTIONS))
    fault: dict[str, Any] = {"action": action}
    if draw(st.booleans()):
        fault["path"] = draw(st.sampled_from(["/api/*", "/api/ping", "/api/socket", "*"]))
    if action not in SOCKET_ACTIONS and draw(st.booleans()):
        fault["method"] = draw(st.sampled_from(["GET", "post", "PUT"]))
    if draw(st.booleans()):
        fault["times"] = draw(st.integers(1, 1_000_000))
    if draw(st.booleans()):
        fault["probability"] = draw(st.floats(0, 1))
    if action in ("status", "latency", "drop", "truncate", "content_type", "frame_delay"):
        low, high = sorted([draw(LATENCY), draw(LATENCY)])
        must_wait = action in ("latency", "frame_delay")
        if draw(st.booleans()):
            fault["latency_min_ms"], fault["latency_max_ms"] = (
                low,
                max(high, 1.0 if must_wait else 0),
            )
        elif must_wait or draw(st.booleans()):
            fault["latency_ms"] = max(high, 1.0 if must_wait else 0)
    if action == "status" or (
        action in ("truncate", "content_type", "upgrade_refuse") and draw(st.booleans())
    ):
        fault["status"] = draw(st.integers(400 if action == "upgrade_refuse" else 100, 599))
        if draw(st.booleans()):
            fault["body"] = draw(JSON)
        if draw(st.booleans()):
            fault["headers"] = {"X-Fault": draw(st.text("abc", max_size=5))}
    if action in ("status", "content_type") and draw(st.booleans()):
        fault["content_type"] = draw(st.sampled_from(["text/plain", "application/xml"]))
    if action == "truncate" and draw(st.booleans()):
        fault["truncate_bytes"] = draw(st.integers(0, 1000))
    if action == "socket_close":
        if draw(st.booleans()):
            fault["close_code"] = draw(CLOSE_CODES)
        if draw(st.booleans()):
            fault["after_frames"] = draw(st.integers(0, 1000))
    return fault


ANY_FAULTS = (
    st.dictionaries(
        st.sampled_from(FIELDS),
        JSON | st.sampled_from(ACTIONS) | st.integers(900, 5100),
        max_size=6,
    )
    | JSON
)


RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""The machine is shared: slow generation is not a failure."""


@RELAXED
@given(valid_faults())
def test_valid_definitions_parse_and_keep_their_fields(fault: dict[str, Any]) -> None:
    parsed = parse_fault(fault, 1).to_json()
    for name, value in fault.items():
        assert parsed[name] == value


@RELAXED
@given(ANY_FAULTS)
def test_the_parser_refuses_with_a_fault_error_only(data: Any) -> None:
    try:
        parse_fault(data, 1)
    except FaultError as error:
        message = str(error)
    else:
        message = "taken"
    assert message, "a refusal says why"


def test_the_control_api_takes_valid_faults_and_refuses_bad_ones_with_400() -> None:
    with served() as emulator, requests.Session() as http:
        url = f"{emulator.base_url}/__admin/faults"

        @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(valid=st.booleans(), data=st.data())
        def post_one(valid: bool, data: Any) -> None:
            before = http.get(url, timeout=10).json()
            fault = data.draw(valid_faults() if valid else ANY_FAULTS)
            answer = http.post(url, json=fault, timeout=10)
            assert answer.status_code in (201, 400), answer.text
            if valid:
                assert answer.status_code == 201, answer.text
            if answer.status_code == 400:
                error = answer.json()["error"]
                assert (error["status"], bool(error["message"])) == (400, True)
                assert http.get(url, timeout=10).json() == before
            else:
                parse_fault(fault, 1)  # the contract and the parser agree it is valid
                http.delete(url, timeout=10)

        post_one()
