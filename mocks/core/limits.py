"""The transport's limits: what one client may hold of a server's connections and memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds the server enforces for every listener (defaults match ``CoreSettings``)."""

    idle_timeout: float = 30.0
    max_connections: int = 10_000
    max_head_bytes: int = 65_536
    max_headers: int = 200
    ws_max_message_bytes: int = 4_096
    ws_inbound_bytes: int = 16 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits a ``CoreSettings`` asks for."""
        return cls(
            idle_timeout=settings.idle_timeout,
            max_connections=settings.max_connections,
            max_head_bytes=settings.max_request_head_bytes,
            max_headers=settings.max_request_headers,
            ws_max_message_bytes=settings.socket_max_message_bytes,
            ws_inbound_bytes=settings.socket_inbound_bytes,
        )
