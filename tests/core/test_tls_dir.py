"""TLS that survives restarts: the test CA and certificate kept in ``tls_dir`` are reused while
usable, made anew (with one log line saying why) when absent or unusable; and the user's own
certificate and key are served as given."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings
from trackmock.core.tls import CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE, make_server_tls
from trackmock.vendors import create_emulator

NAMES = ("localhost", "127.0.0.1")


def files(folder: Path) -> dict[str, bytes]:
    return {
        name: (folder / name).read_bytes() for name in (CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE)
    }


def handshake(context: ssl.SSLContext, ca_file: Path, hostname: str = "localhost") -> None:
    """One TLS handshake served with ``context`` by a client that trusts only ``ca_file``
    (raises ``ssl.SSLError`` when the client does not trust what it is shown)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(10)

        def serve() -> None:
            accepted, _ = server.accept()
            with contextlib.suppress(OSError), context.wrap_socket(accepted, server_side=True):
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client_context = ssl.create_default_context(cafile=str(ca_file))
        with (
            socket.create_connection(server.getsockname(), timeout=10) as raw,
            client_context.wrap_socket(raw, server_hostname=hostname),
        ):
            pass
        thread.join(10)


def test_a_second_start_reuses_the_ca_and_the_certificate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="trackmock"):
        first = make_server_tls(tmp_path, NAMES, label="trackops TLS")
    assert first.ca_cert == tmp_path / CA_FILE
    (line,) = caplog.messages
    assert line.startswith(
        f"trackops TLS in {tmp_path}: made a new CA and server certificate (no CA"
    )
    kept = files(tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / CA_KEY_FILE).stat().st_mode & 0o777 == 0o600
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="trackmock"):
        second = make_server_tls(tmp_path, NAMES)
    assert caplog.messages == []
    assert files(tmp_path) == kept
    assert first.ca_cert is not None
    handshake(second.context, first.ca_cert)  # a client of the first start still trusts it
    stranger = tmp_path / "stranger.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(second.context, stranger)


def test_an_expired_ca_is_made_anew_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_server_tls(tmp_path, NAMES)
    caplog.clear()
    old = files(tmp_path)
    later = datetime(3001, 1, 1, tzinfo=UTC)  # trustme's certificates end in the year 3000
    with caplog.at_level(logging.WARNING, logger="trackmock"):
        tls = make_server_tls(tmp_path, NAMES, now=later)
    (line,) = caplog.messages
    assert "made a new CA and server certificate (its CA expired on 3000-01-01)" in line
    assert "clients must trust" in line
    assert files(tmp_path)[CA_FILE] != old[CA_FILE]
    assert tls.ca_cert is not None
    handshake(tls.context, tls.ca_cert)


def test_a_certificate_missing_a_name_is_reissued_by_the_kept_ca(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_server_tls(tmp_path, NAMES)
    caplog.clear()
    old = files(tmp_path)
    with caplog.at_level(logging.WARNING, logger="trackmock"):
        tls = make_server_tls(tmp_path, (*NAMES, "acme.localhost"))
    (line,) = caplog.messages
    assert "kept the CA" in line
    assert "does not name acme.localhost" in line
    now = files(tmp_path)
    assert now[CA_FILE] == old[CA_FILE]
    assert now[CERT_FILE] != old[CERT_FILE]
    handshake(tls.context, tmp_path / CA_FILE, hostname="acme.localhost")


def _garbage(folder: Path) -> None:
    (folder / CA_FILE).write_text("not a certificate")


def _no_key(folder: Path) -> None:
    (folder / CA_KEY_FILE).unlink()


def _other_key(folder: Path) -> None:
    (folder / CA_KEY_FILE).write_bytes(trustme.CA().private_key_pem.bytes())


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_garbage, "its CA is not a PEM certificate"),
        (_no_key, "no CA key trackmock-ca-key.pem"),
        (_other_key, "its CA and its key do not belong together"),
    ],
    ids=["garbage", "no-key", "other-key"],
)
def test_an_unusable_ca_is_made_anew(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[Path], None],
    reason: str,
) -> None:
    make_server_tls(tmp_path, NAMES)
    caplog.clear()
    damage(tmp_path)
    with caplog.at_level(logging.WARNING, logger="trackmock"):
        tls = make_server_tls(tmp_path, NAMES)
    (line,) = caplog.messages
    assert f"made a new CA and server certificate ({reason}" in line
    assert tls.ca_cert is not None
    handshake(tls.context, tls.ca_cert)


def test_an_unreadable_ca_is_made_anew(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_server_tls(tmp_path, NAMES)
    caplog.clear()
    read_bytes = Path.read_bytes

    def refuse_the_ca(path: Path) -> bytes:
        if path.name == CA_FILE:
            raise PermissionError(13, "Permission denied")
        return read_bytes(path)

    # Root reads any file, so the refusal a non-root container user gets is simulated.
    monkeypatch.setattr(Path, "read_bytes", refuse_the_ca)
    with caplog.at_level(logging.WARNING, logger="trackmock"):
        make_server_tls(tmp_path, NAMES)
    (line,) = caplog.messages
    assert "(its CA trackmock-ca.pem cannot be read: Permission denied)" in line


def test_a_certificate_signed_by_another_ca_is_reissued(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_server_tls(tmp_path, NAMES)
    caplog.clear()
    stranger = trustme.CA().issue_cert(*NAMES)
    (tmp_path / CERT_FILE).write_bytes(stranger.cert_chain_pems[0].bytes())
    (tmp_path / KEY_FILE).write_bytes(stranger.private_key_pem.bytes())
    with caplog.at_level(logging.WARNING, logger="trackmock"):
        make_server_tls(tmp_path, NAMES)
    (line,) = caplog.messages
    assert "kept the CA" in line
    assert "was not signed by its CA" in line


def test_your_own_certificate_and_key_are_served(tmp_path: Path) -> None:
    ca = trustme.CA(organization_name="your own CA")
    leaf = ca.issue_cert("localhost")
    cert, key, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    tls = make_server_tls(tmp_path / "unused", cert_file=cert, key_file=key, ca_file=ca_file)
    assert tls.ca_cert == ca_file
    assert not (tmp_path / "unused").exists()
    assert make_server_tls(cert_file=cert, key_file=key).ca_cert is None
    with pytest.raises(ValueError, match="needs its key"):
        make_server_tls(cert_file=cert)
    other_key = tmp_path / "other-key.pem"
    trustme.CA().issue_cert("localhost").private_key_pem.write_to_path(str(other_key))
    with pytest.raises(ValueError, match=f"certificate {cert} with the key {other_key} cannot"):
        make_server_tls(cert_file=cert, key_file=other_key)


@pytest.fixture
def trackops_twice(tmp_path: Path) -> list[str]:
    """The Trackops emulator started, stopped and started again on one tls_dir: both CAs."""
    seen = []
    for _ in range(2):
        emulator = create_emulator(
            "trackops", CoreSettings(clock_frozen=True), {"tls_dir": str(tmp_path)}
        )
        assert emulator.tls is not None
        runner = BackgroundRunner([Listener(emulator, tls=emulator.tls.context)])
        runner.start()
        runner.stop()
        assert emulator.ca_cert is not None
        seen.append(Path(emulator.ca_cert).read_text())
    return seen


def test_a_restarted_trackops_serves_the_same_ca(trackops_twice: list[str]) -> None:
    first, second = trackops_twice
    assert first == second


def test_emulators_starting_together_on_one_folder_share_one_ca(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Parallel test workers may share a tls_dir: one makes the CA, the others reuse it."""
    with caplog.at_level(logging.WARNING, logger="trackmock"), ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda _: make_server_tls(tmp_path, NAMES), range(4)))
    assert len(caplog.messages) == 1
    for tls in made:
        handshake(tls.context, tmp_path / CA_FILE)
