"""Tokens, cookies and passwords of a capture never reach any report, nor an error message."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from trackmock.core.redact import MASK, Redactor
from trackmock.drift.har import har_document, har_entry

from .support import HOST, run_cli

BEARER = "tok-3f9a6c2e5b1d4e8a9c7f2d4b"
SESSION = "JSESSIONIDVALUE1234567890abc"
PASSWORD = "9ejKJJAYKw3VCWev-secret"
BASIC_PASSWORD = "basic-pass-77aa99"
QUERY_TOKEN = "querytoken-0a1b2c3d4e"
COOKIE = "other-cookie-value-5544"
BODY_TOKEN = "body-token-value-8877"
SECRETS = [BEARER, SESSION, PASSWORD, BASIC_PASSWORD, QUERY_TOKEN, COOKIE, BODY_TOKEN]


def secret_capture(folder: Path) -> Path:
    login = har_entry(
        "POST",
        f"{HOST}/api/session",
        200,
        body=json.dumps({"id": 1, "name": "x", "token": 12345, "email": BODY_TOKEN}),
        request_headers=[("Cookie", f"JSESSIONID={SESSION}; other={COOKIE}")],
        response_headers=[("Set-Cookie", f"JSESSIONID={SESSION}; Path=/api")],
    )
    login["request"]["postData"] = {
        "mimeType": "application/x-www-form-urlencoded",
        "text": f"email=a%40b.de&password={PASSWORD}",
        "params": [{"name": "password", "value": PASSWORD}],
    }
    # Unknown operations echo their path: the path itself carries a secret here.
    unknown = har_entry(
        "GET",
        f"https://user:{BASIC_PASSWORD}@vendor.example/api/nowhere/{QUERY_TOKEN}?api_token={QUERY_TOKEN}",
        200,
        body="{}",
        request_headers=[("Authorization", f"Bearer {BEARER}")],
    )
    unknown["request"]["queryString"] = [{"name": "api_token", "value": QUERY_TOKEN}]
    frames = [
        {"type": "send", "time": 1.0, "opcode": 1, "data": f"token {BEARER}"},
        {"type": "receive", "time": 2.0, "opcode": 1, "data": json.dumps({"x": SESSION})},
    ]
    socket = har_entry(
        "GET", "wss://vendor.example/api/socket", 101, content_type=None, frames=frames
    )
    path = folder / "secrets.har"
    path.write_text(json.dumps(har_document([login, unknown, socket])))
    return path


@pytest.mark.parametrize("form", ["text", "json", "junit"])
def test_no_secret_of_a_capture_reaches_a_report(tmp_path: Path, form: str) -> None:
    capture = secret_capture(tmp_path)
    report = tmp_path / f"report.{form}"
    code, out, err = run_cli(
        "check", "--vendor", "track", "--format", form, "--output", report, capture
    )
    written = report.read_text()
    assert code == 1  # the login answer's `token` has the wrong type
    assert MASK in written  # the wrongly typed `token` value and the path's secret
    for secret in SECRETS:
        assert secret not in written + out + err


def test_an_error_message_is_scrubbed_too(tmp_path: Path) -> None:
    capture = tmp_path / "capture.txt"
    capture.write_text(f"$ curl -u me:{BASIC_PASSWORD} https://h/api/x\nno answer here\n")
    code, out, err = run_cli("check", "--vendor", "track", capture)
    assert code == 2
    assert BASIC_PASSWORD not in out + err


def test_the_redactor_learns_every_kind_of_credential() -> None:
    redactor = Redactor()
    basic = base64.b64encode(b"username:s3cret-pass").decode()
    redactor.learn_header("Authorization", f"Basic {basic}")
    redactor.learn_header("Set-Cookie", "JSESSIONID=abc123xyz789; Path=/api; HttpOnly")
    redactor.learn_url("https://u:pw-123456@h/x?api_key=k-999888777&page=2")
    redactor.learn_form("email=a%40b.de&password=p%40ss-word-1")
    text = (
        "s3cret-pass abc123xyz789 pw-123456 k-999888777 p@ss-word-1 "
        "Bearer eyJhbGciOi.x.y JSESSIONID=zzz password=hunter2 https://bob:pw@h/ page=2"
    )
    scrubbed = redactor.scrub(text)
    for secret in ("s3cret-pass", "abc123xyz789", "pw-123456", "k-999888777", "p@ss-word-1"):
        assert secret not in scrubbed
    for shape in ("eyJhbGciOi", "zzz", "hunter2", "bob:pw"):
        assert shape not in scrubbed
    assert "page=2" in scrubbed
    assert redactor.received(("user", "password"), '"x"') == MASK
    assert redactor.received(("user", "name"), '"x"') == '"x"'
