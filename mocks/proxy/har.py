"""The proxy's traffic as HAR 1.2 (``--har``), which ``trackmock check`` reads back.

Secrets never reach the file: the values of ``Authorization``, ``Cookie``, ``Set-Cookie`` and
other secret-named headers are masked (cookie names stay), secret-named query and form values
and JSON fields are masked, and every string then passes ``Redactor.scrub``, which knows every
secret value seen in the traffic (tokens, passwords, session ids).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..core.redact import mask_body, mask_headers, mask_query
from ..drift.har import har_document, har_entry
from .traffic import Seen, decoded_body

if TYPE_CHECKING:
    from ..core.redact import Redactor


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _request_body(seen: Seen) -> str | None:
    if not seen.request_body:
        return None
    return mask_body(seen.request_body.decode("utf-8", "replace"))


def _scrubbed(node: Any, redactor: Redactor) -> Any:
    if isinstance(node, str):
        return redactor.scrub(node)
    if isinstance(node, dict):
        return {k: _scrubbed(v, redactor) for k, v in node.items()}
    if isinstance(node, list):
        return [_scrubbed(v, redactor) for v in node]
    return node


def traffic_to_har(seen: list[Seen], upstream: str, redactor: Redactor) -> dict[str, Any]:
    """The HAR document of ``seen`` as sent to ``upstream``, secrets masked."""
    base = upstream.rstrip("/")
    socket_base = ("wss" if base.startswith("https") else "ws") + base[base.index(":") :]
    entries = []
    for item in seen:
        path, _, query = item.target.partition("?")
        target = path + (f"?{mask_query(query)}" if query else "")
        frames = None
        if item.websocket:
            frames = [
                {"type": kind, "time": when, "opcode": 1, "data": text}
                for kind, text, when in item.frames
            ]
        body = "" if item.websocket else decoded_body(item) or ""
        entry = har_entry(
            item.method,
            (socket_base if item.websocket else base) + target,
            item.status,
            body=body,
            content_type=item.header("content-type"),
            request_headers=mask_headers(item.request_headers),
            # The HAR keeps the body decoded, as browsers save it.
            response_headers=[
                (k, v)
                for k, v in mask_headers(item.response_headers)
                if k.lower() != "content-encoding"
            ],
            request_body=_request_body(item),
            request_content_type=item.header("content-type", response=False)
            or "application/octet-stream",
            started=_iso(item.started),
            frames=frames,
        )
        entry["time"] = round(item.elapsed_ms, 3)
        entry["timings"] = {"send": 0, "wait": round(item.elapsed_ms, 3), "receive": 0}
        if item.note:
            entry["comment"] = item.note
        entries.append(entry)
    return _scrubbed(har_document(entries), redactor)
