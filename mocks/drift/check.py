"""``trackmock check``: captured traffic against a vendor's contracts, as result events.

Each exchange is matched to its operation, then its status, content type and body are checked;
each socket frame the server sent is matched to an AsyncAPI message and its payload checked.
A client that follows the contract breaks on: a missing required field, another type or format,
a value outside an enum or a constraint, an undocumented status (5xx excepted: outages are no
contract's business) or content type, a body that is not JSON. It does not break on: a field
the contract lacks (clients must ignore unknown fields) unless the schema forbids extra fields,
an operation or socket message the contract does not know, a body where none is documented.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..core.contracts import documented_media
from . import events as ev
from .client_side import check_request
from .inputs import RECEIVED, Capture, Exchange, Frame, InputError, read_captures
from .match import Matcher
from .values import (
    MISSING_FIELD,
    TYPE_CHANGED,
    UNDOCUMENTED_FIELD,
    Issue,
    ValueCheck,
    compile_check,
    json_type,
    path_text,
)

if TYPE_CHECKING:
    from ..core.contracts import Contract, Operation
    from ..core.redact import Redactor
    from .bundle import Bundle

Emit = Callable[[ev.Event], None]
_TEXT_MEDIA = ("text/",)
_NOT_CHECKED = frozenset({304})
"""A cached answer (304 Not Modified) has no body to check."""


@dataclass(frozen=True)
class _Message:
    name: str
    check: ValueCheck
    keys: frozenset[str]
    """Top-level fields its payload lists: how a frame is matched to it quickly."""


class _Messages:
    """The AsyncAPI messages, split by who sends them."""

    def __init__(self, contract: Contract) -> None:
        from ..core.conformance import MessageCatalog

        catalog = MessageCatalog(contract)
        self.by_name: dict[str, _Message] = {}
        for name, location in catalog.payloads.items():
            node, _ = contract.deref(contract.resolve(location), location)
            keys = frozenset((node.get("properties") or {}) if isinstance(node, dict) else ())
            self.by_name[name] = _Message(name, compile_check(contract, location), keys)
        self.sent_by_server = self._sent_by_server(contract)

    def _sent_by_server(self, contract: Contract) -> list[_Message]:
        server: list[_Message] = []
        operations = contract.document.get("operations") or {}
        for op_name, operation in operations.items():
            base = contract.location("operations", op_name)
            for i, ref in enumerate(operation.get("messages") or []):
                _, location = contract.deref(ref, f"{base}/messages/{i}")
                message = self.by_name.get(location.rsplit("/", 1)[-1])
                # The document speaks for the server: it sends what `send` operations list.
                if message is not None and operation.get("action") == "send":
                    server.append(message)
        return server if operations else list(self.by_name.values())

    def classify(self, value: Any) -> tuple[_Message | None, list[Issue]]:
        """The server message ``value`` is, with its issues; None when it is like none."""
        keys = frozenset(value) if isinstance(value, dict) else frozenset()
        # An object frame is one of the messages sharing a top-level field with it (most
        # shared first); any other frame is one of the messages that are not objects.
        if keys:
            candidates = sorted(
                (m for m in self.sent_by_server if m.keys & keys), key=lambda m: -len(m.keys & keys)
            )
        else:
            candidates = [m for m in self.sent_by_server if not m.keys]
        best: tuple[tuple[int, int], _Message, list[Issue]] | None = None
        for message in candidates:
            found: list[Issue] = []
            message.check.check(value, (), found)
            rank = (sum(issue.breaking for issue in found), len(found))
            if best is None or rank < best[0]:
                best = (rank, message, found)
            if rank == (0, 0):
                break
        if best is None or (not keys and best[0][0]):
            return None, []
        return best[1], best[2]


class Checker:
    """Checks exchanges and frames against one vendor's contracts."""

    def __init__(self, bundle: Bundle, redactor: Redactor, *, check_requests: bool = False):
        if bundle.openapi is None:
            raise InputError(f"{bundle.name}: no OpenAPI document to check exchanges against")
        self.contract = bundle.openapi
        self.redactor = redactor
        self.check_requests = check_requests
        """Also check the request of an exchange that carries one (the proxy's)."""
        self.matcher = Matcher(self.contract)
        self.messages = _Messages(bundle.asyncapi) if bundle.asyncapi is not None else None

    def exchange(self, exchange: Exchange) -> Iterable[ev.Checked | ev.Skipped]:
        """Events for one exchange: its HTTP part, then each frame."""
        if exchange.path is None:
            yield from self._named(exchange)
            return
        method = exchange.method or "GET"
        if exchange.path.startswith("/__admin"):
            yield ev.Skipped(exchange.source, "trackmock's control API")
            return
        operation = self.matcher.match(method, exchange.path)
        if operation is None:
            yield from self._unmatched(exchange, method)
            return
        yield self._http(exchange, operation)
        yield from self._frames(exchange, exchange.path)

    def _frames(self, exchange: Exchange, path: str) -> Iterable[ev.Checked | ev.Skipped]:
        for index, frame in enumerate(exchange.frames, 1):
            source = f"{exchange.source} frame {index}"
            if frame.direction == RECEIVED:
                yield self.frame(source, path, frame)
            else:
                yield ev.Skipped(source, "a frame the client sent", frame=True)

    def _unmatched(self, exchange: Exchange, method: str) -> Iterable[ev.Checked | ev.Skipped]:
        assert exchange.path is not None
        if not self.matcher.owns(exchange.path):
            yield ev.Skipped(exchange.source, "not a path of this API")
            return
        template = self.matcher.template(exchange.path)
        if method == "OPTIONS" and template is not None:
            yield ev.Skipped(exchange.source, "a CORS preflight")
            return
        where = self.redactor.scrub(exchange.path)
        message = (
            f"the contract has no {method} on {template}"
            if template
            else f"the contract has no operation for {method} {where}"
        )
        finding = ev.Finding(ev.UNKNOWN_OPERATION, False, "(operation)", message)
        label = f"{method} {template or where}"
        yield ev.Checked(exchange.source, label, label, (finding,))

    def _named(self, exchange: Exchange) -> Iterable[ev.Checked | ev.Skipped]:
        """An exchange known only by the operation (or message) its file is named after."""
        name = exchange.operation or ""
        operation = self.contract.operations.get(name)
        if operation is not None:
            if exchange.status is None:
                exchange.status = _success_status(operation)
            yield self._http(exchange, operation)
            yield from self._frames(exchange, operation.path)
            return
        if self.messages is not None and name in self.messages.by_name:
            yield self.frame(exchange.source, None, Frame(RECEIVED, exchange.body or ""), name)
            return
        known = list(self.contract.operations)
        if self.messages is not None:
            known += list(self.messages.by_name)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError(
            f"{exchange.source}: {name!r} is no operationId or socket message of "
            f"{self.contract.title}{hint}; name the file <operationId>[.<status>].json, or keep "
            "the request (curl's command line or -v output) in it"
        )

    def _http(self, exchange: Exchange, operation: Operation) -> ev.Checked:
        title = f"{operation.method} {operation.path}"
        findings = self._response(exchange, operation)
        if self.check_requests and exchange.request is not None:
            findings = check_request(operation, exchange.request, self.redactor) + findings
        return ev.Checked(exchange.source, operation.id, title, findings)

    def _response(self, exchange: Exchange, operation: Operation) -> tuple[ev.Finding, ...]:
        status = exchange.status
        if status is None or status in _NOT_CHECKED:
            return ()
        contents = operation.response(status)
        if contents is None:
            documented = ", ".join(sorted(operation.responses)) or "none"
            return (
                ev.Finding(
                    ev.UNDOCUMENTED_STATUS,
                    status < 500,
                    f"status {status}",
                    f"received status {status}; the contract documents {documented}",
                ),
            )
        body = exchange.body
        if not contents:
            if body and body.strip():
                return (
                    ev.Finding(
                        ev.UNEXPECTED_BODY,
                        False,
                        "(body)",
                        f"received a body with status {status}; the contract documents none",
                    ),
                )
            return ()
        media = (exchange.content_type or "").split(";", 1)[0].strip().lower()
        declared = documented_media(media, contents) if media else None
        if declared is None:
            if body is None or (not media and not body):
                return ()
            listed = ", ".join(sorted(contents))
            return (
                ev.Finding(
                    ev.UNDOCUMENTED_CONTENT_TYPE,
                    True,
                    "(content type)",
                    f"received Content-Type {media or '(none)'}; the contract documents {listed}",
                ),
            )
        schema = contents[declared]
        if schema is None or body is None:
            return ()
        if media.startswith(_TEXT_MEDIA):
            value: Any = body
        else:
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError:
                return (
                    ev.Finding(
                        ev.BODY_NOT_JSON,
                        True,
                        "(body)",
                        f"received a body that is not JSON with Content-Type {media}",
                    ),
                )
        issues: list[Issue] = []
        compile_check(self.contract, schema).check(value, (), issues)
        return self._findings(issues)

    def frame(
        self, source: str, path: str | None, frame: Frame, name: str | None = None
    ) -> ev.Checked:
        """The event of one frame the server sent (``name``: the message it must be)."""
        where = f"frame on {path}" if path else "frame"
        if self.messages is None:
            finding = ev.Finding(
                ev.UNKNOWN_MESSAGE, False, "(frame)", "the vendor has no AsyncAPI document"
            )
            return ev.Checked(source, "socket", where, (finding,), frame=True)
        try:
            value: Any = orjson.loads(frame.text)
        except orjson.JSONDecodeError:
            value = frame.text
        if name is not None:
            issues: list[Issue] = []
            self.messages.by_name[name].check.check(value, (), issues)
            return ev.Checked(source, f"message {name}", where, self._findings(issues), frame=True)
        message, issues = self.messages.classify(value)
        if message is None:
            shape = (
                "fields " + ", ".join(sorted(value)[:8])
                if isinstance(value, dict)
                else json_type(value)
            )
            finding = ev.Finding(
                ev.UNKNOWN_MESSAGE,
                False,
                "(frame)",
                self.redactor.scrub(f"a frame with {shape} is none of the contract's messages"),
            )
            return ev.Checked(source, "socket", where, (finding,), frame=True)
        return ev.Checked(
            source, f"message {message.name}", where, self._findings(issues), frame=True
        )

    def _findings(self, issues: list[Issue]) -> tuple[ev.Finding, ...]:
        findings = []
        missing: dict[tuple[str, ...], list[str]] = {}
        for issue in issues:
            if issue.kind == MISSING_FIELD:
                missing.setdefault(issue.path[:-1], []).append(issue.path[-1])
        for issue in issues:
            # A JSON type name is no secret; a value under a secret-sounding name may be.
            received = (
                issue.received
                if issue.kind in (TYPE_CHANGED, UNDOCUMENTED_FIELD)
                else self.redactor.received(issue.path, issue.received)
            )
            text = path_text(issue.path)
            if issue.kind == MISSING_FIELD:
                message = f"{text}: a required field is missing"
            elif issue.kind == UNDOCUMENTED_FIELD:
                message = f"{text}: received a field ({received}) the contract does not list"
                if issue.documented.startswith("renamed to "):
                    new = issue.documented.removeprefix("renamed to ")
                    message += f"; the contract renamed it {new} (x-renamed-from)"
                elif renamed := _renamed(issue, missing):
                    message += f"; perhaps what the contract now calls {renamed}"
            else:
                message = f"{text}: received {received}; the contract documents {issue.documented}"
            findings.append(
                ev.Finding(issue.kind, issue.breaking, text, self.redactor.scrub(message))
            )
        return tuple(findings)


def _renamed(issue: Issue, missing: dict[tuple[str, ...], list[str]]) -> str | None:
    """A missing required field beside ``issue`` whose name is close to its name."""
    names = missing.get(issue.path[:-1], [])
    close = difflib.get_close_matches(issue.path[-1], names, n=1, cutoff=0.8)
    return close[0] if close else None


def _success_status(operation: Operation) -> int | None:
    for status in sorted(operation.responses):
        if status.isdigit() and status.startswith("2"):
            return int(status)
    return None


def run_check(bundle: Bundle, paths: list[Path], redactor: Redactor, emit: Emit) -> None:
    """Check every capture in ``paths``; raises ``InputError`` for an unusable one."""
    inputs = tuple(map(str, paths))
    check_captures(bundle, inputs, read_captures(paths, redactor), redactor, emit)


def check_captures(
    bundle: Bundle,
    inputs: tuple[str, ...],
    captures: Iterable[Capture],
    redactor: Redactor,
    emit: Emit,
) -> None:
    """Check ``captures`` (read from ``inputs``) as ``run_check`` does."""
    started = time.perf_counter()
    checker = Checker(bundle, redactor)
    emit(ev.Started("check", bundle.label, inputs))
    for capture in captures:
        emit(ev.InputRead(capture.source, capture.count))
        for exchange in capture.exchanges:
            for event in checker.exchange(exchange):
                emit(event)
    emit(ev.Finished(time.perf_counter() - started))
