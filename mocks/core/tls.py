"""Test certificates: a CA made at start (with trustme) and a server certificate it signs."""

from __future__ import annotations

import shutil
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
    temporary: Path | None = None
    """The temporary folder made for the files, removed by ``cleanup``."""

    def cleanup(self) -> None:
        """Remove the temporary folder (on a clean stop; a given folder is left alone)."""
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)


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

    temporary: Path | None = None
    if folder is None:
        folder = temporary = Path(tempfile.mkdtemp(prefix="trackmock-tls-"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="trackmock test CA")
    ca_path = folder / "trackmock-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    ca.issue_cert(*names).configure_cert(context)
    return ServerTls(context, ca_path, temporary)
