"""Reference client of Safectory Track: the REST API (``TrackClient``) and the socket feed
(``TrackFeed``), doing what the Track API guide (docs/vendors/sources.md) asks of a client;
sections are cited by their number and heading.

- Log in with ``POST /api/session`` (form ``email``/``password``); the ``JSESSIONID`` cookie
  (path ``/api``) authenticates everything after. A 401 later means the web session expired
  (SF-09): the client logs in again once and repeats the call.
- Updates send the whole object (4.1 API Endpoints in General): GET it, change fields, PUT
  all of it (4.7 Updating Entities).
- The feed answers every PING with ``pong <uuid>`` at once (3.3 Ping/Pong Mechanism), merges
  the initial push and the changes into a live view, reconnects (logging in again when the
  upgrade says 503) when the socket closes, and ignores keys and fields it does not know (SF-22).
- Timestamps come as ``…+0000`` or ``…+00:00`` (SF-23): ``parse_time`` reads both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
import requests

from .base import ClientError

log = logging.getLogger("trackmock.clients.track")

Record = dict[str, Any]
COOKIE = "JSESSIONID"


class TrackError(ClientError):
    """Any refusal of the Track API (``status`` and ``body`` hold the answer)."""


class LoginFailed(TrackError):
    """Wrong email or password, or a disabled or expired user (401 on login)."""


class NotLoggedIn(TrackError):
    """401 even after logging in again."""


class BadRequest(TrackError):
    """400: a parameter or body the server refuses (the text says which)."""


class NotFound(TrackError):
    """404: no such record, or one this user does not see."""


class NotAcceptable(TrackError):
    """406: the server would answer another type than JSON (reports)."""


_ERRORS: dict[int, type[TrackError]] = {400: BadRequest, 404: NotFound, 406: NotAcceptable}


def parse_time(text: str) -> datetime:
    """A Track timestamp as an aware UTC datetime: ``2020-01-14T10:18:44.514+0000``,
    ``2025-02-21T10:05:04.906+00:00`` or ``…Z`` (SF-23)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    elif len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = value[:-2] + ":" + value[-2:]
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no offset")
    return parsed.astimezone(UTC)


def format_time(when: datetime) -> str:
    """A datetime as the vendor document's report script writes it: UTC, milliseconds, ``Z``."""
    if when.tzinfo is None:
        raise ValueError("give an aware datetime")
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TrackClient:
    """The REST API of one Track instance, as one user.

    Args:
        base_url: ``https://track.safectory.com`` (paths start with ``/api``).
        email: the login.
        password: its password.
        verify: TLS verification (a CA file, or False).
        timeout: seconds per request.
    """

    def __init__(
        self,
        base_url: str,
        email: str,
        password: str,
        *,
        verify: Any = True,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.email = email
        self.password = password
        self.timeout = timeout
        self.verify = verify
        self.http = requests.Session()
        self.user: Record | None = None

    @property
    def session_id(self) -> str | None:
        """The ``JSESSIONID`` of the current login (what the socket needs)."""
        return self.http.cookies.get(COOKIE, path="/api")

    # -- session ---------------------------------------------------------------------------

    def login(self) -> Record:
        """Log in (2 Login); returns the user. Raises ``LoginFailed``."""
        self.http.cookies.clear()
        answer = self.http.post(
            f"{self.base_url}/api/session",
            data={"email": self.email, "password": self.password},
            timeout=self.timeout,
            verify=self.verify,
        )
        # The vendor document's scripts test a login by the presence of ``name`` in the answer.
        if answer.status_code != 200 or "name" not in answer.text:
            raise LoginFailed(
                f"login as {self.email} failed: {answer.status_code} {answer.text.strip()}",
                status=answer.status_code,
                body=answer.text,
            )
        self.user = answer.json()
        return self.user

    def logout(self) -> None:
        if self.session_id is not None:
            self.http.delete(
                f"{self.base_url}/api/session", timeout=self.timeout, verify=self.verify
            )
        self.http.cookies.clear()

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if self.session_id is None:
            self.login()
        url = f"{self.base_url}/api/{path.lstrip('/')}"
        # ``verify`` per call: requests lets REQUESTS_CA_BUNDLE override a session's.
        answer = self.http.request(method, url, timeout=self.timeout, verify=self.verify, **kwargs)
        if answer.status_code == 401:
            # The web session ended (inactivity, SF-09): log in again, once.
            self.login()
            answer = self.http.request(
                method, url, timeout=self.timeout, verify=self.verify, **kwargs
            )
        if answer.status_code >= 400:
            error = NotLoggedIn if answer.status_code == 401 else _ERRORS.get(answer.status_code)
            raise (error or TrackError)(
                f"{method} {url}: {answer.status_code} {answer.text.strip()}",
                status=answer.status_code,
                body=answer.text,
            )
        return answer

    def _get(self, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return orjson.loads(self._call("GET", path, params=query).content)

    # -- reads -----------------------------------------------------------------------------

    def devices(self) -> list[Record]:
        """Every device of the user (4.4 Devices)."""
        return list(self._get("devices"))

    def device_by_name(self, name: str) -> Record | None:
        """The device with this name, as 3.6 Retrieve Beacon RSSI and 4.6 Reports find it."""
        return next((d for d in self.devices() if d.get("name") == name), None)

    def beacons(self) -> list[Record]:
        """Every beacon of the user (4.5 Beacons)."""
        return list(self._get("beacons"))

    def positions(self) -> list[Record]:
        """The latest position of each of the user's devices (4.2 Retrieving Position
        Information)."""
        return list(self._get("positions"))

    def positions_by_id(self, *ids: int) -> list[Record]:
        """These positions (4.3.1 PositionId Filter)."""
        return list(self._get("positions", id=list(ids)))

    def latest_position(self, device_id: int) -> Record | None:
        """The device's latest position (4.3.2 DeviceId Filter), or None."""
        found = self._get("positions", deviceId=device_id)
        return found[0] if found else None

    def route(
        self,
        device_id: int,
        start: datetime,
        end: datetime,
        *,
        filter_same_location: bool = False,
        filter_flapping: bool = False,
    ) -> list[Record]:
        """The device's positions between ``start`` and ``end`` (4.6 Reports), as JSON."""
        params = {
            "deviceId": device_id,
            "from": format_time(start),
            "to": format_time(end),
            "filterSameLocation": str(filter_same_location).lower(),
            "filterFlapping": str(filter_flapping).lower(),
        }
        answer = self._call(
            "GET", "reports/route", params=params, headers={"Accept": "application/json"}
        )
        return list(orjson.loads(answer.content))

    # -- writes ------------------------------------------------------------------------------

    def create_device(self, device: Record) -> Record:
        return dict(orjson.loads(self._call("POST", "devices", json=device).content))

    def create_beacon(self, beacon: Record) -> Record:
        return dict(orjson.loads(self._call("POST", "beacons", json=beacon).content))

    def update_device(self, device_id: int, **changes: Any) -> Record:
        """GET the device, change ``changes``, PUT the whole object (4.1 API Endpoints in
        General)."""
        return self._update("devices", self.devices(), device_id, changes)

    def update_beacon(self, beacon_id: int, **changes: Any) -> Record:
        """GET the beacon, change ``changes``, PUT the whole object (4.7 Updating Entities)."""
        return self._update("beacons", self.beacons(), beacon_id, changes)

    def _update(self, path: str, rows: list[Record], record_id: int, changes: Record) -> Record:
        current = next((row for row in rows if row.get("id") == record_id), None)
        if current is None:
            raise NotFound(f"no {path[:-1]} {record_id} among this user's {path}", status=404)
        answer = self._call(
            "PUT",
            f"{path}/{record_id}",
            json={**current, **changes},
            headers={"Accept": "*/*"},
        )
        return dict(orjson.loads(answer.content))


class FeedState:
    """The client side of the socket without I/O: what to answer, and the live view.

    ``receive(text)`` takes one frame and returns the frames to send back (a pong for a PING).
    The view keeps devices and beacons by id, and each device's latest position by id.
    """

    def __init__(self) -> None:
        self.devices: dict[int, Record] = {}
        self.beacons: dict[int, Record] = {}
        self.positions: dict[int, Record] = {}
        self._position_of: dict[Any, int] = {}
        self.web_session_timeout: int | None = None
        self.pongs: list[str] = []
        """UUIDs answered, in order."""
        self.ignored: int = 0
        """Frames that were not JSON or had no key this client knows (SF-22)."""

    def clear(self) -> None:
        """Forget the view (a new socket starts with a new initial push)."""
        self.devices.clear()
        self.beacons.clear()
        self.positions.clear()
        self._position_of.clear()

    def receive(self, text: str) -> list[str]:
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.ignored += 1
            return []
        if not isinstance(frame, dict):
            self.ignored += 1
            return []
        replies = [
            f"pong {status['message']}"
            for status in _records(frame.get("status"))
            if status.get("type") == "PING" and isinstance(status.get("message"), str)
        ]
        self.pongs += [reply[5:] for reply in replies]
        known = False
        for key, rows in frame.items():
            if key == "devices":
                self._merge(self.devices, rows)
            elif key == "beacons":
                self._merge(self.beacons, rows)
            elif key == "positions":
                self._merge_positions(rows)
            elif key == "webSessionTimeout" and isinstance(rows, list) and rows:
                self.web_session_timeout = rows[0]
            elif key != "status":
                continue
            known = True
        if not known:
            self.ignored += 1
        return replies

    @staticmethod
    def _merge(view: dict[int, Record], rows: Any) -> None:
        for row in _records(rows):
            if isinstance(row.get("id"), int):
                view[row["id"]] = row

    def _merge_positions(self, rows: Any) -> None:
        for row in _records(rows):
            if not isinstance(row.get("id"), int):
                continue
            # Keep one position per device: the view follows each device's latest.
            device_id = row.get("deviceId")
            old_id = self._position_of.get(device_id) if device_id is not None else None
            if old_id is not None and old_id != row["id"]:
                self.positions.pop(old_id, None)
            if device_id is not None:
                self._position_of[device_id] = row["id"]
            self.positions[row["id"]] = row

    def latest(self, device_id: int) -> Record | None:
        """The position the device's ``positionId`` names, if it arrived."""
        device = self.devices.get(device_id)
        position_id = None if device is None else device.get("positionId")
        return None if position_id is None else self.positions.get(position_id)

    def rssi(self, device_name: str) -> float | None:
        """3.6 Retrieve Beacon RSSI: find the device by name, match its ``positionId`` with a
        position's ``id``, and read that position's ``rssi``."""
        for device in self.devices.values():
            if device.get("name") == device_name:
                position = self.latest(device["id"])
                if position is not None:
                    rssi = position.get("rssi")
                    return None if rssi is None else float(rssi)
        return None


def _records(value: Any) -> Iterable[Record]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


class TrackFeed:
    """The socket feed (3 WebSocket), kept open: connect, answer PINGs, merge, reconnect.

    Args:
        client: the REST client whose login (``JSESSIONID``) opens the socket.
        reconnect_delay: first wait before reconnecting; doubles up to ``max_reconnect_delay``.
        on_frame: called with every frame after it is merged (for logging or waiting).
    """

    def __init__(
        self,
        client: TrackClient,
        *,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        on_frame: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.state = FeedState()
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.on_frame = on_frame
        self.connections = 0
        """How many sockets this feed has opened."""
        self._changed = asyncio.Condition()
        self._socket: Any = None

    @property
    def url(self) -> str:
        base = self.client.base_url
        scheme = "wss" if base.startswith("https") else "ws"
        return scheme + base[base.index(":") :] + "/api/socket"

    async def run(self) -> None:
        """Keep the feed open until cancelled."""
        delay = self.reconnect_delay
        while True:
            try:
                await self._open_and_read()
                delay = self.reconnect_delay
            except (OSError, TimeoutError) as exc:
                log.info("track feed: cannot connect (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_reconnect_delay)

    async def _open_and_read(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        if self.client.session_id is None:
            await asyncio.to_thread(self.client.login)
        try:
            socket = await connect(self.url, **self._options())
        except InvalidStatus as exc:
            if exc.response.status_code not in (401, 503):
                raise OSError(f"upgrade refused with {exc.response.status_code}") from exc
            # 503: no valid session (it expired); log in again and retry at once.
            await asyncio.to_thread(self.client.login)
            socket = await connect(self.url, **self._options())
        self._socket = socket
        self.connections += 1
        self.state.clear()
        try:
            async for message in socket:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                for reply in self.state.receive(text):
                    await socket.send(reply)
                if self.on_frame is not None:
                    self.on_frame(text)
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self._socket = None
            with contextlib.suppress(Exception):
                await socket.close()

    def _options(self) -> dict[str, Any]:
        return {
            "additional_headers": {"Cookie": f"{COOKIE}={self.client.session_id}"},
            "max_size": None,
            "open_timeout": self.client.timeout,
        }

    async def wait_for(self, check: Callable[[FeedState], bool], timeout: float = 10.0) -> None:
        """Wait until ``check(state)`` holds (raises ``TimeoutError`` after ``timeout``)."""

        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: check(self.state))

        await asyncio.wait_for(until(), timeout)

    async def close(self) -> None:
        """Close the open socket (``run`` then reconnects unless it is cancelled)."""
        if self._socket is not None:
            await self._socket.close()
