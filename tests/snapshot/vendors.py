"""What the snapshot tests do to each vendor through its public API: the writes a hypothesis
strategy draws from, and the reads whose answers must be the same after a restore."""

from __future__ import annotations

from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from hypothesis import strategies as st
from trackmock.pytest_plugin import EmulatorHandle

from ..tracker.helpers import DOC_CASE, DOC_CASE_NUMBER, DOC_ITEM, MIKE, new_case, tracker_headers

Step = tuple[str, Any]
"""One write: its name (a function of ``Driver``) and its argument."""

TRACKER_CASE, TRACKER_CASE_NUMBER, TRACKER_ITEM = DOC_CASE, DOC_CASE_NUMBER, DOC_ITEM
TRACKOPS_AUTH = ("samspade/token", "d29d3136-1251-5041-9e1c-428c77edb64d")
TRACK_USERS = [
    ("account@yourdomain.de", "9ejKJJAYKw3VCWev"),
    ("api-user@safectory.com", "Qs7vTrackApiUser"),
]
TRACK_DEVICE = 794513675
WALL = ("Date", "date")


@dataclass(frozen=True)
class Answer:
    """What a read answered, all of it that a client can see."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Driver:
    """Raw calls to one emulator, with the vendor's credentials."""

    def __init__(self, handle: EmulatorHandle) -> None:
        self.handle = handle
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the emulator's CA
        # No cookie is kept: a read sends the credentials it is given, nothing else.
        self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(
            method, self.handle.url_for(path), verify=self.handle.verify, timeout=30, **kwargs
        )

    def read(self, method: str, path: str, **kwargs: Any) -> Answer:
        response = self.send(method, path, **kwargs)
        # Date is the HTTP server's wall clock, not the emulator's; every other header counts.
        headers = tuple(sorted(i for i in response.raw.headers.items() if i[0] not in WALL))
        # The emulator's own URL (a download link) differs by its port alone.
        body = response.content.replace(self.handle.url.encode(), b"<emulator>")
        return Answer(response.status_code, headers, body)

    def control(self, method: str, path: str, body: Any = None) -> None:
        """A control action; a refusal (a duplicate, an unknown id) is a step like another."""
        self.handle.control.http.request(
            method, self.handle.control.base_url + "/__admin/" + path, json=body, timeout=30
        )

    def advance(self, seconds: float) -> None:
        self.handle.clock.advance(seconds)


class TrackerDriver(Driver):
    def headers(self, method: str) -> dict[str, str]:
        return tracker_headers(self.handle.credentials, method)

    def api(self, method: str, path: str, **kwargs: Any) -> Answer:
        return self.read(method, path, headers=self.headers(method), **kwargs)

    def case(self, number: int) -> None:
        self.api("POST", "/api/cases", json=new_case(f"2025-0221-{number:02d}"))

    def item(self, description: str) -> None:
        body = {"item": {"primaryCaseId": TRACKER_CASE, "description": description}}
        self.control("POST", "items", body)

    def change_item(self, make: str) -> None:
        self.control("PUT", f"items/{TRACKER_ITEM}", {"item": {"make": make}})

    def custody(self, check_out: bool) -> None:
        move = (
            {"transactionType": "Check Out", "toUserId": MIKE}
            if check_out
            else {"transactionType": "Check In", "toLocationId": 501, "toLocation": "Shelf A1"}
        )
        self.control("POST", f"items/{TRACKER_ITEM}/custody", move)

    def token(self, reserved: bool) -> None:
        self.control("POST", "tokens", {"userId": MIKE, "reservedLicense": reserved})

    def licenses(self, count: int) -> None:
        self.control("PUT", "licenses", {"licenseCount": count})

    def poll(self, _: Any) -> None:
        """A GET that the polling rule counts (a repeat within 60 s is a violation)."""
        self.api("GET", "/api/cases/getByNumber", params={"value": TRACKER_CASE_NUMBER})

    def reads(self) -> list[Answer]:
        gets = [
            ("/api/cases/getByNumber", {"value": TRACKER_CASE_NUMBER}),
            (f"/api/cases/{TRACKER_CASE}", None),
            (f"/api/cases/{TRACKER_CASE}/items", None),
            (f"/api/cases/{TRACKER_CASE}/people", None),
            ("/api/cases/mostRecent", None),
            ("/api/cases/typeahead", {"value": "2025"}),
            (f"/api/items/{TRACKER_ITEM}", None),
            (f"/api/items/{TRACKER_ITEM}/coc", None),
            *((f"/api/items/seqOrgItemHistoryId/{n}", None) for n in range(1, 8)),
            ("/api/users/", None),
            ("/api/tags", None),
            ("/api/forms", {"formType": "case"}),
            ("/api/offices", None),
        ]
        found = [self.api("GET", path, params=params) for path, params in gets]
        return [*found, self.read("GET", "/__admin/tokens"), self.read("GET", "/__admin/licenses")]


TRACKER_STEPS = st.one_of(
    st.tuples(st.just("case"), st.integers(1, 6)),
    st.tuples(st.just("item"), st.sampled_from(["Knife", "Phone", "Ring"])),
    st.tuples(st.just("change_item"), st.sampled_from(["Buck", "Gerber"])),
    st.tuples(st.just("custody"), st.booleans()),
    st.tuples(st.just("token"), st.booleans()),
    st.tuples(st.just("licenses"), st.integers(1, 4)),
    st.tuples(st.just("poll"), st.none()),
    st.tuples(st.just("advance"), st.sampled_from([1, 30, 61, 1300])),
)


class TrackopsDriver(Driver):
    """Trackops allows 1 request a second: each API call moves the clock a second first."""

    def api(self, method: str, path: str, **kwargs: Any) -> Answer:
        self.advance(1)
        return self.read(method, path, auth=TRACKOPS_AUTH, **kwargs)

    def event(self, title: str) -> None:
        self.api("POST", "/api/v1/events", json={"title": title})

    def case_update(self, case_id: int) -> None:
        self.api(
            "POST", "/api/v1/case/updates", json={"casefile_id": case_id, "access_group_id": 1}
        )

    def client(self, name: str) -> None:
        self.control("POST", "trackops/records/clients", {"name": name})

    def change_client(self, phone: str) -> None:
        self.control("PATCH", "trackops/records/clients/1", {"phone": phone})

    def access(self, enabled: bool) -> None:
        self.control("PUT", "trackops/accounts/mycompany", {"api_access_enabled": enabled})

    def burst(self, _: Any) -> None:
        """Two calls in the same second: the rate limit's window holds them."""
        self.read("GET", "/api/v1/clients", auth=TRACKOPS_AUTH)
        self.read("GET", "/api/v1/clients", auth=TRACKOPS_AUTH)

    def reads(self) -> list[Answer]:
        gets = [
            "/api/v1/cases",
            "/api/v1/cases/1",
            "/api/v1/clients",
            "/api/v1/clients/1",
            "/api/v1/events",
            "/api/v1/case/updates",
            "/api/v1/files",
            "/api/v1/staff",
            "/api/v1/subjects",
        ]
        found = [self.api("GET", path, params={"per_page": 100}) for path in gets]
        accounts = self.read("GET", "/__admin/trackops/accounts")
        same_second = self.read("GET", "/api/v1/clients", auth=TRACKOPS_AUTH)
        return [*found, accounts, same_second]


TRACKOPS_STEPS = st.one_of(
    st.tuples(st.just("event"), st.sampled_from(["Stakeout", "Interview"])),
    st.tuples(st.just("case_update"), st.integers(1, 3)),
    st.tuples(st.just("client"), st.sampled_from(["Pinkerton Mutual", "Acme"])),
    st.tuples(st.just("change_client"), st.sampled_from(["555-0100", "555-0199"])),
    st.tuples(st.just("access"), st.booleans()),
    st.tuples(st.just("burst"), st.none()),
    st.tuples(st.just("advance"), st.sampled_from([0.5, 1, 901])),
)


class TrackDriver(Driver):
    """Sessions are part of the state: a login's cookie is sent to the restored emulator."""

    def __init__(self, handle: EmulatorHandle) -> None:
        super().__init__(handle)
        self.cookies: list[str] = []

    def login(self, user: int) -> None:
        email, password = TRACK_USERS[user]
        answer = self.send("POST", "/api/session", data={"email": email, "password": password})
        cookie = answer.cookies.get("JSESSIONID", path="/api")
        if cookie:
            self.cookies.append(cookie)

    def position(self, device: int) -> None:
        self.control("POST", "positions", {"deviceId": device})

    def device(self, status: str) -> None:
        self.control("PUT", f"devices/{TRACK_DEVICE}", {"status": status})

    def create_device(self, name: str) -> None:
        body = {"name": name, "uniqueId": f"snap-{name}"}
        self.send("POST", "/api/devices", json=body, auth=TRACK_USERS[0])

    def event(self, kind: str) -> None:
        self.control("POST", "events", {"deviceId": TRACK_DEVICE, "type": kind})

    def expire(self, _: Any) -> None:
        self.control("POST", "sessions/expire", {"email": TRACK_USERS[1][0]})

    def reads(self, cookies: list[str]) -> list[Answer]:
        span = "&from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"
        paths = [
            "/api/devices",
            "/api/beacons",
            "/api/positions",
            f"/api/positions?deviceId={TRACK_DEVICE}",
            f"/api/reports/route?deviceId={TRACK_DEVICE}{span}",
            f"/api/reports/events?deviceId={TRACK_DEVICE}{span}",
        ]
        found = [self.read("GET", path, auth=user) for user in TRACK_USERS for path in paths]
        for cookie in cookies:
            found.append(
                self.read("GET", "/api/session", headers={"Cookie": f"JSESSIONID={cookie}"})
            )
            found.append(
                self.read("GET", "/api/devices", headers={"Cookie": f"JSESSIONID={cookie}"})
            )
        return found


TRACK_STEPS = st.one_of(
    st.tuples(st.just("login"), st.integers(0, 1)),
    st.tuples(st.just("position"), st.sampled_from([TRACK_DEVICE, 794513670])),
    st.tuples(st.just("device"), st.sampled_from(["online", "offline"])),
    st.tuples(st.just("create_device"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("event"), st.sampled_from(["alarm", "deviceOnline"])),
    st.tuples(st.just("expire"), st.none()),
    st.tuples(st.just("advance"), st.sampled_from([1, 3600, 90000])),
)

DRIVERS: dict[str, type[Driver]] = {
    "tracker": TrackerDriver,
    "trackops": TrackopsDriver,
    "track": TrackDriver,
}
STEPS = {"tracker": TRACKER_STEPS, "trackops": TRACKOPS_STEPS, "track": TRACK_STEPS}


def run(driver: Driver, steps: list[Step]) -> None:
    for name, argument in steps:
        getattr(driver, name)(argument)


def reads(driver: Driver, cookies: list[str]) -> list[Answer]:
    """Every read of the vendor (Track's with the given sessions' cookies too)."""
    if isinstance(driver, TrackDriver):
        return driver.reads(cookies)
    return driver.reads()  # type: ignore[attr-defined,no-any-return]
