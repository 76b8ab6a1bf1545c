"""The helper process that makes a throwaway test CA for ``trackmock serve`` (``PreparedCa``
in ``core/ca_launch.py`` starts it as ``python -m trackmock.core.ca_helper FOLDER``).

Its own module, importing nothing but what it needs: the helper runs while the server starts,
and whatever it imports beyond trustme delays the moment Trackops can take its certificate.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CA_FILE = "trackmock-ca.pem"
"""The CA certificate clients trust."""
CERT_FILE = "trackmock-server.pem"
"""The server's key and certificate chain (owner-only; the server deletes it once loaded)."""


def write_whole(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` whole or not at all (a reader never sees half a file); keys owner-only."""
    temporary = path.with_name(f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def main(folder: Path) -> int:
    """Make a CA now, then a server certificate for the names read from standard input (one
    a line); write both to ``folder`` and answer ``ok``."""
    import trustme

    ca = trustme.CA(organization_name="trackmock test CA")
    names = tuple(line.strip() for line in sys.stdin if line.strip())
    if not names:
        return 1
    leaf = ca.issue_cert(*names)
    write_whole(folder / CA_FILE, ca.cert_pem.bytes())
    write_whole(folder / CERT_FILE, leaf.private_key_and_cert_chain_pem.bytes(), private=True)
    sys.stdout.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
