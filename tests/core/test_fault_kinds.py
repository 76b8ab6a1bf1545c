"""HTTP faults for resilience tests, over real sockets: seeded probability, latency ranges,
truncated JSON, wrong content types, the journal's record of each, and bad definitions."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from trackmock.core.emulator import Emulator
from trackmock.core.server import BackgroundRunner, Listener

from .helpers import make_sample

AUTH = {"Authorization": "Bearer good", "X-Tenant": "1"}
WAITED = re.compile(r"waited ([0-9.]+) ms")


@contextmanager
def served(**settings: Any) -> Iterator[Emulator]:
    emulator = make_sample(**settings)
    with BackgroundRunner([Listener(emulator)]):
        yield emulator


def add_fault(emulator: Emulator, **fault: Any) -> requests.Response:
    return requests.post(f"{emulator.base_url}/__admin/faults", json=fault, timeout=10)


def fault_rules(emulator: Emulator, path: str) -> list[str]:
    """The fault details of the journal's entries for ``path``, oldest first ('' if none)."""
    entries = requests.get(
        f"{emulator.base_url}/__admin/journal", params={"path": path}, timeout=10
    ).json()["entries"]
    return [
        next((r["detail"] for r in entry.get("rules", []) if r["rule"] == "fault"), "")
        for entry in entries
    ]


def ping_statuses(emulator: Emulator, count: int) -> list[int]:
    with requests.Session() as http:
        return [
            http.get(f"{emulator.base_url}/api/ping", timeout=10).status_code for _ in range(count)
        ]


def test_probability_draws_repeat_with_the_same_seed() -> None:
    runs = []
    for seed in (11, 11, 12):
        with served(seed=seed) as emulator:
            assert (
                add_fault(emulator, action="status", status=503, probability=0.5).status_code == 201
            )
            runs.append(ping_statuses(emulator, 40))
            # After a reset the same faults draw the same again.
            requests.post(f"{emulator.base_url}/__admin/reset", timeout=10)
            add_fault(emulator, action="status", status=503, probability=0.5)
            assert ping_statuses(emulator, 40) == runs[-1]
    assert runs[0] == runs[1], "the same seed gives the same hits and misses"
    assert set(runs[0]) == {200, 503}, "a probability of one half both hits and misses"
    assert runs[2] != runs[0], "another seed draws otherwise"


def test_a_missed_draw_lets_the_request_through_and_uses_up_nothing() -> None:
    with served(seed=5) as emulator:
        add_fault(emulator, action="status", status=500, probability=0.3, times=3)
        statuses = ping_statuses(emulator, 60)
        assert statuses.count(500) == 3, "the fault acts three times, however many misses"
        assert requests.get(f"{emulator.base_url}/__admin/faults", timeout=10).json() == {
            "faults": []
        }
        last_hit = max(i for i, status in enumerate(statuses) if status == 500)
        assert last_hit > 3, "misses let requests through before the third hit"
        details = fault_rules(emulator, "/api/ping")
        assert [bool(d) for d in details] == [s == 500 for s in statuses]


def test_probability_zero_never_acts_and_counts_its_misses() -> None:
    with served() as emulator:
        add_fault(emulator, action="drop", probability=0, times=1)
        assert ping_statuses(emulator, 5) == [200] * 5
        (fault,) = requests.get(f"{emulator.base_url}/__admin/faults", timeout=10).json()["faults"]
        assert (fault["hits"], fault["misses"], fault["remaining"]) == (0, 5, 1)


def test_latency_ranges_are_drawn_within_bounds_and_seeded() -> None:
    waits = []
    for _ in range(2):
        with served(seed=3) as emulator:
            add_fault(
                emulator, action="latency", path="/api/ping", latency_min_ms=5, latency_max_ms=25
            )
            assert ping_statuses(emulator, 12) == [200] * 12
            details = fault_rules(emulator, "/api/ping")
            waits.append([float(WAITED.search(d).group(1)) for d in details])  # type: ignore[union-attr]
    assert waits[0] == waits[1], "the same seed draws the same waits"
    assert all(5 <= wait <= 25 for wait in waits[0])
    assert len(set(waits[0])) > 1, "a range, not one value"


def test_a_waiting_fault_does_not_hold_the_event_loop(sample: Emulator) -> None:
    add_fault(sample, action="latency", path="/api/widgets", latency_ms=60000, times=1)
    outcome: list[Any] = []

    def slow() -> None:
        try:
            outcome.append(requests.get(f"{sample.base_url}/api/widgets", headers=AUTH, timeout=90))
        except requests.RequestException as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=slow, daemon=True)
    waiting.start()
    # The wait has started once the fault is used up.
    for _ in range(2000):
        if not requests.get(f"{sample.base_url}/__admin/faults", timeout=10).json()["faults"]:
            break
    else:
        pytest.fail("the slow request never reached the emulator")
    assert requests.get(f"{sample.base_url}/api/ping", timeout=10).status_code == 200
    assert waiting.is_alive(), "the faulted request still waits while others are answered"
    assert outcome == []


def test_truncate_cuts_the_real_answer_into_broken_json(sample: Emulator) -> None:
    url = f"{sample.base_url}/api/widgets"
    whole = requests.get(url, headers=AUTH, timeout=10)
    add_fault(sample, action="truncate", path="/api/widgets", times=1)
    requests.post(f"{sample.base_url}/__admin/clock", json={"advance": 5}, timeout=10)
    cut = requests.get(url, headers=AUTH, timeout=10)
    assert cut.status_code == 200
    assert cut.headers["Content-Type"] == "application/json"
    assert cut.content == whole.content[: len(whole.content) // 2]
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    # The sample vendor limits the rate of /api/widgets by its clock.
    requests.post(f"{sample.base_url}/__admin/clock", json={"advance": 5}, timeout=10)
    assert requests.get(url, headers=AUTH, timeout=10).content == whole.content
    detail = fault_rules(sample, "/api/widgets")[1]
    assert detail.endswith(f"body cut to {len(cut.content)} of {len(whole.content)} bytes")


def test_truncate_cuts_a_forced_body_to_the_bytes_asked(sample: Emulator) -> None:
    add_fault(
        sample, action="truncate", status=503, body={"error": "busy", "retry": 5}, truncate_bytes=9
    )
    answer = requests.get(f"{sample.base_url}/api/ping", timeout=10)
    assert answer.status_code == 503
    assert answer.content == b'{"error":'
    (detail,) = fault_rules(sample, "/api/ping")
    assert detail == "fault 1 (truncate): answered 503, body cut to 9 of 26 bytes"


def test_content_type_faults_send_the_answer_under_a_wrong_type(sample: Emulator) -> None:
    url = f"{sample.base_url}/api/ping"
    add_fault(sample, action="content_type", times=1)
    wrong = requests.get(url, timeout=10)
    assert (wrong.status_code, wrong.json()) == (200, {"pong": True})
    assert wrong.headers["Content-Type"] == "text/html; charset=utf-8"
    add_fault(sample, action="content_type", content_type="text/plain", status=502, times=1)
    forced = requests.get(url, timeout=10)
    assert (forced.status_code, forced.headers["Content-Type"]) == (502, "text/plain")
    assert requests.get(url, timeout=10).headers["Content-Type"] == "application/json"
    assert fault_rules(sample, "/api/ping") == [
        "fault 1 (content_type): sent as text/html; charset=utf-8",
        "fault 2 (content_type): answered 502, sent as text/plain",
        "",
    ]


def test_every_http_fault_names_itself_in_the_journal(sample: Emulator) -> None:
    faults = [
        {"action": "status", "status": 429, "latency_ms": 1},
        {"action": "latency", "latency_ms": 2},
        {"action": "drop"},
        {"action": "truncate", "truncate_bytes": 3},
        {"action": "content_type"},
    ]
    for fault in faults:
        add_fault(sample, **fault, path="/api/ping", times=1)
    for _ in faults:
        with contextlib.suppress(requests.ConnectionError):  # the drop
            requests.get(f"{sample.base_url}/api/ping", timeout=10)
    assert fault_rules(sample, "/api/ping") == [
        "fault 1 (status): waited 1 ms, answered 429",
        "fault 2 (latency): waited 2 ms",
        "fault 3 (drop): connection dropped",
        "fault 4 (truncate): body cut to 3 of 13 bytes",
        "fault 5 (content_type): sent as text/html; charset=utf-8",
    ]


BAD_FAULTS = [
    ({"action": "status", "status": 503, "probability": 1.5}, "probability"),
    ({"action": "status", "status": 503, "probability": -0.1}, "probability"),
    ({"action": "status", "status": 503, "probability": "often"}, "probability"),
    ({"action": "latency", "latency_min_ms": 50, "latency_max_ms": 10}, "must not be above"),
    ({"action": "latency", "latency_min_ms": 50}, "latency_max_ms"),
    ({"action": "latency", "latency_ms": 5, "latency_max_ms": 10}, "latency_min_ms"),
    (
        {"action": "latency", "latency_ms": 5, "latency_min_ms": 1, "latency_max_ms": 10},
        "'latency_min_ms' should not be valid",
    ),
    ({"action": "latency", "latency_min_ms": 0, "latency_max_ms": 0}, "$.latency_max_ms: 0"),
    ({"action": "explode"}, "action"),
    ({"action": "socket_close", "close_code": 999}, "close_code"),
    ({"action": "socket_close", "close_code": 5000}, "close_code"),
    ({"action": "socket_close", "close_code": 1006}, "$.close_code: 1006"),
    ({"action": "socket_close", "close_code": 1005}, "$.close_code: 1005"),
    ({"action": "socket_close", "close_code": 2000}, "$.close_code: 2000"),
    ({"action": "socket_close", "after_frames": -1}, "after_frames"),
    ({"action": "upgrade_refuse", "status": 200}, "$.status: 200 is less than the minimum of 400"),
    ({"action": "frame_drop", "method": "GET"}, "'method' is not one of"),
    ({"action": "frame_delay"}, "'latency_ms' is a required property"),
    ({"action": "drop", "close_code": 1000}, "'close_code' is not one of"),
    ({"action": "drop", "when": "now"}, "'when'"),
    ({"action": "truncate", "body": {"a": 1}}, "'status' is a required property"),
    ({"action": "truncate", "truncate_bytes": -1}, "truncate_bytes"),
    ({"action": "content_type", "content_type": ""}, "content_type"),
]


@pytest.mark.parametrize(("fault", "reason"), BAD_FAULTS)
def test_bad_fault_definitions_get_a_400_and_change_nothing(
    sample: Emulator, fault: dict[str, Any], reason: str
) -> None:
    url = f"{sample.base_url}/__admin/faults"
    add_fault(sample, action="status", status=503, path="/nowhere")
    before = requests.get(url, timeout=10).json()
    refused = requests.post(url, json=fault, timeout=10)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["status"] == 400
    assert reason in error["message"]
    assert requests.get(url, timeout=10).json() == before


def test_the_old_fault_definitions_still_work(sample: Emulator) -> None:
    stored = add_fault(
        sample, action="latency", latency_ms=1, status=500, body={"ignored": True}, times=1
    ).json()
    assert (stored["action"], stored["latency_ms"], stored["probability"]) == ("latency", 1, 1)
    assert requests.get(f"{sample.base_url}/api/ping", timeout=10).json() == {"pong": True}
