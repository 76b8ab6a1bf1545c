"""Fixtures of the contract tests: the Schemathesis profile (CI or ``--schemathesis-long``)."""

from __future__ import annotations

import pytest

from .schemathesis_targets import CI, LONG, Profile


@pytest.fixture(scope="session")
def schemathesis_profile(pytestconfig: pytest.Config) -> Profile:
    """CI's bounded profile, or the long one with ``--schemathesis-long``."""
    return LONG if pytestconfig.getoption("--schemathesis-long") else CI
