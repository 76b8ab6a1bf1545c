"""Write docs/settings.md from the settings classes themselves, so the two never disagree.

python -m tools.settings_doc > docs/settings.md
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import itertools
import json
from typing import Any

SECTIONS = (
    ("", "trackmock.core.settings", "CoreSettings"),
    ("tracker", "trackmock.tracker.settings", "TrackerSettings"),
    ("trackops", "trackmock.trackops.settings", "TrackopsSettings"),
    ("track", "trackmock.track.settings", "TrackSettings"),
)


def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (attribute docstrings)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return "(required)"
    return json.dumps(value)


def render() -> str:
    lines = [
        "# Settings",
        "",
        "`trackmock serve --settings FILE` (YAML or JSON), the pytest plugin's",
        "`trackmock_settings` fixture and `make_emulator(vendor, **settings)` all take the same",
        "mapping: the core keys at the top level, and one section per vendor. An unknown key or a",
        "wrong type is refused, naming the key. Defaults reproduce the vendors' documents.",
        "",
        "```yaml",
        "strict: true",
        "tracker:",
        "  polling_rule: false",
        "trackops:",
        "  rate_limit: null",
        "track:",
        "  ping_interval: 5",
        "```",
        "",
        "This file is generated: `python -m tools.settings_doc > docs/settings.md`.",
    ]
    for section, module, name in SECTIONS:
        cls = getattr(importlib.import_module(module), name)
        docs = field_docs(cls)
        title = "Core (top level)" if not section else f"`{section}:`"
        lines += ["", f"## {title}", "", "| key | default | meaning |", "|---|---|---|"]
        for field in dataclasses.fields(cls):
            meaning = docs.get(field.name, "").replace("|", "\\|")
            lines.append(f"| `{field.name}` | `{_default(field)}` | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
