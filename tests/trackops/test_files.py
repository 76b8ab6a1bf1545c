"""File download links: issued with every response, valid 15 minutes by the emulator clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

from trackmock.pytest_plugin import EmulatorHandle

from .helpers import Api, error_of


def _link(api: Api, file_id: int = 1) -> str:
    record = api.get(f"/api/v1/files/{file_id}").json()
    assert record["download_url_expires_at"] == "2025-02-21T10:15:01Z", "now + 15 minutes"
    return str(record["download_url"])


def test_a_download_link_works_for_15_minutes_then_403(trackops: EmulatorHandle, api: Api) -> None:
    link = _link(api)
    assert link.startswith(trackops.url + "/api/v1/files/1/download?")
    fetched = api.get(link, auth=None)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert fetched.content.startswith(b"trackmock placeholder for file 1")
    assert len(fetched.content) == 65536, "cut to download_max_bytes"
    assert api.get(link, auth=None, advance=899).status_code == 200, "900 s on: still valid"
    expired = api.get(link, auth=None, advance=1)
    assert expired.status_code == 403
    assert "expired" in error_of(expired)["message"]
    fresh = api.get("/api/v1/files?id=1").json()[0]["download_url"]
    assert fresh != link
    assert api.get(fresh, auth=None).status_code == 200


def test_a_tampered_link_is_refused(api: Api) -> None:
    link = _link(api)
    query: dict[str, Any] = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
    other = api.get("/api/v1/files/2/download", params=query, auth=None)
    assert other.status_code == 403
    assert error_of(other)["message"] == "The download link is not valid"
    later = {**query, "expires": int(query["expires"]) + 3600}
    assert api.get("/api/v1/files/1/download", params=later, auth=None).status_code == 403
    missing = api.get("/api/v1/files/1/download", params={"expires": 1}, auth=None)
    assert missing.status_code == 400
    assert error_of(missing)["parameter"] == "signature"


def test_download_links_are_signed_per_account(api: Api) -> None:
    link = _link(api)
    elsewhere = api.get(link, auth=None, host="continental.localhost")
    assert elsewhere.status_code == 403


def _signature(link: str) -> str:
    return parse_qs(urlparse(link).query)["signature"][0]


def test_links_cannot_be_forged_from_the_public_seed(make_emulator: Callable[..., Any]) -> None:
    """Two emulators with the same (default) seed sign with keys of their own: a link of one
    is refused by the other."""
    first, second = (Api(make_emulator("trackops")) for _ in range(2))
    link = _link(first)
    assert _signature(link) != _signature(_link(second))
    moved = link.replace(first.handle.url, second.handle.url)
    assert second.get(moved, auth=None).status_code == 403
    assert first.get(link, auth=None).status_code == 200
    for api in (first, second):
        api.http.close()  # no idle connection for the emulators' stop to wait out


def test_a_seed_can_ask_for_the_same_links_on_every_run(
    make_emulator: Callable[..., Any],
) -> None:
    first, second = (
        Api(make_emulator("trackops", seed=7, trackops={"link_key": "seed"})) for _ in range(2)
    )
    link = _link(first)
    assert _signature(link) == _signature(_link(second))
    moved = link.replace(first.handle.url, second.handle.url)
    assert second.get(moved, auth=None).status_code == 200
    for api in (first, second):
        api.http.close()
