"""Snapshot files: `trackmock serve --state/--save-state` (a real process), and the plugin's
``make_emulator(state=...)``, ``handle.snapshot(path)`` and ``handle.restore``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from trackmock.core.snapshot import SET_FORMAT, SnapshotError
from trackmock.pytest_plugin import EmulatorHandle

from ..cli.test_serve_integration import SERVE, serving
from .vendors import TRACK_DEVICE, TRACKER_ITEM

TWO = ["--vendor", "tracker,track", "--tracker-port", "0", "--track-port", "0", "--clock-frozen"]


def _snapshot(url: str) -> dict[str, Any]:
    answer = requests.get(f"{url}/__admin/snapshot", timeout=30)
    assert answer.status_code == 200
    return dict(answer.json())


def test_save_state_on_sigterm_and_start_from_it(tmp_path: Path) -> None:
    saved = tmp_path / "state.json"
    with serving(tmp_path, *TWO, "--save-state", str(saved)) as (process, ready):
        tracker, track = ready["tracker"]["url"], ready["track"]["url"]
        changed = requests.put(
            f"{tracker}/__admin/items/{TRACKER_ITEM}", json={"item": {"make": "Saved"}}, timeout=30
        )
        assert changed.status_code == 200
        requests.post(f"{track}/__admin/positions", json={"deviceId": TRACK_DEVICE}, timeout=30)
        requests.post(f"{tracker}/__admin/clock", json={"advance": 7200}, timeout=30)
        expected = {"tracker": _snapshot(tracker), "track": _snapshot(track)}
    assert process.returncode == 0
    document = json.loads(saved.read_text())
    assert document["format"] == SET_FORMAT
    assert document["snapshots"] == expected
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600, "it holds tokens and passwords"

    with serving(tmp_path, *TWO, "--state", str(saved)) as (_, ready):
        for vendor in ("tracker", "track"):
            assert _snapshot(ready[vendor]["url"]) == expected[vendor]


def test_state_from_a_single_emulators_snapshot(tmp_path: Path) -> None:
    with serving(tmp_path, *TWO) as (_, ready):
        url = ready["track"]["url"]
        requests.post(f"{url}/__admin/positions", json={"deviceId": TRACK_DEVICE}, timeout=30)
        one = _snapshot(url)
    path = tmp_path / "track.json"
    path.write_text(json.dumps(one))
    with serving(tmp_path, *TWO, "--state", str(path)) as (_, ready):
        assert _snapshot(ready["track"]["url"]) == one


def _refused(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [*SERVE, *TWO, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    return done.stderr


def test_bad_state_files_are_refused_naming_flag_and_file(tmp_path: Path) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text('{"format": "trackmock-snapshot", ')
    assert f"--state {not_json}: not JSON" in _refused(tmp_path, "--state", str(not_json))

    assert "--state" in _refused(tmp_path, "--state", str(tmp_path / "missing.json"))

    trackops = tmp_path / "trackops.json"
    trackops.write_text(
        json.dumps({"format": "trackmock-snapshot", "version": 1, "vendor": "trackops"})
    )
    message = _refused(tmp_path, "--state", str(trackops))
    assert f"--state {trackops}: a snapshot of 'trackops', which is not served here" in message

    other = tmp_path / "v2.json"
    other.write_text(json.dumps({"format": "trackmock-snapshot", "version": 2, "vendor": "track"}))
    assert f"--state {other}: snapshot version 2 cannot be read" in _refused(
        tmp_path, "--state", str(other)
    )

    message = _refused(tmp_path, "--save-state", str(tmp_path / "no" / "such" / "state.json"))
    assert "--save-state" in message
    assert "cannot write" in message


def test_make_emulator_starts_from_a_snapshot(
    trackmock_tracker: EmulatorHandle, make_emulator: Callable[..., EmulatorHandle], tmp_path: Path
) -> None:
    trackmock_tracker.control.call(
        "PUT", f"items/{TRACKER_ITEM}", json={"item": {"make": "Gerber"}}
    )
    trackmock_tracker.clock.advance(90)
    path = tmp_path / "tracker.json"
    taken = trackmock_tracker.snapshot(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    from_file = make_emulator("tracker", state=path)
    assert from_file.snapshot() == taken
    from_dict = make_emulator("tracker", state=taken)
    assert from_dict.snapshot() == taken
    assert from_dict.clock.read() == trackmock_tracker.clock.read()

    from_dict.reset()  # a reset goes back to the fixtures, not to the snapshot
    assert from_dict.snapshot()["state"] != taken["state"]
    from_dict.restore(path)
    assert from_dict.snapshot() == taken


def test_a_snapshot_of_another_vendor_is_refused_by_the_plugin(
    trackmock_track: EmulatorHandle, make_emulator: Callable[..., EmulatorHandle], tmp_path: Path
) -> None:
    path = tmp_path / "track.json"
    trackmock_track.snapshot(path)
    with pytest.raises(SnapshotError, match="holds no snapshot of tracker"):
        make_emulator("tracker", state=path)
    with pytest.raises(SnapshotError, match="holds no snapshot of tracker"):
        make_emulator("tracker").restore(os.fspath(path))
