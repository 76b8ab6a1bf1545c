"""``trackmock examples PATH``: the files docs/drift.md works with, copied out of the package,
so its examples run from any folder and with any installation (a wheel holds them too)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .core.paths import contracts_dir, fixtures_dir


def copy_examples(path: Path) -> list[str]:
    """Copy the drift example to ``path/drift`` and the contracts to ``path/contracts``; returns
    what to print. Refuses (``FileExistsError``) when either is there already."""
    copies = [(fixtures_dir() / "drift", path / "drift"), (contracts_dir(), path / "contracts")]
    for _, target in copies:
        if target.exists():
            raise FileExistsError(f"{target} exists already; choose another PATH (nothing copied)")
    for source, target in copies:
        shutil.copytree(
            source, target, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc")
        )
    return [
        f"{path / 'drift'}: the worked example of docs/drift.md (tracker-v99, tracker-v100, "
        "captures)",
        f"{path / 'contracts'}: the contracts, to change and serve with `trackmock serve "
        "--contracts`",
        f"next: cd {path} && trackmock check --vendor tracker "
        "drift/captures/tracker-v99-getByNumber.har",
    ]
