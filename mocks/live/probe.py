"""The probe: read a live vendor's API operation by operation, check every answer (and, for
Track, every socket frame) against the contract with the drift engine, as result events.

It never writes: it calls GET operations and the login, takes path ids from the lists it has
read (``plan``), paces itself by the vendor's rules (``vendors``), and reports what it could
not safely reach as skipped, with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
import requests

from ..drift import events as ev
from ..drift.check import Checker
from ..drift.inputs import RECEIVED, Exchange, Frame
from .plan import Planner, Records, Step

if TYPE_CHECKING:
    from ..core.redact import Redactor
    from ..drift.bundle import Bundle
    from .vendors import Vendor

Emit = Callable[[ev.Event], None]
PING_INTERVAL = 30.0
"""Track sends a PING every 30 s (Track API guide 3.3 Ping/Pong Mechanism): a socket open that
long must see one."""
PING_GRACE = 10.0
"""Real seconds to wait for a PING that is due when the socket time is up (a hang guard: the
emulator's clock can move faster than its frames arrive)."""


class LoginRefused(RuntimeError):
    """The vendor refused the probe's login: nothing else can be read."""


@dataclass
class SocketResult:
    frames: int = 0
    pings: int = 0
    pongs: int = 0


class Probe:
    """One probe run against ``base_url``."""

    def __init__(
        self,
        bundle: Bundle,
        vendor: Vendor,
        base_url: str,
        redactor: Redactor,
        emit: Emit,
    ) -> None:
        assert bundle.openapi is not None
        self.contract = bundle.openapi
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.redactor = redactor
        self.emit = emit
        self.checker = Checker(bundle, redactor)
        self.records = Records()
        self.planner = Planner(self.contract, self.records)
        self.count = 0
        self.refused: list[str] = []
        """Calls answered 4xx or 5xx: checked, but they read nothing."""

    def run(self, socket_seconds: float) -> list[str]:
        """Call every read operation; returns notes for the report."""
        notes: list[str] = []
        self._login()
        pending = [op for op in self._reads() if (op.method, op.path) != self.vendor.login]
        while pending:
            progress = False
            waiting = []
            for operation in pending:
                step = self.planner.step(operation)
                if isinstance(step, str):
                    waiting.append((operation, step))
                    continue
                self._call(step)
                progress = True
            pending = [operation for operation, _ in waiting]
            if not progress:
                for operation, reason in waiting:
                    self.emit(ev.Skipped(f"{operation.id}", f"{operation.id}: {reason}"))
                break
        if self.refused:
            notes.append(
                "Answered with an error status (checked, but no data read): "
                + ", ".join(self.refused[:20])
                + (f", … ({len(self.refused)} in all)" if len(self.refused) > 20 else "")
            )
        socket_path = self._socket_path()
        if socket_path is not None:
            notes += self._socket(socket_path, socket_seconds)
        return notes

    def _reads(self) -> list[Any]:
        reads = []
        for operation in self.contract.operations.values():
            if operation.extensions.get("x-websocket"):
                continue
            if operation.method == "GET":
                reads.append(operation)
            elif (operation.method, operation.path) != self.vendor.login:
                self.emit(ev.Skipped(operation.id, f"not a read ({operation.method})"))
        # Lists first (no path parameter), then reads that need ids from them.
        return sorted(reads, key=lambda op: (op.path.count("{"), op.path, op.method))

    def _login(self) -> None:
        if self.vendor.login is None:
            return
        method, path = self.vendor.login
        for value in self.vendor.login_form.values():
            self.redactor.learn(value)
        response = self.vendor.send(method, self.base_url + path, data=self.vendor.login_form)
        operation = self._operation(method, path)
        self._record(Step(operation, path), response)
        if response.status_code >= 400:
            raise LoginRefused(
                f"the login ({method} {path}) was refused with {response.status_code}"
            )

    def _operation(self, method: str, path: str) -> Any:
        return next(
            op for op in self.contract.operations.values() if (op.method, op.path) == (method, path)
        )

    def _call(self, step: Step) -> None:
        url = self.base_url + step.path
        if step.query:
            url += "?" + urlencode(step.query, doseq=True)
        try:
            response = self.vendor.send("GET", url)
        except requests.RequestException as exc:
            reason = f"{step.operation.id}: no answer ({type(exc).__name__})"
            self.emit(ev.Skipped(step.operation.id, reason))
            return
        self._record(step, response)

    def _record(self, step: Step, response: requests.Response) -> None:
        self.redactor.learn_headers(response.headers.items())
        self.count += 1
        text = response.content.decode("utf-8", "replace")
        exchange = Exchange(
            source=f"call {self.count} ({step.operation.method} {step.path})",
            method=step.operation.method,
            path=step.path,
            status=response.status_code,
            content_type=response.headers.get("Content-Type"),
            body=text,
        )
        for event in self.checker.exchange(exchange):
            self.emit(event)
        if response.status_code >= 400:
            self.refused.append(f"{step.operation.id} {response.status_code}")
        if 200 <= response.status_code < 300:
            with contextlib.suppress(orjson.JSONDecodeError):
                self.records.add(step.operation.path, orjson.loads(response.content))

    # -- the socket ---------------------------------------------------------------------------

    def _socket_path(self) -> str | None:
        for operation in self.contract.operations.values():
            if operation.extensions.get("x-websocket") and self.checker.messages is not None:
                return operation.path
        return None

    def _socket(self, path: str, seconds: float) -> list[str]:
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.vendor.http.cookies)
        for cookie in self.vendor.http.cookies:
            self.redactor.learn(cookie.value or "")
        result = asyncio.run(self._read_socket(path, cookies, seconds))
        notes = [
            f"Socket {path}: open {seconds:g} s, {result.frames} frames checked, "
            f"{result.pings} PING answered"
        ]
        if seconds >= PING_INTERVAL and not result.pings:
            notes.append(
                f"Socket {path}: no PING in {seconds:g} s (Track sends one every "
                f"{PING_INTERVAL:g} s)"
            )
        return notes

    async def _read_socket(self, path: str, cookies: str, seconds: float) -> SocketResult:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        base = self.base_url
        url = ("wss" if base.startswith("https") else "ws") + base[base.index(":") :] + path
        result = SocketResult()
        verify = self.vendor.verify
        context = None
        if url.startswith("wss"):
            import ssl

            cafile = verify if isinstance(verify, str) else None
            context = ssl.create_default_context(cafile=cafile)
        try:
            socket = await connect(
                url,
                additional_headers={"Cookie": cookies} if cookies else {},
                ssl=context,
                open_timeout=self.vendor.timeout,
                ping_interval=None,
                max_size=None,
            )
        except (InvalidHandshake, OSError, TimeoutError) as exc:
            self.emit(ev.Skipped(f"socket {path}", f"the socket did not open ({exc})"))
            return result
        pinged = asyncio.Event()

        async def read() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for message in socket:
                    text = message if isinstance(message, str) else message.decode("utf-8")
                    result.frames += 1
                    source = f"socket frame {result.frames}"
                    self.emit(self.checker.frame(source, path, Frame(RECEIVED, text)))
                    for uuid in _pings(text):
                        await socket.send(f"pong {uuid}")
                        result.pings += 1
                        pinged.set()

        reader = asyncio.create_task(read())
        try:
            await asyncio.to_thread(self.vendor.clock.sleep, seconds)
            if seconds >= PING_INTERVAL and not pinged.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(pinged.wait(), PING_GRACE)
        finally:
            await socket.close()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await asyncio.wait_for(reader, 5)
        return result


def _pings(text: str) -> list[str]:
    """The UUIDs of the PINGs in a Track frame (``{"status": [{"type": "PING", ...}]}``)."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    statuses = frame.get("status") if isinstance(frame, dict) else None
    return [
        status["message"]
        for status in statuses or []
        if isinstance(status, dict)
        and status.get("type") == "PING"
        and isinstance(status.get("message"), str)
    ]
