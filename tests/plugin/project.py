"""A small test project written to a folder and run by a real ``pytest`` process (with
pytest-xdist when asked), as an integrator's CI runs one: what the plugin does across
processes can only be seen from outside."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

RUN_TIMEOUT = 300
"""A hang guard only: a run takes a few seconds."""

INI = """\
[pytest]
markers = behaviour(*ids): behaviour IDs
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in {"pytest.ini": INI, **files}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def run_pytest(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -q ARGS`` in ``folder``; output in ``.stdout`` (stderr merged)."""
    environ = {
        key: value
        for key, value in os.environ.items()
        # This run's own workers, if any, must not leak into the project's run.
        if not key.startswith(("PYTEST_XDIST_", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST"))
    }
    # Only the plugins under test: the other installed ones (schemathesis, hypothesis, faker)
    # would triple each process's start, and pytest-xdist starts three.
    environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    environ.update(env or {})
    plugins = ["-p", "trackmock", "-p", "xdist", "-p", "no:cacheprovider"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *plugins, *args],
        cwd=folder,
        env=environ,
        capture_output=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
