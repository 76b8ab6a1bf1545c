"""The test CA made by a helper process while ``trackmock serve`` builds the emulators
(``core/ca_launch.py``, ``PreparedCa``): the same CA and certificate as one made in-process, no
private key left on disk, and the in-process way when the helper fails or is not taken."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from trackmock.core import ca_launch, tls

NAMES = ("localhost", "127.0.0.1", "acme.localhost")


def _handshake(server: tls.ServerTls, host: str) -> str:
    """A TLS handshake over a socket pair, the client trusting only the emulator's CA;
    returns the protocol version agreed."""
    assert server.ca_cert is not None
    client_context = ssl.create_default_context(cafile=str(server.ca_cert))
    left, right = socket.socketpair()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            with server.context.wrap_socket(right, server_side=True) as wrapped:
                wrapped.recv(1)
        except (OSError, ssl.SSLError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    with client_context.wrap_socket(left, server_hostname=host) as client:
        version = client.version()
        client.sendall(b"x")
    thread.join(timeout=30)
    assert not errors
    assert version is not None
    return version


def test_a_prepared_ca_serves_tls_for_every_name_and_leaves_no_key_on_disk() -> None:
    ca_launch.prepare_test_ca()
    made = tls.make_server_tls(None, NAMES)
    try:
        assert made.ca_cert is not None
        assert made.temporary is not None
        assert made.ca_cert.parent == made.temporary
        assert stat.S_IMODE(made.temporary.stat().st_mode) == 0o700
        assert [p.name for p in made.temporary.iterdir()] == [tls.CA_FILE]
        for host in ("localhost", "acme.localhost"):
            assert _handshake(made, host) in ("TLSv1.2", "TLSv1.3")
    finally:
        made.cleanup()
    assert not made.temporary.exists()


def test_a_failing_helper_falls_back_to_making_the_ca_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ca_launch.sys, "executable", "/bin/false")
    ca_launch.prepare_test_ca()
    made = tls.make_server_tls(None, NAMES)
    try:
        assert made.ca_cert is not None
        assert made.ca_cert.is_file()
        assert _handshake(made, "localhost") in ("TLSv1.2", "TLSv1.3")
    finally:
        made.cleanup()


def test_a_prepared_ca_nobody_takes_is_discarded() -> None:
    ca_launch.prepare_test_ca()
    prepared = ca_launch._prepared
    assert prepared is not None
    ca_launch.discard_prepared()
    assert ca_launch._prepared is None
    assert prepared._process.returncode is not None
    assert not prepared.folder.exists()


def test_a_kept_folder_does_not_take_the_prepared_ca(tmp_path: Path) -> None:
    """``tls_dir`` keeps its own CA across restarts: a prepared one is not used for it."""
    ca_launch.prepare_test_ca()
    try:
        made = tls.make_server_tls(tmp_path / "tls", NAMES)
        assert made.ca_cert == tmp_path / "tls" / tls.CA_FILE
        assert ca_launch._prepared is not None
    finally:
        ca_launch.discard_prepared()


def test_serve_stops_the_helper_it_started_when_it_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # ``serve`` starts the helper before anything else; off loopback without an admin token it
    # then refuses to start, and the helper must not outlive that (nor its folder).
    from trackmock import cli

    started: list[ca_launch.PreparedCa] = []

    class Recording(ca_launch.PreparedCa):
        def __init__(self) -> None:
            super().__init__()
            started.append(self)

    monkeypatch.delenv("TRACKMOCK_ADMIN_TOKEN", raising=False)
    monkeypatch.setattr(ca_launch, "PreparedCa", Recording)
    ports = ["--tracker-port", "0", "--trackops-port", "0", "--track-port", "0"]
    assert cli.main(["serve", "--host", "0.0.0.0", *ports]) == 1
    assert "TRACKMOCK_ADMIN_TOKEN" in capsys.readouterr().err
    assert len(started) == 1
    assert started[0]._process.returncode is not None
    assert not started[0].folder.exists()
    assert not ca_launch.test_ca_pending()


def test_serve_stops_its_early_helper_once_the_settings_give_trackops_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``serve`` starts the helper before it reads its settings (the command line asked for
    # Trackops with a fresh CA); the settings then keep Trackops' CA in a folder, so the
    # helper is stopped before anything is built.
    from trackmock import cli
    from trackmock.core import server

    class Stop(Exception):
        pass

    started: list[ca_launch.PreparedCa] = []
    pending: list[bool] = []

    class Recording(ca_launch.PreparedCa):
        def __init__(self) -> None:
            super().__init__()
            started.append(self)

    def stop_before_building() -> None:
        pending.append(ca_launch.test_ca_pending())
        raise Stop

    monkeypatch.setattr(ca_launch, "PreparedCa", Recording)
    monkeypatch.setattr(server, "new_event_loop", stop_before_building)
    settings = tmp_path / "settings.json"
    settings.write_text(f'{{"trackops": {{"tls_dir": "{tmp_path / "tls"}"}}}}')
    with pytest.raises(Stop):
        cli.main(
            ["serve", "--vendor", "trackops", "--trackops-port", "0", "--settings", str(settings)]
        )
    assert pending == [False]
    assert len(started) == 1
    assert started[0]._process.returncode is not None
    assert not started[0].folder.exists()
