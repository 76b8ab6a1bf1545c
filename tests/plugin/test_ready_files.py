"""Ready files as the plugin reads them: one per worker (``{worker}``), a folder of them (one
per Compose service), a CA path written inside a container, the admin token from the
environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from trackmock.pytest_plugin import (
    EmulatorHandle,
    read_ready_file,
    ready_file_of_worker,
    start_emulator,
)

from .project import run_pytest, write


def test_worker_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert ready_file_of_worker(Path("r-{worker}.json")) == Path("r-gw0.json")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert ready_file_of_worker(Path("out/{worker}/r.json")) == Path("out/gw3/r.json")
    assert ready_file_of_worker(Path("r.json")) == Path("r.json")
    assert ready_file_of_worker(None) is None


def test_a_folder_of_ready_files_is_merged_and_a_container_ca_found_beside(tmp_path: Path) -> None:
    (tmp_path / "trackmock-ca.pem").write_text("a CA")
    (tmp_path / "tracker.json").write_text(json.dumps({"tracker": {"url": "http://h:8081"}}))
    trackops = {"url": "https://h:8082", "ca_cert": "/srv/trackmock/trackmock-ca.pem"}
    (tmp_path / "trackops.json").write_text(json.dumps({"trackops": trackops}))
    (tmp_path / "tracker.json.tmp").write_text("half a file")  # being written: not read
    merged = read_ready_file(tmp_path)
    assert sorted(merged) == ["tracker", "trackops"]
    assert merged["trackops"]["ca_cert"] == str(tmp_path / "trackmock-ca.pem")


def test_unreadable_ready_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(pytest.UsageError, match=r"missing\.json: cannot be read"):
        read_ready_file(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(pytest.UsageError, match=r"list\.json: not a ready file"):
        read_ready_file(tmp_path / "list.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(pytest.UsageError, match="the folder holds no"):
        read_ready_file(tmp_path / "empty")


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[EmulatorHandle]:
    """A Tracker emulator whose control API wants a token, listed in ready.json."""
    handle, runner = start_emulator("tracker", {"admin_token": "ready-token"})
    info = {"url": handle.url, "credentials": handle.credentials}
    (tmp_path / "ready.json").write_text(json.dumps({"tracker": info}))
    yield handle
    runner.stop()


def test_the_admin_token_of_a_ready_file_comes_from_the_environment(
    tmp_path: Path, guarded: EmulatorHandle
) -> None:
    write(tmp_path, {"test_t.py": "def test_t(trackmock_tracker):\n    assert trackmock_tracker\n"})
    args = ("--trackmock-ready-file", "ready.json")
    with_token = run_pytest(tmp_path, *args, env={"TRACKMOCK_ADMIN_TOKEN": "ready-token"})
    assert with_token.returncode == 0, with_token.stdout
    without = run_pytest(tmp_path, *args, env={"TRACKMOCK_ADMIN_TOKEN": ""})
    assert without.returncode == 1
    assert "401" in without.stdout
