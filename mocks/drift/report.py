"""Handlers of drift events: text for people, JSON and JUnit XML for CI, progress on a terminal.

The report handlers collect events and write once, at ``Finished``: findings grouped per
operation and (kind, field path), with how often each was seen and where first. Every string
they write passes the ``Redactor`` once more.
"""

from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from . import events as ev

if TYPE_CHECKING:
    from ..core.redact import Redactor

_SHOWN_SOURCES = 3
CLIENT = "client"
_UNMATCHED = frozenset({ev.UNKNOWN_OPERATION, ev.UNKNOWN_MESSAGE})


@dataclass
class Group:
    """One finding as seen, maybe many times."""

    finding: ev.Finding
    count: int = 0
    sources: list[str] = field(default_factory=list)


@dataclass
class OperationResult:
    operation: str
    title: str
    checked: int = 0
    groups: dict[tuple[str, str], Group] = field(default_factory=dict)

    @property
    def breaking(self) -> int:
        return sum(1 for g in self.groups.values() if g.finding.breaking)

    @property
    def informational(self) -> int:
        return sum(1 for g in self.groups.values() if not g.finding.breaking)


class Collector:
    """Everything a report needs, gathered from the events."""

    def __init__(self) -> None:
        self.command = ""
        self.contract = ""
        self.inputs: tuple[str, ...] = ()
        self.operations: dict[str, OperationResult] = {}
        self.exchanges = 0
        self.frames = 0
        self.matched = 0
        """Exchanges and frames that matched an operation or message of the contract."""
        self.skipped: dict[str, int] = {}
        self.seconds = 0.0

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.Started):
            self.command, self.contract, self.inputs = event.command, event.contract, event.inputs
        elif isinstance(event, ev.Checked):
            self._checked(event)
        elif isinstance(event, ev.Skipped):
            self.skipped[event.reason] = self.skipped.get(event.reason, 0) + 1
        elif isinstance(event, ev.Finished):
            self.seconds = event.seconds

    def _checked(self, event: ev.Checked) -> None:
        if event.frame:
            self.frames += 1
        else:
            self.exchanges += 1
        if not any(f.kind in _UNMATCHED for f in event.findings):
            self.matched += 1
        result = self.operations.get(event.operation)
        if result is None:
            result = self.operations[event.operation] = OperationResult(
                event.operation, event.title
            )
        result.checked += 1
        for finding in event.findings:
            key = (finding.kind, finding.path)
            group = result.groups.get(key)
            if group is None:
                group = result.groups[key] = Group(finding)
            group.count += 1
            if len(group.sources) < _SHOWN_SOURCES:
                group.sources.append(event.source)

    @property
    def breaking(self) -> int:
        return sum(result.breaking for result in self.operations.values())

    @property
    def informational(self) -> int:
        return sum(result.informational for result in self.operations.values())

    @property
    def client(self) -> int:
        """Findings about requests the client sent (the proxy's), breaking or not."""
        return sum(
            1
            for result in self.operations.values()
            for group in result.groups.values()
            if group.finding.side == CLIENT
        )

    def ordered(self) -> list[OperationResult]:
        """Operations with breaking findings first, then by name."""
        return sorted(self.operations.values(), key=lambda r: (-r.breaking, r.operation))


def _groups(result: OperationResult) -> list[Group]:
    return sorted(
        result.groups.values(),
        key=lambda g: (not g.finding.breaking, g.finding.path, g.finding.kind),
    )


class _Report(Collector):
    """A collector that writes its format to ``stream`` when the run finishes."""

    def __init__(self, stream: IO[str], redactor: Redactor) -> None:
        super().__init__()
        self.stream = stream
        self.redactor = redactor

    def handle(self, event: ev.Event) -> None:
        super().handle(event)
        if isinstance(event, ev.Finished):
            self.stream.write(self.redactor.scrub(self.render(event)))
            self.stream.flush()

    def render(self, finished: ev.Finished) -> str:
        raise NotImplementedError

    def what(self) -> str:
        if self.command == "diff":
            compared = _count(
                len(self.operations), "operation or message", "operations and messages"
            )
            return f"{self.contract}: {compared} compared"
        parts = [_count(self.exchanges, "exchange")]
        if self.frames:
            parts.append(_count(self.frames, "socket frame"))
        return " and ".join(parts) + f" checked against {self.contract}"


class TextReport(_Report):
    """For people: per operation, breaking findings first."""

    def render(self, finished: ev.Finished) -> str:
        lines = [f"trackmock {self.command}: {self.what()}", ""]
        for result in self.ordered():
            if not result.groups:
                continue
            seen = "" if self.command == "diff" else f"  ({result.checked} seen)"
            title = "" if result.title == result.operation else f"  {result.title}"
            lines.append(f"{result.operation}{title}{seen}")
            for group in _groups(result):
                finding = group.finding
                mark = "BREAKING" if finding.breaking else "info    "
                seen = f"{group.count}x, " if group.count > 1 else ""
                where = ", ".join(group.sources)
                whose = " (client)" if finding.side == CLIENT else ""
                lines.append(f"  {mark}  {finding.kind}{whose}: {finding.message}")
                if self.command != "diff":
                    lines.append(f"            ({seen}{where})")
            lines.append("")
        clean = [r.operation for r in self.ordered() if not r.groups]
        if clean:
            lines.append(f"No drift in: {', '.join(sorted(clean))}")
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"Skipped {count}: {reason}")
        lines.extend(finished.notes)
        verdict = "breaking drift" if self.breaking else "no breaking drift"
        client = f"; {self.client} about the client's requests" if self.client else ""
        lines.append(
            f"Result: {verdict} ({self.breaking} breaking, "
            f"{_count(self.informational, 'informational finding')}{client}) "
            f"in {self.seconds:.1f} s"
        )
        return "\n".join(lines) + "\n"


class JsonReport(_Report):
    """For CI: one JSON document."""

    def render(self, finished: ev.Finished) -> str:
        document = {
            "command": self.command,
            "contract": self.contract,
            "inputs": list(self.inputs),
            "summary": {
                "exchanges": self.exchanges,
                "frames": self.frames,
                "skipped": dict(sorted(self.skipped.items())),
                "breaking": self.breaking,
                "informational": self.informational,
                "client": self.client,
                "seconds": round(self.seconds, 3),
            },
            "operations": [
                {
                    "operation": result.operation,
                    "title": result.title,
                    "checked": result.checked,
                    "findings": [
                        {
                            "kind": group.finding.kind,
                            "breaking": group.finding.breaking,
                            "side": group.finding.side,
                            "path": group.finding.path,
                            "message": group.finding.message,
                            "count": group.count,
                            "sources": group.sources,
                        }
                        for group in _groups(result)
                    ],
                }
                for result in self.ordered()
            ],
            "notes": list(finished.notes),
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class JunitReport(_Report):
    """For CI: one test case per operation, failed by its breaking findings."""

    def render(self, finished: ev.Finished) -> str:
        name = f"trackmock {self.command}"
        results = self.ordered()
        suites = ET.Element(
            "testsuites", name=name, tests=str(len(results)), failures=str(self._failed(results))
        )
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{name} {self.contract}",
            tests=str(len(results)),
            failures=str(self._failed(results)),
            errors="0",
            skipped="0",
            time=f"{self.seconds:.3f}",
        )
        for result in results:
            case = ET.SubElement(
                suite, "testcase", classname=name, name=f"{result.operation} {result.title}"
            )
            groups = _groups(result)
            breaking = [g for g in groups if g.finding.breaking]
            if breaking:
                failure = ET.SubElement(
                    case,
                    "failure",
                    type="breaking-drift",
                    message=_count(len(breaking), "breaking finding"),
                )
                failure.text = "\n".join(_line(g) for g in breaking)
            info = [g for g in groups if not g.finding.breaking]
            if info:
                ET.SubElement(case, "system-out").text = "\n".join(_line(g) for g in info)
        ET.indent(suites)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"

    @staticmethod
    def _failed(results: list[OperationResult]) -> int:
        return sum(1 for r in results if r.breaking)


def _count(number: int, word: str, plural: str | None = None) -> str:
    return f"{number} {word if number == 1 else plural or word + 's'}"


def _line(group: Group) -> str:
    finding = group.finding
    whose = " (client)" if finding.side == CLIENT else ""
    return f"{finding.kind}{whose}: {finding.message} ({group.count}x, {', '.join(group.sources)})"


REPORTS: dict[str, type[_Report]] = {"text": TextReport, "json": JsonReport, "junit": JunitReport}


class Progress:
    """A one-line progress count on stderr, only when stderr is a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, every: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.every = every
        self.source = ""
        self.total = 0
        self.done = 0
        self._shown = 0.0

    def handle(self, event: ev.Event) -> None:
        if not self.enabled:
            return
        if isinstance(event, ev.InputRead):
            self.source, self.total, self.done = event.source, event.items, 0
            self._show(force=True)
        elif isinstance(event, ev.Checked | ev.Skipped) and not event.frame:
            self.done += 1
            self._show()
        elif isinstance(event, ev.Finished):
            self.stop()

    def stop(self) -> None:
        """Clear the progress line (at the end, or when the run is aborted)."""
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._shown < self.every:
            return
        self._shown = now
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        self.stream.write(f"\r\x1b[Kchecking {self.source}: {self.done}/{self.total}{share}")
        self.stream.flush()
