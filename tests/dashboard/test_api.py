"""The control API calls the dashboard uses, over real sockets: the page's files, the
emulators beside each other, state tables paged by the server, control actions described for
forms, socket frames checked when read, the drift check of an upload, and the rule that fired
on each journaled request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from trackmock.control import ControlError
from trackmock.core.faults import ACTIONS
from trackmock.dashboard.assets import STATIC, assets

from tests.track.helpers import ACCOUNT, frame, login, open_socket

from .helpers import HAR, LYNKEY, serve, tracker_headers


def raw(handle: Any, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(handle.url_for(path), verify=handle.verify, timeout=10, **kwargs)


def test_the_page_and_its_files_are_served_with_a_strict_policy(emulators: Any) -> None:
    tracker = emulators["tracker"]
    page = raw(tracker, "/__admin/ui/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert 'data-admin-token=""' in page.text
    for name in re.findall(r'/__admin/ui/([\w.-]+)"', page.text):
        assert raw(tracker, f"/__admin/ui/{name}").status_code == 200, name
    script = raw(tracker, "/__admin/ui/app.js")
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert raw(tracker, "/__admin/ui/nothing.js").status_code == 404
    assert raw(tracker, "/__admin/ui/..%2Fapi.py").status_code in (400, 404)


def test_every_module_the_page_imports_is_shipped() -> None:
    shipped = set(assets())
    for name in shipped:
        if name.endswith(".js"):
            text = (STATIC / name).read_text()
            for imported in re.findall(r'from "\./([\w-]+\.js)"', text):
                assert imported in shipped, f"{name} imports {imported}, which is not shipped"
    assert {"index.html", "app.js", "style.css"} <= shipped


def test_with_a_token_the_page_loads_but_the_control_api_wants_the_token() -> None:
    with serve(("tracker",), admin_token="t0ken") as guarded:
        handle = guarded["tracker"]
        page = raw(handle, "/__admin/ui/")
        assert page.status_code == 200
        assert 'data-admin-token="required"' in page.text
        assert "t0ken" not in page.text
        assert raw(handle, "/__admin/state").status_code == 401
        assert raw(handle, "/__admin/state", headers={"X-Trackmock-Admin-Token": "t0ken"}).ok


def test_each_emulator_lists_its_siblings_and_serves_their_ca(emulators: Any) -> None:
    listing = emulators["track"].control.emulators()
    assert listing["self"] == "track"
    assert [e["vendor"] for e in listing["emulators"]] == ["track", "tracker", "trackops"]
    by_vendor = {e["vendor"]: e for e in listing["emulators"]}
    assert by_vendor["tracker"]["url"] == emulators["tracker"].url
    assert by_vendor["tracker"]["credentials"] == emulators["tracker"].credentials
    assert by_vendor["trackops"]["ca"] is True
    assert by_vendor["track"]["ca"] is False
    assert by_vendor["track"]["sockets"] == ["/api/socket"]
    pem = emulators["track"].control.ca_certificate("trackops")
    assert pem == Path(emulators["trackops"].ca_cert).read_text()
    for missing in ("track", "nobody"):
        with pytest.raises(ControlError, match="404"):
            emulators["track"].control.ca_certificate(missing)


def test_state_tables_of_every_vendor(emulators: Any) -> None:
    names = {v: {t["name"] for t in emulators[v].control.state_tables()} for v in emulators.handles}
    assert {"org1.cases", "org1.items", "org1.history", "org1.custody"} <= names["tracker"]
    assert {"devices", "beacons", "positions", "events", "users"} == names["track"]
    subdomain = emulators["trackops"].credentials["subdomain"]
    assert {f"{subdomain}.cases", f"{subdomain}.clients"} <= names["trackops"]
    clients = emulators["trackops"].control.state_page(f"{subdomain}.clients")
    stored = emulators["trackops"].control.call("GET", "trackops/records/clients")
    assert [row["record"]["id"] for row in clients["rows"]] == [r["id"] for r in stored["records"]]


def test_state_pages_answer_as_the_vendor_api_does(emulators: Any) -> None:
    track = emulators["track"]
    http = login(track, ACCOUNT)
    device = http.get(track.url_for(f"/api/devices/{LYNKEY}"), timeout=10).json()
    page = track.control.state_page("devices", limit=200)
    found = next(row for row in page["rows"] if row["key"] == LYNKEY)
    assert found["record"] == device
    assert page["order"] == "asc"
    assert page["total"] == len(page["rows"])
    newest = track.control.state_page("positions", limit=2)
    oldest = track.control.state_page("positions", limit=2, order="asc")
    assert newest["order"] == "desc"
    assert newest["rows"][0]["key"] > newest["rows"][1]["key"]
    assert oldest["rows"][0]["key"] < oldest["rows"][1]["key"]
    past_the_end = track.control.state_page("positions", offset=10_000)
    assert past_the_end["rows"] == []
    assert past_the_end["total"] == newest["total"]
    for bad in ({"limit": 0}, {"limit": 501}, {"order": "sideways"}, {"offset": -1}):
        with pytest.raises(ControlError, match="400"):
            track.control.call("GET", "state/positions", **bad)
    with pytest.raises(ControlError, match=r"404.*no state table"):
        track.control.state_page("nothing")
    with pytest.raises(ControlError, match="404"):
        track.control.state_record("devices", "999999999")
    with pytest.raises(ControlError, match="400"):
        track.control.state_record("devices", "9" * 65)


def test_a_new_item_shows_in_its_record_with_its_feed(emulators: Any) -> None:
    tracker = emulators["tracker"]
    made = tracker.control.call(
        "POST", "items", json={"item": {"primaryCaseId": 2933671, "description": "Knife"}}
    )
    item_id = made["item"]["id"]
    record = tracker.control.state_record("org1.items", item_id)
    assert record["record"]["description"] == "Knife"
    feed = record["related"]["History feed"]
    assert [r["item"][0]["seqOrgItemHistoryId"] for r in feed] == [
        made["history"]["seqOrgItemHistoryId"]
    ]


def test_actions_are_described_from_their_contracts(emulators: Any) -> None:
    actions = {a["id"]: a for a in emulators["tracker"].control.actions()}
    assert "adminGetLicenses" not in actions, "reads are not forms"
    licenses = actions["adminSetLicenses"]
    fields = {f["name"]: f for f in licenses["body"]["fields"]}
    assert fields["licenseCount"]["type"] == "integer"
    assert fields["licenseCount"]["required"]
    assert fields["organizationId"]["default"] == 1
    assert not fields["organizationId"]["required"]
    create = actions["adminCreateItem"]
    assert create["body"]["example"]["item"]["primaryCaseId"] == 2933671
    assert {f["name"]: f["type"] for f in create["body"]["fields"]} == {
        "item": "json",
        "userId": "integer",
    }
    fault = {f["name"]: f for f in actions["addFault"]["body"]["fields"]}
    assert fault["action"]["enum"] == list(ACTIONS), "the contract lists the actions the core has"
    assert fault["probability"]["type"] == "number"
    assert actions["addFault"]["source"] == "core"

    track = {a["id"]: a for a in emulators["track"].control.actions()}
    beacon = track["changeBeacon"]
    assert beacon["parameters"][0]["name"] == "id"
    assert beacon["parameters"][0]["in"] == "path"
    assert beacon["body"]["whole"] is True
    assert "latitude" in beacon["body"]["example"]
    report = {f["name"]: f for f in track["reportPosition"]["body"]["fields"]}
    assert report["deviceId"]["required"]
    assert report["latitude"]["type"] == "number"
    status = {a["id"]: a for a in emulators["trackops"].control.actions()}
    assert "setTrackopsCaseStatus" in status


@pytest.mark.behaviour("SF-06", "SF-07")
def test_socket_frames_are_listed_per_connection_and_checked(emulators: Any) -> None:
    track = emulators["track"]
    http = login(track, ACCOUNT)
    with open_socket(track, http) as first, open_socket(track, http) as second:
        track.clock.advance(30)
        ping = frame(first)
        frame(second)
        first.send(f"pong {ping['status'][0]['message']}")
        first.send("not a pong")
        second.close()
        listing: dict[str, Any] = {}
        for _ in range(200):  # the client's frames reach the journal asynchronously
            listing = track.control.socket_frames()
            if sum(f["kind"] == "ws-in" for f in listing["frames"]) == 2 and any(
                c.get("closed") for c in listing["connections"]
            ):
                break
        one, two = (c["id"] for c in listing["connections"])
        assert [c["open"] for c in listing["connections"]] == [True, False]
        mine = track.control.socket_frames(connection=one)["frames"]
        assert {f["connection"] for f in mine} == {one}
        kinds = [(f["kind"], f["message"]) for f in mine]
        assert kinds == [
            ("ws-open", None),
            ("ws-out", "devices"),
            ("ws-out", "beacons"),
            ("ws-out", "positions"),
            ("ws-out", "webSessionTimeout"),
            ("ws-out", "status"),
            ("ws-in", "pong"),
            ("ws-in", None),
        ]
        assert all(f["problems"] == [] for f in mine[:-1])
        assert "Received an undocumented message" in mine[-1]["problems"][0]
        later = track.control.socket_frames(since=mine[-2]["id"], connection=one)["frames"]
        assert [f["text"] for f in later] == ["not a pong"]
        assert track.control.socket_frames(connection=two)["frames"][-1]["kind"] == "ws-close"


def test_journal_entries_name_the_operation_and_the_rule_that_fired(emulators: Any) -> None:
    tracker, track = emulators["tracker"], emulators["track"]
    headers = tracker_headers(tracker)
    case = tracker.url_for("/api/cases/2933671")
    requests.get(case, headers=headers, timeout=10)
    requests.get(case, headers=headers, timeout=10)
    requests.get(case, headers={**headers, "Authorization": "Bearer nope"}, timeout=10)
    requests.post(tracker.url_for("/api/cases/2933671"), headers=headers, timeout=10)
    requests.get(
        tracker.url_for("/api/cases/2933671"), headers={**headers, "Accept": "x/y"}, timeout=10
    )
    tracker.control.add_fault(action="status", status=503, times=1)
    requests.get(case, headers=headers, timeout=10)
    entries = tracker.control.journal()
    assert entries[0]["operation"] == "getCase"
    assert entries[0]["rules"] == []
    assert entries[1]["rules"][0]["rule"] == "polling-rule"
    assert "violation 1 of 10" in entries[1]["rules"][0]["detail"]
    assert entries[2]["rules"][0]["rule"] == "authentication"
    assert entries[3]["status"] == 405
    assert entries[3]["operation"] == ""
    assert entries[3]["rules"] == []
    assert entries[4]["rules"][0]["rule"] == "strict-headers"
    assert entries[5]["status"] == 503
    assert re.fullmatch(r"status forced by fault \d+", entries[5]["note"])

    refused = requests.post(
        track.url_for("/api/session"), data={"email": "a@b.c", "password": "no"}, timeout=10
    )
    assert refused.status_code == 401
    requests.get(track.url_for("/api/devices"), timeout=10)
    login_entry, device_entry = track.control.journal()
    assert login_entry["rules"][0]["rule"] == "login"
    assert device_entry["rules"][0] == {
        "rule": "session",
        "detail": "no JSESSIONID cookie (nor valid credentials by HTTP Basic)",
    }


def test_a_request_that_breaks_the_contract_fires_the_contract_rule(emulators: Any) -> None:
    tracker = emulators["tracker"]
    headers = {**tracker_headers(tracker), "Content-Type": "application/json"}
    answer = requests.put(
        tracker.url_for("/api/cases/2933671"), headers=headers, json={"formData": 5}, timeout=10
    )
    assert answer.status_code == 400
    (entry,) = tracker.control.journal()
    assert entry["rules"][0]["rule"] == "contract"


def test_the_drift_check_of_an_upload(emulators: Any) -> None:
    control = emulators["tracker"].control
    har = json.loads(HAR.read_text())
    report = control.check_drift(har)
    assert report["verdict"] == "breaking-drift"
    assert report["summary"]["exchanges"] == 1
    assert report["summary"]["breaking"] >= 1
    findings = [f for op in report["operations"] for f in op["findings"]]
    assert any("caseOfficerIds" in f["path"] for f in findings)
    secret = next(
        h["value"]
        for h in har["log"]["entries"][0]["request"]["headers"]
        if h["name"] == "Authorization"
    )
    assert secret.split()[-1] not in json.dumps(report)

    assert emulators["track"].control.check_drift(har)["verdict"] == "nothing-to-check"
    assert control.check_drift({"log": {"entries": []}})["verdict"] == "nothing-to-check"
    with pytest.raises(ControlError, match="400"):
        control.check_drift({"entries": []})
    too_big = {"log": {"entries": [], "comment": "x" * (5 * 1024 * 1024)}}
    with pytest.raises(ControlError, match="413"):
        control.check_drift(too_big)
