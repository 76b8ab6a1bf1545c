"""The dashboard in a real headless Chromium: each view loaded against running emulators, its
controls used as a person would (mouse and keyboard), and what the page then shows checked,
with no console error and no request off 127.0.0.1 (the ``page`` fixture checks both)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.track.helpers import ACCOUNT, frame, login, open_socket

from .helpers import BEACON, HAR, LYNKEY, REQUIRED, WAIT_MS, serve, tracker_headers

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get(REQUIRED) == "required":
        raise
    pytest.skip("browser tests skipped: Playwright is not installed", allow_module_level=True)

expect.set_options(timeout=WAIT_MS)
DASH = "\u2013"
"""The en dash the page writes between the first and last row of a page."""


def fits_1280(page: Any) -> None:
    """Nothing wider than the 1280 px window (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_overview_lists_the_emulators_and_drives_the_clock(emulators: Any, page: Any) -> None:
    tracker = emulators["tracker"]
    page.goto(emulators.page_url("tracker"))
    for vendor in ("tracker", "trackops", "track"):
        panel = page.locator(f"section[aria-labelledby='emulator-{vendor}']")
        expect(panel).to_contain_text(emulators[vendor].url)
    token = tracker.credentials["token"]
    expect(page.locator("dd[data-credential='token']").first).to_have_text(token)
    page.get_by_role("button", name="Copy tracker token").click()
    assert page.evaluate("navigator.clipboard.readText()") == token

    now = page.locator("#clock-now")
    expect(now).to_have_text("2025-02-21 10:00:00.000 UTC")
    expect(page.locator("#clock-mode")).to_have_text("frozen")
    for label, shown in [
        ("+1 s", "10:00:01"),
        ("+1 min", "10:01:01"),
        ("+10 min", "10:11:01"),
        ("+1 h", "11:11:01"),
    ]:
        page.get_by_role("button", name=label, exact=True).click()
        expect(now).to_have_text(f"2025-02-21 {shown}.000 UTC")
    assert tracker.control.clock.read()["now"] == "2025-02-21T11:11:01.000Z"
    page.locator("#clock-set-input").fill("2025-03-01T08:30:15")
    page.get_by_role("button", name="Set", exact=True).click()
    expect(now).to_have_text("2025-03-01 08:30:15.000 UTC")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CA certificate").click()
    saved = Path(download.value.path()).read_text()
    assert saved == Path(emulators["trackops"].ca_cert).read_text()
    assert saved.startswith("-----BEGIN CERTIFICATE-----")

    page.get_by_role("button", name="Reset the emulator…").click()
    page.get_by_role("button", name="Reset now").click()
    expect(now).to_have_text("2025-02-21 10:00:00.000 UTC")
    fits_1280(page)


@pytest.mark.behaviour("TR-07")
def test_requests_show_the_rule_that_fired_violations_and_unmatched(
    emulators: Any, page: Any
) -> None:
    tracker = emulators["tracker"]
    headers = tracker_headers(tracker)
    case = tracker.url_for("/api/cases/2933671")
    for _ in range(2):
        assert requests.get(case, headers=headers, timeout=10).status_code == 200
    assert (
        requests.get(
            tracker.url_for("/api/casez/seqOrgItemHistoryId/1/and/a/long/tail"),
            headers=headers,
            timeout=10,
        ).status_code
        == 404
    )
    bad_put = requests.put(
        case,
        headers={**headers, "Content-Type": "application/json"},
        json={"formData": 5},
        timeout=10,
    )
    assert bad_put.status_code == 400

    first, repeated, unmatched, broken = (entry["id"] for entry in tracker.control.journal())
    page.goto(emulators.page_url("tracker", "requests"))
    rows = page.locator("#request-rows tr")
    expect(rows).to_have_count(4)
    row = lambda entry_id: page.locator(f"#request-rows tr[data-id='{entry_id}']")  # noqa: E731
    expect(row(repeated)).to_contain_text("polling-rule")
    expect(row(unmatched)).to_contain_text("unmatched")
    expect(row(unmatched)).to_have_class(re.compile("flag-unmatched"))
    expect(row(broken)).to_contain_text("contract violation")
    expect(row(broken)).to_have_class(re.compile("flag-contract"))
    # A long path gives way (clipped, whole in its title), so the flags stay in view.
    wrap = page.locator("#request-rows").locator("xpath=ancestor::div[1]")
    assert wrap.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    expect(row(first)).not_to_contain_text("polling-rule")

    page.get_by_label("Only flagged").check()
    expect(rows).to_have_count(3)
    page.get_by_label("Filter").fill("casez")
    expect(rows).to_have_count(1)
    page.get_by_label("Filter").fill("")
    page.get_by_label("Only flagged").uncheck()

    page.get_by_role("button", name=f"Details of request {repeated}").click()
    details = page.locator("#request-details")
    expect(details).to_contain_text("operation getCase")
    expect(details).to_contain_text("Repeated GET within 60 s: violation 1 of 10")
    journal = tracker.control.journal()[1]
    for name, value in journal["response"]["headers"].items():
        expect(details).to_contain_text(f"{name}{value}")
    for name, value in journal["request"]["headers"].items():
        expect(details).to_contain_text(f"{name}{value}")

    # Live: a request made while the page is open shows up without a reload.
    requests.get(tracker.url_for("/api/tags"), headers=headers, timeout=10)
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("/api/tags")
    fits_1280(page)


@pytest.mark.behaviour("TO-04")
def test_a_429_shows_as_the_rate_limit_rule(page: Any) -> None:
    with serve(("trackops",), trackops={"rate_limit": 1}) as alone:
        trackops = alone["trackops"]
        user = trackops.credentials["username"]
        auth = (user, trackops.credentials["password"])
        url = trackops.url_for("/api/v1/clients")
        answers = [
            requests.get(url, auth=auth, verify=trackops.verify, timeout=10).status_code
            for _ in range(2)
        ]
        assert answers == [200, 429]
        page.goto(alone.page_url("trackops", "requests"))
        limited = page.locator("#request-rows tr").first
        expect(limited).to_contain_text("rate-limit")
        expect(limited).to_contain_text("429")
        alone.check()


@pytest.mark.behaviour("SF-04", "SF-06", "SF-07")
def test_socket_frames_arrive_live_with_ping_pong_and_checks(emulators: Any, page: Any) -> None:
    track = emulators["track"]
    http = login(track, ACCOUNT)
    with open_socket(track, http) as ws:
        page.goto(emulators.page_url("track", "sockets"))
        connection = page.locator("#connections button[aria-pressed='true']")
        expect(connection).to_contain_text("open")
        rows = page.locator("#frame-rows tr")
        expect(rows).to_have_count(5)  # opened, and the initial push of four frames

        track.control.call("POST", "positions", json={"deviceId": LYNKEY, "beaconId": BEACON})
        assert next(iter(frame(ws))) == "devices"
        assert next(iter(frame(ws))) == "positions"
        expect(rows).to_have_count(7)
        expect(rows.first).to_contain_text("positions")
        expect(rows.first).to_contain_text("documented")

        track.clock.advance(30)
        ping = frame(ws)
        expect(rows.first).to_contain_text("PING")
        ws.send(f"pong {ping['status'][0]['message']}")
        expect(rows).to_have_count(9)
        expect(rows.first).to_contain_text("pong")
        expect(rows.first).to_contain_text("client → server")
        expect(rows.first).to_contain_text("documented")

        ws.send("hello")
        expect(rows.first).to_contain_text("not documented")
        rows.first.get_by_role("button").click()
        expect(page.locator("#frame-details")).to_contain_text("Received an undocumented message")
    fits_1280(page)


def test_state_pages_and_shows_an_item_with_its_feed_and_custody(emulators: Any, page: Any) -> None:
    related = emulators["tracker"].control.state_record("org1.items", 4932605)["related"]
    feed, custody = related["History feed"], related["Chain of custody"]
    assert feed
    assert custody
    assert {record["item"][0]["item"]["id"] for record in feed} == {4932605}
    assert {record["itemId"] for record in custody} == {4932605}
    page.goto(emulators.page_url("tracker", "state"))
    page.get_by_label("Table").select_option("org1.items")
    expect(page.locator("#state-summary")).to_contain_text(f"Items: rows 1{DASH}1 of 1")
    page.get_by_role("button", name="Record 4932605").click()
    record = page.locator("#state-record")
    expect(record).to_contain_text("Black leather wallet")
    expect(record).to_contain_text(f"History feed ({len(feed)})")
    expect(record).to_contain_text(f"Chain of custody ({len(custody)})")
    fits_1280(page)


def test_state_stays_usable_at_100_000_records(page: Any) -> None:
    with serve(("track",), track={"volume": 100_000}) as big:
        total = big["track"].control.state_page("positions", limit=1)["total"]
        assert total >= 100_000
        page.goto(big.page_url("track", "state"))
        page.get_by_label("Table").select_option("positions")
        summary = page.locator("#state-summary")
        expect(summary).to_contain_text(f"rows 1{DASH}50 of {total} (newest first)")
        page.locator("[data-page='last']").first.click()
        last_start = (total - 1) // 50 * 50 + 1
        expect(summary).to_contain_text(f"rows {last_start}{DASH}{total} of {total}")
        page.locator("[data-page='prev']").first.click()
        expect(summary).to_contain_text(f"rows {last_start - 50}{DASH}{last_start - 1}")
        oldest = page.locator("#state-rows tr").last.get_attribute("data-key")
        page.get_by_label("Open record").fill(oldest)
        page.get_by_role("button", name="Open", exact=True).click()
        expect(page.locator("#state-record h2")).to_have_text(f"Positions {oldest}")
        big.check()


def test_act_create_an_item_as_a_safe_user_and_watch_the_feed_grow(
    emulators: Any, page: Any
) -> None:
    tracker = emulators["tracker"]
    feed_before = tracker.control.state_page("org1.history", limit=1)["total"]
    page.goto(emulators.page_url("tracker", "act"))
    page.locator("details#action-adminCreateItem summary").click()
    form = page.locator("form[data-action='adminCreateItem']")
    expect(form.locator("textarea")).to_have_value(re.compile('"primaryCaseId": 2933671'))
    form.locator("textarea").fill(
        json.dumps({"primaryCaseId": 2933671, "description": "Red bicycle"})
    )
    form.get_by_role("button", name="Send").click()
    expect(page.locator("#act-adminCreateItem-result")).to_contain_text("done")
    changes = page.locator("#changes")
    expect(changes).to_contain_text(f"Item history feed: {feed_before} → {feed_before + 1}")
    expect(changes).to_contain_text("Red bicycle")
    newest = tracker.control.state_page("org1.history", limit=1)["rows"][0]["record"]
    assert newest["item"][0]["item"]["description"] == "Red bicycle"
    assert newest["historyType"] == "Create"
    fits_1280(page)


def test_act_toggles_trackops_api_access_and_injects_a_fault(emulators: Any, page: Any) -> None:
    trackops = emulators["trackops"]
    auth = (trackops.credentials["username"], trackops.credentials["password"])
    url = trackops.url_for("/api/v1/clients")
    page.goto(emulators.page_url("trackops", "act"))
    toggle = page.locator("details#action-updateTrackopsAccount")
    toggle.locator("summary").click()
    toggle.get_by_label("subdomain *").fill(trackops.credentials["subdomain"])
    toggle.get_by_label("api_access_enabled").select_option("false")
    toggle.get_by_role("button").click()
    expect(page.locator("#act-updateTrackopsAccount-result")).to_contain_text("done")
    assert requests.get(url, auth=auth, verify=trackops.verify, timeout=10).status_code == 403
    toggle.get_by_label("api_access_enabled").select_option("true")
    toggle.get_by_role("button").click()
    expect(page.locator("#act-updateTrackopsAccount-result")).to_contain_text("done")
    assert requests.get(url, auth=auth, verify=trackops.verify, timeout=10).status_code == 200

    fault = page.locator("details#action-addFault")
    fault.locator("summary").click()
    fault.get_by_label("action *").select_option("status")
    fault.get_by_label("status", exact=True).fill("503")
    fault.get_by_label("times").fill("1")
    fault.get_by_role("button").click()
    expect(page.locator("#faults")).to_contain_text("status 503")
    assert requests.get(url, auth=auth, verify=trackops.verify, timeout=10).status_code == 503
    fault.get_by_role("button").click()
    expect(page.locator("#faults li")).to_have_count(1)
    page.get_by_role("button", name="Clear all faults").click()
    expect(page.locator("#faults")).to_contain_text("none")
    assert trackops.control.faults() == []


def test_act_injects_socket_and_seeded_faults_from_the_contract_form(
    emulators: Any, page: Any
) -> None:
    track = emulators["track"]
    page.goto(emulators.page_url("track", "act"))
    fault = page.locator("details#action-addFault")
    fault.locator("summary").click()
    fault.get_by_label("action *").select_option("socket_close")
    fault.get_by_label("close_code").fill("4001")
    fault.get_by_label("after_frames").fill("2")
    fault.get_by_role("button").click()
    expect(page.locator("#faults")).to_contain_text("socket_close code 4001 after 2 socket *")
    fault.get_by_label("close_code").fill("")
    fault.get_by_label("after_frames").fill("")
    fault.get_by_label("action *").select_option("truncate")
    fault.get_by_label("probability").fill("0.5")
    fault.get_by_role("button").click()
    expect(page.locator("#faults")).to_contain_text("truncate p=0.5 any *")
    assert [(f["action"], f["probability"]) for f in track.control.faults()] == [
        ("socket_close", 1),
        ("truncate", 0.5),
    ]
    expect(page.locator("#faults li")).to_have_count(2)
    page.get_by_role("button", name="Clear all faults").click()
    expect(page.locator("#faults")).to_contain_text("none")


@pytest.mark.behaviour("SF-04")
def test_act_move_a_beacon_and_watch_the_socket_push(emulators: Any, page: Any) -> None:
    track = emulators["track"]
    http = login(track, ACCOUNT)
    with open_socket(track, http) as ws:
        page.goto(emulators.page_url("track", "act"))
        move = page.locator("details#action-changeBeacon")
        move.locator("summary").click()
        move.get_by_label("id *").fill(str(BEACON))
        move.locator("textarea").fill(json.dumps({"latitude": 49.9, "longitude": 10.9}))
        move.get_by_role("button").click()
        expect(page.locator("#act-changeBeacon-result")).to_contain_text("done")
        pushed = frame(ws)
        assert pushed["beacons"][0]["latitude"] == 49.9
        expect(page.locator("#pushed tr").first).to_contain_text("beacons")
        expect(page.locator("#pushed tr").first).to_contain_text('"latitude":49.9')

        report = page.locator("details#action-reportPosition")
        report.locator("summary").click()
        report.get_by_label("deviceId *").fill(str(LYNKEY))
        report.get_by_role("button").click()
        expect(page.locator("#act-reportPosition-result")).to_contain_text("done")
        assert [next(iter(frame(ws))) for _ in range(2)] == ["devices", "positions"]
        expect(page.locator("#pushed tr").first).to_contain_text("positions")
        expect(page.locator("#changes")).to_contain_text("Positions:")


def test_drift_upload_shows_the_findings(emulators: Any, page: Any) -> None:
    page.goto(emulators.page_url("tracker", "drift"))
    page.get_by_label("HAR file").set_input_files(str(HAR))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#drift-verdict")).to_have_text(re.compile("^Breaking drift"))
    report = page.locator("#drift-report")
    expect(report).to_contain_text("getCaseByNumber")
    expect(report).to_contain_text("caseOfficerIds")
    expect(report).to_contain_text("BREAKING")
    secret = next(
        header["value"]
        for header in json.loads(HAR.read_text())["log"]["entries"][0]["request"]["headers"]
        if header["name"] == "Authorization"
    )
    assert secret.split()[-1] not in page.content()


def test_with_an_admin_token_the_page_asks_for_it_and_sends_it_in_a_header(page: Any) -> None:
    secret = "s3cret-dashboard-token"
    sent: list[dict[str, str]] = []
    page.on("request", lambda request: sent.append(request.headers))
    with serve(("tracker",), admin_token=secret) as guarded:
        page.goto(guarded.page_url("tracker"))
        dialog = page.locator("#token-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#token-input")).to_be_focused()
        page.keyboard.type(secret)
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        expect(page.locator("#clock-now")).to_have_text("2025-02-21 10:00:00.000 UTC")
        expect(page.locator("#token-state")).to_contain_text("admin token set for this tab")
    api_calls = [
        h
        for url, h in zip(page.watch.requests, sent, strict=True)
        if "/__admin/" in url and "/__admin/ui/" not in url
    ]
    assert api_calls
    assert all(h.get("x-trackmock-admin-token") == secret for h in api_calls)
    assert not any(secret in url for url in page.watch.requests)


def test_keyboard_reaches_and_works_the_main_controls(emulators: Any, page: Any) -> None:
    page.goto(emulators.page_url("tracker"))
    expect(page.locator("#clock-now")).to_have_text("2025-02-21 10:00:00.000 UTC")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim()"))
        if order[-1] == "+1 min":
            break
    # Header, then the views, then the emulators' panels, then the clock.
    assert order[:3] == ["tracker", "trackops", "track"]
    assert order[3:9] == ["Overview", "Requests", "State", "Act as the vendor", "Drift", "Copy"]
    assert order[-1] == "+1 min"
    page.keyboard.press("Enter")
    expect(page.locator("#clock-now")).to_have_text("2025-02-21 10:01:00.000 UTC")
    page.keyboard.press("Space")
    expect(page.locator("#clock-now")).to_have_text("2025-02-21 10:02:00.000 UTC")

    # A view by keyboard, and a request's details by keyboard.
    requests.get(emulators["tracker"].url_for("/api/nothing"), timeout=10)
    page.get_by_role("link", name="Requests", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#request-rows tr")).to_have_count(1)
    page.locator("#request-rows button").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#request-details")).to_contain_text("no operation matched")
