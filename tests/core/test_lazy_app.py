"""The Flask app of the full path is built on the first request that needs it, once.

``trackmock serve`` starts without importing Flask: the health checks and the hot GETs take
the fast path. The first request the routing table leaves to Flask builds the app (and
imports Flask); it answers as it would have with an app built at start (the byte-for-byte
comparison of both paths is in ``test_fast_path.py``, whose full-path twin builds its app on
its first request).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from flask import Flask
from trackmock.core import flask_app
from trackmock.core.emulator import Emulator
from trackmock.core.settings import CoreSettings
from trackmock.vendors import create_emulator

SERVE_THEN_ASK = """
import http.client, json, sys
import trackmock.cli as cli
from trackmock.core.server import BackgroundRunner

args = cli.build_parser().parse_args(
    ["serve", "--tracker-port", "0", "--trackops-port", "0", "--track-port", "0"]
)
listeners = cli._listeners(args)
runner = BackgroundRunner(listeners)
runner.start(timeout=60)
out = {"vendors": list(args.vendor), "listeners": [l.emulator.name for l in listeners]}

def ask(listener, path):
    emulator = listener.emulator
    host, port = emulator.base_url.split("://")[1].split(":")
    if emulator.ca_cert:
        import ssl
        context = ssl.create_default_context(cafile=emulator.ca_cert)
        connection = http.client.HTTPSConnection(
            "localhost", int(port), context=context, timeout=30
        )
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()

try:
    out["health"] = [ask(l, "/__admin/health")[0] for l in listeners]
    out["flask_after_health"] = "flask" in sys.modules
    out["apps_after_health"] = [l.emulator._app is not None for l in listeners]
    out["unknown"] = [ask(l, "/no/such/path") for l in listeners]
    out["flask_after_unknown"] = "flask" in sys.modules
    out["apps_after_unknown"] = [l.emulator._app is not None for l in listeners]
finally:
    runner.stop()
print(json.dumps(out))
"""


def test_serve_imports_flask_only_when_a_request_needs_the_full_path() -> None:
    # A fresh interpreter: this one has imported Flask long ago.
    done = subprocess.run(
        [sys.executable, "-c", SERVE_THEN_ASK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # Trackops is built last (its test CA comes from a helper) but listed as asked.
    assert out["listeners"] == out["vendors"]
    assert out["health"] == [200] * len(out["vendors"])
    assert out["flask_after_health"] is False
    assert out["apps_after_health"] == [False] * len(out["vendors"])
    # An unknown path is the full path's to answer: each emulator builds its app then, and
    # answers 404 in its vendor's shape.
    assert [status for status, _ in out["unknown"]] == [404] * len(out["vendors"])
    assert all("/no/such/path" in body for _, body in out["unknown"])
    assert out["flask_after_unknown"] is True
    assert out["apps_after_unknown"] == [True] * len(out["vendors"])


def test_the_app_is_built_once_when_threads_ask_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = create_emulator("track", CoreSettings(), {})
    built: list[Emulator] = []
    build = flask_app.build_app

    def counting(emulator_: Emulator) -> Flask:
        built.append(emulator_)
        return build(emulator_)

    monkeypatch.setattr(flask_app, "build_app", counting)
    start = threading.Barrier(8)
    apps: list[object] = []

    def ask() -> None:
        start.wait(timeout=30)
        apps.append(emulator.app)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert built == [emulator]
    assert len(apps) == 8
    assert all(app is apps[0] for app in apps)
