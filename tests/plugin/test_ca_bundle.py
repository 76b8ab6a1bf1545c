"""``REQUESTS_CA_BUNDLE`` (set in many CI images) wins over a requests ``Session.verify``: the
plugin and the reference clients must trust the emulator's CA all the same.

Every test here sets the variable to a bundle that does not hold the emulator's CA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme
from trackmock.clients.track import TrackClient
from trackmock.clients.tracker import TrackerClient
from trackmock.clients.trackops import TrackopsClient
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings
from trackmock.core.tls import make_server_tls
from trackmock.pytest_plugin import EmulatorHandle
from trackmock.vendors import create_emulator

from .project import run_pytest, write

SEED_NUMBER = "2018-0521-01"
"""A case of the Tracker fixture files (from the SAFE API Overview)."""


@pytest.fixture
def wrong_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bundle = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(bundle))
    return bundle


@pytest.fixture
def tls_served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A Tracker or Track emulator served over TLS (they serve plain HTTP by default): URL, CA."""
    emulator = create_emulator(request.param, CoreSettings(clock_frozen=True))
    emulator.tls = make_server_tls(tmp_path / "tls")
    emulator.ca_cert = str(emulator.tls.ca_cert)
    runner = BackgroundRunner([Listener(emulator, tls=emulator.tls.context)])
    runner.start()
    yield emulator.base_url, emulator.ca_cert
    runner.stop()


def test_the_pitfall_a_session_verify_is_overridden(
    wrong_bundle: Path, trackmock_trackops: EmulatorHandle
) -> None:
    session = requests.Session()
    session.verify = trackmock_trackops.ca_cert
    with pytest.raises(requests.exceptions.SSLError):
        session.get(trackmock_trackops.url_for("/__admin/health"), timeout=10)
    answer = session.get(
        trackmock_trackops.url_for("/__admin/health"),
        verify=trackmock_trackops.ca_cert,  # per request: this one wins
        timeout=10,
    )
    assert answer.status_code == 200


def test_the_plugins_control_client_keeps_the_emulators_ca(
    wrong_bundle: Path, trackmock_trackops: EmulatorHandle
) -> None:
    trackmock_trackops.reset()
    assert trackmock_trackops.control.health()["vendor"] == "trackops"
    assert trackmock_trackops.assert_received("GET", "/api/v1/*", times=0) == 0


def test_the_trackops_client_keeps_its_ca(
    wrong_bundle: Path, trackmock_trackops: EmulatorHandle
) -> None:
    creds = trackmock_trackops.credentials
    client = TrackopsClient(
        trackmock_trackops.url,
        creds["username"].removesuffix("/token"),
        creds["password"],
        ca_cert=trackmock_trackops.ca_cert,
        clock=trackmock_trackops.clock,
    )
    assert client.get("clients", per_page=1)


@pytest.mark.parametrize("tls_served", ["tracker"], indirect=True)
def test_the_tracker_client_keeps_its_ca(wrong_bundle: Path, tls_served: tuple[str, str]) -> None:
    url, ca_cert = tls_served
    client = TrackerClient(url, "3f9a6c2e-5b1d-4e8a-9c7f-2d4b6e8a0c11", 1, 1, verify=ca_cert)
    assert client.get_case_by_number(SEED_NUMBER)["caseNumber"] == SEED_NUMBER


@pytest.mark.parametrize("tls_served", ["track"], indirect=True)
def test_the_track_client_keeps_its_ca(wrong_bundle: Path, tls_served: tuple[str, str]) -> None:
    url, ca_cert = tls_served
    client = TrackClient(url, "account@yourdomain.de", "9ejKJJAYKw3VCWev", verify=ca_cert)
    assert client.login()["email"] == "account@yourdomain.de"
    assert client.devices()
    client.logout()


def test_a_project_run_with_a_wrong_bundle_passes(tmp_path: Path, wrong_bundle: Path) -> None:
    write(
        tmp_path,
        {
            "test_tls.py": """
                def test_trackops(trackmock_trackops):
                    assert trackmock_trackops.ca_cert
                    trackmock_trackops.clock.advance(5)
                    trackmock_trackops.assert_received("GET", "/api/*", times=0)
            """
        },
    )
    run = run_pytest(tmp_path, env={"REQUESTS_CA_BUNDLE": str(wrong_bundle)})
    assert run.returncode == 0, run.stdout
    assert "1 passed" in run.stdout
