"""Reference client of the Trackops REST API: what Trackops API overview asks of a client.

- HTTP basic auth with ``{username}/token`` and the company API token, over TLS only, trusting
  a given CA (the emulator's test CA) or the system's.
- Never more than 1 request per second: a token bucket on an injectable clock (tests pass the
  emulator's clock, so waiting moves emulated time). A 429 anyway is waited out
  (``Retry-After``) and retried a bounded number of times.
- Collections page by page (``per_page`` up to 100), stopping at an empty or short page.
- ``sync(objects, cache)`` keeps new and updated records in a local SQLite cache (TO-16):
  each run asks only for records updated since the newest ``updated_at`` it has seen.

Errors are ``TrackopsError`` subclasses (``trackmock.clients.base.ClientError``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from .base import ClientError, Clock, SystemClock

API_PREFIX = "/api/v1/"
MAX_PER_PAGE = 100
VOLATILE_FIELDS = ("download_url", "download_url_expires_at")
"""Fields a response issues afresh (a file link valid 15 minutes): never cached."""


class TrackopsError(ClientError):
    """The API refused a call, or could not be reached."""


class BadRequest(TrackopsError):
    """400: an invalid parameter or body; ``parameter`` names it when the API says."""

    @property
    def parameter(self) -> str | None:
        error = self.body.get("error", {}) if isinstance(self.body, dict) else {}
        return error.get("parameter")


class AuthenticationFailed(TrackopsError):
    """401: missing or wrong credentials (``{username}/token`` and the API token)."""


class AccessDenied(TrackopsError):
    """403: the user may not use the API (Limited Access, client contact, inactive), or API
    access is not activated for the account, or a download link expired."""


class NotFound(TrackopsError):
    """404: a wrong URL, record or account."""


class RateLimited(TrackopsError):
    """429 still after the allowed retries."""


class Unreachable(TrackopsError):
    """No answer: connection refused, TLS failure, timeout."""


_ERRORS: dict[int, type[TrackopsError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: AccessDenied,
    404: NotFound,
    429: RateLimited,
}


class TokenBucket:
    """At most ``rate`` requests per second on average, at most ``burst`` at once.

    ``margin`` seconds are added to every wait, so a server measuring arrival times on its own
    clock never sees two requests closer than allowed.
    """

    def __init__(self, clock: Clock, rate: float = 1.0, burst: int = 1, margin: float = 0.0):
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.clock = clock
        self.rate = rate
        self.burst = burst
        self.margin = margin
        self._tokens = float(burst)
        self._updated: float | None = None

    def take(self) -> None:
        """Wait (on the clock) until a token is free, and take it."""
        now = self.clock.now()
        if self._updated is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / self.rate
            self.clock.sleep(wait + self.margin)
            self._updated = now + wait + self.margin
            self._tokens = 1.0
        self._tokens -= 1


class TrackopsClient:
    """One user of one Trackops account.

    Args:
        base_url: ``https://{subdomain}.viewcases.com`` (or the emulator's URL).
        username: the employee's login name; the client sends ``{username}/token``.
        api_token: the company API token.
        ca_cert: a CA file to trust (the emulator's), else the system's CAs.
        host: a Host header to send (an emulator account behind ``127.0.0.1``:
            ``acme.localhost``); None sends the URL's host.
        clock: where the client reads time and waits (default: real time).
        rate: requests per second at most (the API allows 1).
        max_retries: how often a 429 is waited out and retried before ``RateLimited``.
        margin: seconds added to each wait of the token bucket.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        api_token: str,
        *,
        ca_cert: str | Path | None = None,
        host: str | None = None,
        clock: Clock | None = None,
        rate: float = 1.0,
        max_retries: int = 3,
        margin: float = 0.05,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock: Clock = clock or SystemClock()
        self.bucket = TokenBucket(self.clock, rate=rate, margin=margin)
        self.max_retries = max_retries
        self.timeout = timeout
        self.verify: str | bool = str(ca_cert) if ca_cert else True
        self.http = requests.Session()
        self.http.auth = (f"{username}/token", api_token)
        self.http.headers["Accept"] = "application/json"
        if host:
            self.http.headers["Host"] = host

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TrackopsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """``cases`` -> ``{base}/api/v1/cases``; absolute URLs and ``/api/...`` pass."""
        if path.startswith(("https://", "http://")):
            return path
        if path.startswith("/api/"):
            return self.base_url + path
        return self.base_url + API_PREFIX + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """Send one call (throttled, 429s retried); raise a ``TrackopsError`` on refusal."""
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        for attempt in range(self.max_retries + 1):
            self.bucket.take()
            try:
                # ``verify`` per call: requests lets REQUESTS_CA_BUNDLE override a session's.
                response = self.http.request(
                    method,
                    self.url(path),
                    params=query,
                    json=body,
                    verify=self.verify,
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                raise Unreachable(f"{method} {path}: {exc}") from exc
            if response.status_code == 429 and attempt < self.max_retries:
                self.clock.sleep(_retry_after(response))
                continue
            if response.status_code >= 400:
                raise _error(method, path, response)
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params).json()

    def create(self, path: str, body: Any) -> dict[str, Any]:
        """POST a record (``cases`` takes ``{"casefile": {...}}``); returns the created record."""
        found: dict[str, Any] = self.request("POST", path, body=body).json()
        return found

    def record(self, path: str, record_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self.get(f"{path}/{record_id}")
        return found

    def count(self, path: str, **filters: Any) -> dict[str, int]:
        """``{"record_count", "page_count"}`` of a collection (``mode=count``)."""
        found: dict[str, int] = self.get(path, mode="count", **filters)
        return found

    def download(self, url: str) -> bytes:
        """The bytes behind a file record's ``download_url`` (valid 15 minutes)."""
        return self.request("GET", url).content

    # -- collections ------------------------------------------------------------------------

    def pages(
        self, path: str, *, per_page: int = MAX_PER_PAGE, **filters: Any
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a collection, from page 1; an empty or short page is the last."""
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        number = 1
        while True:
            page: list[dict[str, Any]] = self.get(path, per_page=per_page, page=number, **filters)
            if page:
                yield page
            if len(page) < per_page:
                return
            number += 1

    def iterate(self, path: str, **options: Any) -> Iterator[dict[str, Any]]:
        """Every record of a collection (``pages`` options and filters apply)."""
        for page in self.pages(path, **options):
            yield from page

    def sync(self, objects: Iterable[str], store: TrackopsCache | str | Path) -> dict[str, int]:
        """Bring the local cache up to date with new and updated records (TO-16).

        ``objects`` are collection paths (``cases``, ``case/updates``). Each asks, oldest first,
        for records updated since the newest ``updated_at`` the cache has seen (the API's
        ``updated_from`` includes that second, so nothing updated in it is missed; records seen
        again are written once more). Returns, per object, how many records were new or changed.
        """
        cache = store if isinstance(store, TrackopsCache) else TrackopsCache(store)
        changed: dict[str, int] = {}
        for name in objects:
            watermark = cache.watermark(name)
            newest = watermark
            changed[name] = 0
            for page in self.pages(name, dir="asc", updated_from=watermark):
                changed[name] += cache.upsert(name, page)
                newest = max([newest or "", *(r["updated_at"] for r in page)])
            # Only a complete pass moves the watermark: pages come in id order, not by time.
            if newest and newest != watermark:
                cache.set_watermark(name, newest)
        return changed


class TrackopsCache:
    """A local SQLite store of Trackops records, per object, with a sync watermark each."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.db = sqlite3.connect(str(path))
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS records (
                object TEXT NOT NULL, id INTEGER NOT NULL, updated_at TEXT NOT NULL,
                data TEXT NOT NULL, PRIMARY KEY (object, id));
            CREATE TABLE IF NOT EXISTS sync_state (
                object TEXT PRIMARY KEY, watermark TEXT NOT NULL);
            """
        )

    def close(self) -> None:
        self.db.close()

    def watermark(self, name: str) -> str | None:
        """The newest ``updated_at`` stored for ``name`` (None before the first sync)."""
        row = self.db.execute("SELECT watermark FROM sync_state WHERE object = ?", (name,))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def upsert(self, name: str, records: list[dict[str, Any]]) -> int:
        """Store ``records`` (new or newer); returns how many changed the cache."""
        changed = 0
        with self.db:
            for record in records:
                kept = {k: v for k, v in record.items() if k not in VOLATILE_FIELDS}
                data = json.dumps(kept, sort_keys=True)
                old = self.db.execute(
                    "SELECT data FROM records WHERE object = ? AND id = ?", (name, record["id"])
                ).fetchone()
                if old is not None and old[0] == data:
                    continue
                self.db.execute(
                    "INSERT OR REPLACE INTO records (object, id, updated_at, data) "
                    "VALUES (?, ?, ?, ?)",
                    (name, record["id"], record["updated_at"], data),
                )
                changed += 1
        return changed

    def set_watermark(self, name: str, value: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO sync_state (object, watermark) VALUES (?, ?)",
                (name, value),
            )

    def records(self, name: str) -> list[dict[str, Any]]:
        """Every cached record of ``name``, in id order."""
        rows = self.db.execute(
            "SELECT data FROM records WHERE object = ? ORDER BY id", (name,)
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def get(self, name: str, record_id: int) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM records WHERE object = ? AND id = ?", (name, record_id)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _retry_after(response: requests.Response) -> float:
    try:
        return max(float(response.headers.get("Retry-After", "1")), 0.0)
    except ValueError:
        return 1.0


def _error(method: str, path: str, response: requests.Response) -> TrackopsError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message = body.get("error", {}).get("message") if isinstance(body, dict) else None
    kind = _ERRORS.get(response.status_code, TrackopsError)
    return kind(
        f"{method} {path}: {response.status_code} {message or response.reason}",
        status=response.status_code,
        body=body,
    )
