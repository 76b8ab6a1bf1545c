"""Tracker's settings: every number of its rules and every choice the documents leave open.

Read from the ``tracker:`` section of a settings file with ``core.settings.from_mapping``.
Defaults reproduce the vendor documents (SAFE API Overview, SAFE Edit a Case);
``docs/vendors/tracker.md`` explains each inferred choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TrackerSettings:
    """The Tracker emulator's rules and inferred choices."""

    polling_rule: bool = True
    """Apply the "more than once a minute may disable your account" rule (TR-07)."""
    polling_repeat_window: float = 60.0
    """The same GET by one token again within this many seconds is a violation."""
    polling_violations_to_disable: int = 10
    """This many violations within ``polling_violation_window`` disable the account."""
    polling_violation_window: float = 3600.0
    """Seconds over which violations are counted."""

    license_count: int | None = None
    """The license pool of every organization; None keeps the fixtures' pools (5)."""
    license_idle_seconds: float = 1200.0
    """A user without a reserved license holds one until idle this long (inferred)."""

    auto_disposition: bool | None = None
    """Auto disposition on or off at reset; None keeps the fixtures' value (on)."""
    auto_disposition_scope: Literal["offense_type", "organization"] = "offense_type"
    """``offense_type``: a case write fails when its own offense type lacks settings;
    ``organization``: it fails while any offense type of the organization lacks them
    (SAFE Edit a Case can be read either way)."""

    refuse_v99_fields: bool = True
    """In strict mode, refuse a case body carrying the v99 ``caseOfficerId`` (TR-17)."""
    require_get_content_type: bool = True
    """In strict mode, a GET must send ``Content-Type: application/x-www-form-urlencoded``
    (SAFE API Overview lists it as required; JSON is accepted too)."""
    require_accept: bool = True
    """In strict mode, every call must accept ``application/json`` (TR-04)."""

    office_scope: bool = True
    """Cases are seen only through the office they belong to (OfficeId header, TR-02)."""
    person_duplicate_check: bool = True
    """Refuse a person matching another on driver's licence, business name or first+last name."""
    form_data_check: bool = True
    """Check form data against the form's schema (field names, select options) (TR-21)."""

    api_user_name: str = "API User"
    """Who SAFE records for data injected through the API (TR-14)."""
    ui_user_id: int = 1
    """The logged-in UI user that control actions act as when none is given."""

    volume: int = 0
    """Extra generated items (each with its create record in the feed) loaded at reset."""
    volume_items_per_case: int = 20
    """How many generated items share one generated case."""
