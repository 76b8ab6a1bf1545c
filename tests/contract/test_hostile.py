"""Hostile values in every operation of every contract: never a server error.

For each document the conformance suite tests (``schemathesis_targets.TARGETS``: every
vendor's API and control actions, and the core control API on each emulator), every operation
is sent requests built from its contract, over a real socket, with one hostile value in one
place. Every kind of hostile value goes into every operation, each kind into another of its
places in turn (its path, query and header parameters, the body as a whole, each field of a
JSON body); then Hypothesis puts generated text (NUL bytes, lone surrogates, any code point)
into places of operations it picks.

Hostile values: a number of 5 000 digits (more than Python converts), its negative, an
exponent that overflows, 100 000 levels of nesting, NUL bytes, a lone surrogate, a 512 KB
string. Every answer must be below 500 and carry no exception text, and the emulator must have
recorded no error (``/__admin/violations``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trackmock.core.contracts import Contract, Operation, Parameter
from trackmock.pytest_plugin import EmulatorHandle

from .schemathesis_targets import TARGETS, Target

LONG = "9" * 5000


@dataclass(frozen=True)
class Hostile:
    """One hostile value: as text (path, query, header, form) and as JSON text (a body)."""

    name: str
    text: str
    json: str
    head: str = ""
    """The text in a request's head (path, query, headers), when shorter than ``text``: the
    server refuses heads over 64 KB before any emulator sees them."""

    def in_head(self) -> str:
        return self.head or self.text


HOSTILE = (
    Hostile("long number", LONG, LONG),
    Hostile("long negative number", "-" + LONG, "-" + LONG),
    Hostile("overflowing exponent", "1e99999", "1e99999"),
    Hostile(
        "deep nesting",
        "[" * 100_000 + "]" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        head="[" * 2000 + "]" * 2000,
    ),
    Hostile("NUL bytes", "a\x00b\x00", '"a\\u0000b\\u0000"'),
    Hostile("lone surrogate", "\ud800x", '"\\ud800x"'),
    Hostile("huge string", "A" * 512 * 1024, '"' + "A" * 512 * 1024 + '"', head="A" * 16384),
)
EXCEPTION_TEXT = re.compile(
    r"Traceback|\b(?:Value|Type|Key|Index|Attribute|Recursion|Overflow|Unicode\w*|Runtime|"
    r"Assertion|Lookup|Name|ZeroDivision|JSONDecode|JSONEncode)(?:Error|Exception)\b"
)


def _encoded(text: str) -> str:
    """Percent-encoded UTF-8, a lone surrogate as the bytes a hostile client would send."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _header_value(text: str) -> str | None:
    """A header can carry any byte but NUL and line breaks, and no white space around it (the
    client refuses them; HTTP drops the latter anyway)."""
    value = text.encode("utf-8", "surrogatepass").decode("latin-1").strip()
    if not value or any(c in value for c in "\x00\r\n"):
        return None
    return value


@dataclass
class Client:
    """Requests to one emulator as the conformance suite sends them (auth, tenant headers)."""

    handle: EmulatorHandle
    target: Target
    http: requests.Session = field(default_factory=requests.Session)
    headers: dict[str, str] = field(default_factory=dict)
    get_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http.trust_env = False
        access = self.target.access(self.handle) if self.target.access else {}
        self.http.verify = access.get("tls-verify", True)
        for scheme in access.get("auth", {}).get("openapi", {}).values():
            if "bearer" in scheme:
                self.headers["Authorization"] = f"Bearer {scheme['bearer']}"
            else:
                pair = f"{scheme['username']}:{scheme['password']}".encode()
                self.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        self.headers.update(access.get("headers", {}))
        if self.target.tenant:
            self.headers.update(self.target.tenant(self.handle))
        for extra in access.get("operations", []):
            if extra.get("include-method") == "GET":
                self.get_headers.update(extra.get("headers", {}))

    def send(self, request: Request) -> requests.Response:
        headers = {**self.headers, **(self.get_headers if request.method == "GET" else {})}
        headers.update(request.headers)
        query = "&".join(f"{quote(k)}={v}" for k, v in request.query)
        url = self.handle.url + request.path + (f"?{query}" if query else "")
        return self.http.request(
            request.method, url, headers=headers, data=request.body, timeout=60
        )


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    """Names and percent-encoded values."""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def describe(self) -> str:
        return f"{self.method} {self.path[:120]} query={[k for k, _ in self.query]}"


def _schema(contract: Contract, node: Any, where: str) -> dict[str, Any]:
    resolved, _ = contract.deref(node, where)
    return resolved if isinstance(resolved, dict) else {}


def _plain(schema: dict[str, Any]) -> str:
    """A value a parameter of ``schema`` takes (any value does: only the hostile one counts)."""
    if "enum" in schema:
        return (
            str(schema["enum"][0]).lower()
            if isinstance(schema["enum"][0], bool)
            else str(schema["enum"][0])
        )
    if "default" in schema and not isinstance(schema["default"], list | dict):
        return (
            str(schema["default"]).lower()
            if isinstance(schema["default"], bool)
            else str(schema["default"])
        )
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind in ("integer", "number"):
        return str(schema.get("minimum", 1))
    if kind == "boolean":
        return "true"
    if schema.get("format") == "date-time":
        return "2025-02-21T10:00:00Z"
    if kind == "array":
        return _plain(schema.get("items") if isinstance(schema.get("items"), dict) else {})
    return "x" * max(int(schema.get("minLength", 1)), 1)


@dataclass(frozen=True)
class Place:
    """Where a hostile value goes: a parameter, the whole body, or one field of a JSON body."""

    kind: str
    """``path``, ``query``, ``header``, ``cookie``, ``body`` or ``field``."""
    name: str = ""


def places(operation: Operation) -> list[Place]:
    found = [Place(p.location, p.name) for p in operation.parameters]
    if operation.body:
        found.append(Place("body"))
        media, uri = next(iter(operation.body.items()))
        if "json" in media:
            schema = _schema(operation.contract, operation.contract.resolve(uri), uri)
            found += [Place("field", name) for name in sorted(schema.get("properties", {}))]
    return found


def build(operation: Operation, place: Place, hostile: Hostile) -> Request | None:
    """The request of ``operation`` with ``hostile`` at ``place`` (None: it cannot go there)."""
    values: dict[tuple[str, str], str] = {}
    parameters: list[Parameter] = list(operation.parameters)
    for param in parameters:
        if param.required or (param.location, param.name) == (place.kind, place.name):
            values[(param.location, param.name)] = _plain(param.schema)
    request = Request(operation.method.upper(), "")
    headers: dict[str, str] = {}
    for (location, name), value in values.items():
        hostile_here = (location, name) == (place.kind, place.name)
        if location == "header":
            text = _header_value(hostile.in_head()) if hostile_here else value
            if text is None:
                return None
            headers[name] = text
        elif location == "cookie":
            text = _header_value(hostile.in_head()) if hostile_here else value
            if text is None or ";" in text:
                return None
            headers["Cookie"] = f"{name}={text}"
        elif location == "query":
            request.query.append((name, _encoded(hostile.in_head() if hostile_here else value)))
    path = operation.path
    for param in parameters:
        if param.location == "path":
            hostile_here = (param.location, param.name) == (place.kind, place.name)
            text = hostile.in_head() if hostile_here else values[("path", param.name)]
            path = path.replace("{" + param.name + "}", _encoded(text))
    request.path = path
    request.headers = headers
    if operation.body:
        media = next(iter(operation.body))
        headers["Content-Type"] = media
        if place.kind == "body":
            request.body = (
                hostile.json if "json" in media else f"x={_encoded(hostile.text)}"
            ).encode("utf-8", "surrogatepass")
        elif place.kind == "field" and "json" in media:
            request.body = ('{"' + place.name + '":' + hostile.json + "}").encode(
                "utf-8", "surrogatepass"
            )
        elif "json" in media:
            request.body = b"{}"
        else:
            request.body = b""
    return request


def requests_for(operation: Operation) -> Iterator[tuple[str, Request]]:
    """Each hostile kind once, each in the next of the operation's places (and every kind in
    the body as a whole): a few requests per operation that still reach every place."""
    where = places(operation)
    body = [p for p in where if p.kind == "body"]
    others = [p for p in where if p.kind != "body"] or body
    for turn, hostile in enumerate(HOSTILE):
        chosen = [*body, others[turn % len(others)]] if others else body
        for place in dict.fromkeys(chosen):
            request = build(operation, place, hostile)
            if request is not None:
                yield f"{hostile.name} in {place.kind} {place.name}".strip(), request


def check(answer: requests.Response, operation: Operation, what: str) -> str | None:
    """What is wrong with an answer to a hostile request (None: nothing). A 5xx the operation
    documents (Track's socket answers 503 without a session) is the vendor's answer."""
    if answer.status_code >= 500 and str(answer.status_code) not in operation.responses:
        return f"{what}: {answer.status_code} {answer.text[:200]!r}"
    found = EXCEPTION_TEXT.search(answer.text)
    if found:
        return f"{what}: the answer carries exception text {found.group(0)!r}"
    return None


def _operations(target: Target) -> list[Operation]:
    return sorted(Contract.from_path(target.document).operations.values(), key=lambda o: o.id)


def _errors(handle: EmulatorHandle) -> list[str]:
    found = handle.control.violations()
    handle.control.clear_violations()
    return [error.splitlines()[0] for error in found["errors"]]


GENERATED = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), min_size=1, max_size=64
)
"""Any code point, lone surrogates and NUL included."""


def _every_kind_everywhere(client: Client, target: Target) -> tuple[int, list[str]]:
    """Each hostile kind in each operation (``requests_for``): how many sent, what failed."""
    problems: list[str] = []
    sent = 0
    for operation in _operations(target):
        for what, request in requests_for(operation):
            sent += 1
            answer = client.send(request)
            problem = check(answer, operation, f"{operation.id} {what} {request.describe()}")
            if problem:
                problems.append(problem)
    return sent, problems


def _generated_text_anywhere(client: Client, target: Target) -> None:
    """Hypothesis: generated text into places of operations it picks (40 cases)."""
    operations = [op for op in _operations(target) if places(op)]

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data(), text=GENERATED)
    def run(data: st.DataObject, text: str) -> None:
        operation = data.draw(st.sampled_from(operations), label="operation")
        place = data.draw(st.sampled_from(places(operation)), label="place")
        request = build(operation, place, Hostile("generated", text, json.dumps(text)))
        if request is None:
            return
        problem = check(client.send(request), operation, f"{operation.id} {place} {text!r}")
        assert problem is None, problem

    run()


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_hostile_values_never_cause_a_server_error(
    target: Target, make_emulator: Callable[..., EmulatorHandle]
) -> None:
    handle = make_emulator(target.vendor, **target.settings)
    client = Client(handle, target)
    sent, problems = _every_kind_everywhere(client, target)
    assert sent > 0
    assert not problems, f"{len(problems)} of {sent} hostile requests:\n" + "\n".join(problems)
    _generated_text_anywhere(client, target)
    client.http.close()
    assert not _errors(handle), "the emulator recorded errors"


# -- the attacks of issue 11, each answered in its vendor's words ------------------------------


def test_deep_json_to_tracker_is_its_400(make_emulator: Callable[..., EmulatorHandle]) -> None:
    """100 000 levels of nesting: Tracker once parsed the body again with the stdlib and
    answered 500 (RecursionError)."""
    target = next(t for t in TARGETS if t.name == "tracker-api")
    client = Client(make_emulator("tracker", **target.settings), target)
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in (deep, b'{"caseNumber":' + b"[" * 300 + b"]" * 300 + b"}"):
        answer = client.send(
            Request("POST", "/api/cases", headers={"Content-Type": "application/json"}, body=body)
        )
        assert answer.status_code == 400
        assert answer.json()["message"] == "The request is invalid."


LONG_NUMBER_REFUSALS = {
    "tracker-api": [
        ("/api/cases/{n}", [], 400),
        ("/api/cases/typeahead", [("pageSize", "{n}")], 400),
    ],
    "trackops-api": [("/api/v1/cases", [("page", "{n}")], 400), ("/api/v1/cases/{n}", [], 400)],
    # Jersey matches no resource for a path id that is not a long: Track's 404.
    "track-api": [("/api/positions", [("deviceId", "{n}")], 400), ("/api/devices/{n}", [], 404)],
    "core-control-on-track": [("/__admin/journal", [("since", "{n}")], 400)],
}


@pytest.mark.parametrize("name", sorted(LONG_NUMBER_REFUSALS))
def test_a_5000_digit_number_gets_the_vendors_refusal(
    name: str, make_emulator: Callable[..., EmulatorHandle]
) -> None:
    """More than 4 300 digits: Python's int() refuses them (ValueError), which was a 500."""
    target = next(t for t in TARGETS if t.name == name)
    client = Client(make_emulator(target.vendor, **target.settings), target)
    for path, query, status in LONG_NUMBER_REFUSALS[name]:
        filled = [(key, value.replace("{n}", LONG)) for key, value in query]
        answer = client.send(Request("GET", path.replace("{n}", LONG), filled))
        assert answer.status_code == status, answer.text[:300]
        assert LONG not in answer.text, "the refusal quotes a few digits, not all of them"
    client.http.close()
