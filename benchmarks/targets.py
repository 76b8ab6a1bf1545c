"""What the benchmarks ask of each emulator: representative GETs, scale probes, login."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import requests

# Default settings, except that a load test (the same GET again and again) is never refused:
# the polling rule and the rate limit still run (and warn), their limits are out of reach.
NEVER_REACHED = 1_000_000_000
BENCH_SETTINGS: dict[str, Any] = {
    "tracker": {"polling_violations_to_disable": NEVER_REACHED},
    "trackops": {"rate_limit": NEVER_REACHED},
}


@dataclass(frozen=True)
class Target:
    vendor: str
    name: str
    path: str


THROUGHPUT = [
    Target("tracker", "case by number", "/api/cases/getByNumber?value=2018-0521-01"),
    Target("tracker", "item history feed", "/api/items/seqOrgItemHistoryId/1"),
    Target("trackops", "clients", "/api/v1/clients"),
    Target("trackops", "case updates", "/api/v1/case/updates"),
    Target("track", "positions", "/api/positions"),
    Target("track", "devices", "/api/devices"),
]


def scale_targets(vendor: str, records: int) -> list[Target]:
    """Probes whose cost must not grow with the data: the newest feed record, a deep page,
    a position filter."""
    if vendor == "tracker":
        return [
            Target(
                vendor,
                "feed record near the end",
                f"/api/items/seqOrgItemHistoryId/{max(records, 2)}",
            )
        ]
    if vendor == "trackops":
        deep = max(records // 100 // 2, 1)
        return [
            Target(vendor, "deep page", f"/api/v1/case/updates?per_page=100&page={deep}&dir=asc"),
            Target(vendor, "first page", "/api/v1/case/updates?per_page=100"),
        ]
    return [Target(vendor, "positions of one device", "/api/positions?deviceId=794513675")]


def auth_headers(vendor: str, info: dict[str, Any], verify: Any) -> dict[str, str]:
    """Headers that authenticate a request to ``vendor`` (logging in where needed)."""
    creds = info["credentials"]
    if vendor == "tracker":
        return {
            "Authorization": f"Bearer {creds['token']}",
            "OrganizationId": str(creds["organizationId"]),
            "OfficeId": str(creds["officeId"]),
            "StaticToken": "true",
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
    if vendor == "trackops":
        pair = f"{creds['username']}:{creds['password']}".encode()
        return {
            "Authorization": "Basic " + base64.b64encode(pair).decode(),
            "Accept": "application/json",
        }
    login = requests.post(
        info["url"] + "/api/session",
        data={"email": creds["email"], "password": creds["password"]},
        timeout=10,
        verify=verify,
    )
    login.raise_for_status()
    return {"Cookie": f"JSESSIONID={login.cookies['JSESSIONID']}", "Accept": "application/json"}
