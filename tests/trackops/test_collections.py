"""Collections: paging, sorting, counting, filters and their refusals (TO-05…TO-13)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from trackmock.core.store import Table
from trackmock.pytest_plugin import EmulatorHandle
from trackmock.trackops import collections
from trackmock.trackops.catalog import load_catalog

from .helpers import SAM, Api, contract, error_of

SEED_OBJECTS = {
    "Cases": "cases",
    "Case Contacts": "case/contacts",
    "Case Flags": "case/flags",
    "Case Regions": "case/regions",
    "Case Reviews": "case/reviews",
    "Case Services": "case/services",
    "Case Statuses": "case/statuses",
    "Case Status Changes": "case/status_changes",
    "Case Status History": "cases/status_history",
    "Case Types": "case/types",
    "Case Updates": "case/updates",
    "Case Update Notifications": "case/update_notifications",
    "Clients": "clients",
    "Client Locations": "client/locations",
    "Client Contacts": "client/contacts",
    "Client Contact Notes": "client/contact_notes",
    "Client Notes": "client/notes",
    "Expense Entries": "expense/entries",
    "Events": "events",
    "Event Checkins": "event/checkins",
    "Files": "files",
    "Item Codes": "item_codes",
    "Invoices": "invoices",
    "Invoice Payments": "invoice/payments",
    "Payment Slips": "expense/slips",
    "Referral Sources": "referral_sources",
    "Staff": "staff",
    "Staff Notes": "staff/notes",
    "Subjects": "subjects",
    "Subject Types": "subject/types",
    "Tasks": "tasks",
    "Tracking Categories": "tracking_categories",
}
"""The vendor document's object list (TO-13) and each object's collection path."""


def _add(trackops: EmulatorHandle, collection: str, count: int, **values: Any) -> list[int]:
    made = trackops.control.call(
        "POST",
        f"trackops/records/{collection}/batch",
        {"records": [{"name": f"Source {i}", **values} for i in range(count)]},
    )["records"]
    return [record["id"] for record in made]


@pytest.mark.behaviour("TO-13", "TO-06")
@pytest.mark.parametrize(("name", "path"), sorted(SEED_OBJECTS.items()))
def test_every_object_of_the_seed_is_a_collection_with_records(
    api: Api, name: str, path: str
) -> None:
    records = api.get(f"/api/v1/{path}").json()
    assert records, f"{name}: the fixtures hold records"
    timestamps = [v for r in records for k, v in r.items() if k.endswith("_at") and v]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in timestamps)


@pytest.mark.behaviour("TO-07", "TO-08")
def test_pages_hold_at_most_100_and_a_short_page_is_the_last(
    trackops: EmulatorHandle, api: Api
) -> None:
    ids = [r["id"] for r in api.records("referral_sources")] + _add(
        trackops, "referral_sources", 146
    )
    assert len(ids) == 150
    first = api.get("/api/v1/referral_sources", params={"dir": "asc"}).json()
    assert [r["id"] for r in first] == ids[:100]
    second = api.get("/api/v1/referral_sources", params={"dir": "asc", "page": 2}).json()
    assert [r["id"] for r in second] == ids[100:], "50 < 100: the last page"
    assert api.get("/api/v1/referral_sources", params={"page": 3}).json() == []
    small = api.get("/api/v1/referral_sources", params={"per_page": 7, "page": 3, "dir": "asc"})
    assert [r["id"] for r in small.json()] == ids[14:21]
    far = api.get("/api/v1/referral_sources", params={"page": 10**9})
    assert far.status_code == 200
    assert far.json() == []


@pytest.mark.behaviour("TO-09")
def test_descending_newest_first_is_the_default(api: Api) -> None:
    default = [r["id"] for r in api.get("/api/v1/case/updates").json()]
    assert default == sorted(default, reverse=True)
    ascending = [r["id"] for r in api.get("/api/v1/case/updates?dir=asc").json()]
    assert ascending == sorted(default)
    created = [r["created_at"] for r in api.get("/api/v1/case/updates").json()]
    assert created == sorted(created, reverse=True), "newest records at the top"


@pytest.mark.behaviour("TO-07", "TO-08")
def test_mode_count_counts_records_and_pages(api: Api) -> None:
    assert api.get("/api/v1/cases?mode=count").json() == {"record_count": 6, "page_count": 1}
    counted = api.get("/api/v1/cases?mode=count&per_page=4&client=4").json()
    listed = api.get("/api/v1/cases?client=4").json()
    assert counted == {"record_count": len(listed), "page_count": -(-len(listed) // 4)}
    assert api.get("/api/v1/cases?mode=count&client=999").json() == {
        "record_count": 0,
        "page_count": 0,
    }


@pytest.mark.behaviour("TO-07")
def test_max_per_page_is_a_setting(make_emulator: Any) -> None:
    handle = make_emulator("trackops", trackops={"max_per_page": 3, "rate_limit": None})
    api = Api(handle)
    assert len(api.get("/api/v1/staff", advance=0).json()) == 3
    response = api.get("/api/v1/staff?per_page=4", advance=0)
    assert response.status_code == 400
    assert error_of(response)["parameter"] == "per_page"


def _filter_cases() -> list[tuple[str, str, str, str]]:
    found = []
    catalog = load_catalog(contract())
    for view in catalog.views.values():
        operation = contract().operations[view.operation_id]
        if not view.paged or "{" in operation.path:
            continue
        for flt in view.filters:
            found.append((operation.path, view.record.collection, flt.param, flt.kind))
    return found


def _value_for(record: dict[str, Any], field: str, kind: str) -> str | None:
    value = record.get(field)
    if value is None or isinstance(value, list | dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "search":
        text = str(value)
        return text[1 : max(len(text) - 1, 2)].swapcase() or text
    return str(value)


@pytest.mark.behaviour("TO-10")
def test_every_filter_of_every_collection_selects_its_records(api: Api) -> None:
    catalog = load_catalog(contract())
    checked = 0
    for path, collection, param, kind in _filter_cases():
        view = next(
            v for v in catalog.views.values() if contract().operations[v.operation_id].path == path
        )
        flt = next(f for f in view.filters if f.param == param)
        stored = [
            r for r in api.records(collection) if all(r[k] == v for k, v in view.where.items())
        ]
        sample = next((r for r in stored if _value_for(r, flt.field, kind) is not None), None)
        if sample is None:
            continue
        value = _value_for(sample, flt.field, kind)
        response = api.get(path, params={param: value}, advance=1)
        assert response.status_code == 200, (path, param, response.text)
        found = response.json()
        assert sample["id"] in [r["id"] for r in found], (path, param, value)
        for record in found:
            got = record[flt.field]
            if kind == "exact":
                assert str(got).lower() == str(value).lower(), (path, param)
            elif kind == "search":
                assert str(value).lower() in got.lower(), (path, param)
            elif kind == "from":
                assert got[: len(value)] >= value[: len(got)], (path, param)
            else:
                assert got[: len(value)] <= value[: len(got)], (path, param)
        checked += 1
    assert checked > 300


@pytest.mark.behaviour("TO-10")
def test_filters_combine_and_a_date_alone_in_to_includes_its_day(api: Api) -> None:
    both = api.get("/api/v1/cases", params={"client": 4, "case_status": 1}).json()
    assert [(r["client_id"], r["case_status_id"]) for r in both] == [(4, 1)] * len(both)
    day = api.get("/api/v1/case/updates", params={"from": "2024-11-14", "to": "2024-11-14"})
    assert [r["activity_at"][:10] for r in day.json()] == ["2024-11-14"]
    by_time = api.get(
        "/api/v1/case/updates",
        params={"activity_from": "2024-11-14T14:00:00-07:00", "activity_to": "2024-11-14T21:00"},
    )
    assert [r["id"] for r in by_time.json()] == [1], "offsets are moved to UTC"
    assert api.get("/api/v1/case/requests", params={"client": 4}).json()[0]["is_request"]


@pytest.mark.behaviour("TO-12")
def test_string_filters_are_url_encoded(api: Api) -> None:
    plus = api.get("/api/v1/clients?name=ACME+Insurance").json()
    assert [c["name"] for c in plus] == ["ACME Insurance"]
    escaped = api.get("/api/v1/clients?name=hartley%20%26%20vance").json()
    assert [c["name"] for c in escaped] == ["Hartley & Vance LLP"]
    assert api.get("/api/v1/clients", params={"name": "Nobody & Co"}).json() == []


INVALID = [
    ("per_page", "0"),
    ("per_page", "101"),
    ("per_page", "ten"),
    ("page", "0"),
    ("page", "-1"),
    ("dir", "up"),
    ("mode", "sum"),
    ("colour", "red"),
    ("client", "acme"),
    ("client", "0"),
    ("is_request", "maybe"),
    ("created_from", "2025-02-31"),
    ("due_to", "2025-13-01T10:00:00Z"),
    ("updated_from", "yesterday"),
    ("reference_value_1", ""),
]


@pytest.mark.behaviour("TO-11")
@pytest.mark.parametrize(("param", "value"), INVALID)
def test_an_invalid_parameter_is_a_400_naming_it(api: Api, param: str, value: str) -> None:
    response = api.get("/api/v1/cases", params={param: value})
    assert response.status_code == 400
    error = error_of(response)
    assert error["parameter"] == param
    assert f"'{param}'" in error["message"]


@pytest.mark.behaviour("TO-11")
def test_a_repeated_parameter_and_a_bad_record_id_are_400(api: Api) -> None:
    assert api.get("/api/v1/cases?page=1&page=2").status_code == 400
    response = api.get("/api/v1/cases/abc")
    assert response.status_code == 400
    assert error_of(response)["parameter"] == "id"


@pytest.mark.behaviour("TO-05")
def test_every_answer_is_json_and_a_wrong_url_is_404(trackops: EmulatorHandle, api: Api) -> None:
    wrong = api.get("/api/v1/cassses")
    assert wrong.status_code == 404
    assert error_of(wrong)["message"] == "Not Found: /api/v1/cassses"
    missing = api.get("/api/v1/cases/999")
    assert missing.status_code == 404
    assert error_of(missing)["message"] == "Not Found: no Case with id 999"
    assert api.get("/api/v1/case/requests/1").status_code == 404, "case 1 is not a request"
    assert api.get("/api/v1/cases/status_history/999").status_code == 404
    method = api.request("DELETE", "/api/v1/clients")
    assert method.status_code == 405
    assert "GET" in method.headers["Allow"]
    for entry in trackops.control.journal(path_prefix="/api/"):
        headers = {k.lower(): v for k, v in entry["response"]["headers"].items()}
        assert headers["content-type"] == "application/json"


@pytest.mark.behaviour("TO-07")
def test_a_page_without_filters_is_a_slice_not_a_scan() -> None:
    class NoScan(Table[int]):
        def __iter__(self) -> Any:
            raise AssertionError("an unfiltered page must not scan the table")

    table: NoScan = NoScan()
    for key in range(1, 1001):
        table.put(key, {"id": key})
    rows = collections.page(table, None, number=50, size=20, descending=True)
    assert [r["id"] for r in rows] == list(range(20, 0, -1))


def test_reads_by_id_answer_the_record(api: Api) -> None:
    case = api.get("/api/v1/cases/1").json()
    assert case["case_number"] == "24-0001"
    assert api.get("/api/v1/case/requests/6").json()["is_request"] is True
    history = api.get("/api/v1/cases/status_history/1/6").json()
    assert [(h["casefile_id"], h["case_status_id"]) for h in history] == [(1, 6)]


@pytest.mark.behaviour("TO-10")
def test_expand_field_values_fills_them_only_when_asked(api: Api) -> None:
    plain = api.get("/api/v1/staff?id=1").json()[0]
    assert plain["field_values"] is None
    expanded = api.get("/api/v1/staff?id=1&expand_field_values=true").json()[0]
    assert expanded["field_values"][0]["label"] == "PI License Number"
    contacts = api.get("/api/v1/client/contacts?expand_field_values=true", auth=SAM).json()
    assert any(c["field_values"] for c in contacts)
