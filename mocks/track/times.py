"""Track timestamps: stored as epoch milliseconds, written in the configured style (SF-23).

Track writes UTC with milliseconds, ``2020-01-14T10:18:44.514+0000`` in older releases and
``2025-02-21T10:05:04.906+00:00`` in newer ones. Storing integers keeps comparisons (route
reports, latest position) exact and lets one setting choose the written form.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime


def parse_ms(text: str) -> int:
    """Epoch milliseconds of an ISO 8601 instant with an offset (``Z``, ``+00:00``, ``+0000``).

    Raises:
        ValueError: not an instant, or no offset.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no offset; add Z or +00:00")
    return round(value.timestamp() * 1000)


def to_ms(epoch_seconds: float) -> int:
    return round(epoch_seconds * 1000)


def formatter(style: str) -> Callable[[int], str]:
    """A function writing epoch milliseconds as UTC with milliseconds and ``style`` (the offset)."""

    def render(ms: int) -> str:
        seconds, millis = divmod(ms, 1000)
        t = time.gmtime(seconds)
        return (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d}{style}"
        )

    return render
