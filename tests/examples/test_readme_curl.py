"""The README's first calls with curl, run with a real curl against the emulators, and the
Tracker row of its table checked against the curl that works."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from trackmock.pytest_plugin import EmulatorHandle

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
DEFAULTS = {
    "tracker": "http://127.0.0.1:8081",
    "trackops": "https://127.0.0.1:8082",
    "track": "http://127.0.0.1:8083",
}

pytestmark = pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")), reason="curl and jq (.ci/run installs them)"
)


def first_calls() -> str:
    section = README.split("### First calls with curl", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def tracker_row_headers() -> list[str]:
    (row,) = [line for line in README.splitlines() if line.startswith("| Tracker Products SAFE")]
    login = row.split("|")[3]
    return [
        h for h in re.findall(r"`([A-Za-z-]+: [^`]+)`", login) if "json" not in h or "Accept" in h
    ]


def run_script(
    script: str, handles: list[EmulatorHandle], folder: Path
) -> subprocess.CompletedProcess[str]:
    ready = {
        h.vendor: {"url": h.url, "credentials": h.credentials, "ca_cert": h.ca_cert}
        for h in handles
    }
    (folder / "ready.json").write_text(json.dumps(ready))
    for handle in handles:
        script = script.replace(DEFAULTS[handle.vendor], handle.url)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder)}  # no CURL_CA_BUNDLE and the like
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_readmes_first_calls_work_as_written(
    tmp_path: Path,
    trackmock_tracker: EmulatorHandle,
    trackmock_trackops: EmulatorHandle,
    trackmock_track: EmulatorHandle,
) -> None:
    handles = [trackmock_tracker, trackmock_trackops, trackmock_track]
    run = run_script(first_calls(), handles, tmp_path)
    assert run.returncode == 0, run.stderr
    answers, rest, decoder = [], run.stdout.strip(), json.JSONDecoder()
    while rest:  # the four answers, printed back to back
        answer, end = decoder.raw_decode(rest)
        answers.append(answer)
        rest = rest[end:].strip()
    case, clients, user, devices = answers
    assert case["caseNumber"] == "2018-0521-01"
    assert len(clients) == 1
    assert user["email"] == "account@yourdomain.de"
    assert devices


def test_a_curl_built_from_the_tracker_row_gets_an_answer(
    tmp_path: Path, trackmock_tracker: EmulatorHandle
) -> None:
    headers = tracker_row_headers()
    assert "Content-Type: application/x-www-form-urlencoded" in headers
    url = f"{DEFAULTS['tracker']}/api/cases/getByNumber?value=2018-0521-01"
    command = ["curl", "-fsS", f"'{url}'"] + [f"-H '{h}'" for h in headers]
    run = run_script(" ".join(command), [trackmock_tracker], tmp_path)
    assert run.returncode == 0, run.stderr
    without = [h for h in headers if not h.startswith("Content-Type")]
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"'{url}'"]
    command += [f"-H '{h}'" for h in without]
    run = run_script(" ".join(command), [trackmock_tracker], tmp_path)
    assert run.stdout == "400"  # why the row names it
