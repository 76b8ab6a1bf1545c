"""What ``check`` and ``diff`` report, as typed events; handlers in ``report`` render them.

A run emits ``Started``, then per input ``InputRead`` and one ``Checked`` per exchange, socket
frame or compared operation (``Skipped`` for what is not the contract's business), then
``Finished``. No more events after that. Every string in an event is already redacted; the
handlers scrub once more before writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Finding kinds of `check` (what the vendor sent, against the contract) ...
UNKNOWN_OPERATION = "unknown-operation"
UNDOCUMENTED_STATUS = "undocumented-status"
UNDOCUMENTED_CONTENT_TYPE = "undocumented-content-type"
BODY_NOT_JSON = "body-not-json"
UNEXPECTED_BODY = "unexpected-body"
UNKNOWN_MESSAGE = "unknown-message"
# ... of the requests a client sent through ``proxy`` (the client's bug, not the vendor's) ...
MISSING_PARAMETER = "missing-required-parameter"
INVALID_PARAMETER = "invalid-parameter"
UNKNOWN_PARAMETER = "unknown-parameter"
MISSING_REQUEST_BODY = "missing-request-body"
INVALID_REQUEST_BODY = "invalid-request-body"
UNSUPPORTED_CONTENT_TYPE = "unsupported-content-type"
# ... the field-level kinds come from ``values`` (type-changed, missing-required-field, …) ...
# ... and of `diff` (contract A against contract B).
OPERATION_REMOVED = "operation-removed"
OPERATION_ADDED = "operation-added"
OPERATION_MOVED = "operation-moved"
STATUS_REMOVED = "status-removed"
STATUS_ADDED = "status-added"
MEDIA_TYPE_REMOVED = "media-type-removed"
MEDIA_TYPE_ADDED = "media-type-added"
FIELD_REMOVED = "field-removed"
FIELD_ADDED = "field-added"
FIELD_RENAMED = "field-renamed"
FIELD_NOW_REQUIRED = "field-now-required"
FIELD_NOW_OPTIONAL = "field-now-optional"
ALTERNATIVES_CHANGED = "alternatives-changed"
ENUM_WIDENED = "enum-widened"
ENUM_NARROWED = "enum-narrowed"
CONSTRAINT_CHANGED = "constraint-changed"
PARAMETER_ADDED = "parameter-added"
PARAMETER_REMOVED = "parameter-removed"
PARAMETER_NOW_REQUIRED = "parameter-now-required"
REQUEST_BODY_NOW_REQUIRED = "request-body-now-required"
SECURITY_CHANGED = "security-changed"
MESSAGE_REMOVED = "message-removed"
MESSAGE_ADDED = "message-added"


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference, marked breaking when a client that follows the contract would break."""

    kind: str
    breaking: bool
    path: str
    """Field path (``positions[].attributes.floor``), ``(body)``, or what else differs."""
    message: str
    """One sentence: what was received or changed, and what the contract documents."""
    side: str = "vendor"
    """Whose doing it is: ``vendor`` (what the vendor sent, or changed), or ``client`` (a
    request the integrator's client sent that breaks the contract: the client's bug)."""


@dataclass(frozen=True, slots=True)
class Started:
    command: str
    """``check`` or ``diff``."""
    contract: str
    """What is compared with: the contract's title, version and file."""
    inputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InputRead:
    source: str
    items: int
    """How many exchanges (or operations) follow from this input."""


@dataclass(frozen=True, slots=True)
class Checked:
    source: str
    """Where it was seen: ``capture.har entry 12``, ``capture.har entry 3 frame 7``."""
    operation: str
    """The operationId, ``message <name>``, or ``METHOD /path`` when nothing matched."""
    title: str
    """``GET /api/cases/{id}`` or ``frame on /api/socket``."""
    findings: tuple[Finding, ...] = ()
    frame: bool = False


@dataclass(frozen=True, slots=True)
class Skipped:
    source: str
    reason: str
    frame: bool = False


@dataclass(frozen=True, slots=True)
class Finished:
    seconds: float
    notes: tuple[str, ...] = field(default=())
    """Anything a reader should know about the run as a whole."""


Event = Started | InputRead | Checked | Skipped | Finished


class Handler(Protocol):
    def handle(self, event: Event) -> None: ...
