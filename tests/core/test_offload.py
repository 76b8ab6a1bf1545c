"""Heavy work runs off the event loop: the other emulators keep answering while it runs, and
the emulator's own requests wait for it, so its handlers never run two at a time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from trackmock.core.server import BackgroundRunner, Listener

from ..polling import until
from .helpers import make_sample

HANG_GUARD = 30.0


def test_heavy_work_leaves_the_loop_to_the_others_and_queues_its_own() -> None:
    busy, other = make_sample(), make_sample()
    runner = BackgroundRunner([Listener(busy), Listener(other)])  # one loop, as `serve` runs
    runner.start()
    provider = busy.provider
    try:
        with ThreadPoolExecutor(2) as pool:
            heavy = pool.submit(requests.post, f"{busy.base_url}/api/slow", timeout=60)
            assert provider.started.wait(HANG_GUARD)  # type: ignore[attr-defined]
            # The heavy handler holds its worker, not the loop: the other emulator answers.
            pong = requests.get(f"{other.base_url}/api/ping", timeout=HANG_GUARD)
            assert pong.json() == {"pong": True}
            # The busy emulator's own request waits until the heavy one is done.
            queued = pool.submit(requests.get, f"{busy.base_url}/api/ping", timeout=60)
            until(lambda: busy.offload.waiting == 1, "the second request waits")
            assert not queued.done()
            provider.release.set()  # type: ignore[attr-defined]
            assert heavy.result().status_code == 204
            assert queued.result().json() == {"pong": True}
        assert provider.slow_threads == ["trackmock-sample_0"]  # type: ignore[attr-defined]
        assert not busy.offload.busy
    finally:
        runner.stop()


def test_with_offload_off_everything_runs_on_the_loop() -> None:
    emulator = make_sample(offload=False)
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    try:
        emulator.provider.release.set()  # type: ignore[attr-defined]
        assert requests.post(f"{emulator.base_url}/api/slow", timeout=60).status_code == 204
        assert emulator.provider.slow_threads == ["trackmock"]  # type: ignore[attr-defined]
    finally:
        runner.stop()


def test_a_large_body_runs_on_the_worker() -> None:
    emulator = make_sample(offload_body_bytes=10)
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    seen: list[str] = []
    original = emulator.provider._create  # type: ignore[attr-defined]

    def spy(*args: object) -> object:
        seen.append(threading.current_thread().name)
        return original(*args)

    emulator.provider._create = spy  # type: ignore[attr-defined]
    try:
        answer = requests.post(
            f"{emulator.base_url}/api/widgets",
            json={"name": "a widget with a long enough body"},
            headers={"Authorization": "Bearer good"},
            timeout=60,
        )
        assert answer.status_code == 201, answer.text
    finally:
        runner.stop()
    assert [name.startswith("trackmock-sample") for name in seen] == [True]
