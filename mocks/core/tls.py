"""Test certificates: a CA made at start (with trustme) and a server certificate it signs."""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NAMES = ("localhost", "*.localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ServerTls:
    context: ssl.SSLContext
    ca_cert: Path
    """PEM file of the CA a client must trust."""


def make_server_tls(
    folder: Path | None = None,
    names: tuple[str, ...] = DEFAULT_NAMES,
    *,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    ca_file: Path | None = None,
) -> ServerTls:
    """A server TLS context: from given files, or from a fresh CA written to ``folder``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file is not None:
        if key_file is None or ca_file is None:
            raise ValueError("a given certificate needs its key file and its CA file")
        context.load_cert_chain(str(cert_file), str(key_file))
        return ServerTls(context, Path(ca_file))
    import trustme

    folder = Path(folder or tempfile.mkdtemp(prefix="trackmock-tls-"))
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="trackmock test CA")
    ca_path = folder / "trackmock-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ca.issue_cert(*names).configure_cert(context)
    return ServerTls(context, ca_path)
