"""pytest fixtures of the core tests: the sample vendor served on an ephemeral port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from trackmock.core.emulator import Emulator
from trackmock.core.server import BackgroundRunner, Listener

from .helpers import make_sample


@pytest.fixture
def sample() -> Iterator[Emulator]:
    """A sample emulator served on 127.0.0.1 at an ephemeral port."""
    emulator = make_sample()
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    yield emulator
    runner.stop()
