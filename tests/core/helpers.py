"""Helpers of the core tests: the sample vendor's emulator."""

from __future__ import annotations

from typing import Any

from trackmock.core.emulator import Emulator
from trackmock.core.settings import CoreSettings

from .sample.provider import CONTRACT, SampleProvider

START = "2025-02-21T10:00:00Z"


def make_sample(**settings: Any) -> Emulator:
    core = CoreSettings(
        **{"clock_frozen": True, "clock_start": START, "check_responses": True, **settings}
    )
    return Emulator(SampleProvider, CONTRACT, core)
