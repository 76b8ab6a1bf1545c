"""Trackops control actions: the vendor's own interface, "behind the API"."""

from __future__ import annotations

import pytest
from trackmock.control import ControlError
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import Api


def test_records_created_and_changed_behind_the_api_show_in_it(
    trackops: EmulatorHandle, api: Api
) -> None:
    control = trackops.control
    trackops.clock.advance(60)
    made = control.call("POST", "trackops/records/clients", {"name": "Pinkerton Mutual"})
    assert made["id"] == 5
    assert made["created_at"] == "2025-02-21T10:01:00Z"
    assert made["is_active"] is True, "defaults from the schema"
    trackops.clock.advance(60)
    changed = control.call("PATCH", "trackops/records/clients/5", {"phone": "555-0100"})
    assert changed["updated_at"] == "2025-02-21T10:02:00Z"
    assert changed["created_at"] == made["created_at"]
    seen = api.get("/api/v1/clients?updated_from=2025-02-21T10:02:00Z").json()
    assert [(c["id"], c["phone"]) for c in seen] == [(5, "555-0100")]


def test_a_batch_is_all_or_nothing(trackops: EmulatorHandle, api: Api) -> None:
    control = trackops.control
    records = [{"name": "Good"}, {"name": ""}]
    with pytest.raises(ControlError, match="400"):
        control.call("POST", "trackops/records/case_flags/batch", {"records": records})
    assert len(api.records("case_flags")) == 4
    made = control.call(
        "POST", "trackops/records/case_flags/batch", {"records": [{"name": "A"}, {"name": "B"}]}
    )["records"]
    assert [r["id"] for r in made] == [5, 6]


SUBJECT = {"subject_type_id": 1, "name": "x"}


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("trackops/records/clients", {"id": 9, "name": "x"}, "id is assigned"),
        ("trackops/records/clients", {"name": 5}, "not a valid Client"),
        ("trackops/records/subjects", {**SUBJECT, "casefile_id": 99}, "Case"),
        ("trackops/records/events", {"title": "x", "start_at": "soon"}, "timestamp"),
        ("trackops/records/nothing", {"name": "x"}, "collection"),
    ],
)  # fmt: skip
def test_bad_records_are_refused(
    trackops: EmulatorHandle, path: str, body: dict[str, object], words: str
) -> None:
    with pytest.raises(ControlError, match=words):
        trackops.control.call("POST", path, body)


def test_unknown_accounts_users_and_records_are_404(trackops: EmulatorHandle) -> None:
    control = trackops.control
    with pytest.raises(ControlError, match="404"):
        control.call("GET", "trackops/records/cases", account="nosuch")
    with pytest.raises(ControlError, match="404"):
        control.call("PATCH", "trackops/accounts/mycompany/users/nobody", {"is_active": False})
    with pytest.raises(ControlError, match="404"):
        control.call("PATCH", "trackops/records/cases/99", {"notes": "x"})
    with pytest.raises(ControlError, match="only employees"):
        control.call(
            "PATCH", "trackops/accounts/mycompany/users/dwhitfield", {"access_level": "full_access"}
        )


def test_accounts_are_listed_with_their_users(trackops: EmulatorHandle) -> None:
    listed = trackops.control.call("GET", "trackops/accounts")
    assert listed["default_subdomain"] == "mycompany"
    names = {a["subdomain"]: len(a["users"]) for a in listed["accounts"]}
    assert names == {"mycompany": 8, "continental": 1, "marlowe": 1}


def test_moving_a_case_backwards_deletes_the_forward_history(
    trackops: EmulatorHandle, api: Api
) -> None:
    history = [h["case_status_id"] for h in api.get("/api/v1/cases/status_history/1").json()]
    assert sorted(history) == [1, 2, 3, 4, 5, 6]
    case = trackops.control.call("POST", "trackops/cases/1/status", {"case_status_id": 3})
    assert (case["case_status_id"], case["closed_on"]) == (3, None)
    history = [h["case_status_id"] for h in api.get("/api/v1/cases/status_history/1").json()]
    assert sorted(history) == [1, 2, 3]
    case = trackops.control.call(
        "POST", "trackops/cases/1/status", {"case_status_id": 6, "changed_by_id": 4}
    )
    assert case["closed_on"] == "2025-02-21"
    latest = api.get("/api/v1/case/status_changes?case=1&per_page=1").json()[0]
    assert (latest["from_case_status_id"], latest["to_case_status_id"]) == (3, 6)
    assert latest["changed_by_id"] == 4
