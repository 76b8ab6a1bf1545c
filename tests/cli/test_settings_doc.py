"""docs/settings.md is generated from the settings classes and documents every key."""

from __future__ import annotations

from pathlib import Path

from tools.settings_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_the_settings_document_is_up_to_date() -> None:
    assert DOC.read_text() == render(), "run: python -m tools.settings_doc > docs/settings.md"


def test_every_setting_is_explained() -> None:
    rows = [line for line in render().splitlines() if line.startswith("| `")]
    assert rows
    assert [row for row in rows if row.endswith("|  |")] == []
