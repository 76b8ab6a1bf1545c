"""Helpers of the Tracker tests: the documents' ids, a raw API caller with every header, and
bodies that pass every check."""

from __future__ import annotations

from typing import Any

import requests
from trackmock.pytest_plugin import EmulatorHandle

DOC_CASE = 2933671
"""The case of "API - Edit a Case" (docs/vendors/sources.md), in the fixture files."""
DOC_CASE_NUMBER = "2018-0521-01"
DOC_ITEM = 4932605
"""That case's item."""
MIKE = 12659
"""The case's officer, a user without a reserved license."""


def tracker_headers(credentials: dict[str, Any], method: str = "GET") -> dict[str, str]:
    """Every header the SAFE API overview asks of a call, for these credentials (a handle's
    or a ready file's): the static token, the tenant, and ``Content-Type`` on GETs too (TR-05)."""
    return {
        "Accept": "application/json",
        "Authorization": f"Bearer {credentials['token']}",
        "OrganizationId": str(credentials["organizationId"]),
        "OfficeId": str(credentials["officeId"]),
        "StaticToken": "true",
        "Content-Type": "application/x-www-form-urlencoded"
        if method == "GET"
        else "application/json",
    }


class Api:
    """Raw calls to a Tracker emulator with the documented headers (each can be overridden)."""

    def __init__(self, handle: EmulatorHandle, token: str | None = None, **headers: str) -> None:
        self.handle = handle
        creds = handle.credentials
        self.headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {token or creds['token']}",
            "OrganizationId": str(creds["organizationId"]),
            "OfficeId": str(creds["officeId"]),
            "StaticToken": "true",
            **headers,
        }

    def as_token(self, token: str, **headers: str) -> Api:
        return Api(self.handle, token, **headers)

    def request(self, method: str, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        headers = dict(self.headers)
        headers["Content-Type"] = (
            "application/x-www-form-urlencoded" if method == "GET" else "application/json"
        )
        headers.update(kwargs.pop("headers", {}))
        return requests.request(
            method,
            self.handle.url_for(path),
            json=json,
            headers={k: v for k, v in headers.items() if v is not None},
            timeout=10,
            **kwargs,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, json, **kwargs)

    def case(self, number: str = DOC_CASE_NUMBER) -> dict[str, Any]:
        """The case by number, a minute after the last read (never a polling violation)."""
        self.handle.clock.advance(61)
        answer = self.get("/api/cases/getByNumber", params={"value": number})
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]


def new_case(number: str = "2025-0221-01", **fields: Any) -> dict[str, Any]:
    """A case create body that passes every check with the fixtures."""
    return {
        "caseNumber": number,
        "caseOfficerIds": [MIKE],
        "offenseTypeId": 74,
        "offenseDescription": "Shoplifting",
        "active": True,
        "formData": [],
        "tags": [],
        **fields,
    }


def admin_item(handle: EmulatorHandle, **item: Any) -> dict[str, Any]:
    """Create an item on the documents' case through the control API; returns item and history."""
    body = {"item": {"primaryCaseId": DOC_CASE, "description": "Knife", **item}}
    return handle.control.call("POST", "items", json=body)  # type: ignore[no-any-return]
