"""Faults injected through the control API, on HTTP requests and on socket frames.

A rule selects requests by method and path (``fnmatch`` patterns, so ``/api/cases/*``), or
sockets by path, and acts on the next ``times`` of them, or on all while it exists. The first
rule that matches and wins its draw acts.

- HTTP: ``status`` forces an answer, ``latency`` delays the request, ``drop`` closes the
  connection without an answer, ``truncate`` cuts the body (the real answer's, or a forced
  one's) and ``content_type`` sends it under a wrong type. Every HTTP fault may wait first
  (``latency_ms``, or a random ``latency_min_ms``..``latency_max_ms``).
- Sockets: ``frame_drop``, ``frame_delay``, ``frame_duplicate`` act on the next frames sent to
  clients, ``socket_close`` closes a socket with ``close_code`` once ``after_frames`` frames
  went out, ``upgrade_refuse`` answers the upgrade with ``status``.

``probability`` (0 to 1) makes a rule act on a random share of what it matches. Each rule
draws from its own generator, seeded from the emulator's seed and the rule's place since the
last clear, so the same seed and the same rules give the same hits and misses on every run. A
draw that fails lets the request or frame through and uses up nothing.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any

HTTP_ACTIONS = ("status", "latency", "drop", "truncate", "content_type")
FRAME_ACTIONS = ("frame_drop", "frame_delay", "frame_duplicate", "socket_close")
SOCKET_ACTIONS = (*FRAME_ACTIONS, "upgrade_refuse")
ACTIONS = HTTP_ACTIONS + SOCKET_ACTIONS

MAX_LATENCY_MS = 60000
WRONG_CONTENT_TYPE = "text/html; charset=utf-8"
"""What a ``content_type`` fault answers under unless it names a type."""
UNSENDABLE_CLOSE_CODES = frozenset({1004, 1005, 1006, 1015})
"""RFC 6455 7.4.1: reserved, or only reported locally, never sent in a close frame."""
SENDABLE_CLOSE_CODES = (frozenset(range(1000, 1015)) - UNSENDABLE_CLOSE_CODES) | frozenset(
    range(3000, 5000)
)
"""Close codes a server may send: those RFC 6455 and IANA define, and 3000-4999."""


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
    latency_min_ms: float | None = None
    latency_max_ms: float | None = None
    probability: float = 1.0
    content_type: str | None = None
    truncate_bytes: int | None = None
    close_code: int | None = None
    after_frames: int | None = None
    times: int | None = None
    hits: int = 0
    misses: int = 0
    """Matches whose draw failed (``probability``): let through, not counted in ``hits``."""

    @property
    def on_sockets(self) -> bool:
        return self.action in SOCKET_ACTIONS

    def matches(self, method: str, path: str) -> tuple[bool, str]:
        if self.on_sockets:
            return False, f"a {self.action} fault acts on sockets"
        if self.method is not None and self.method.upper() != method.upper():
            return False, f"method {method} is not {self.method}"
        return self._selects(path)

    def _selects(self, path: str) -> tuple[bool, str]:
        if self.path is not None and not fnmatchcase(path, self.path):
            return False, f"path {path} does not match {self.path}"
        if self.used_up:
            return False, f"used up after {self.times} call(s)"
        return True, "matched"

    @property
    def used_up(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["remaining"] = None if self.times is None else max(self.times - self.hits, 0)
        return out


@dataclass(frozen=True, slots=True)
class Firing:
    """A fault acting on one request, frame or upgrade: what it drew, and what it did."""

    fault: Fault
    latency_ms: float = 0.0
    """The wait it drew (0: none)."""

    def rule(self, did: str) -> dict[str, str]:
        """The journal's ``rules`` item for this firing (as ``Call.fire`` writes them)."""
        return {"rule": "fault", "detail": f"fault {self.fault.id} ({self.fault.action}): {did}"}

    def waited(self) -> str:
        fault = self.fault
        delays = fault.latency_ms or fault.latency_max_ms is not None
        return f"waited {self.latency_ms:g} ms" if delays else ""


Answer = tuple[int, list[tuple[str, str]], bytes]


def malformed(firing: Firing, answer: Answer) -> tuple[Answer, str]:
    """``answer`` as a ``truncate`` or ``content_type`` fault spoils it, and what it did."""
    fault = firing.fault
    status, headers, payload = answer
    if fault.action == "truncate":
        keep = fault.truncate_bytes if fault.truncate_bytes is not None else len(payload) // 2
        keep = min(keep, max(len(payload) - 1, 0))
        # The Content-Length is the cut body's: the client reads a whole answer, of bad JSON.
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        return (status, kept, payload[:keep]), f"body cut to {keep} of {len(payload)} bytes"
    wrong = fault.content_type or WRONG_CONTENT_TYPE
    kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
    return (status, [("Content-Type", wrong), *kept], payload), f"sent as {wrong}"


def _number(data: dict[str, Any], name: str, *, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FaultError(f"'{name}' must be a number from {low:g} to {high:g}")
    return float(value)


def _optional_int(data: dict[str, Any], name: str, *, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 503.0 as an integer, as the contract does
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(f"'{name}' must be an integer from {low} to {high}")
    return value


def _latency(data: dict[str, Any]) -> tuple[float, float | None, float | None]:
    fixed = _number(data, "latency_ms", low=0, high=MAX_LATENCY_MS)
    low = _number(data, "latency_min_ms", low=0, high=MAX_LATENCY_MS)
    high = _number(data, "latency_max_ms", low=0, high=MAX_LATENCY_MS)
    if fixed is not None and (low is not None or high is not None):
        raise FaultError("give 'latency_ms' or 'latency_min_ms' and 'latency_max_ms', not both")
    if (low is None) != (high is None):
        raise FaultError("a latency range needs both 'latency_min_ms' and 'latency_max_ms'")
    if low is not None and high is not None and low > high:
        raise FaultError("'latency_min_ms' must not be above 'latency_max_ms'")
    return fixed or 0.0, low, high


def _string(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise FaultError(f"'{name}' must be a non-empty string")
    return value


def parse_fault(data: Any, fault_id: int) -> Fault:
    """Build a fault from its JSON description (see the control API's OpenAPI document)."""
    if not isinstance(data, dict):
        raise FaultError("a fault is a JSON object")
    action = data.get("action")
    if action not in ACTIONS:
        raise FaultError(f"'action' must be one of {', '.join(ACTIONS)}")
    # Which fields each action takes is the contract's (FaultRequest); here, only known ones.
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise FaultError(f"unknown field(s): {', '.join(unknown)}")
    method, path = _string(data, "method"), _string(data, "path")
    if action in SOCKET_ACTIONS and method is not None:
        raise FaultError(f"a '{action}' fault selects sockets by 'path' only, not 'method'")
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise FaultError("'headers' must map header names to strings")
    status = _optional_int(data, "status", low=100, high=599)
    if action == "status" and status is None:
        raise FaultError("a 'status' fault needs 'status'")
    if action == "upgrade_refuse" and status is not None and not 400 <= status <= 599:
        raise FaultError("an 'upgrade_refuse' fault's 'status' must be from 400 to 599")
    if action in ("truncate", "content_type") and status is None and data.get("body") is not None:
        raise FaultError(f"a '{action}' fault's 'body' needs 'status' (the answer it forces)")
    latency_ms, latency_min, latency_max = _latency(data)
    if action in ("latency", "frame_delay") and max(latency_ms, latency_max or 0) <= 0:
        raise FaultError(f"a '{action}' fault needs 'latency_ms' (or 'latency_max_ms') above 0")
    probability = _number(data, "probability", low=0, high=1)
    close_code = _optional_int(data, "close_code", low=1000, high=4999)
    if close_code is not None and close_code not in SENDABLE_CLOSE_CODES:
        raise FaultError(
            f"'close_code' {close_code} cannot be sent in a close frame (RFC 6455 7.4):"
            " use 1000-1003, 1007-1014 or 3000-4999"
        )
    return Fault(
        id=fault_id,
        action=action,
        method=method,
        path=path,
        status=503 if action == "upgrade_refuse" and status is None else status,
        body=data.get("body"),
        headers=headers,
        latency_ms=latency_ms,
        latency_min_ms=latency_min,
        latency_max_ms=latency_max,
        probability=1.0 if probability is None else probability,
        content_type=_string(data, "content_type"),
        truncate_bytes=_optional_int(data, "truncate_bytes", low=0, high=100_000_000),
        close_code=1001 if action == "socket_close" and close_code is None else close_code,
        after_frames=(
            _optional_int(data, "after_frames", low=0, high=1_000_000) or 0
            if action == "socket_close"
            else None
        ),
        times=_optional_int(data, "times", low=1, high=1_000_000),
    )


_FIELDS = {f.name for f in fields(Fault)} - {"id", "hits", "misses"}
"""The fields a fault description may hold."""


class Faults:
    """The fault rules of one emulator.

    Args:
        seed: the emulator's seed; every rule's draws (``probability``, latency ranges) come
            from a generator seeded by it and by the rule's place since the last ``clear``.
    """

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._ids = itertools.count(1)
        self._seed = seed
        self._added = 0
        self._random: dict[int, random.Random] = {}
        self._frames_seen: dict[tuple[int, int], int] = {}
        """(rule id, connection id) -> frames a ``socket_close`` rule let through."""
        self.on_frames = False
        """Whether a frame rule is set (read on every socket write, so kept as a flag)."""

    def __bool__(self) -> bool:
        return bool(self._rules)

    def add(self, data: Any) -> Fault:
        with self._lock:
            fault = parse_fault(data, next(self._ids))
            self._rules.append(fault)
            # A string seed hashes the same on every run (random.seed, version 2).
            self._random[fault.id] = random.Random(f"trackmock-fault/{self._seed}/{self._added}")
            self._added += 1
            self._changed()
            return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._random.clear()
            self._frames_seen.clear()
            self._added = 0
            self._changed()

    def _changed(self) -> None:
        self.on_frames = any(rule.action in FRAME_ACTIONS for rule in self._rules)

    def _fire(self, fault: Fault) -> Firing | None:
        """Draw for a matching rule (under the lock): a ``Firing``, counted as used, or None
        (a miss: nothing used up)."""
        rng = self._random[fault.id]
        if fault.probability < 1 and not rng.random() < fault.probability:
            fault.misses += 1
            return None
        latency = fault.latency_ms
        if fault.latency_min_ms is not None and fault.latency_max_ms is not None:
            latency = round(rng.uniform(fault.latency_min_ms, fault.latency_max_ms), 3)
        fault.hits += 1
        if fault.used_up:
            self._rules.remove(fault)
            self._random.pop(fault.id, None)
            self._changed()
        return Firing(fault, latency)

    def take(self, method: str, path: str) -> Firing | None:
        """The HTTP rule acting on this request, counted as used; used-up rules are dropped."""
        if not self._rules:
            return None
        with self._lock:
            for fault in list(self._rules):
                if fault.matches(method, path)[0]:
                    firing = self._fire(fault)
                    if firing is not None:
                        return firing
        return None

    def take_upgrade(self, path: str) -> Firing | None:
        """The ``upgrade_refuse`` rule acting on this socket upgrade, if any."""
        if not self._rules:
            return None
        with self._lock:
            for fault in list(self._rules):
                if fault.action == "upgrade_refuse" and fault._selects(path)[0]:
                    firing = self._fire(fault)
                    if firing is not None:
                        return firing
        return None

    def take_frame(self, path: str, connection: int) -> Firing | None:
        """The frame rule acting on the next frame socket ``connection`` sends, if any.

        A ``socket_close`` rule counts each socket's frames from when it was set (those other
        rules left alone) and acts on its ``after_frames``-th: that frame is sent, then the
        close. With ``after_frames`` 0 it acts on the next frame, which is not sent (a socket
        opened later is closed as it opens: ``take_open``)."""
        with self._lock:
            for fault in list(self._rules):
                if fault.action not in FRAME_ACTIONS or not fault._selects(path)[0]:
                    continue
                if fault.action == "socket_close" and fault.after_frames:
                    key = (fault.id, connection)
                    seen = self._frames_seen[key] = self._frames_seen.get(key, 0) + 1
                    if seen < fault.after_frames:
                        continue
                firing = self._fire(fault)
                if firing is not None:
                    return firing
        return None

    def take_open(self, path: str) -> Firing | None:
        """The ``socket_close`` rule with ``after_frames`` 0 closing a socket as it opens."""
        with self._lock:
            for fault in list(self._rules):
                if (
                    fault.action == "socket_close"
                    and not fault.after_frames
                    and fault._selects(path)[0]
                ):
                    firing = self._fire(fault)
                    if firing is not None:
                        return firing
        return None

    def forget(self, connection: int) -> None:
        """A socket closed: drop what ``socket_close`` rules counted for it."""
        if not self._frames_seen:
            return
        with self._lock:
            for key in [key for key in self._frames_seen if key[1] == connection]:
                del self._frames_seen[key]

    def explain(self, method: str, path: str) -> list[tuple[int, bool, str]]:
        """For each rule: its id, whether it would match, and why (for the control API)."""
        with self._lock:
            return [(fault.id, *fault.matches(method, path)) for fault in self._rules]
