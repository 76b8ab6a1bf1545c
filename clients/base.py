"""What the reference clients share: an injectable clock and the root of their errors."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where a client reads the time and waits. Tests pass the emulator's clock
    (``trackmock.control.ControlClock``), so a client's waiting moves emulated time."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ClientError(Exception):
    """Root of every error a reference client raises; ``status`` and ``body`` when from HTTP."""

    def __init__(self, message: str, *, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
