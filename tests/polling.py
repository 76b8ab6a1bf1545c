"""Waiting for something another thread or process does: asked again until it holds, within a
hang guard (never a timing assertion; time the emulators keep runs on their clocks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

HANG_GUARD = 20.0
"""Seconds any wait may take before the test is declared hung."""


def until(condition: Callable[[], Any], what: str, guard: float = HANG_GUARD) -> Any:
    """The first truthy value of ``condition()``; fails naming ``what`` after ``guard`` s."""
    deadline = time.monotonic() + guard
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"still waiting after {guard} s: {what}")
