"""Sources a reader can open: every ``x-source`` names a public source of
docs/vendors/sources.md (or trackmock's own design), and no file of the repository cites a
document its readers do not have."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "docs" / "vendors" / "sources.md"
OWN = ("trackmock", "contracts/", "docs/", "RFC ")
"""What else an ``x-source`` may name: trackmock's design, files of this repository, RFCs."""
PRIVATE = [
    re.compile(r"\bseeds? 00\d"),
    re.compile(r"(?<!RFC \d{4} )(?<!RFC \d{3} )\u00a7"),
    re.compile("VENDOR" + "-FACTS"),
    re.compile(r"shared/(seeds|reference|BEHAVIOURS|BRIEF)"),
    re.compile("BEHAVIOURS" + r"\.md"),
]
"""Citations of the team's private working files (the vendor documents' file numbers, their
section signs, the facts file), which the repository's readers do not have."""
TEXT = (".py", ".md", ".yaml", ".yml", ".json", ".sh", ".txt")


def short_names() -> list[str]:
    """The bold short names of the sources table."""
    return re.findall(r"^\| \*\*([^*]+)\*\* \|", SOURCES.read_text(), flags=re.MULTILINE)


def _segments(value: str) -> list[str]:
    """``a; b (c; d)`` → ``["a", "b (c; d)"]``: one cited source each."""
    parts, depth, current = [], 0, ""
    for char in value:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _x_sources(node: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "x-source" and isinstance(value, str):
                yield where, value
            else:
                yield from _x_sources(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _x_sources(value, f"{where}/{index}")


def _tracked(*folders: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if name.endswith(TEXT) and (ROOT / name).is_file()]


def test_the_sources_page_names_every_vendor_source() -> None:
    names = short_names()
    assert len(names) == len(set(names))
    for expected in ("SAFE API Overview", "Trackops API overview", "Track API guide"):
        assert expected in names
    text = SOURCES.read_text()
    for name in names:
        row = next(line for line in text.splitlines() if line.startswith(f"| **{name}** |"))
        assert "https://" in row or "not record" in row, f"{name}: no address a reader can open"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "contracts").rglob("*") if p.suffix in (".yaml", ".json")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_x_source_names_a_public_source(path: Path) -> None:
    allowed = (*short_names(), *OWN)
    text = path.read_text()
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    unknown = [
        f"{where}: {segment!r}"
        for where, value in _x_sources(document, "#")
        for segment in _segments(value)
        if not segment.startswith(allowed)
    ]
    assert unknown == [], "cite a source of docs/vendors/sources.md:\n" + "\n".join(unknown)


def test_no_file_cites_a_private_document() -> None:
    folders = ("README.md", "contracts", "docs", "fixtures", "mocks", "clients", "tests", "tools")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
        for path in _tracked(*folders)
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(pattern.search(line) for pattern in PRIVATE)
    ]
    assert found == [], "cite docs/vendors/sources.md instead:\n" + "\n".join(found)
