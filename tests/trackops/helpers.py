"""Helpers of the Trackops tests: the documents' credentials, a raw API caller and the
reference client.

The plugin's emulator runs on a frozen clock and Trackops allows 1 request per second, so the
raw caller moves the emulator clock one second before each call unless told otherwise.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import requests
from trackmock.clients.trackops import TrackopsClient
from trackmock.core.contracts import Contract
from trackmock.core.paths import contracts_dir, fixtures_dir
from trackmock.pytest_plugin import EmulatorHandle

TOKEN = "d29d3136-1251-5041-9e1c-428c77edb64d"
"""The vendor document's API token (account ``mycompany``)."""
SAM = ("samspade/token", TOKEN)
CONTRACT_PATH = contracts_dir() / "trackops" / "openapi.yaml"
FIXTURES = fixtures_dir() / "trackops"


@cache
def contract() -> Contract:
    """The Trackops contract (read once)."""
    return Contract.from_path(CONTRACT_PATH)


class Api:
    """Raw HTTPS calls to a Trackops emulator, as ``auth`` (samspade by default)."""

    def __init__(self, handle: EmulatorHandle, auth: tuple[str, str] | None = SAM) -> None:
        self.handle = handle
        self.auth = auth
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the emulator's CA

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: Any = "default",
        host: str | None = None,
        advance: float = 1.0,
        **kwargs: Any,
    ) -> requests.Response:
        """One call; the emulator clock first moves ``advance`` seconds (0: not at all)."""
        if advance:
            self.handle.clock.advance(advance)
        headers = dict(kwargs.pop("headers", {}))
        if host:
            headers["Host"] = host
        return self.http.request(
            method,
            path if path.startswith("http") else self.handle.url_for(path),
            auth=self.auth if auth == "default" else auth,
            headers=headers,
            verify=self.handle.verify,
            timeout=10,
            **kwargs,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def records(self, collection: str, account: str | None = None) -> list[dict[str, Any]]:
        """Every stored record of a store, through the control API (no rate limit)."""
        found: list[dict[str, Any]] = self.handle.control.call(
            "GET", f"trackops/records/{collection}", account=account
        )["records"]
        return found


def make_client(handle: EmulatorHandle, **options: Any) -> TrackopsClient:
    """The reference client as samspade, waiting on the emulator's clock."""
    return TrackopsClient(
        handle.url,
        options.pop("username", "samspade"),
        options.pop("api_token", TOKEN),
        ca_cert=handle.ca_cert,
        clock=handle.clock,
        **options,
    )


def error_of(response: requests.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    assert body["status"] == response.status_code
    return body
