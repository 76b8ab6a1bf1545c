"""Fixture names that cannot clash: ``trackmock_tracker``, ``trackmock_trackops`` and
``trackmock_track``, with the short names kept as aliases a project may take over."""

from __future__ import annotations

from pathlib import Path

from trackmock.pytest_plugin import EmulatorHandle

from .project import run_pytest, write


def test_the_short_names_are_the_same_handles(
    tracker: EmulatorHandle,
    trackmock_tracker: EmulatorHandle,
    trackops: EmulatorHandle,
    trackmock_trackops: EmulatorHandle,
    track: EmulatorHandle,
    trackmock_track: EmulatorHandle,
) -> None:
    assert tracker is trackmock_tracker
    assert trackops is trackmock_trackops
    assert track is trackmock_track
    assert [h.vendor for h in (tracker, trackops, track)] == ["tracker", "trackops", "track"]


def test_a_projects_own_tracker_fixture_leaves_trackmock_tracker_working(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "conftest.py": """
                import pytest

                @pytest.fixture
                def tracker():
                    return "the project's own issue tracker"

                @pytest.fixture
                def track():
                    return "a running track"
            """,
            "test_names.py": """
                def test_both(tracker, track, trackmock_tracker, trackmock_track):
                    assert tracker == "the project's own issue tracker"
                    assert track == "a running track"
                    assert trackmock_tracker.control.health()["vendor"] == "tracker"
                    assert trackmock_track.control.health()["vendor"] == "track"
            """,
        },
    )
    run = run_pytest(tmp_path)
    assert run.returncode == 0, run.stdout
    assert "1 passed" in run.stdout
