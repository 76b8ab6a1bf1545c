"""Faults injected through the control API: latency, forced statuses, dropped connections.

A rule selects requests by method and path (``fnmatch`` patterns, so ``/api/cases/*``) and
acts on the next ``times`` of them, or on all while it exists. The first matching rule wins.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any

ACTIONS = ("status", "latency", "drop")


class FaultError(ValueError):
    """A fault description that cannot be used; the message says which field and why."""


@dataclass(slots=True)
class Fault:
    id: int
    action: str
    method: str | None = None
    path: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    latency_ms: float = 0.0
    times: int | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> tuple[bool, str]:
        if self.method is not None and self.method.upper() != method.upper():
            return False, f"method {method} is not {self.method}"
        if self.path is not None and not fnmatchcase(path, self.path):
            return False, f"path {path} does not match {self.path}"
        if self.times is not None and self.hits >= self.times:
            return False, f"used up after {self.times} call(s)"
        return True, "matched"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["remaining"] = None if self.times is None else max(self.times - self.hits, 0)
        return out


def _optional_int(data: dict[str, Any], name: str, *, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 503.0 as an integer, as the contract does
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(f"'{name}' must be an integer from {low} to {high}")
    return value


def parse_fault(data: Any, fault_id: int) -> Fault:
    """Build a fault from its JSON description (see the control API's OpenAPI document)."""
    if not isinstance(data, dict):
        raise FaultError("a fault is a JSON object")
    known = {"action", "method", "path", "status", "body", "headers", "latency_ms", "times"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise FaultError(f"unknown field(s): {', '.join(unknown)}")
    action = data.get("action")
    if action not in ACTIONS:
        raise FaultError(f"'action' must be one of {', '.join(ACTIONS)}")
    for name in ("method", "path"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise FaultError(f"'{name}' must be a string")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise FaultError("'headers' must map header names to strings")
    status = _optional_int(data, "status", low=100, high=599)
    if action == "status" and status is None:
        raise FaultError("a 'status' fault needs 'status'")
    latency = data.get("latency_ms", 0)
    if (
        isinstance(latency, bool)
        or not isinstance(latency, int | float)
        or not 0 <= latency <= 60000
    ):
        raise FaultError("'latency_ms' must be a number from 0 to 60000")
    if action == "latency" and latency <= 0:
        raise FaultError("a 'latency' fault needs 'latency_ms' above 0")
    return Fault(
        id=fault_id,
        action=action,
        method=data.get("method"),
        path=data.get("path"),
        status=status,
        body=data.get("body"),
        headers=headers,
        latency_ms=float(latency),
        times=_optional_int(data, "times", low=1, high=1_000_000),
    )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._ids = itertools.count(1)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def add(self, data: Any) -> Fault:
        with self._lock:
            fault = parse_fault(data, next(self._ids))
            self._rules.append(fault)
            return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule matching this request, counted as used; used-up rules are dropped."""
        if not self._rules:
            return None
        with self._lock:
            for fault in self._rules:
                if fault.matches(method, path)[0]:
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self._rules.remove(fault)
                    return fault
        return None

    def explain(self, method: str, path: str) -> list[tuple[int, bool, str]]:
        """For each rule: its id, whether it would match, and why (for the control API)."""
        with self._lock:
            return [(fault.id, *fault.matches(method, path)) for fault in self._rules]
