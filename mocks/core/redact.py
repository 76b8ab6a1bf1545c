"""Keep secrets out of every report, journal, log and HAR: one set of rules for all of them.

``trackmock check``, ``proxy`` and ``probe`` (their reports and HAR files) and the emulators
(their journal, violations and logs) use these rules. Three guards, each enough on its own
for what it covers:

1. The readers never hand headers, cookies, query strings or request bodies to the checks;
   they only hand them to ``Redactor.learn_*``, which remembers the secret values in them.
2. A value found under a field whose name sounds secret (``password``, ``token`` …) is shown as
   ``[redacted]`` (``Redactor.received``).
3. Every string a report writes passes ``Redactor.scrub``: it removes each remembered value
   (as sent, percent-decoded and base64-decoded) and anything shaped like a credential
   (``Bearer …``, ``JSESSIONID=…``, ``password=…``, ``user:pass@`` in a URL).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import orjson

MASK = "[redacted]"
_MIN_SECRET = 6
"""Shorter values are not scrubbed by value (they would hit ids and words); guard 1 covers them."""

SENSITIVE_NAME = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|auth|cookie|session|credential"
    r"|signature|private[-_]?key",
    re.IGNORECASE,
)
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
_COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
_SHAPES = re.compile(
    r"(?P<scheme>\b(?:Bearer|Basic|Digest|Token)[ \t]+)[A-Za-z0-9._~+/=:-]+"
    r"|(?P<pair>\b(?:JSESSIONID|[A-Za-z_-]*(?:pass(?:word)?|pwd|token|secret|api[-_]?key|session)"
    r"[A-Za-z_-]*)=)[^\s&;,\"']+"
    r"|(?P<userinfo>://)[^/\s:@]+:[^/\s@]+@",
    re.IGNORECASE,
)


def sensitive(name: str) -> bool:
    """Whether a header, field or parameter name sounds like it holds a secret."""
    return bool(SENSITIVE_NAME.search(name))


class Redactor:
    """Remembers the secrets of the captures read so far, and removes them from text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def learn(self, value: str) -> None:
        """Remember ``value`` (and its decoded forms) as a secret."""
        for form in _forms(value.strip()):
            if len(form) >= _MIN_SECRET and form not in self._secrets:
                self._secrets.add(form)
                self._pattern = None

    def learn_header(self, name: str, value: str) -> None:
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            self.learn_cookies(value)
        if lowered in _SECRET_HEADERS or sensitive(name):
            self.learn(value)
            # "Bearer abc", "Basic dXNlcjpwYXNz": the credential is the last word.
            self.learn(value.rsplit(" ", 1)[-1])

    def learn_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        for name, value in headers:
            self.learn_header(name, value)

    def learn_cookies(self, header: str) -> None:
        # Set-Cookie attributes (Path, Expires …) are not secret; every cookie value is.
        first = header.split(";", 1)[0] if "=" in header.split(";", 1)[0] else header
        for part in (header, first):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(part)
            except CookieError:
                continue
            for morsel in jar.values():
                self.learn(morsel.value)
        for piece in header.split(";"):
            if "=" in piece:
                self.learn(piece.split("=", 1)[1])

    def learn_url(self, url: str) -> None:
        """Userinfo and every query value named like a secret (``api_token=…``)."""
        parts = urlsplit(url)
        if parts.password:
            self.learn(parts.password)
            self.learn(f"{parts.username}:{parts.password}")
        self.learn_form(parts.query)

    def learn_form(self, text: str) -> None:
        """``a=1&password=…``: values of secret-sounding names."""
        for name, value in parse_qsl(text, keep_blank_values=False):
            if sensitive(name):
                self.learn(value)

    def learn_fields(self, fields: Iterable[tuple[str, str]]) -> None:
        for name, value in fields:
            if sensitive(name):
                self.learn(value)

    def received(self, path: Iterable[str], text: str) -> str:
        """``text`` (a value seen at ``path``), or the mask when the path names a secret."""
        return MASK if any(sensitive(part) for part in path) else text

    def scrub(self, text: str) -> str:
        """``text`` with every remembered secret and credential-shaped string masked."""
        if self._secrets:
            if self._pattern is None:
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, ordered)))
            text = self._pattern.sub(MASK, text)
        return _SHAPES.sub(_mask_shape, text)


def _mask_shape(match: re.Match[str]) -> str:
    for group in ("scheme", "pair"):
        if match.group(group):
            return match.group(group) + MASK
    return f"://{MASK}@"


def _forms(value: str) -> set[str]:
    """The value, percent-decoded, and base64-decoded (Basic auth) with its ``user:pass`` parts."""
    forms = {value, unquote(value), unquote(value.replace("+", " "))}
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded.isprintable() and ":" in decoded:
        forms |= {decoded, *decoded.split(":", 1)}
    return {form for form in forms if form}


def learn_body(text: str, redactor: Redactor) -> None:
    """Secret-named fields of a request body, JSON or form (a login's password)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        redactor.learn_form(text)
        return
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if isinstance(item, str):
                    redactor.learn_fields([(key, item)])
                else:
                    stack.append(item)
        elif isinstance(node, list):
            stack.extend(node)


# -- masking: what a written exchange shows in place of a secret ----------------------------


def _mask_cookies(value: str, *, set_cookie: bool) -> str:
    """Every cookie value masked, names kept; a Set-Cookie's attributes (Path …) kept."""
    parts = value.split(";")
    for index, piece in enumerate(parts):
        name, equals, _ = piece.partition("=")
        if equals and (index == 0 or not set_cookie):
            parts[index] = f"{name}={MASK}"
    return ";".join(parts)


def mask_header(name: str, value: str) -> str:
    """``value`` of header ``name`` as written: cookie values and credentials masked (the
    scheme of ``Authorization`` kept: ``Bearer [redacted]``)."""
    lowered = name.lower()
    if lowered in _COOKIE_HEADERS:
        return _mask_cookies(value, set_cookie=lowered == "set-cookie")
    if lowered in _SECRET_HEADERS or sensitive(name):
        scheme = value.split(" ", 1)[0] if " " in value else ""
        return f"{scheme} {MASK}" if scheme else MASK
    return value


def mask_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, mask_header(name, value)) for name, value in headers]


def mask_query(query: str) -> str:
    """A query string with the values of secret-named parameters masked (unchanged when it
    has none)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(sensitive(name) for name, _ in pairs):
        return query
    return urlencode([(k, MASK if sensitive(k) else v) for k, v in pairs])


def masked_json(value: Any) -> Any:
    """A JSON value with every string under a secret-named field masked."""
    if isinstance(value, dict):
        return {
            k: MASK if sensitive(k) and isinstance(v, str) else masked_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked_json(v) for v in value]
    return value


def mask_body(text: str) -> str:
    """A request body (JSON or form) with secret-named fields masked; other text unchanged."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return mask_query(text) if "=" in text else text
    masked = masked_json(value)
    return text if masked == value else orjson.dumps(masked).decode()
