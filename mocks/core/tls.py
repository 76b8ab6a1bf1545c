"""Server certificates: the user's own, or a test CA (made with trustme) and a certificate it
signs, kept in a folder so that a restart serves the same CA.

With a folder (``tls_dir``), what is found there is reused when it can be: the CA while it is
readable, unexpired and matches its key; the server certificate while it is also signed by
that CA, unexpired and names every host the emulator answers to. What cannot be reused is made
anew, and one log line says what and why (a new CA means clients must trust it anew). Without a
folder, a fresh CA goes to a temporary folder at each start.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .ca_helper import CA_FILE, CERT_FILE
from .ca_helper import write_whole as _write
from .ca_launch import take_prepared

if TYPE_CHECKING:
    import trustme
    from cryptography import x509

log = logging.getLogger("trackmock")

DEFAULT_NAMES = ("localhost", "*.localhost", "127.0.0.1", "::1")

CA_KEY_FILE = "trackmock-ca-key.pem"
KEY_FILE = "trackmock-server-key.pem"


@dataclass(frozen=True)
class ServerTls:
    context: ssl.SSLContext
    ca_cert: Path | None
    """PEM file of the CA a client must trust (None: the system's CAs do)."""
    temporary: Path | None = None
    """The temporary folder made for the files, removed by ``cleanup``."""

    def cleanup(self) -> None:
        """Remove the temporary folder (on a clean stop; a given folder is left alone)."""
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)


class Unusable(ValueError):
    """Certificate files that cannot be reused; the message says why."""


def _context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def make_server_tls(
    folder: Path | None = None,
    names: tuple[str, ...] = DEFAULT_NAMES,
    *,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    ca_file: Path | None = None,
    label: str = "TLS",
    now: datetime | None = None,
) -> ServerTls:
    """A server TLS context: from the user's files, or from the test CA kept in ``folder``.

    Args:
        folder: where the test CA and certificate are kept (a temporary folder if None).
        names: host names and addresses the certificate must name.
        cert_file: the user's certificate (PEM, with its chain); ``key_file`` is its key and
            ``ca_file`` (optional) the CA clients should trust.
        label: how log lines name the emulator (``trackops TLS``).
        now: the time certificates are checked against (default: now; a test moves it).

    Raises:
        ValueError: the user's files cannot be used (the message names them).
    """
    if cert_file is not None or key_file is not None:
        return _given(cert_file, key_file, ca_file)
    if folder is None:
        temporary = Path(tempfile.mkdtemp(prefix="trackmock-tls-"))
        return _fresh(temporary, names, temporary=temporary)
    return _kept(Path(folder), names, label, now or datetime.now(UTC))


def _given(cert_file: Path | None, key_file: Path | None, ca_file: Path | None) -> ServerTls:
    if cert_file is None or key_file is None:
        raise ValueError("a TLS certificate needs its key: give both tls_cert and tls_key")
    context = _context()
    try:
        context.load_cert_chain(str(cert_file), str(key_file))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"the TLS certificate {cert_file} with the key {key_file} cannot be used: {exc}"
        ) from None
    if ca_file is not None and not Path(ca_file).is_file():
        raise ValueError(f"the TLS CA file {ca_file} does not exist")
    return ServerTls(context, Path(ca_file) if ca_file else None)


def _fresh(folder: Path, names: tuple[str, ...], *, temporary: Path | None = None) -> ServerTls:
    context = _context()
    prepared = take_prepared()
    if prepared is not None:
        made = prepared.finish(names)
        if made is not None:
            context.load_cert_chain(str(made / CERT_FILE))
            (made / CERT_FILE).unlink()
            return ServerTls(context, made / CA_FILE, made)
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="trackmock test CA")
    ca_path = folder / CA_FILE
    ca.cert_pem.write_to_path(str(ca_path))
    ca.issue_cert(*names).configure_cert(context)
    return ServerTls(context, ca_path, temporary)


def _kept(folder: Path, names: tuple[str, ...], label: str, now: datetime) -> ServerTls:
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        return _reuse_or_make(folder, names, label, now)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One emulator at a time checks and writes the folder (parallel test workers may share
    it): none loads a certificate while another replaces its key."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(folder / ".trackmock-tls.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _reuse_or_make(folder: Path, names: tuple[str, ...], label: str, now: datetime) -> ServerTls:
    import trustme

    ca_path, ca_key_path = folder / CA_FILE, folder / CA_KEY_FILE
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    try:
        ca = _usable_ca(ca_path, ca_key_path, now)
    except Unusable as exc:
        ca = trustme.CA(organization_name="trackmock test CA")
        _write(ca_key_path, ca.private_key_pem.bytes(), private=True)
        _write(ca_path, ca.cert_pem.bytes())
        made = f"made a new CA and server certificate ({exc}): clients must trust {ca_path} anew"
    else:
        try:
            _check_server_cert(cert_path, key_path, ca, names, now)
        except Unusable as exc:
            made = f"kept the CA {ca_path}, made a new server certificate ({exc})"
        else:
            made = ""
    if made:
        leaf = ca.issue_cert(*names)
        _write(key_path, leaf.private_key_pem.bytes(), private=True)
        _write(cert_path, b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        log.warning("%s in %s: %s", label, folder, made)
    context = _context()
    context.load_cert_chain(str(cert_path), str(key_path))
    return ServerTls(context, ca_path)


def _read(path: Path, what: str) -> bytes:
    if not path.exists():
        raise Unusable(f"no {what} {path.name}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Unusable(f"its {what} {path.name} cannot be read: {exc.strerror}") from None


def _certificate(pem: bytes, what: str, now: datetime) -> x509.Certificate:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise Unusable(f"its {what} is not a PEM certificate: {exc}") from None
    if cert.not_valid_after_utc <= now:
        raise Unusable(f"its {what} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if cert.not_valid_before_utc > now:
        raise Unusable(f"its {what} is valid only from {cert.not_valid_before_utc:%Y-%m-%d}")
    return cert


def _check_key(cert: x509.Certificate, key_pem: bytes, what: str) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise Unusable(f"the key of its {what} cannot be read: {exc}") from None
    if key.public_key() != cert.public_key():
        raise Unusable(f"its {what} and its key do not belong together")


def _usable_ca(ca_path: Path, key_path: Path, now: datetime) -> trustme.CA:
    import trustme
    from cryptography import x509

    pem = _read(ca_path, "CA")
    key = _read(key_path, "CA key")
    cert = _certificate(pem, "CA", now)
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise Unusable(f"{ca_path.name} is not a CA certificate")
    _check_key(cert, key, "CA")
    return trustme.CA.from_pem(pem, key)


def _check_server_cert(
    cert_path: Path, key_path: Path, ca: trustme.CA, names: tuple[str, ...], now: datetime
) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    cert = _certificate(_read(cert_path, "server certificate"), "server certificate", now)
    _check_key(cert, _read(key_path, "server key"), "server certificate")
    try:
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert_pem.bytes()))
    except (ValueError, TypeError, InvalidSignature):
        raise Unusable("its server certificate was not signed by its CA") from None
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        alternative = x509.SubjectAlternativeName([])
    named = {name.lower() for name in alternative.get_values_for_type(x509.DNSName)}
    named |= {str(address) for address in alternative.get_values_for_type(x509.IPAddress)}
    missing = [name for name in names if _normal(name) not in named]
    if missing:
        raise Unusable(f"its server certificate does not name {', '.join(missing)}")


def _normal(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()
