"""Write HAR 1.2 the way Chrome exports it: from an emulator's journal, or entry by entry.

An emulator's journal (``ControlClient.journal()``) holds every request, response and socket
frame a client exchanged with it; ``journal_to_har`` turns it into the HAR a browser would have
saved, socket frames in ``_webSocketMessages``. A client's test traffic, recorded this way,
is a capture ``trackmock check`` must find no drift in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .. import __version__


def har_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "trackmock", "version": __version__},
            "pages": [],
            "entries": entries,
        }
    }


def _pairs(headers: dict[str, str] | Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    items = headers.items() if isinstance(headers, dict) else headers
    return [{"name": name, "value": value} for name, value in items]


def har_entry(
    method: str,
    url: str,
    status: int,
    *,
    body: str = "",
    content_type: str | None = "application/json",
    request_headers: dict[str, str] | Iterable[tuple[str, str]] = (),
    response_headers: dict[str, str] | Iterable[tuple[str, str]] = (),
    request_body: str | None = None,
    request_content_type: str = "application/json",
    started: str = "2025-02-21T10:00:00.000Z",
    frames: list[dict[str, Any]] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """One HAR entry; ``frames`` are Chrome's ``{"type", "time", "opcode", "data"}``."""
    headers = _pairs(response_headers)
    if content_type and not any(h["name"].lower() == "content-type" for h in headers):
        headers.append({"name": "Content-Type", "value": content_type})
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "httpVersion": "HTTP/1.1",
        "headers": _pairs(request_headers),
        "queryString": [],
        "cookies": [],
        "headersSize": -1,
        "bodySize": len(request_body or ""),
    }
    if request_body is not None:
        request["postData"] = {"mimeType": request_content_type, "text": request_body}
    content: dict[str, Any] = {"size": len(body), "mimeType": content_type or "x-unknown"}
    if body:
        content["text"] = body
        if base64_body:
            content["encoding"] = "base64"
    entry: dict[str, Any] = {
        "startedDateTime": started,
        "time": 1.0,
        "request": request,
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "headers": headers,
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }
    if frames is not None:
        entry["_resourceType"] = "websocket"
        entry["_webSocketMessages"] = frames
    return entry


def _epoch(instant: str) -> float:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp()


def journal_to_har(journal: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    """A HAR of the exchanges in ``journal`` (``ControlClient.journal()``, oldest first)."""
    base = base_url.rstrip("/")
    scheme = "wss" if base.startswith("https") else "ws"
    entries: list[dict[str, Any]] = []
    sockets: dict[int, list[dict[str, Any]]] = {}
    for item in journal:
        kind = item["kind"]
        query = f"?{item['query']}" if item.get("query") else ""
        if kind == "http":
            response = item["response"]
            encoded = "bodyBase64" in response
            entries.append(
                har_entry(
                    item["method"],
                    f"{base}{item['path']}{query}",
                    item["status"],
                    body=response.get("bodyBase64") or response.get("body", ""),
                    content_type=_header(response["headers"], "content-type"),
                    request_headers=item["request"]["headers"],
                    response_headers=response["headers"],
                    request_body=item["request"].get("body") or None,
                    request_content_type=_header(item["request"]["headers"], "content-type")
                    or "application/octet-stream",
                    started=item["time"],
                    base64_body=encoded,
                )
            )
        elif kind == "ws-open":
            frames: list[dict[str, Any]] = []
            sockets[item["connection"]] = frames
            url = f"{scheme}{base.removeprefix('http').removeprefix('s')}{item['path']}{query}"
            entries.append(
                har_entry("GET", url, 101, content_type=None, started=item["time"], frames=frames)
            )
        elif kind in ("ws-out", "ws-in") and item.get("connection") in sockets:
            sockets[item["connection"]].append(
                {
                    "type": "receive" if kind == "ws-out" else "send",
                    "time": _epoch(item["time"]),
                    "opcode": 1,
                    "data": item.get("body", ""),
                }
            )
    return har_document(entries)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)
