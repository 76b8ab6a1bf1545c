from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from trackmock.core.emulator import Emulator
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings

from .sample.provider import CONTRACT, SampleProvider

START = "2025-02-21T10:00:00Z"


def make_sample(**settings: Any) -> Emulator:
    core = CoreSettings(
        **{"clock_frozen": True, "clock_start": START, "check_responses": True, **settings}
    )
    return Emulator(SampleProvider, CONTRACT, core)


@pytest.fixture
def sample() -> Iterator[Emulator]:
    """A sample emulator served on 127.0.0.1 at an ephemeral port."""
    emulator = make_sample()
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    yield emulator
    runner.stop()
