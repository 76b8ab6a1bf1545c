"""A serving process's collector: what start-up built is frozen, young collections are rarer
(``Runner(freeze_heap=True)``); a runner in a process that goes on (tests, the proxy) leaves the
collector as it was. Each case runs in a child: the collector's settings are the process's."""

from __future__ import annotations

import json
import subprocess
import sys

from trackmock.core.server import YOUNG_GENERATION_OBJECTS

CHILD = """
import asyncio, gc, json, sys
from trackmock.core.server import Runner

async def main() -> None:
    runner = Runner([], freeze_heap=sys.argv[1] == "freeze")
    await runner.start()
    print(json.dumps({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()}))
    await runner.stop()

asyncio.run(main())
"""


def _collector_after_start(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_serving_runner_freezes_start_up_and_collects_the_young_generation_less_often() -> None:
    found = _collector_after_start("freeze")
    assert found["frozen"] > 0
    assert found["threshold"] == [YOUNG_GENERATION_OBJECTS, 10, 10]


def test_a_runner_in_a_process_that_goes_on_leaves_the_collector_alone() -> None:
    found = _collector_after_start("keep")
    assert found["frozen"] == 0
    assert found["threshold"] == [700, 10, 10]
