"""A client of the control API (``/__admin/``), for tests, scripts and the pytest plugin."""

from __future__ import annotations

from typing import Any

import requests

ADMIN_TOKEN_VARIABLE = "TRACKMOCK_ADMIN_TOKEN"
"""The environment variable ``trackmock serve`` reads the admin token from (when
``--admin-token`` is not given: the variable keeps it out of the process list), and the pytest
plugin sends to emulators of a ready file."""


class ControlError(RuntimeError):
    """The control API refused a call; the message holds its answer."""


class ControlClient:
    """Drive one running emulator through its control API.

    Args:
        base_url: the emulator's URL (``http://127.0.0.1:8081``).
        token: the admin token, when the emulator was started with one.
        verify: CA file (or False) for emulators that serve TLS.
    """

    def __init__(self, base_url: str, *, token: str | None = None, verify: Any = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        # A local emulator: no proxies from the environment, and REQUESTS_CA_BUNDLE must not
        # override the emulator's own CA (requests lets it win over Session.verify).
        self.http.trust_env = False
        self.http.verify = verify
        if token:
            self.http.headers["X-Trackmock-Admin-Token"] = token
        self.clock = ControlClock(self)

    def call(self, method: str, path: str, /, json: Any = None, **params: Any) -> Any:
        """Call ``/__admin/<path>``; returns the decoded JSON answer (None for 204).

        ``params`` go into the query string (``path`` among them: ``method`` and ``path`` are
        positional-only so that ``journal(path=...)`` works)."""
        response = self._send(method, path, json, params)
        return None if response.status_code == 204 or not response.content else response.json()

    def _send(self, method: str, path: str, json: Any, params: dict[str, Any]) -> requests.Response:
        url = f"{self.base_url}/__admin/{path.lstrip('/')}"
        query = {k: v for k, v in params.items() if v is not None}
        response = self.http.request(method, url, json=json, params=query, timeout=30)
        if response.status_code >= 400:
            raise ControlError(f"{method} {url}: {response.status_code} {response.text}")
        return response

    def health(self) -> dict[str, Any]:
        return self.call("GET", "health")

    def reset(self) -> None:
        self.call("POST", "reset")

    def credentials(self) -> dict[str, Any]:
        return self.call("GET", "credentials")

    def snapshot(self) -> dict[str, Any]:
        """The emulator's whole state (``GET /__admin/snapshot``); it holds its tokens,
        passwords and sessions."""
        return self.call("GET", "snapshot")

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """Put a snapshot's state in place, all or nothing (``POST /__admin/snapshot``)."""
        return self.call("POST", "snapshot", json=snapshot)

    def journal(self, **query: Any) -> list[dict[str, Any]]:
        """Journal entries, oldest first, every page of them; ``query`` takes kind, method,
        path, path_prefix, path_pattern, status, connection, since, limit."""
        entries: list[dict[str, Any]] = []
        while True:
            page = self.call("GET", "journal", **query)
            entries += page["entries"]
            if page.get("next") is None:
                return entries
            query["since"] = page["next"]
            if query.get("limit") is not None:
                query["limit"] -= len(page["entries"])
                if query["limit"] <= 0:
                    return entries

    def count(self, **query: Any) -> dict[str, Any]:
        """How many kept journal entries match ``query`` (kind, method, path, path_prefix,
        path_pattern, status, connection, since), and the near misses (``near``: how many):
        ``{"count": 2, "near_misses": [{"entry": {...}, "reason": "method is GET"}]}``."""
        return self.call("GET", "journal/count", **query)

    def unmatched(self) -> list[dict[str, Any]]:
        """Kept requests that matched no operation (wrong URLs), oldest first, with reasons."""
        return self.call("GET", "unmatched")["entries"]

    def clear_journal(self) -> None:
        self.call("DELETE", "journal")

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        return self.call("POST", "faults", json=fault)

    def faults(self) -> list[dict[str, Any]]:
        return self.call("GET", "faults")["faults"]

    def close_sockets(self, code: int = 1001) -> int:
        return int(self.call("POST", "sockets/close", json={"code": code})["closed"])

    def violations(self) -> dict[str, list[Any]]:
        return self.call("GET", "violations")

    def clear_violations(self) -> None:
        self.call("DELETE", "violations")

    def conformance(self) -> dict[str, Any]:
        """Socket frames sent and checked against the contract since the emulator started."""
        return self.call("GET", "conformance")

    # -- what the dashboard reads (docs/dashboard.md) ------------------------------------------

    def emulators(self) -> dict[str, Any]:
        """This emulator and the others served beside it: URLs, credentials, CA."""
        return self.call("GET", "emulators")

    def ca_certificate(self, vendor: str) -> str:
        """The PEM text of ``vendor``'s CA (an emulator serving TLS, this one or a sibling)."""
        return self._send("GET", f"emulators/{vendor}/ca", None, {}).text

    def state_tables(self) -> list[dict[str, Any]]:
        """The tables of the emulator's state, with their sizes."""
        return self.call("GET", "state")["tables"]

    def state_page(
        self, table: str, *, offset: int = 0, limit: int = 50, order: str | None = None
    ) -> dict[str, Any]:
        """One page of a state table: ``{total, offset, limit, order, rows: [{key, record}]}``."""
        return self.call("GET", f"state/{table}", offset=offset, limit=limit, order=order)

    def state_record(self, table: str, key: Any) -> dict[str, Any]:
        """One record with the records that belong with it: ``{key, record, related}``."""
        return self.call("GET", f"state/{table}/{key}")

    def actions(self) -> list[dict[str, Any]]:
        """The control actions that take input, described for a form."""
        return self.call("GET", "actions")["actions"]

    def socket_frames(
        self, *, connection: int | None = None, since: int | None = None, limit: int = 200
    ) -> dict[str, Any]:
        """Socket connections and frames, each frame checked against the AsyncAPI document."""
        return self.call("GET", "sockets/frames", connection=connection, since=since, limit=limit)

    def check_drift(self, har: dict[str, Any]) -> dict[str, Any]:
        """``trackmock check``'s JSON report (with a ``verdict``) for a HAR document."""
        return self.call("POST", "drift", json=har)


class ControlClock:
    """The emulator's clock seen from a client: ``now()`` reads it, ``sleep()`` advances it.

    Reference clients take a clock with ``now()`` and ``sleep()``; handing them this one makes
    their waiting move the emulator's time instead of real time.
    """

    def __init__(self, control: ControlClient) -> None:
        self._control = control

    def read(self) -> dict[str, Any]:
        return self._control.call("GET", "clock")

    def now(self) -> float:
        return float(self.read()["epoch"])

    def advance(self, seconds: float) -> float:
        return float(self._control.call("POST", "clock", json={"advance": seconds})["epoch"])

    def set(self, instant: str) -> float:
        return float(self._control.call("POST", "clock", json={"set": instant})["epoch"])

    def freeze(self, frozen: bool = True) -> None:
        self._control.call("POST", "clock", json={"freeze": frozen})

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)
