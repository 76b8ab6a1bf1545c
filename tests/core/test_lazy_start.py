"""What ``trackmock serve`` leaves out of its start answers right after it.

The ports answer before werkzeug is imported (the health checks parse no query string, cookie
or content type); the first request that needs a parse imports it (``request_view``), and
``serve``'s warm-up thread imports it, and builds the Flask apps, meanwhile. Each test runs
in a fresh interpreter: this one imported werkzeug long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SERVE = """
import json, sys, threading
import requests
import trackmock.cli as cli
from trackmock.core.server import BackgroundRunner

args = cli.build_parser().parse_args(
    ["serve", "--vendor", sys.argv[1], "--tracker-port", "0", "--trackops-port", "0",
     "--track-port", "0"]
)
listeners = cli._listeners(args)
runner = BackgroundRunner(listeners)
runner.start(timeout=60)
emulators = {listener.emulator.name: listener.emulator for listener in listeners}

def url(name, path):
    return emulators[name].base_url + path

def verify(name):
    return emulators[name].ca_cert or True

def loaded():
    return {"werkzeug": "werkzeug" in sys.modules, "flask": "flask" in sys.modules}

out = {}
try:
"""

FIRST_REQUESTS = (
    SERVE
    + """
    name = sys.argv[1]
    health = requests.get(url(name, "/__admin/health"), verify=verify(name), timeout=30)
    out["health"] = health.status_code
    out["after_health"] = loaded()
    creds = emulators[name].credentials()
    if name == "tracker":
        # A query parameter and the Content-Type the SAFE API asks of a GET (TR-05).
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {creds['token']}",
            "OrganizationId": str(creds["organizationId"]),
            "OfficeId": str(creds["officeId"]),
            "StaticToken": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        answer = requests.get(
            url(name, "/api/cases/getByNumber?value=2018-0521-01"), headers=headers, timeout=30
        )
        out["first"] = [answer.status_code, answer.json()["caseNumber"]]
    elif name == "trackops":
        answer = requests.get(
            url(name, "/api/v1/clients?per_page=1"),
            auth=(creds["username"], creds["password"]),
            verify=verify(name),
            timeout=30,
        )
        out["first"] = [answer.status_code, len(answer.json())]
    else:
        # No session cookie (another cookie instead), a query string: the vendor's refusal.
        answer = requests.get(
            url(name, "/api/devices?all=true"), cookies={"other": "1"}, timeout=30
        )
        session = requests.post(
            url(name, "/api/session"),
            data={"email": creds["email"], "password": creds["password"]},
            timeout=30,
        )
        devices = requests.get(
            url(name, "/api/devices?all=true"), cookies=session.cookies, timeout=30
        )
        out["first"] = [answer.status_code, devices.status_code, bool(devices.json())]
    out["after_first"] = loaded()
    errors = requests.get(url(name, "/__admin/violations"), verify=verify(name), timeout=30)
    out["errors"] = errors.json()["errors"]
finally:
    runner.stop()
print(json.dumps(out))
"""
)

RESTORE_WHILE_WARMING = (
    SERVE
    + """
    from trackmock.core.snapshot import take

    # Taken in process, so that nothing has imported werkzeug before the warm-up starts.
    snapshots = {name: json.loads(json.dumps(take(e))) for name, e in emulators.items()}
    out["before"] = loaded()
    # serve's warm-up (werkzeug, then each emulator's Flask app) and a restore (a request
    # with a body: the full path, whose app it builds if the warm-up has not) at once.
    warm_up = threading.Thread(target=cli._build_apps, args=(listeners,))
    warm_up.start()
    out["restored"] = [
        requests.post(
            url(name, "/__admin/snapshot"), json=snapshot, verify=verify(name), timeout=30
        ).status_code
        for name, snapshot in snapshots.items()
    ]
    warm_up.join(60)
    # The same state again (the clock runs on: it is left out).
    out["same"] = [
        {**requests.get(url(name, "/__admin/snapshot"), verify=verify(name), timeout=30).json(),
         "clock": None} == {**snapshot, "clock": None}
        for name, snapshot in snapshots.items()
    ]
    out["errors"] = [
        requests.get(url(name, "/__admin/violations"), verify=verify(name), timeout=30).json()[
            "errors"
        ]
        for name in emulators
    ]
finally:
    runner.stop()
print(json.dumps(out))
"""
)


def _run(script: str, vendor: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script, vendor], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize("vendor", ["tracker", "trackops", "track"])
def test_each_vendors_first_request_after_start_up_parses_as_ever(vendor: str) -> None:
    out = _run(FIRST_REQUESTS, vendor)
    assert out["health"] == 200
    assert out["after_health"] == {"werkzeug": False, "flask": False}
    expected = {
        "tracker": [200, "2018-0521-01"],
        "trackops": [200, 1],
        "track": [401, 200, True],
    }
    assert out["first"] == expected[vendor]
    assert out["after_first"]["werkzeug"] is True  # type: ignore[index]
    assert out["errors"] == []


def test_a_snapshot_restore_while_the_warm_up_runs_answers_and_restores() -> None:
    out = _run(RESTORE_WHILE_WARMING, "all")
    assert out["before"] == {"werkzeug": False, "flask": False}
    assert out["restored"] == [200, 200, 200]
    assert out["same"] == [True, True, True]
    assert out["errors"] == [[], [], []]
