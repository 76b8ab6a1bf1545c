"""The journal stays bounded and queryable; fault rules parse, match and wear out."""

from __future__ import annotations

import pytest
from trackmock.core.clock import Clock
from trackmock.core.faults import FaultError, Faults
from trackmock.core.journal import Journal, Query


def test_journal_keeps_only_the_last_entries() -> None:
    journal = Journal(Clock(frozen=True, start=0), size=100)
    for i in range(10_000):
        journal.record("http", method="GET", path=f"/p/{i}", status=200)
    kept = journal.select()
    assert len(kept) == 100
    assert kept[0].path == "/p/9900"
    assert journal.recorded == 10_000


def test_journal_cuts_bodies_and_renders_binary_as_base64() -> None:
    journal = Journal(Clock(frozen=True, start=0), size=10, body_limit=4)
    entry = journal.record(
        "http", method="POST", path="/x", request_body=b"abcdefgh", response_body=b"\xff\xfe"
    )
    rendered = entry.to_json()
    assert rendered["request"]["body"] == "abcd"
    assert rendered["response"] == {"headers": {}, "bodyBase64": "//4="}


def test_journal_queries_explain_why_an_entry_is_left_out() -> None:
    journal = Journal(Clock(frozen=True, start=0))
    journal.record("http", method="GET", path="/api/cases", status=200)
    journal.record("http", method="PUT", path="/api/cases/1", status=204)
    journal.record("ws-out", path="/api/socket", connection=3, response_body=b"{}")
    assert [e.path for e in journal.select(Query(method="put"))] == ["/api/cases/1"]
    assert [e.kind for e in journal.select(Query(path_prefix="/api/socket"))] == ["ws-out"]
    assert [e.id for e in journal.select(Query(since=1, limit=1))] == [3]
    entry = journal.select()[0]
    assert Query(status=204).matches(entry) == (False, "status is 200")
    journal.clear()
    assert journal.select() == []


def test_faults_match_by_method_and_path_and_wear_out() -> None:
    faults = Faults()
    fault = faults.add(
        {"action": "status", "status": 503, "path": "/api/cases/*", "method": "GET", "times": 2}
    )
    assert faults.take("POST", "/api/cases/1") is None
    assert faults.take("GET", "/api/tags") is None
    assert getattr(faults.take("GET", "/api/cases/1"), "fault", None) is fault
    assert faults.explain("GET", "/api/tags") == [
        (fault.id, False, "path /api/tags does not match /api/cases/*")
    ]
    assert getattr(faults.take("GET", "/api/cases/2"), "fault", None) is fault
    assert faults.take("GET", "/api/cases/3") is None
    assert faults.list() == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode"}, "'action' must be one of"),
        ({"action": "status"}, "needs 'status'"),
        ({"action": "status", "status": 700}, "'status' must be an integer"),
        ({"action": "latency"}, "needs 'latency_ms'"),
        ({"action": "drop", "times": 0}, "'times' must be"),
        ({"action": "drop", "when": "now"}, "unknown field"),
        ({"action": "drop", "headers": {"a": 1}}, "'headers' must map"),
        ([], "a JSON object"),
    ],
)
def test_bad_faults_are_refused_with_the_reason(data: object, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        Faults().add(data)


def test_whole_floats_count_as_integers_as_in_json_schema() -> None:
    fault = Faults().add({"action": "status", "status": 503.0, "times": 2.0})
    assert (fault.status, fault.times) == (503, 2)
    with pytest.raises(FaultError, match="'status' must be an integer"):
        Faults().add({"action": "status", "status": 503.5})
