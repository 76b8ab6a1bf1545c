"""`trackmock serve` options for integrations: the admin token from the environment, CORS, TLS
with your own certificate, a CA kept across restarts (a real process each time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import trustme

SERVE = [sys.executable, "-m", "trackmock.cli", "serve"]
TOKEN_HEADER = "X-Trackmock-Admin-Token"


@contextmanager
def serving(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], dict[str, dict[str, object]]]]:
    """``trackmock serve ARGS`` on free ports until the block ends; its ready file."""
    ready = tmp_path / "ready.json"
    ready.unlink(missing_ok=True)
    process = subprocess.Popen(
        [*SERVE, "--ready-file", str(ready), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the ready file is written
        assert line, process.stderr.read() if process.stderr else ""
        yield process, json.loads(ready.read_text())
    finally:
        process.terminate()
        process.wait(10)


def test_the_admin_token_comes_from_the_environment_and_stays_out_of_ps(tmp_path: Path) -> None:
    secret = "s3cret-from-the-environment"
    args = ("--vendor", "tracker", "--tracker-port", "0")
    with serving(tmp_path, *args, env={"TRACKMOCK_ADMIN_TOKEN": secret}) as (process, ready):
        url = str(ready["tracker"]["url"])
        refused = requests.post(f"{url}/__admin/reset", timeout=10)
        assert refused.status_code == 401
        allowed = requests.post(f"{url}/__admin/reset", headers={TOKEN_HEADER: secret}, timeout=10)
        assert allowed.status_code == 204
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert secret.encode() not in command_line
        assert secret not in json.dumps(ready)
    flag = "--admin-token=from-the-flag"
    with serving(tmp_path, *args, flag, env={"TRACKMOCK_ADMIN_TOKEN": secret}) as (_, ready):
        url = str(ready["tracker"]["url"])
        wins = requests.post(
            f"{url}/__admin/reset", headers={TOKEN_HEADER: "from-the-flag"}, timeout=10
        )
        assert wins.status_code == 204


def test_cors_from_the_command_line(tmp_path: Path) -> None:
    args = (
        "--vendor",
        "track",
        "--track-port",
        "0",
        "--cors",
        "http://localhost:3000, https://b.test",
    )
    with serving(tmp_path, *args) as (_, ready):
        answer = requests.options(
            f"{ready['track']['url']}/api/devices",
            headers={"Origin": "https://b.test", "Access-Control-Request-Method": "GET"},
            timeout=10,
        )
        assert answer.status_code == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "https://b.test"


def own_certificate(folder: Path) -> tuple[Path, Path, Path]:
    ca = trustme.CA(organization_name="our own CA")
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    cert, key, ca_file = folder / "server.pem", folder / "server-key.pem", folder / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    return cert, key, ca_file


def test_trackops_serves_your_own_certificate(tmp_path: Path) -> None:
    cert, key, ca_file = own_certificate(tmp_path)
    base = ("--vendor", "trackops", "--trackops-port", "0", "--tls-cert", str(cert))
    with serving(tmp_path, *base, "--tls-key", str(key), "--tls-ca", str(ca_file)) as (_, ready):
        info = ready["trackops"]
        assert info["ca_cert"] == str(ca_file)
        health = requests.get(f"{info['url']}/__admin/health", verify=str(ca_file), timeout=10)
        assert health.json()["vendor"] == "trackops"
    with serving(tmp_path, *base, "--tls-key", str(key)) as (_, ready):
        # No CA listed: the system's CAs are to trust it. The server got ready all the same
        # (its own probe does not check a certificate it cannot know the trust of).
        assert "ca_cert" not in ready["trackops"]
        url = f"{ready['trackops']['url']}/__admin/health"
        assert requests.get(url, verify=str(ca_file), timeout=10).status_code == 200


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert, _, _ = own_certificate(tmp_path)
    run = subprocess.run(
        [*SERVE, "--vendor", "trackops", "--trackops-port", "0", "--tls-cert", str(cert)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert (
        "trackmock: a TLS certificate needs its key: give both tls_cert and tls_key" in run.stderr
    )


def test_a_restart_keeps_the_ca_in_tls_dir(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"trackops: {{tls_dir: {tls}}}\n")
    args = ("--vendor", "trackops", "--trackops-port", "0", "--settings", str(settings))
    seen = []
    for start in range(2):
        with serving(tmp_path, *args) as (process, ready):
            ca_file = str(ready["trackops"]["ca_cert"])
            seen.append(Path(ca_file).read_bytes())
            answer = requests.get(
                f"{ready['trackops']['url']}/__admin/health", verify=ca_file, timeout=10
            )
            assert answer.status_code == 200
        assert process.stderr is not None
        said = process.stderr.read()
        if start == 0:
            assert f"trackops TLS in {tls}: made a new CA and server certificate" in said
        else:
            assert "made a new" not in said
    assert seen[0] == seen[1]
