"""The project's own test configuration: behaviour coverage of the documented vendor behaviours
(``tests/behaviour_coverage.py``), the ``--schemathesis-long`` switch of
tests/contract/test_schemathesis.py, and the order that lets two pytest-xdist workers finish
together (tests marked ``runs_long`` start first), the garbage collector kept off what
collection built, and no Hypothesis deadline.
"""

from __future__ import annotations

import gc

import pytest
from hypothesis import settings

pytest_plugins = ["tests.behaviour_coverage"]

# No Hypothesis deadline anywhere: a test's speed is not what it asserts, and on a shared
# machine a pure-CPU example can stall past 200 ms (tests/core/test_ratelimit.py did, under
# load 8) and fail as "unreliable timings".
settings.register_profile("trackmock", deadline=None)
settings.load_profile("trackmock")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--schemathesis-long",
        action="store_true",
        help="run tests/contract/test_schemathesis.py long (more examples; docs/conformance.md)",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``runs_long`` first (otherwise in collection order): with pytest-xdist's
    ``worksteal`` distribution (``addopts`` in pyproject.toml) the other worker takes the short
    tests meanwhile, so the run does not end with one worker alone on a long test."""
    items.sort(key=lambda item: item.get_closest_marker("runs_long") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep what collection built (imported libraries, contracts, parametrized cases: about
    120 000 objects) out of the garbage collector's sight: a worker runs for minutes, and each
    full collection would scan them again (tests/core and tests/tracker in one process: full
    collections took 6.3 s, 3.0 s once these are frozen)."""
    gc.collect()
    gc.freeze()
