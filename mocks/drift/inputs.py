"""Read captured traffic: HAR 1.2 files, ``curl -i``/``-v`` output, folders of JSON bodies.

- **HAR** as Chrome and Firefox export it (Network tab, "Save all as HAR"), including the
  socket frames Chrome keeps in an entry's ``_webSocketMessages`` (the Track API guide, 3.5
  Analyze WebSocket Traffic, tells integrators to watch the socket there). Bodies may be
  base64 (``content.encoding``).
- **curl output**: what ``curl -i`` prints (status line, headers, body), optionally led by the
  command line (``$ curl -i https://…``) or with ``curl -v``'s ``> GET /path`` request lines,
  which say which operation was called; otherwise the file is named after the operationId
  (``getCaseByNumber.txt``). After a ``101 Switching Protocols`` the rest is the raw socket
  stream (``curl -i … /api/socket --output -``, Track API guide 3.2 Connection Requirements),
  split into frames.
- **A folder of JSON bodies** named by operation: ``<operationId>[.<status>][.<note>].json``
  (status: the operation's success status when left out), or ``<message>.json`` for a socket
  message of the AsyncAPI document.

Headers, cookies, query strings and request bodies are given to the ``Redactor`` to learn their
secrets, and never to the checks.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from ..core.redact import Redactor, learn_body

if TYPE_CHECKING:
    from .client_side import ClientRequest

RECEIVED = "receive"
"""A frame the server sent (Chrome's ``type`` for it)."""
SENT = "send"


class InputError(ValueError):
    """A capture that cannot be used; the message names the file and what to do."""


@dataclass(slots=True)
class Frame:
    direction: str
    """``receive`` (server to client) or ``send``."""
    text: str


@dataclass(slots=True)
class Exchange:
    """One captured response (with what identifies its request), and its socket frames."""

    source: str
    method: str | None
    path: str | None
    status: int | None
    content_type: str | None
    body: str | None
    """The response body as text; None when the capture did not keep it."""
    operation: str | None = None
    """An operationId or message name given by a file name."""
    frames: list[Frame] = field(default_factory=list)
    request: ClientRequest | None = None
    """The whole request, when a proxy saw it (captures never hand requests to the checks)."""


@dataclass(slots=True)
class Capture:
    """One input: its exchanges, read lazily, and how many there are."""

    source: str
    count: int
    exchanges: Iterator[Exchange]


def read_captures(paths: list[Path], redactor: Redactor) -> Iterator[Capture]:
    """Each input in turn; raises ``InputError`` for one that cannot be used."""
    for path in paths:
        if path.is_dir():
            yield _bodies(path)
        elif path.is_file():
            yield _file(path, redactor)
        else:
            raise InputError(f"{path}: no such file or folder")


def _file(path: Path, redactor: Redactor) -> Capture:
    return read_capture(path, path.read_bytes(), redactor)


def read_capture(path: Path, data: bytes, redactor: Redactor) -> Capture:
    """One capture from its bytes (HAR, a JSON body, curl output); ``path`` names it (a file
    read, or an upload's file name)."""
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(document, dict) and isinstance(document.get("log"), dict):
            return _har(path, document, redactor)
        return Capture(str(path), 1, iter([_body(path, path.name, data)]))
    return Capture(str(path), 1, iter([_curl(path, data, redactor)]))


# -- HAR ---------------------------------------------------------------------------------------


def _har(path: Path, document: dict[str, Any], redactor: Redactor) -> Capture:
    entries = document["log"].get("entries")
    if not isinstance(entries, list):
        raise InputError(f"{path}: a HAR file without log.entries")
    return Capture(str(path), len(entries), _har_exchanges(path, entries, redactor))


def _pairs(items: Any) -> list[tuple[str, str]]:
    return [
        (str(item.get("name", "")), str(item.get("value", "")))
        for item in items or []
        if isinstance(item, dict)
    ]


def _har_exchanges(path: Path, entries: list[Any], redactor: Redactor) -> Iterator[Exchange]:
    for index, entry in enumerate(entries, 1):
        source = f"{path.name} entry {index}"
        request = entry.get("request") if isinstance(entry, dict) else None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise InputError(f"{path}: entry {index} lacks a request or a response")
        _learn_har_request(request, redactor)
        headers = _pairs(response.get("headers"))
        redactor.learn_headers(headers)
        redactor.learn_fields(_pairs(response.get("cookies")))
        content = response.get("content") or {}
        content_type = next(
            (value for name, value in headers if name.lower() == "content-type"),
            content.get("mimeType") or None,
        )
        url = str(request.get("url", ""))
        status = response.get("status")
        yield Exchange(
            source=source,
            method=str(request.get("method", "GET")).upper(),
            path=urlsplit(url).path or "/",
            status=status if isinstance(status, int) and status > 0 else None,
            content_type=content_type,
            body=_har_body(content),
            frames=_har_frames(entry.get("_webSocketMessages")),
        )


def _learn_har_request(request: dict[str, Any], redactor: Redactor) -> None:
    redactor.learn_url(str(request.get("url", "")))
    redactor.learn_headers(_pairs(request.get("headers")))
    redactor.learn_fields(_pairs(request.get("cookies")))
    redactor.learn_fields(_pairs(request.get("queryString")))
    post = request.get("postData") or {}
    redactor.learn_fields(_pairs(post.get("params")))
    text = post.get("text")
    if isinstance(text, str):
        learn_body(text, redactor)


def _har_body(content: dict[str, Any]) -> str | None:
    text = content.get("text")
    if not isinstance(text, str):
        # Chrome leaves `text` out of empty bodies; a non-empty one it did not keep is unknown.
        return "" if content.get("size", 0) in (0, -1) else None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
    return text


def _har_frames(messages: Any) -> list[Frame]:
    frames = []
    for message in messages or []:
        # opcode 1 is a text frame; binary and control frames carry no JSON message.
        if isinstance(message, dict) and message.get("opcode", 1) == 1:
            direction = RECEIVED if message.get("type") == RECEIVED else SENT
            frames.append(Frame(direction, str(message.get("data", ""))))
    return frames


# -- a folder of bodies ----------------------------------------------------------------------------


def _bodies(folder: Path) -> Capture:
    files = sorted(p for p in folder.rglob("*.json") if p.is_file())
    if not files:
        raise InputError(f"{folder}: no *.json bodies in this folder")
    exchanges = (_body(p, str(p.relative_to(folder.parent)), p.read_bytes()) for p in files)
    return Capture(str(folder), len(files), exchanges)


def _body(path: Path, source: str, data: bytes) -> Exchange:
    parts = path.name.split(".")[:-1]
    status = next((int(p) for p in parts[1:] if re.fullmatch(r"[1-5]\d\d", p)), None)
    return Exchange(
        source=source,
        method=None,
        path=None,
        status=status,
        content_type="application/json",
        body=data.decode("utf-8", "replace"),
        operation=parts[0],
    )


# -- curl output ---------------------------------------------------------------------------------

_STATUS_LINE = re.compile(rb"^(?:< )?HTTP/\d(?:\.\d)? (\d{3})[^\r\n]*\r?\n", re.MULTILINE)
_HEAD_END = re.compile(rb"\r?\n(?:< ?)?\r?\n")
# Options that take a value (so the value is not mistaken for the URL).
_CURL_VALUE_OPTIONS = frozenset(
    {
        "-H", "--header", "-d", "--data", "--data-raw", "--data-binary", "--data-ascii",
        "--data-urlencode", "-u", "--user", "-b", "--cookie", "-c", "--cookie-jar", "-o",
        "--output", "-X", "--request", "-A", "--user-agent", "-e", "--referer", "-F", "--form",
        "--url", "-w", "--write-out", "-m", "--max-time", "--connect-timeout", "--cacert",
        "--cert", "--key", "-x", "--proxy", "-T", "--upload-file", "-K", "--config",
        "--resolve", "-E",
    }
)  # fmt: skip
_DATA_OPTIONS = frozenset(
    {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode", "-F"}
)


def _curl(path: Path, data: bytes, redactor: Redactor) -> Exchange:
    text = data.decode("utf-8", "surrogateescape")
    method, target = _curl_request(text, redactor)
    matches = list(_STATUS_LINE.finditer(data))
    # Skip interim answers (100 Continue), a proxy's CONNECT answer and redirects (-L):
    # the last status block is the answer; a 101 is followed by the socket stream.
    chosen = None
    for found in matches:
        chosen = found
        if found.group(1) == b"101":
            break
    if chosen is None:
        raise InputError(
            f"{path}: no HTTP status line; keep curl's -i output (status line, headers, body)"
        )
    status = int(chosen.group(1))
    head_end = _HEAD_END.search(data, chosen.end() - 2)
    head = data[chosen.end() : head_end.start() if head_end else len(data)]
    rest = data[head_end.end() :] if head_end else b""
    headers = _curl_headers(head)
    redactor.learn_headers(headers)
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    frames = socket_frames(rest) if status == 101 else []
    body = "" if status == 101 else rest.decode("utf-8", "replace")
    return Exchange(
        source=path.name,
        method=method,
        path=target,
        status=status,
        content_type=content_type,
        body=body,
        operation=None if target else path.name.split(".")[0],
        frames=frames,
    )


def _curl_headers(head: bytes) -> list[tuple[str, str]]:
    headers = []
    for raw in head.decode("latin-1").splitlines():
        line = raw[2:] if raw.startswith("< ") else raw
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return headers


def _curl_request(text: str, redactor: Redactor) -> tuple[str | None, str | None]:
    """Method and path from ``curl -v``'s ``> GET /path`` line or a leading curl command."""
    method = target = None
    for line in text.splitlines():
        if line.startswith("> "):
            request = re.match(r"> ([A-Z]+) (\S+) HTTP/", line)
            if request:
                method, target = request.group(1), urlsplit(request.group(2)).path
            elif ":" in line:
                name, value = line[2:].split(":", 1)
                redactor.learn_header(name.strip(), value.strip())
    command = _curl_command(text)
    if command is not None:
        found_method, url = _parse_curl_command(command, redactor)
        if target is None and url is not None:
            method, target = found_method, urlsplit(url).path or "/"
    return method, target


def _curl_command(text: str) -> str | None:
    """The curl command line at the top, with its ``\\`` continuations joined."""
    lines = text.splitlines()
    for start, line in enumerate(lines[:20]):
        stripped = line.lstrip("$# ").lstrip()
        if stripped.startswith("curl "):
            command = stripped
            index = start
            while command.endswith("\\") and index + 1 < len(lines):
                index += 1
                command = command[:-1] + " " + lines[index].strip()
            return command
    return None


def _parse_curl_command(command: str, redactor: Redactor) -> tuple[str, str | None]:
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    method, url, has_data = None, None, False
    index = 1
    while index < len(words):
        word = words[index]
        value = words[index + 1] if index + 1 < len(words) else ""
        if word in _CURL_VALUE_OPTIONS:
            index += 2
            if word in ("-X", "--request"):
                method = value.upper()
            elif word in ("-H", "--header") and ":" in value:
                name, header_value = value.split(":", 1)
                redactor.learn_header(name.strip(), header_value.strip())
            elif word in ("-u", "--user"):
                redactor.learn(value)
                redactor.learn(value.split(":", 1)[-1])
            elif word in ("-b", "--cookie") and "=" in value:
                redactor.learn_cookies(value)
            elif word in _DATA_OPTIONS:
                has_data = True
                redactor.learn_form(value)
            elif word == "--url":
                url = value
            continue
        if word in ("-I", "--head"):
            method = method or "HEAD"
        elif not word.startswith("-") and url is None:
            url = word
        index += 1
    if url is not None:
        redactor.learn_url(url)
    return method or ("POST" if has_data else "GET"), url


def socket_frames(stream: bytes) -> list[Frame]:
    """Server frames from a raw RFC 6455 stream; if it is not one (a pasted log), the JSON
    values found in the text."""
    frames: list[Frame] = []
    at = 0
    while at + 2 <= len(stream):
        first, second = stream[at], stream[at + 1]
        opcode, length = first & 0x0F, second & 0x7F
        # Server frames are unmasked, use no extension bits and a known opcode.
        if second & 0x80 or first & 0x70 or opcode not in (0x0, 0x1, 0x2, 0x8, 0x9, 0xA):
            return _json_values(stream)
        at += 2
        if length == 126:
            length, at = int.from_bytes(stream[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(stream[at : at + 8], "big"), at + 8
        if at + length > len(stream):
            return _json_values(stream)
        if opcode in (0x0, 0x1):
            frames.append(Frame(RECEIVED, stream[at : at + length].decode("utf-8", "replace")))
        at += length
    return frames


def _json_values(stream: bytes) -> list[Frame]:
    text = stream.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    frames = []
    at = text.find("{")
    while at != -1:
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            at = text.find("{", at + 1)
            continue
        frames.append(Frame(RECEIVED, json.dumps(value)))
        at = text.find("{", end)
    return frames
