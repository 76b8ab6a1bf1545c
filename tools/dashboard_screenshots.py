"""Take the screenshots of docs/dashboard.md: one per view, at 1280x800, in Debian's headless
Chromium, against the three emulators with some traffic.

    python -m tools.dashboard_screenshots     # writes docs/dashboard/*.png
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import requests
from websockets.sync.client import connect

from tests.dashboard.helpers import (
    BEACON,
    HAR,
    LYNKEY,
    launch_chromium,
    serve,
    tracker_headers,
)
from tests.track.helpers import ACCOUNT, login, session_id, socket_url

OUT = Path(__file__).resolve().parents[1] / "docs" / "dashboard"


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with serve() as served, sync_playwright() as playwright:
        tracker, track = served["tracker"], served["track"]
        headers = tracker_headers(tracker)
        case = tracker.url_for("/api/cases/2933671")
        for _ in range(3):
            requests.get(case, headers=headers, timeout=10)
        requests.get(tracker.url_for("/api/case/2933671"), headers=headers, timeout=10)
        requests.put(
            case, headers={**headers, "Content-Type": "application/json"}, json={}, timeout=10
        )
        requests.get(case, headers={**headers, "Authorization": "Bearer wrong"}, timeout=10)
        requests.get(tracker.url_for("/api/tags"), headers=headers, timeout=10)
        tracker.clock.advance(61)
        requests.get(
            tracker.url_for("/api/items/seqOrgItemHistoryId/1"), headers=headers, timeout=10
        )

        context = launch_chromium(playwright, tempfile.mkdtemp(prefix="trackmock-shots-"))
        page = context.new_page()

        def shot(vendor: str, view: str, name: str) -> None:
            page.goto(served.page_url(vendor, view))
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1200)
            page.screenshot(path=str(OUT / f"{name}.png"))

        shot("tracker", "overview", "overview")
        page.goto(served.page_url("tracker", "requests"))
        page.wait_for_selector("#request-rows tr")
        page.locator("#request-rows tr").nth(5).get_by_role("button").click()
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "requests.png"))

        http = login(track, ACCOUNT)
        with connect(
            socket_url(track), additional_headers={"Cookie": f"JSESSIONID={session_id(http)}"}
        ) as ws:
            for _ in range(4):
                ws.recv(timeout=10)
            track.control.call("POST", "positions", json={"deviceId": LYNKEY, "beaconId": BEACON})
            ws.recv(timeout=10)
            ws.recv(timeout=10)
            track.clock.advance(30)
            ping = json.loads(ws.recv(timeout=10))
            ws.send(f"pong {ping['status'][0]['message']}")
            shot("track", "sockets", "sockets")
            page.locator("#frame-rows tr").first.get_by_role("button").click()
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT / "sockets.png"))

            page.goto(served.page_url("track", "act"))
            page.locator("details#action-changeBeacon summary").click()
            page.locator("#act-changeBeacon-path-id").fill(str(BEACON))
            page.locator("details#action-changeBeacon button").click()
            page.wait_for_selector("#act-changeBeacon-result .badge")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(OUT / "act-track.png"))

        page.goto(served.page_url("tracker", "act"))
        page.locator("details#action-adminCreateItem summary").click()
        page.locator("form[data-action='adminCreateItem'] button").click()
        page.wait_for_selector("#changes section")
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / "act.png"))

        page.goto(served.page_url("tracker", "state"))
        page.get_by_label("Table").select_option("org1.items")
        page.wait_for_selector("#state-rows tr")
        page.locator("#state-rows tr").first.get_by_role("button").click()
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "state.png"))

        page.goto(served.page_url("tracker", "drift"))
        page.get_by_label("HAR file").set_input_files(str(HAR))
        page.get_by_role("button", name="Check", exact=True).click()
        page.wait_for_selector("#drift-verdict")
        page.screenshot(path=str(OUT / "drift.png"))
        context.close()
    for path in sorted(OUT.glob("*.png")):
        print(path.relative_to(OUT.parents[1]))


if __name__ == "__main__":
    main()
