"""Run Schemathesis' engine in-process against one emulator, and say plainly what it found.

The engine is what ``schemathesis run`` drives: the examples, coverage, fuzzing and stateful
phases, every check, positive and negative data. ``run`` collects its events into a
``RunReport``; ``RunReport.failures`` turns what went wrong into one ``AssertionError``
subclass per kind of failure, each listing every case with its "Received … / Documented …".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemathesis.engine import Status, events, from_schema

if TYPE_CHECKING:
    from schemathesis.engine.recorder import CheckNode, ScenarioRecorder
    from schemathesis.schemas import BaseSchema

STATEFUL = "stateful"
GENERATING_PHASES = ("examples", "coverage", "fuzzing")
"""Phases that send generated cases to one operation at a time."""


class ChecksFailed(AssertionError):
    """Schemathesis' checks failed: the emulator broke its own contract."""


class EngineErrors(AssertionError):
    """Schemathesis could not test some operation (an error, not a failed check)."""


class OperationsNotTested(AssertionError):
    """Operations of the contract that no generating phase sent a single case to."""


class LinksNotFollowed(AssertionError):
    """The stateful phase followed none of the contract's OpenAPI links."""


@dataclass(frozen=True)
class Finding:
    """One failed check, with the first case that showed it."""

    check: str
    operation: str
    phase: str
    title: str
    message: str
    received: str
    reproduce: str

    def describe(self) -> str:
        return (
            f"[{self.check}] {self.operation} ({self.phase} phase): {self.title}\n"
            f"    Received: {self.received}\n"
            f"    Documented: {self.message.strip()}\n"
            f"    Reproduce: {self.reproduce}"
        )


@dataclass
class RunReport:
    """What one engine run did and found."""

    operations: list[str]
    """Every operation of the document (``METHOD /path``)."""
    links: set[tuple[str, str, str]]
    """Every OpenAPI link of the document: (source operation, link name, target operation)."""
    tested: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Operation -> the generating phases that sent it at least one case."""
    cases: int = 0
    followed: set[tuple[str, str, str]] = field(default_factory=set)
    """Links the stateful phase followed from a successful response."""
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def failures(self, *, every_operation: bool, some_link: bool) -> list[AssertionError]:
        """Every kind of failure of this run, one exception each (empty when all is well).

        ``every_operation``: each operation must have been sent a case by a generating phase;
        ``some_link``: a link of the document must have been followed from a successful
        response (which chains Schemathesis starts is its choice; ``test_hygiene`` checks that
        every link resolves)."""
        found: list[AssertionError] = []
        if self.findings:
            found.append(
                ChecksFailed(
                    f"{len(self.findings)} failed checks:\n"
                    + "\n".join(f.describe() for f in self.findings.values())
                )
            )
        if self.errors:
            found.append(EngineErrors("\n".join(self.errors)))
        untested = [op for op in self.operations if not self.tested.get(op)]
        if every_operation and untested:
            found.append(
                OperationsNotTested(
                    f"Received cases for {len(self.operations) - len(untested)} operations"
                    f" / Documented: {len(self.operations)}; never tested:\n  "
                    + "\n  ".join(untested)
                )
            )
        if some_link and self.links and not self.followed:
            found.append(
                LinksNotFollowed(
                    f"Received no chain through the {len(self.links)} links / Documented: links"
                    " create -> get -> update; none was followed from a successful response"
                )
            )
        return found

    def summary(self) -> str:
        tested = len([op for op in self.operations if self.tested.get(op)])
        reach = f"{tested}/{len(self.operations)} operations tested, " if tested else ""
        return (
            f"{reach}{self.cases} cases, {len(self.followed)}/{len(self.links)} links followed,"
            f" {len(self.findings)} failed checks, {len(self.errors)} errors"
        )


def declared_links(schema: BaseSchema) -> tuple[list[str], set[tuple[str, str, str]]]:
    """The operations of ``schema`` and its links as (source, link name, target) labels."""
    operations = [result.ok() for result in schema.get_all_operations()]
    by_id = {op.definition.raw.get("operationId"): op.label for op in operations}
    links = set()
    for op in operations:
        for response in op.definition.raw.get("responses", {}).values():
            resolved = _resolve(schema, response)
            for name, link in (resolved.get("links") or {}).items():
                links.add((op.label, name, by_id[_resolve(schema, link)["operationId"]]))
    return [op.label for op in operations], links


def _resolve(schema: BaseSchema, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"links and responses are local: {ref}"
        target: Any = schema.raw_schema
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def run(schema: BaseSchema) -> RunReport:
    """Run every configured phase against the schema's base URL; collect what happened."""
    operations, links = declared_links(schema)
    report = RunReport(operations=operations, links=links)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            _record_scenario(report, event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.title}\n{event.info.message}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
    return report


def _record_scenario(report: RunReport, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    phase = event.phase.value
    sent = [case_id for case_id, i in recorder.interactions.items() if i.response is not None]
    report.cases += len(sent)
    if phase in GENERATING_PHASES and sent and event.status != Status.SKIP:
        report.tested[recorder.label].add(phase)
    if phase == STATEFUL:
        _record_links(report, recorder)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is not None:
                _record_finding(report, recorder, phase, case_id, check)


def _record_links(report: RunReport, recorder: ScenarioRecorder) -> None:
    for node in recorder.cases.values():
        transition = node.transition
        if transition is None or transition.is_inferred:
            continue
        parent = recorder.cases[transition.parent_id].value
        parent_answer = recorder.interactions.get(parent.id)
        if parent_answer is None or parent_answer.response is None:
            continue
        if 200 <= parent_answer.response.status_code < 300:
            name = transition.id.split(" -> ")[1] if " -> " in transition.id else transition.id
            name = name.split("] ", 1)[-1]
            report.followed.add((parent.operation.label, name, node.value.operation.label))


def _record_finding(
    report: RunReport, recorder: ScenarioRecorder, phase: str, case_id: str, check: CheckNode
) -> None:
    info = check.failure_info
    assert info is not None
    case = recorder.cases[case_id].value
    key = (case.operation.label, check.name, info.failure.title)
    if key in report.findings:
        return
    interaction = recorder.interactions.get(case_id)
    received = "no response"
    if interaction is not None and interaction.response is not None:
        body = interaction.response.content[:300].decode("utf-8", "replace")
        received = f"{interaction.response.status_code} {body}"
    report.findings[key] = Finding(
        check=check.name,
        operation=case.operation.label,
        phase=phase,
        title=info.failure.title,
        message=info.failure.message or "",
        received=received,
        reproduce=info.code_sample,
    )
