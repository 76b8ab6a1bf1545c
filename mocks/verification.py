"""Verifying what an emulator received, as WireMock's ``verify`` does: a count of matching
requests, and when it is not what the test expects, a message that lists what came close.

``EmulatorHandle.assert_received`` (pytest plugin) calls ``assert_received`` here; any script
can call it with a ``ControlClient``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .control import ControlClient

LISTED = 10
"""How many received requests and near misses a failure lists at most."""


class NotReceived(AssertionError):
    """The emulator did not receive the expected number of matching requests."""


def _line(entry: dict[str, Any]) -> str:
    query = f"?{entry['query']}" if entry.get("query") else ""
    status = entry.get("status")
    answer = f" -> {status}" if status else " -> no answer"
    return f"#{entry['id']} {entry['method']} {entry['path']}{query}{answer}"


def assert_received(
    control: ControlClient,
    method: str | None,
    path_pattern: str,
    *,
    times: int | None = None,
    at_least: int | None = None,
    status: int | None = None,
) -> int:
    """Check that the emulator received ``method path_pattern`` exactly ``times`` times, or
    ``at_least`` times (default: at least once); returns how many it received.

    ``path_pattern`` is an ``fnmatch`` pattern of the path without its query
    (``/api/cases/*``; ``*`` also matches ``/``); ``method`` None takes any method;
    ``status`` also requires that answer. Only what the journal keeps is counted (it is
    bounded by ``journal_size``, and emptied by a reset, so by the plugin before each test).

    Raises:
        NotReceived: with the requests that matched when there were too many, and the near
            misses (a request that differs in one way only: method, path or status) when
            there were too few, closest path first, each with the reason it missed.
    """
    if times is not None and at_least is not None:
        raise TypeError("give times or at_least, not both")
    for name, value in (("times", times), ("at_least", at_least)):
        if value is not None and (isinstance(value, bool) or value < 0):
            raise ValueError(f"{name} must be an integer of 0 or more, not {value!r}")
    if times is None and at_least is None:
        at_least = 1
    query: dict[str, Any] = {
        "kind": "http",
        "method": method.upper() if method else None,
        "path_pattern": path_pattern,
        "status": status,
    }
    result = control.count(near=LISTED, **query)
    received = int(result["count"])
    enough = received == times if times is not None else received >= (at_least or 0)
    if enough:
        return received
    wanted = f"{method.upper() if method else 'any method'} {path_pattern}"
    if status is not None:
        wanted += f" answered {status}"
    expected = f"exactly {times}" if times is not None else f"at least {at_least}"
    lines = [f"expected {wanted} {expected} time(s); the emulator received it {received} time(s)"]
    if received:
        lines.append("received (the last ones):")
        lines += [f"  {_line(e)}" for e in control.journal(**query, limit=LISTED)]
    if times is None or received < times:
        misses = result["near_misses"]
        if misses:
            lines.append("near misses (closest first):")
            lines += [f"  {_line(m['entry'])}: {m['reason']}" for m in misses]
        else:
            lines.append("no near misses: no kept request differs from it in one way only")
    raise NotReceived("\n".join(lines))
