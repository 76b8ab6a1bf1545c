"""Socket connections and their frames, read from the journal and checked when read.

Frames are checked against the vendor's AsyncAPI document here, whether or not the emulator
checks what it sends (``check_responses``): a frame the server sent against the messages it
documents sending, a frame a client sent against those it documents receiving (Track's pong).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.clock import isoformat
from ..core.conformance import MessageCatalog, classify_frame
from ..core.contracts import Contract
from ..core.journal import Entry, Query

if TYPE_CHECKING:
    from ..core.emulator import Emulator

SOCKET_KINDS = ("ws-open", "ws-in", "ws-out", "ws-close")


@dataclass
class SocketFrames:
    """``GET /__admin/sockets/frames`` of one emulator."""

    emulator: Emulator
    _catalog: MessageCatalog | None = field(default=None, init=False)

    def listing(self, connection: int | None, since: int | None, limit: int) -> dict[str, Any]:
        journal = self.emulator.journal
        entries = [e for e in journal.select(Query(since=since)) if e.kind in SOCKET_KINDS]
        connections = self._connections(entries if since is None else self._all())
        if connection is not None:
            entries = [e for e in entries if e.connection == connection]
        return {
            "connections": connections,
            "frames": [self._frame(entry) for entry in entries[-limit:]],
        }

    def _all(self) -> list[Entry]:
        return [e for e in self.emulator.journal.select() if e.kind in SOCKET_KINDS]

    def _connections(self, entries: list[Entry]) -> list[dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for entry in entries:
            if entry.connection is None:
                continue
            known = found.setdefault(
                entry.connection,
                {"id": entry.connection, "path": entry.path, "open": False, "opened": None},
            )
            if entry.kind == "ws-open":
                known["opened"] = isoformat(entry.time)
            elif entry.kind == "ws-close":
                known.update(closed=isoformat(entry.time), closeCode=entry.status)
        for socket in list(self.emulator.open_sockets):
            found.setdefault(socket.id, {"id": socket.id, "path": socket.path, "opened": None})
            found[socket.id]["open"] = True
        return [found[key] for key in sorted(found)]

    def _frame(self, entry: Entry) -> dict[str, Any]:
        body = entry.response_body if entry.kind == "ws-out" else entry.request_body
        text = body.decode("utf-8", "replace")
        out: dict[str, Any] = {
            "id": entry.id,
            "time": isoformat(entry.time),
            "connection": entry.connection,
            "kind": entry.kind,
            "text": text,
            "message": None,
            "problems": [],
        }
        if entry.status is not None:
            out["status"] = entry.status
        if entry.note:
            out["note"] = entry.note
        if entry.kind in ("ws-in", "ws-out"):
            out["message"], out["problems"] = self._check(entry.kind, body, text)
        return out

    def _check(self, kind: str, body: bytes, text: str) -> tuple[str | None, list[str]]:
        catalog = self.catalog()
        if catalog is None:
            return None, []
        if len(body) >= self.emulator.journal.body_limit:
            limit = self.emulator.journal.body_limit
            return None, [f"not checked: the journal keeps only the first {limit} bytes"]
        names = catalog.sent if kind == "ws-out" else catalog.received
        return classify_frame(catalog, text, names)

    def catalog(self) -> MessageCatalog | None:
        """The vendor's AsyncAPI messages (read on first use; None without a document)."""
        if self._catalog is None:
            path = self.emulator.provider.asyncapi_contract()
            if path is None:
                return None
            self._catalog = MessageCatalog(Contract.from_path(path))
        return self._catalog
