"""The project's own test configuration: behaviour coverage of the documented vendor behaviours
(``tests/behaviour_coverage.py``), and the ``--schemathesis-long`` switch of
tests/contract/test_schemathesis.py.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.behaviour_coverage"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--schemathesis-long",
        action="store_true",
        help="run tests/contract/test_schemathesis.py long (more examples; docs/conformance.md)",
    )
