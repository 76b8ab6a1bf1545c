"""The control API under ``/__admin/``, the same on every emulator.

Its routes come from ``contracts/admin/openapi.yaml`` and go through the same pipeline as a
vendor's (the emulator routes them with this class as their ``PipelineHooks``), so its requests
are validated and its answers shaped like any other. A vendor's own actions come from its
``admin.yaml``: the same hooks, with handlers from the vendor's ``admin.py``.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from .clock import parse_instant
from .errors import HttpError, admin_error
from .faults import FaultError
from .journal import Query
from .paths import contracts_dir
from .validation import MESSAGE_CHARS

if TYPE_CHECKING:
    from .contracts import Operation
    from .emulator import Call, Emulator, Handler, Reply
    from .validation import Problem

TOKEN_HEADER = "X-Trackmock-Admin-Token"


class AdminApi:
    """Hooks and handlers of the control API."""

    error = admin_error

    def __init__(self, emulator: Emulator) -> None:
        from .contracts import Contract

        self.emulator = emulator
        self.contract = Contract.from_path(contracts_dir() / "admin" / "openapi.yaml")
        vendor_doc = emulator.provider.admin_contract()
        self.vendor_contract = Contract.from_path(vendor_doc) if vendor_doc else None
        from ..dashboard.api import Dashboard

        self.dashboard = Dashboard(emulator)
        """Handlers of the calls the dashboard page needs (``trackmock.dashboard``)."""

    # -- hooks ---------------------------------------------------------------------------

    def handler_for(self, operation: Operation) -> Handler | None:
        """The method named by the operationId of a control API operation (here, or on the
        dashboard's handlers)."""
        handler = getattr(self, operation.id, None) or getattr(self.dashboard, operation.id, None)
        return handler if callable(handler) else None

    def authenticate(self, call: Call) -> None:
        expected = self.emulator.settings.admin_token
        if not expected:
            return
        given = call.request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise admin_error(401, f"the control API needs the {TOKEN_HEADER} header")

    def admit(self, call: Call) -> None:
        """The control API has no usage rules."""

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        return admin_error(
            400,
            "; ".join(p.describe() for p in problems),
            problems=[p.to_json() for p in problems],
        )

    # -- handlers (named by operationId) ---------------------------------------------------

    def getHealth(self, call: Call) -> dict[str, Any]:
        return {"status": "ok", "vendor": self.emulator.name}

    def resetEmulator(self, call: Call) -> None:
        self.emulator.reset()

    def getSnapshot(self, call: Call) -> Reply:
        import orjson

        from .emulator import Reply
        from .snapshot import take

        call.withhold_bodies()
        return Reply.encoded(orjson.dumps(take(self.emulator)))

    def restoreSnapshot(self, call: Call) -> dict[str, Any]:
        from .snapshot import SnapshotError, restore

        call.withhold_bodies()
        try:
            return restore(self.emulator, call.body)
        except SnapshotError as exc:
            raise admin_error(400, str(exc)[:MESSAGE_CHARS]) from exc

    def getCredentials(self, call: Call) -> dict[str, Any]:
        return {"vendor": self.emulator.name, **self.emulator.describe()}

    def getClock(self, call: Call) -> dict[str, Any]:
        return self.emulator.clock.snapshot()

    def moveClock(self, call: Call) -> dict[str, Any]:
        body = call.body
        clock = self.emulator.clock
        try:
            if "set" in body:
                clock.set(parse_instant(body["set"]))
            if "advance" in body:
                clock.advance(float(body["advance"]))
        except ValueError as exc:
            # The message may quote the value: a refusal never echoes a large request back.
            raise admin_error(400, str(exc)[:MESSAGE_CHARS]) from exc
        if "freeze" in body:
            clock.freeze(bool(body["freeze"]))
        return clock.snapshot()

    def listJournal(self, call: Call) -> Reply:
        from .emulator import Reply

        emulator = self.emulator
        settings = emulator.settings
        page = emulator.journal.page(
            Query(**call.query),
            page_bytes=settings.journal_page_bytes,
            redactor=None if settings.journal_secrets else emulator.redactor(),
        )
        return Reply.encoded(page)

    def countJournal(self, call: Call) -> dict[str, Any]:
        query = dict(call.query)
        near = query.pop("near", 5)
        result = self.emulator.journal.count(Query(**query), near=near)
        return {
            "count": result.count,
            "near_misses": [
                {"entry": entry.summary(), "reason": reason} for entry, reason in result.near_misses
            ],
        }

    def listUnmatched(self, call: Call) -> dict[str, Any]:
        app = self.emulator.app  # first: it imports Flask and werkzeug (``LATE_IMPORTS``)
        from .unmatched import explainer

        found = self.emulator.journal.unmatched(explainer(app))
        return {"entries": [{**entry.summary(), "reason": reason} for entry, reason in found]}

    def clearJournal(self, call: Call) -> None:
        self.emulator.journal.clear()

    def listFaults(self, call: Call) -> dict[str, Any]:
        return {"faults": [fault.to_json() for fault in self.emulator.faults.list()]}

    def addFault(self, call: Call) -> Reply:
        from .emulator import Reply

        try:
            fault = self.emulator.faults.add(call.body)
        except FaultError as exc:
            raise admin_error(400, str(exc)) from exc
        return Reply(body=fault.to_json(), status=201)

    def clearFaults(self, call: Call) -> None:
        self.emulator.faults.clear()

    def closeSockets(self, call: Call) -> dict[str, Any]:
        code = (call.body or {}).get("code", 1001)
        sockets = list(self.emulator.open_sockets)
        for connection in sockets:
            connection.close_soon(code)
        return {"closed": len(sockets)}

    def listViolations(self, call: Call) -> dict[str, Any]:
        emulator = self.emulator
        return {
            "violations": list(emulator.violations),
            "errors": list(emulator.handler_errors),
            "dropped": emulator.dropped_violations,
        }

    def getConformance(self, call: Call) -> dict[str, Any]:
        return {
            "checking": self.emulator.settings.check_responses,
            "frames": self.emulator.frame_audit.to_json(),
        }

    def clearViolations(self, call: Call) -> None:
        self.emulator.violations.clear()
        self.emulator.handler_errors.clear()
