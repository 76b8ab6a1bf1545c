"""Checks of what an emulator sends against its contract: HTTP responses and socket frames.

Each check returns messages in the form "Received … / Documented …" (empty when all is well).
The emulator records them as violations when ``check_responses`` is on; the tests fail on any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from .contracts import Contract, documented_media, pointer_escape

if TYPE_CHECKING:
    from .contracts import Operation


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


@dataclass
class FrameAudit:
    """Socket frames an emulator sent, and how many of them were checked against its AsyncAPI
    document, since it started (a reset does not clear it).

    ``sent`` is counted where a frame leaves the emulator (the ASGI ``send``), ``checked`` where
    it is validated, so a frame that reaches a client without being checked shows up as
    ``sent > checked``. The pytest plugin reads it at the end of each emulator's life.
    """

    sent: int = 0
    checked: int = 0
    failed: int = 0

    def problems(self) -> list[str]:
        """Why this audit does not prove that every frame sent was a documented message."""
        found = []
        if self.sent != self.checked:
            found.append(
                f"Received {self.sent} socket frames sent / Documented: {self.checked} checked"
                " against the AsyncAPI messages"
            )
        if self.failed:
            found.append(f"{self.failed} socket frames are not documented messages")
        return found

    def to_json(self) -> dict[str, int]:
        return {"sent": self.sent, "checked": self.checked, "failed": self.failed}


def _schema_errors(contract: Contract, location: str, value: Any) -> list[str]:
    validator = contract.validator(location)
    return [
        f"at {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))[:5]
    ]


def check_http_response(
    operation: Operation, status: int, content_type: str, body: bytes
) -> list[str]:
    """Whether an answer (its status, ``Content-Type`` header and body) is one the contract
    documents for ``operation``."""
    where = f"{operation.method} {operation.path}"
    contents = operation.response(status)
    if contents is None:
        documented = ", ".join(sorted(operation.responses)) or "none"
        return [f"{where}: Received status {status} / Documented: {documented}"]
    if not contents:
        if body:
            return [f"{where} {status}: Received a body / Documented: no content"]
        return []
    media = content_type.split(";")[0].strip()
    documented = documented_media(media, contents)
    if documented is None:
        listed = ", ".join(sorted(contents))
        return [
            f"{where} {status}: Received Content-Type {media or '(none)'} / Documented: {listed}"
        ]
    schema = contents[documented]
    if schema is None:
        return []
    if not _is_json(media):
        value: Any = body.decode("utf-8", "replace")
    else:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return [f"{where} {status}: Received a body that is not JSON / Documented: JSON"]
    return [
        f"{where} {status}: Received a body that breaks the schema / Documented: {schema}: {err}"
        for err in _schema_errors(operation.contract, schema, value)
    ]


class MessageCatalog:
    """The messages of an AsyncAPI 3 document, by name, with their payload schemas; ``sent``
    names those of its ``send`` operations and ``received`` those of its ``receive`` ones (None
    when it declares no operations)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        messages = contract.document.get("components", {}).get("messages", {})
        self.payloads: dict[str, str] = {}
        by_location: dict[str, str] = {}
        for name, message in messages.items():
            location = contract.location("components", "messages", name)
            resolved, resolved_loc = contract.deref(message, location)
            by_location[resolved_loc] = name
            if isinstance(resolved, dict) and "payload" in resolved:
                self.payloads[name] = f"{resolved_loc}/{pointer_escape('payload')}"
        operations = contract.document.get("operations") or {}

        def names(action: str) -> list[str] | None:
            if not operations:
                return None
            return sorted(
                {
                    by_location[contract.deref(ref, contract.location("operations", name))[1]]
                    for name, operation in operations.items()
                    if operation.get("action") == action
                    for ref in operation.get("messages", [])
                }
            )

        self.sent = names("send")
        self.received = names("receive")

    def match(self, value: Any, names: list[str] | None = None) -> tuple[str | None, list[str]]:
        """The first message (of ``names``, or of all) whose payload ``value`` satisfies,
        else None and, per candidate, why it did not."""
        reasons = []
        for name in names or sorted(self.payloads):
            errors = _schema_errors(self.contract, self.payloads[name], value)
            if not errors:
                return name, []
            reasons.append(f"{name}: {errors[0]}")
        return None, reasons


def check_frame(catalog: MessageCatalog, text: str, names: list[str] | None = None) -> list[str]:
    """Whether a text frame sent by the server is one of the messages it documents sending
    (``names``, else the catalog's ``send`` messages, else any)."""
    return classify_frame(catalog, text, names or catalog.sent)[1]


def classify_frame(
    catalog: MessageCatalog, text: str, names: list[str] | None
) -> tuple[str | None, list[str]]:
    """The message (of ``names``, or of all) a text frame is, else None and why it is none."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    name, reasons = catalog.match(value, names)
    if name is not None:
        return name, []
    return None, [
        f"frame {text[:120]!r}: Received an undocumented message / Documented: "
        + "; ".join(reasons)
    ]
