"""pytest fixtures of the Trackops tests: a raw API caller and the reference client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from trackmock.clients.trackops import TrackopsClient
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import Api, make_client


@pytest.fixture
def api(trackops: EmulatorHandle) -> Api:
    return Api(trackops)


@pytest.fixture
def client(trackops: EmulatorHandle) -> Iterator[TrackopsClient]:
    with make_client(trackops) as made:
        yield made
