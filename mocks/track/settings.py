"""Track's settings: every number of its rules and every choice the document leaves open.

Read from the ``track:`` section of a settings file with ``core.settings.from_mapping``.
Defaults reproduce Track API guide; ``docs/vendors/track.md`` explains each inferred choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TrackSettings:
    """The Track emulator's rules and inferred choices."""

    ping_interval: float = 30.0
    """Seconds between two PINGs on a socket, by the emulator clock (SF-06)."""
    missed_pings_before_close: int = 2
    """Consecutive unanswered PINGs that close the socket (SF-08, inferred); 0 never closes."""
    ping_close_code: int = 1000
    """Close code sent when a socket is closed for unanswered PINGs (inferred)."""
    session_timeout: int = 86400
    """Seconds of inactivity after which a web session ends (SF-09); the webSessionTimeout value."""
    session_timeout_frame: Literal["connect", "expiry"] = "connect"
    """When ``{"webSessionTimeout": [N]}`` is sent, once: right after the initial push
    (``connect``), or when the web session that opened the socket expires (``expiry``).
    Track API guide 3.4 Web Session Timeout can be read either way."""
    timestamp_style: Literal["+00:00", "+0000"] = "+00:00"
    """How timestamps are written: the newer ``+00:00`` or the older ``+0000`` (SF-23)."""
    flapping_window: float = 60.0
    """``filterFlapping`` drops a return to the previous place within this many seconds."""
    basic_auth: bool = True
    """Accept HTTP Basic ``email:password`` on REST calls, as the real service does."""

    volume: int = 0
    """Extra generated positions loaded at reset (for benchmarks); 0 loads none."""
    volume_devices: int = 100
    """How many generated devices (each with a beacon) share the generated positions."""
    volume_user_id: int = 1
    """The user who sees the generated devices, beacons and positions."""
