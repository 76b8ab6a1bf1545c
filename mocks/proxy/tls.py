"""The proxy's TLS (for Trackops, TLS-only): a test CA made at start, like the emulator's."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.tls import DEFAULT_NAMES


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca_cert: Path
    """PEM of the CA a client must trust (the ready file's ``ca_cert``)."""


def make_tls_files(folder: Path | None = None) -> TlsFiles:
    """A fresh CA and a server certificate for localhost names, written to ``folder``."""
    import trustme

    folder = Path(folder or tempfile.mkdtemp(prefix="trackmock-proxy-tls-"))
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="trackmock proxy test CA")
    leaf = ca.issue_cert(*DEFAULT_NAMES)
    files = TlsFiles(folder / "proxy-cert.pem", folder / "proxy-key.pem", folder / "proxy-ca.pem")
    ca.cert_pem.write_to_path(str(files.ca_cert))
    leaf.private_key_pem.write_to_path(str(files.key))
    leaf.cert_chain_pems[0].write_to_path(str(files.cert))
    return files
