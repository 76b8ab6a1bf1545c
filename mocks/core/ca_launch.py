"""Starts the helper process that makes a throwaway test CA (``core/ca_helper.py``) and keeps
it until ``core/tls.py`` takes it.

Apart from ``tls.py`` because ``trackmock serve`` starts the helper before anything else:
this module imports only what starting a process needs (no ``ssl``, no ``logging``), so the
helper's work begins as early as it can and overlaps the whole start.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import ca_helper


class PreparedCa:
    """A throwaway test CA made by a helper process while this one builds the emulators.

    Importing the X.509 library and making a CA cost a good part of a start, on one core;
    the helper does it on another. It makes the CA at once, then waits for the names the
    server certificate must hold (``finish``), writes the CA certificate and the server's
    key and chain (owner-only) to a fresh private folder, and exits. Nothing is lost if it
    fails: ``finish`` answers None and the caller makes the CA itself.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="trackmock-tls-"))
        self._process = subprocess.Popen(
            [sys.executable, "-m", ca_helper.__name__, str(self.folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def finish(self, names: tuple[str, ...]) -> Path | None:
        """The folder holding the CA and the server certificate for ``names``, or None."""
        process = self._process
        try:
            answer, _ = process.communicate(("\n".join(names) + "\n").encode(), timeout=60)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
            answer = b""
        if process.returncode == 0 and answer.strip() == b"ok":
            return self.folder
        import logging

        logging.getLogger("trackmock").debug(
            "the TLS helper failed (exit %s); making the test CA here", process.returncode
        )
        shutil.rmtree(self.folder, ignore_errors=True)
        return None

    def discard(self) -> None:
        """Stop the helper unused and remove its folder, at once: what it holds is not worth
        waiting for (``serve`` may start it before its settings say Trackops needs none)."""
        process = self._process
        if process.returncode is None:
            with contextlib.suppress(OSError):
                process.kill()
        with contextlib.suppress(OSError, ValueError, subprocess.TimeoutExpired):
            process.communicate(timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


_prepared: PreparedCa | None = None


def prepare_test_ca() -> None:
    """Start making a test CA in a helper process; the next ``make_server_tls`` that needs a
    fresh CA in a temporary folder takes it. For ``trackmock serve``, which knows before it
    builds the emulators that Trackops will need one."""
    global _prepared
    discard_prepared()
    try:
        _prepared = PreparedCa()
    except OSError:
        _prepared = None


def test_ca_pending() -> bool:
    """Whether a helper started by ``prepare_test_ca`` waits to be taken."""
    return _prepared is not None


def discard_prepared() -> None:
    """Stop a helper nobody took (the emulators failed to build, or needed none)."""
    global _prepared
    prepared, _prepared = _prepared, None
    if prepared is not None:
        prepared.discard()


def take_prepared() -> PreparedCa | None:
    """The helper ``prepare_test_ca`` started, now the caller's (None if there is none)."""
    global _prepared
    prepared, _prepared = _prepared, None
    return prepared
