"""Schemathesis against every emulator, from the project's own contracts.

Each document runs through every phase (examples, coverage, fuzzing, stateful through the
contract's OpenAPI links) with every check, positive and negative data, on a fresh emulator
started with its vendor's throttling relaxed by settings. The run fails on any failed check or
engine error, on any operation of the document that got no case, and on any link the stateful
phase never followed. How each emulator is configured, and why, is in ``schemathesis_targets``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from trackmock.pytest_plugin import EmulatorHandle

from .schemathesis_run import run
from .schemathesis_targets import TARGETS, Profile, Target

GENERATING = ("examples", "coverage", "fuzzing")

pytestmark = pytest.mark.runs_long


def _check(
    target: Target,
    phases: tuple[str, ...],
    make_emulator: Callable[..., EmulatorHandle],
    profile: Profile,
    record_property: Callable[[str, object], None],
) -> None:
    handle = make_emulator(target.vendor, **target.settings)
    report = run(target.load(handle, profile, phases))
    record_property("schemathesis", report.summary())
    print(f"{target.name} {'+'.join(phases)} ({profile.name}): {report.summary()}")
    stateful = phases == ("stateful",)
    failures = report.failures(
        every_operation=not stateful, some_link=stateful and target.stateful == "links"
    )
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup(f"{target.name}: {report.summary()}", failures)


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_every_operation_keeps_the_contract(
    target: Target,
    make_emulator: Callable[..., EmulatorHandle],
    schemathesis_profile: Profile,
    record_property: Callable[[str, object], None],
) -> None:
    """Examples, coverage and fuzzing phases: each operation, positive and negative data."""
    _check(target, GENERATING, make_emulator, schemathesis_profile, record_property)


STATEFUL = [target for target in TARGETS if target.stateful != "off"]


@pytest.mark.parametrize("target", STATEFUL, ids=[t.name for t in STATEFUL])
def test_stateful_runs_follow_the_links(
    target: Target,
    make_emulator: Callable[..., EmulatorHandle],
    schemathesis_profile: Profile,
    record_property: Callable[[str, object], None],
) -> None:
    """The stateful phase, on an emulator of its own (the generating phases' records would make
    the examples' unique values collide): create -> get -> update through the links."""
    _check(target, ("stateful",), make_emulator, schemathesis_profile, record_property)
