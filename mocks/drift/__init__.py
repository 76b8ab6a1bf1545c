"""Vendor drift: captured traffic against the contracts (``trackmock check``), two versions of
a contract against each other (``trackmock diff``). See docs/drift.md.

Modules, one job each: ``inputs`` reads captures (HAR, curl output, JSON bodies), ``match``
finds a request's operation, ``values`` compares a value with its schema, ``check`` and
``diff`` emit result events (``events``), ``report`` renders them, ``bundle`` finds a vendor's
contracts, ``har`` writes HAR (from an emulator's journal). Secrets are kept out by the rules
the emulators' journal uses too (``core.redact``).
"""

from .check import run_check as run_check
from .diff import run_diff as run_diff
from .har import journal_to_har as journal_to_har

__all__ = ["journal_to_har", "run_check", "run_diff"]
