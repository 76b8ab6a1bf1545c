"""An emulator error: a 500 that says nothing of it, its traceback in the log and the
violations without the request's secrets, and a bounded list of them."""

from __future__ import annotations

import logging

import pytest
import requests
from trackmock.core.emulator import Emulator
from trackmock.core.server import BackgroundRunner, Listener

from .helpers import make_sample

TOKEN = "tok-7f3a9c1e5b2d48e6"
PASSWORD = "pw-Secret-9931x"
ADMIN = "admin-token-5d5d5d5d"


def _serve(**settings: object) -> tuple[Emulator, BackgroundRunner]:
    emulator = make_sample(**settings)
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    return emulator, runner


def test_an_error_answers_no_exception_text_and_logs_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator, runner = _serve(admin_token=ADMIN)
    try:
        with caplog.at_level(logging.ERROR, logger="trackmock"):
            answer = requests.get(
                f"{emulator.base_url}/api/explode?password={PASSWORD}",
                headers={
                    "Authorization": f"Bearer {TOKEN}",
                    "Cookie": f"JSESSIONID={PASSWORD}",
                    "X-Echo": f"{TOKEN} {PASSWORD} {ADMIN}",
                },
                timeout=10,
            )
        assert answer.status_code == 500
        assert "KeyError" not in answer.text
        assert "boom" not in answer.text
        errors = requests.get(
            f"{emulator.base_url}/__admin/violations",
            headers={"X-Trackmock-Admin-Token": ADMIN},
            timeout=10,
        ).json()["errors"]
        assert len(errors) == 1
        assert "KeyError: 'boom [redacted] [redacted] [redacted]'" in errors[0]
        logged = caplog.text
        assert "KeyError" in logged
        for secret in (TOKEN, PASSWORD, ADMIN):
            assert secret not in logged
            assert secret not in errors[0]
    finally:
        runner.stop()


def test_a_violation_does_not_repeat_a_request_secret() -> None:
    emulator, runner = _serve()
    try:
        requests.get(
            f"{emulator.base_url}/api/broken",
            headers={"Authorization": f"Bearer {TOKEN}", "X-Echo": TOKEN},
            timeout=10,
        )
        found = requests.get(f"{emulator.base_url}/__admin/violations", timeout=10).json()
        (violation,) = found["violations"]
        assert "is not of type 'boolean'" in violation["message"]
        assert TOKEN not in violation["message"]
    finally:
        runner.stop()


def test_violations_and_errors_keep_only_the_newest() -> None:
    emulator, runner = _serve(violations_size=5)
    try:
        for _ in range(20):
            requests.get(f"{emulator.base_url}/api/explode", timeout=10)
            requests.get(f"{emulator.base_url}/api/broken", timeout=10)
        found = requests.get(f"{emulator.base_url}/__admin/violations", timeout=10).json()
        assert (len(found["violations"]), len(found["errors"])) == (5, 5)
        assert found["dropped"] == {"violations": 15, "errors": 15}
    finally:
        runner.stop()


def test_a_refusal_quotes_a_few_characters_of_a_huge_value() -> None:
    emulator, runner = _serve()
    try:
        answer = requests.get(
            f"{emulator.base_url}/api/widgets",
            params={"color": "y" * 60_000},
            headers={"Authorization": "Bearer good", "X-Tenant": "1"},
            timeout=10,
        )
        assert answer.status_code == 400
        assert "(60000 characters)" in answer.json()["message"]
        assert len(answer.content) < 1000
    finally:
        runner.stop()
