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
        url = f"{self.base_url}/__admin/{path.lstrip('/')}"
        query = {k: v for k, v in params.items() if v is not None}
        response = self.http.request(method, url, json=json, params=query, timeout=30)
        if response.status_code >= 400:
            raise ControlError(f"{method} {url}: {response.status_code} {response.text}")
        return None if response.status_code == 204 or not response.content else response.json()

    def health(self) -> dict[str, Any]:
        return self.call("GET", "health")

    def reset(self) -> None:
        self.call("POST", "reset")

    def credentials(self) -> dict[str, Any]:
        return self.call("GET", "credentials")

    def journal(self, **query: Any) -> list[dict[str, Any]]:
        """Journal entries, oldest first; ``query`` takes kind, method, path, path_prefix,
        path_pattern, status, connection, since, limit."""
        return self.call("GET", "journal", **query)["entries"]

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

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def close_sockets(self, code: int = 1001) -> int:
        return int(self.call("POST", "sockets/close", json={"code": code})["closed"])

    def violations(self) -> dict[str, list[Any]]:
        return self.call("GET", "violations")

    def clear_violations(self) -> None:
        self.call("DELETE", "violations")

    def conformance(self) -> dict[str, Any]:
        """Socket frames sent and checked against the contract since the emulator started."""
        return self.call("GET", "conformance")


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
