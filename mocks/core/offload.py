"""Heavy requests off the event loop: a worker thread per emulator, one request at a time.

Every emulator shares one event loop, and its Flask app runs inline on it: fast for the small
requests that are nearly all of them. A request whose work grows with its body or with the
data (a 200 000-record batch, a route report over 100 000 positions, a reset that loads
generated volume) would stall every emulator meanwhile. Such a request runs on the emulator's
worker thread instead, and until it is done the emulator's other requests wait for it, without
blocking the loop: the other emulators keep answering, and an emulator's handlers still never
run two at a time (they assume one thread). What is heavy is decided by the pipeline
(``Emulator.run``) before anything with an effect has run: it calls ``ask``, its inline
answer is dropped, and the request runs again on the worker.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits, as long as a worker runs (Python's
default, 5 ms, would delay the event loop by that much at each of a request's wake-ups)."""
_running = 0
"""Workers running now, across emulators (the switch interval is shortened while any runs)."""
_running_lock = threading.Lock()
_default_interval = sys.getswitchinterval()


class Offload:
    """The worker of one emulator, and the gate its requests pass (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor: ThreadPoolExecutor | None = None
        self._job: asyncio.Future[Any] | None = None
        self._local = threading.local()
        self.waiting = 0
        """Requests of this emulator waiting for its running job."""

    @property
    def busy(self) -> bool:
        """Whether a heavy request of this emulator is running on its worker."""
        return self._job is not None

    def wanted(self) -> bool:
        """Whether the request being dispatched may ask for the worker: it runs through
        ``run`` (which honours the ask) and is not already on the worker."""
        local = self._local
        return getattr(local, "accepting", False) and not getattr(local, "inside", False)

    def ask(self) -> None:
        """Run the request being dispatched again on the worker (its answer is dropped)."""
        self._local.asked = True

    def attempt(self, handle: Callable[[], T]) -> tuple[bool, T | None]:
        """``handle()`` inline: ``(True, answer)``, or ``(False, None)`` when a job of this
        emulator is running or the request asked for the worker (then ``run`` it). For a caller
        that cannot wait, such as a server's synchronous fast path."""
        if self._job is not None:
            return False, None
        local = self._local
        local.accepting, local.asked = True, False
        try:
            answer = handle()
        finally:
            local.accepting = False
        if local.asked:
            local.asked = False
            return False, None
        return True, answer

    async def run(self, handle: Callable[[], T]) -> T:
        """``handle()`` inline, or on the worker when it asked; after any running job."""
        if self._job is not None:
            self.waiting += 1
            try:
                while self._job is not None:
                    await asyncio.wait([self._job])
            finally:
                self.waiting -= 1
        done, answer = self.attempt(handle)
        if done:
            return answer  # type: ignore[return-value]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"trackmock-{self.name}")
        job = asyncio.get_running_loop().run_in_executor(self._executor, self._inside, handle)
        self._job = job
        # Cleared when the worker is done, not when this request gives up waiting (a client
        # that disconnects): the emulator stays closed to others until its handler returns.
        job.add_done_callback(self._done)
        return await asyncio.shield(job)

    def _done(self, job: asyncio.Future[Any]) -> None:
        if self._job is job:
            self._job = None

    def _inside(self, handle: Callable[[], T]) -> T:
        global _running
        self._local.inside = True
        with _running_lock:
            _running += 1
            sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            return handle()
        finally:
            self._local.inside = False
            with _running_lock:
                _running -= 1
                if not _running:
                    sys.setswitchinterval(_default_interval)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
