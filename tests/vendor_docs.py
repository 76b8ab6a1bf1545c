"""The vendor pages of this repository (docs/vendors/*.md), as tests read them to keep them in
step with the contracts."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "docs" / "vendors"


def limitations(vendor: str) -> str:
    """The ``## LIMITATIONS`` section of a vendor's page (the one place that lists them)."""
    text = (FOLDER / f"{vendor}.md").read_text()
    _, found, rest = text.partition("\n## LIMITATIONS\n")
    assert found, f"docs/vendors/{vendor}.md has no LIMITATIONS section"
    return rest.split("\n## ", 1)[0]
