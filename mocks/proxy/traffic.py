"""What went through the proxy, checked against the contract off the forwarding path.

The forwarding code hands each finished exchange and each socket frame to ``Recorder``; a
bounded queue takes them to one task that checks them with the drift engine (``Checker``,
the same as ``trackmock check``) and emits the events the reports collect. The client has its
answer before any of that runs. When the checker falls behind and the queue is full, what
does not fit is counted, not checked, and the report says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.redact import learn_body
from ..drift import events as ev
from ..drift.check import Checker
from ..drift.client_side import ClientRequest
from ..drift.inputs import RECEIVED, Exchange, Frame

if TYPE_CHECKING:
    from ..core.redact import Redactor
    from ..drift.bundle import Bundle

Emit = Callable[[ev.Event], None]


@dataclass(slots=True)
class Seen:
    """One exchange as it went through the proxy (bodies cut at the proxy's limit)."""

    index: int
    started: float
    """When the request arrived (epoch seconds)."""
    method: str
    path: str
    target: str
    """The request target as sent: raw path and query."""
    query: str
    request_headers: list[tuple[str, str]]
    request_body: bytes = b""
    request_complete: bool = True
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    response_complete: bool = True
    elapsed_ms: float = 0.0
    websocket: bool = False
    frames: list[tuple[str, str, float]] = field(default_factory=list)
    """Socket frames kept for the HAR: (``send`` or ``receive``, text, epoch seconds)."""
    note: str = ""
    """Why the exchange is not checked (the upstream did not answer), if it is not."""

    def header(self, name: str, response: bool = True) -> str | None:
        headers = self.response_headers if response else self.request_headers
        lowered = name.lower()
        return next((v for k, v in headers if k.lower() == lowered), None)


def decoded_body(seen: Seen) -> str | None:
    """The response body as text, undone of gzip or deflate; None when not whole."""
    if not seen.response_complete:
        return None
    body = seen.response_body
    encoding = (seen.header("content-encoding") or "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            body = zlib.decompress(body, 47 if "gzip" in encoding else zlib.MAX_WBITS)
        except zlib.error:
            return None
    elif encoding not in ("", "identity"):
        return None
    return body.decode("utf-8", "replace")


class Recorder:
    """Takes exchanges and frames from the forwarding code; checks them in one task."""

    def __init__(
        self,
        bundle: Bundle,
        redactor: Redactor,
        emit: Emit,
        *,
        queue_size: int = 10_000,
        keep: int = 10_000,
        frames_per_socket: int = 10_000,
    ) -> None:
        self.redactor = redactor
        self.checker = Checker(bundle, redactor, check_requests=True)
        self.emit = emit
        self.queue: asyncio.Queue[tuple[Seen, str | None, str]] = asyncio.Queue(queue_size)
        self.kept: list[Seen] = []
        """Exchanges kept for the HAR, in arrival order (at most ``keep``)."""
        self.keep = keep
        self.frames_per_socket = frames_per_socket
        self.count = 0
        self.dropped = 0
        """Exchanges and frames not checked because the queue was full."""
        self.not_kept = 0
        self._task: asyncio.Task[None] | None = None

    def next_index(self) -> int:
        self.count += 1
        return self.count

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def exchange(self, seen: Seen) -> None:
        """A finished exchange (for a socket: its upgrade answer)."""
        if len(self.kept) < self.keep:
            self.kept.append(seen)
        else:
            self.not_kept += 1
        self._put(seen, None, "")

    def frame(self, seen: Seen, direction: str, text: str, when: float) -> None:
        """A frame of an open socket; ``direction`` is ``receive`` (from the vendor) or
        ``send``."""
        if len(seen.frames) < self.frames_per_socket:
            seen.frames.append((direction, text, when))
        self._put(seen, direction, text)

    def _put(self, seen: Seen, direction: str | None, text: str) -> None:
        try:
            self.queue.put_nowait((seen, direction, text))
        except asyncio.QueueFull:
            self.dropped += 1

    async def _run(self) -> None:
        frames: dict[int, int] = {}
        while True:
            seen, direction, text = await self.queue.get()
            try:
                if direction is None:
                    self._check(seen)
                else:
                    frames[seen.index] = frames.get(seen.index, 0) + 1
                    self._frame(seen, direction, text, frames[seen.index])
            finally:
                self.queue.task_done()

    def _learn(self, seen: Seen) -> None:
        redactor = self.redactor
        redactor.learn_url(seen.target)
        redactor.learn_headers(seen.request_headers)
        redactor.learn_headers(seen.response_headers)
        if seen.request_body:
            learn_body(seen.request_body.decode("utf-8", "replace"), redactor)

    def _check(self, seen: Seen) -> None:
        self._learn(seen)
        source = f"exchange {seen.index}"
        if seen.note:
            self.emit(ev.Skipped(source, seen.note))
            return
        exchange = Exchange(
            source=source,
            method=seen.method,
            path=seen.path,
            status=seen.status,
            content_type=seen.header("content-type"),
            body="" if seen.websocket else decoded_body(seen),
            request=ClientRequest(
                seen.method,
                seen.path,
                seen.query,
                seen.request_headers,
                seen.request_body,
                seen.request_complete,
            ),
        )
        for event in self.checker.exchange(exchange):
            self.emit(event)

    def _frame(self, seen: Seen, direction: str, text: str, number: int) -> None:
        source = f"exchange {seen.index} frame {number}"
        if direction == RECEIVED:
            self.emit(self.checker.frame(source, seen.path, Frame(RECEIVED, text)))
        else:
            self.emit(ev.Skipped(source, "a frame the client sent", frame=True))

    async def drain(self, timeout: float = 30.0) -> None:
        """Check what is still queued (bounded in time), then stop the checking task."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), timeout)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.dropped:
            notes.append(
                f"Not checked: {self.dropped} exchanges or frames (the checker fell behind and "
                "its queue was full; the traffic itself was forwarded)"
            )
        if self.not_kept:
            notes.append(f"Not in the HAR: {self.not_kept} exchanges past the first {self.keep}")
        return tuple(notes)
