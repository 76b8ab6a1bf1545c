"""The plugin under pytest-xdist: session checks aggregated on the controller, shared servers
refused, one set of emulators per worker through ``{worker}`` ready files.

Each test runs a generated project in a real ``pytest`` process, with and without ``-n 2``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from trackmock.pytest_plugin import EmulatorHandle, start_emulator

from .project import run_pytest, write

UNCHECKED_FRAMES = {
    "conftest.py": """
        import trackmock.core.emulator as emulator

        # A deliberate bug: every socket frame leaves the emulator without its contract check.
        emulator.Emulator.check_frame = lambda self, text: None
    """,
    "test_socket.py": """
        import requests
        from websockets.sync.client import connect

        def test_the_feed_pushes_devices(trackmock_track):
            http = requests.Session()
            creds = trackmock_track.credentials
            login = http.post(
                trackmock_track.url_for("/api/session"),
                data={"email": creds["email"], "password": creds["password"]},
            )
            assert login.status_code == 200
            url = trackmock_track.url.replace("http", "ws") + "/api/socket"
            cookie = "JSESSIONID=" + http.cookies["JSESSIONID"]
            with connect(url, additional_headers={"Cookie": cookie}) as socket:
                assert socket.recv(timeout=10)

        def test_another(trackmock_track):
            assert trackmock_track.url
    """,
}

SUMMARY = "trackmock socket conformance:"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_unchecked_frame_fails_the_run_with_or_without_xdist(
    tmp_path: Path, workers: list[str]
) -> None:
    write(tmp_path, UNCHECKED_FRAMES)
    run = run_pytest(tmp_path, *workers)
    assert run.returncode == 1, run.stdout
    (summary,) = [line for line in run.stdout.splitlines() if line.startswith(SUMMARY)]
    assert "0 checked against the AsyncAPI messages" in summary, run.stdout
    assert "FAILED: " in run.stdout
    assert "socket frames sent / Documented: 0 checked" in run.stdout


def test_under_xdist_the_controller_sums_every_workers_audit(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "test_two.py": """
                import pytest

                @pytest.mark.parametrize("n", range(4))
                def test_each_worker_starts_its_own_emulator(trackmock_tracker, n):
                    assert trackmock_tracker.control.health()["status"] == "ok"
            """
        },
    )
    run = run_pytest(tmp_path, "-n", "2")
    assert run.returncode == 0, run.stdout
    assert f"{SUMMARY} 2 of 2 emulators audited; 0 frames sent" in run.stdout, run.stdout


def test_violations_no_test_reported_fail_the_run_under_xdist(tmp_path: Path) -> None:
    """A test on the session fixture itself is never checked at teardown: what the emulator
    recorded is still found when it stops, on the worker, and fails the run."""
    write(
        tmp_path,
        {
            "test_raw.py": """
                import requests
                import trackmock.core.emulator as emulator

                def test_through_the_session_fixture(make_tracker_server, monkeypatch):
                    def broken(self, operation, response, call):
                        message = "Received a bad answer / Documented: a good one"
                        self.violations.append(
                            {"kind": "response", "operation": operation.id, "message": message}
                        )

                    # Pretend the emulator answered outside its contract.
                    monkeypatch.setattr(emulator.Emulator, "_check_response", broken)
                    requests.get(make_tracker_server.url_for("/api/cases/1"), timeout=10)
            """
        },
    )
    for workers in ([], ["-n", "2"]):
        run = run_pytest(tmp_path, *workers)
        assert run.returncode == 1, run.stdout
        assert "violations or errors that no test reported" in run.stdout, run.stdout
        assert "Received a bad answer / Documented: a good one" in run.stdout


def test_a_shared_ready_file_is_refused_under_several_workers(tmp_path: Path) -> None:
    write(tmp_path, {"test_a.py": "def test_a(trackmock_tracker):\n    pass\n"})
    (tmp_path / "ready.json").write_text("{}")
    run = run_pytest(tmp_path, "-n", "2", "--trackmock-ready-file", "ready.json")
    assert run.returncode == 4, run.stdout  # a usage error, before any test runs
    assert "--trackmock-ready-file ready.json with 2 pytest-xdist workers" in run.stdout
    assert "ready-{worker}.json" in run.stdout
    assert "passed" not in run.stdout


@pytest.fixture
def two_sets(tmp_path: Path) -> Iterator[list[EmulatorHandle]]:
    """Two Tracker emulators, one per worker, each listed in its own ready file."""
    started = [start_emulator("tracker", {"clock_frozen": True}) for _ in range(2)]
    for index, (handle, _) in enumerate(started):
        info = {"url": handle.url, "credentials": handle.credentials}
        (tmp_path / f"ready-gw{index}.json").write_text(json.dumps({"tracker": info}))
    yield [handle for handle, _ in started]
    for _, runner in started:
        runner.stop()


FAULTS_PER_WORKER = {
    "test_faults.py": """
        import os
        import pytest
        import requests

        @pytest.mark.parametrize("n", range(12))
        def test_a_fault_is_used_by_this_tests_request_only(trackmock_tracker, n):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            expected = open(f"ready-{worker}.json").read()
            assert trackmock_tracker.url in expected
            trackmock_tracker.control.add_fault(
                action="status", status=503, path="/api/cases/*", times=1
            )
            url = trackmock_tracker.url_for("/api/cases/1")
            assert requests.get(url, timeout=10).status_code == 503
            assert requests.get(url, timeout=10).status_code != 503
            trackmock_tracker.assert_received("GET", "/api/cases/*", times=2)
    """
}


def test_a_ready_file_per_worker_keeps_the_workers_apart(
    tmp_path: Path, two_sets: list[EmulatorHandle]
) -> None:
    write(tmp_path, FAULTS_PER_WORKER)
    run = run_pytest(tmp_path, "-n", "2", "--trackmock-ready-file", "ready-{worker}.json")
    assert run.returncode == 0, run.stdout
    assert "12 passed" in run.stdout
    served = [len(handle.control.journal(kind="http")) for handle in two_sets]
    assert all(served), served  # both workers' emulators were used
