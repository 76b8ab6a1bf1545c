"""Safectory Track: REST handlers (named by operationId), the socket, and control actions."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import orjson
from trackmock.core.emulator import Call, Provider, Reply
from trackmock.core.errors import HttpError, TextErrorShape, admin_error
from trackmock.core.paths import fixtures_dir
from trackmock.core.websocket import drive

from .export import CSV, csv_table
from .feed import FeedSession, PingRule
from .hub import Hub
from .records import BadRecord, Kind, Kinds, Record, frame_key
from .reports import accepts_json, filter_route, summary
from .store import TrackStore, WebSession
from .times import formatter, parse_ms, to_ms

if TYPE_CHECKING:
    from trackmock.core.emulator import Emulator
    from trackmock.core.validation import Problem
    from trackmock.core.websocket import SocketConnection

    from .settings import TrackSettings

COOKIE = "JSESSIONID"
NOT_LOGGED_IN = (
    "Not logged in: send the JSESSIONID cookie from POST /api/session, or HTTP Basic email:password"
)
LOGIN_FAILED = "Login failed: unknown email or wrong password"
NO_SESSION = "No session: log in with POST /api/session and send the JSESSIONID cookie"
NOT_UPGRADE = "Not a WebSocket upgrade: send Connection: Upgrade and Upgrade: websocket"
NOT_ACCEPTABLE = (
    "Not acceptable: reports are answered as application/json only (send Accept: application/json)"
)
RESET_CLOSE_CODE = 1012
"""Close code of sockets open when the emulator is reset (RFC 6455: service restart)."""


def _folder(emulator: Emulator) -> Path:
    return Path(url2pathname(urlparse(emulator.contract.uri).path)).parent


class TrackProvider(Provider):
    """LIMITATIONS:
    - Only what seed 002 shows, Traccar v4.0's session resource and the SF-JAVA reports: no users,
      groups, geofences, notifications, commands or permissions resources, no DELETE of devices or
      beacons, no spreadsheet reports (another ``Accept`` gets 406), no GET form of the events and
      summary reports, no group ids in reports.
    - A handshake that is not RFC 6455 at all (no key, a version other than 13) is refused by the
      server's WebSocket layer before the emulator sees it: 400 or 426 with an empty body.
    - Positions come only from the control API (``POST /__admin/positions``); the emulator has no
      device protocols. Every report becomes its device's latest position, whatever its
      ``fixTime`` (Traccar would keep an older late report out of "latest").
    - Beacons' ``lastSeen`` and ``batteryLevel`` change only through the control API.
    - A path id that is not a valid id (``abc``, ``0``) answers 404 (Jersey matches no resource).
    - Every inferred choice is marked ``x-inferred`` in the contracts and listed in
      ``docs/vendors/track.md``.
    """

    name = "track"
    error = TextErrorShape()

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.settings: TrackSettings = emulator.vendor_settings
        self.folder = _folder(emulator)
        self.kinds = Kinds(self.contract, formatter(self.settings.timestamp_style))
        self.hub = Hub()
        self.store = TrackStore(self.kinds)
        contract = self.contract
        self.keys = {
            name: frame_key(contract, f"schemas/{name.capitalize()}Frame.json")
            for name in ("devices", "beacons", "positions")
        }
        self._ping_shape = contract.shape(contract.schema_uri("schemas/PingFrame.json"))
        timeout_ref = "schemas/WebSessionTimeoutFrame.json"
        timeout_shape = contract.shape(contract.schema_uri(timeout_ref))
        self.timeout_frame = orjson.dumps(
            timeout_shape.shape({frame_key(contract, timeout_ref): [self.settings.session_timeout]})
        ).decode()
        self._swagger: bytes | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def reset(self) -> None:
        # Sockets belong to the state being thrown away: close them like a restarted server.
        self.hub.close_all(RESET_CLOSE_CODE)
        self.store = TrackStore(self.kinds)
        self._load_fixtures()
        if self.settings.volume > 0:
            self._load_volume()

    def _load_fixtures(self) -> None:
        folder = fixtures_dir() / "track"

        def rows(name: str) -> list[Record]:
            data: list[Record] = orjson.loads((folder / f"{name}.json").read_bytes())
            return data

        store, kinds = self.store, self.kinds
        for user in rows("users"):
            store.put_user(kinds.user.build(user), user["password"])
        # A device's ``positionId`` names its latest position (see TrackStore.put_device).
        for position in rows("positions"):
            store.add_position(kinds.position.build(position))
        for device in rows("devices"):
            store.put_device(kinds.device.build(device))
        for beacon in rows("beacons"):
            store.put_beacon(kinds.beacon.build(beacon))
        for permission in rows("permissions"):
            store.grant(permission["userId"], permission["deviceIds"], permission["beaconIds"])

    def _load_volume(self) -> None:
        from trackmock.fixtures.track.generate import generate

        store, kinds, settings = self.store, self.kinds, self.settings
        made = generate(
            self.emulator.settings.seed,
            positions=settings.volume,
            devices=settings.volume_devices,
            first_device_id=store.sequences.peek("device"),
            first_beacon_id=store.sequences.peek("beacon"),
            first_position_id=store.sequences.peek("position"),
            end_ms=to_ms(self.clock.now()),
        )
        for position in made["positions"]:
            store.add_position(kinds.position.build(position))
        for device in made["devices"]:
            store.put_device(kinds.device.build(device))
        for beacon in made["beacons"]:
            store.put_beacon(kinds.beacon.build(beacon))
        store.grant(
            settings.volume_user_id,
            [d["id"] for d in made["devices"]],
            [b["id"] for b in made["beacons"]],
        )

    def credentials(self) -> dict[str, Any]:
        """The first fixture user as ``email``/``password``; the others as
        ``<name>_email``/``<name>_password`` (``api_user_email`` …)."""
        first, *others = orjson.loads((fixtures_dir() / "track" / "users.json").read_bytes())
        found = {"email": first["email"], "password": first["password"]}
        for user in others:
            prefix = user["name"].replace("-", "_")
            found |= {f"{prefix}_email": user["email"], f"{prefix}_password": user["password"]}
        return found

    def admin_contract(self) -> Path:
        return self.folder / "admin.yaml"

    def asyncapi_contract(self) -> Path:
        return self.folder / "asyncapi.yaml"

    def shutdown(self) -> None:
        self.hub.close_all(1001)

    # -- authentication --------------------------------------------------------------------

    def _session(self, session_id: str | None, now: float) -> WebSession | None:
        """The valid session of a cookie value (touched: sessions end after inactivity)."""
        if not session_id:
            return None
        session = self.store.sessions.get(session_id)
        if session is None:
            return None
        if not session.valid(now, self.settings.session_timeout):
            del self.store.sessions[session_id]
            return None
        session.last_seen = now
        return session

    def _login(self, email: str | None, password: str | None, now: float) -> Record | None:
        """The user these credentials name, if they may log in now."""
        user = self.store.user_by_email(email or "")
        if user is None or self.store.passwords.get(user["id"]) != password:
            return None
        expires = user.get("expirationTime")
        if user.get("disabled") or (expires is not None and expires <= to_ms(now)):
            return None
        return user

    def _basic(self, call: Call) -> Record | None:
        header = call.request.headers.get("Authorization", "")
        if not self.settings.basic_auth or header[:6].lower() != "basic ":
            return None
        try:
            email, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self._login(email, password, call.now)

    def _caller(self, call: Call) -> Record | None:
        session = self._session(call.request.cookies.get(COOKIE), call.now)
        if session is not None:
            return self.store.users.get(session.user_id)
        return self._basic(call)

    def authenticate(self, call: Call) -> Record:
        if call.operation.id == "openSocket":
            # The socket reads only the cookie, and Jetty answers a missing user with 503.
            session = self._session(call.request.cookies.get(COOKIE), call.now)
            if session is None:
                raise self.error(503, NO_SESSION)
            user = self.store.users.get(session.user_id)
        else:
            user = self._caller(call)
        if user is None:
            headers = {}
            if call.request.headers.get("X-Requested-With") != "XMLHttpRequest":
                headers["WWW-Authenticate"] = 'Basic realm="api"'
            raise self.error(401, NOT_LOGGED_IN, headers=headers)
        return user

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        unsupported = any(p.kind == "unsupported" for p in problems)
        if call.operation.id == "createSession" and not unsupported:
            return self.error(401, LOGIN_FAILED)
        if call.operation.id == "openSocket":
            return self.error(400, NOT_UPGRADE)
        if all(p.location == "path" for p in problems):
            # Jersey matches no resource for an id that is not a valid id.
            return self.not_found(call.request.path)
        return super().invalid(call, problems)

    # -- encoding ----------------------------------------------------------------------------

    def _frame(self, kind: str, encodings: list[bytes]) -> str:
        return (b'{"' + self.keys[kind].encode() + b'":[' + b",".join(encodings) + b"]}").decode()

    def _ping_frame(self, message: str) -> str:
        return orjson.dumps(self._ping_shape.shape({"status": [{"message": message}]})).decode()

    def _snapshot(self, user_id: int) -> list[str]:
        """The initial push: devices, beacons, each device's latest position."""
        store = self.store
        device_ids = store.user_devices.get(user_id, [])
        return [
            self._frame("devices", [store.devices.encoded(d) for d in device_ids]),
            self._frame(
                "beacons", [store.beacons.encoded(b) for b in store.user_beacons.get(user_id, [])]
            ),
            self._frame(
                "positions",
                [store.positions.encoded(store.latest[d]) for d in device_ids if d in store.latest],
            ),
        ]

    def _push_device(self, device_id: int, *extra: str) -> None:
        store = self.store
        frames = (self._frame("devices", [store.devices.encoded(device_id)]), *extra)
        self.hub.publish(store.device_viewers.get(device_id, ()), frames)

    def _push_beacon(self, beacon_id: int) -> None:
        store = self.store
        frame = self._frame("beacons", [store.beacons.encoded(beacon_id)])
        self.hub.publish(store.beacon_viewers.get(beacon_id, ()), (frame,))

    # -- the socket ----------------------------------------------------------------------------

    def sockets(self) -> dict[str, Any]:
        return {"/api/socket": self._socket}

    async def _socket(self, connection: SocketConnection) -> None:
        session = self._session(connection.cookies.get(COOKIE), self.clock.now())
        if session is None:
            refusal = self.error(503, NO_SESSION)
            await connection.reject(refusal.status, refusal.body, refusal.content_type)
            return
        await connection.accept()
        settings, user_id = self.settings, session.user_id
        timeout = settings.session_timeout
        feed = FeedSession(
            snapshot=lambda: self._snapshot(user_id),
            rule=PingRule(
                settings.ping_interval, settings.missed_pings_before_close, settings.ping_close_code
            ),
            new_uuid=lambda: str(uuid.uuid4()),
            ping_frame=self._ping_frame,
            timeout_frame=self.timeout_frame,
            session_ends_at=(
                (lambda: session.ends_at(timeout))
                if settings.session_timeout_frame == "expiry"
                else None
            ),
        )
        hub = self.hub
        hub.join(user_id, connection)
        try:
            await drive(connection, feed, self.clock)
        finally:
            hub.leave(user_id, connection)

    # -- session ---------------------------------------------------------------------------------

    def createSession(self, call: Call) -> Reply:
        user = self._login(call.body.get("email"), call.body.get("password"), call.now)
        if user is None:
            raise self.error(401, LOGIN_FAILED)
        session_id = secrets.token_hex(16).upper()
        self.store.sessions[session_id] = WebSession(session_id, user["id"], call.now)
        call.headers["Set-Cookie"] = f"{COOKIE}={session_id}; Path=/api"
        return Reply.encoded(self.store.users.encoded(user["id"]))

    def getSession(self, call: Call) -> Reply:
        user = self._caller(call)
        if user is None:
            raise self.error(404, "No session")
        return Reply.encoded(self.store.users.encoded(user["id"]))

    def deleteSession(self, call: Call) -> None:
        session = self.store.sessions.pop(call.request.cookies.get(COOKIE) or "", None)
        if session is not None:
            session.logged_out = True

    def openSocket(self, call: Call) -> None:
        # Reached only by a request the server did not treat as an upgrade.
        raise self.error(400, NOT_UPGRADE)

    # -- positions ---------------------------------------------------------------------------------

    def _visible_device(self, user_id: int, device_id: int) -> None:
        if not self.store.sees_device(user_id, device_id):
            raise self.error(400, f"Device access denied: no device {device_id} for this user")

    def _span(self, start: str, end: str) -> tuple[int, int]:
        try:
            span = parse_ms(start), parse_ms(end)
        except ValueError as exc:
            raise self.error(400, f"Bad time: {exc}") from exc
        if span[0] > span[1]:
            raise self.error(400, f"Bad time span: from {start} is after to {end}")
        return span

    def getPositions(self, call: Call) -> Reply:
        user_id, query, store = call.principal["id"], call.query, self.store
        if "id" in query:
            found = []
            for position_id in query["id"]:
                position = store.positions.get(position_id)
                if position is None or not store.sees_device(user_id, position["deviceId"]):
                    raise self.error(
                        400,
                        f"Position access denied: no position with id {position_id} "
                        "is visible to this user",
                    )
                found.append(position)
        elif "deviceId" in query:
            device_id = query["deviceId"]
            self._visible_device(user_id, device_id)
            if "from" in query or "to" in query:
                if "from" not in query or "to" not in query:
                    raise self.error(400, "Give both from and to, or neither")
                found = store.track(device_id, *self._span(query["from"], query["to"]))
            else:
                latest = store.latest_position(device_id)
                found = [] if latest is None else [latest]
        else:
            found = [
                position
                for position in map(store.latest_position, store.user_devices.get(user_id, []))
                if position is not None
            ]
        return Reply.encoded(store.positions.encoded_list(found, _id))

    # -- devices and beacons ---------------------------------------------------------------------

    def _listing(self, call: Call, kind: Kind, rows: list[Record], table: Any) -> Reply:
        if call.query.get("responseType") == "csv":
            rendered = [kind.render(row) for row in rows]
            body = csv_table(kind.fields, rendered, call.query.get("delimiter", ","))
            return Reply.encoded(body, content_type=CSV)
        return Reply.encoded(table.encoded_list(rows, _id))

    def getDevices(self, call: Call) -> Reply:
        user_id, store = call.principal["id"], self.store
        ids = store.user_devices.get(user_id, [])
        if "id" in call.query:
            for device_id in call.query["id"]:
                self._visible_device(user_id, device_id)
            wanted = set(call.query["id"])
            ids = [d for d in ids if d in wanted]
        rows = [row for row in map(store.devices.get, ids) if row is not None]
        if "uniqueId" in call.query:
            unique = set(call.query["uniqueId"])
            rows = [row for row in rows if row["uniqueId"] in unique]
        return self._listing(call, self.kinds.device, rows, store.devices)

    def getBeacons(self, call: Call) -> Reply:
        store = self.store
        ids = store.user_beacons.get(call.principal["id"], [])
        rows = [row for row in map(store.beacons.get, ids) if row is not None]
        return self._listing(call, self.kinds.beacon, rows, store.beacons)

    def _replace(self, kind: Kind, body: Record, stored: Record | None, new_id: int) -> Record:
        """A whole-object write: writable fields from ``body`` (a field not sent takes its
        default), server-managed fields from ``stored``, the id from the path or sequence."""
        values = {k: v for k, v in body.items() if k not in kind.read_only}
        if stored is not None:
            values.update({k: stored[k] for k in kind.read_only})
        values["id"] = new_id
        try:
            return kind.build(values)
        except BadRecord as exc:
            raise self.error(400, str(exc)) from exc

    def _check_unique_id(self, record: Record) -> None:
        owner = self.store.unique_ids.get(record["uniqueId"])
        if owner is not None and owner != record["id"]:
            raise self.error(400, f"Duplicate uniqueId {record['uniqueId']!r}: device {owner}")

    def _owned_device(self, call: Call) -> Record:
        device = self.store.devices.get(call.path["id"])
        if device is None or not self.store.sees_device(call.principal["id"], device["id"]):
            raise self.error(404, f"Not found: no device with id {call.path['id']} is visible")
        return device

    def _owned_beacon(self, call: Call) -> Record:
        beacon = self.store.beacons.get(call.path["id"])
        if beacon is None or not self.store.sees_beacon(call.principal["id"], beacon["id"]):
            raise self.error(404, f"Not found: no beacon with id {call.path['id']} is visible")
        return beacon

    def createDevice(self, call: Call) -> Reply:
        store = self.store
        record = self._replace(self.kinds.device, call.body, None, store.sequences.peek("device"))
        self._check_unique_id(record)
        store.sequences.next("device")
        store.put_device(record)
        store.grant(call.principal["id"], [record["id"]], [])
        self._push_device(record["id"])
        return Reply.encoded(store.devices.encoded(record["id"]))

    def getDevice(self, call: Call) -> Reply:
        return Reply.encoded(self.store.devices.encoded(self._owned_device(call)["id"]))

    def updateDevice(self, call: Call) -> Reply:
        stored = self._owned_device(call)
        record = self._replace(self.kinds.device, call.body, stored, stored["id"])
        self._check_unique_id(record)
        self.store.put_device(record)
        self._push_device(record["id"])
        return Reply.encoded(self.store.devices.encoded(record["id"]))

    def _check_beacon_device(self, call: Call, record: Record) -> None:
        if record["deviceId"] is not None:
            self._visible_device(call.principal["id"], record["deviceId"])

    def createBeacon(self, call: Call) -> Reply:
        store = self.store
        record = self._replace(self.kinds.beacon, call.body, None, store.sequences.peek("beacon"))
        self._check_beacon_device(call, record)
        store.sequences.next("beacon")
        store.put_beacon(record)
        store.grant(call.principal["id"], [], [record["id"]])
        self._push_beacon(record["id"])
        return Reply.encoded(store.beacons.encoded(record["id"]))

    def getBeacon(self, call: Call) -> Reply:
        return Reply.encoded(self.store.beacons.encoded(self._owned_beacon(call)["id"]))

    def updateBeacon(self, call: Call) -> Reply:
        stored = self._owned_beacon(call)
        record = self._replace(self.kinds.beacon, call.body, stored, stored["id"])
        self._check_beacon_device(call, record)
        self.store.put_beacon(record)
        self._push_beacon(record["id"])
        return Reply.encoded(self.store.beacons.encoded(record["id"]))

    # -- reports ---------------------------------------------------------------------------------

    def _check_accept(self, call: Call) -> None:
        if not accepts_json(call.request.headers.get("Accept")):
            raise self.error(406, NOT_ACCEPTABLE)

    def _selection(self, call: Call, device_ids: list[int], options: Record) -> tuple[int, int]:
        """Check a report's devices (at least one, each visible) and span; the span in ms."""
        if not device_ids:
            raise self.error(400, "Give at least one device id")
        for device_id in device_ids:
            self._visible_device(call.principal["id"], device_id)
        return self._span(options["from"], options["to"])

    def _route(self, call: Call, device_ids: list[int], options: Record) -> list[Record]:
        start, end = self._selection(call, device_ids, options)
        window = round(self.settings.flapping_window * 1000)
        route: list[Record] = []
        for device_id in dict.fromkeys(device_ids):
            route += filter_route(
                self.store.track(device_id, start, end),
                same_location=bool(options.get("filterSameLocation")),
                flapping=bool(options.get("filterFlapping")),
                non_beacon=bool(options.get("filterNonBeacon")),
                window_ms=window,
            )
        return route

    def getRouteReport(self, call: Call) -> Reply:
        self._check_accept(call)
        route = self._route(call, call.query["deviceId"], call.query)
        return Reply.encoded(self.store.positions.encoded_list(route, _id))

    def postRouteReport(self, call: Call) -> Reply:
        self._check_accept(call)
        body = call.body
        ids = _ids(body.get("deviceIds")) + _ids(body.get("trackableIds"))
        route = self._route(call, ids, body)
        return Reply.encoded(self.store.positions.encoded_list(route, _id))

    def postEventsReport(self, call: Call) -> Reply:
        self._check_accept(call)
        body = call.body
        ids = _ids(body.get("deviceId")) + _ids(body.get("trackableId"))
        start, end = self._selection(call, ids, body)
        types = body.get("type", "allEvents")
        wanted = None if types in (None, "allEvents", "%") else set(_strings(types))
        if wanted is not None and wanted & {"allEvents", "%"}:
            wanted = None
        events = [
            event
            for device_id in dict.fromkeys(ids)
            for event in self.store.events_of(device_id)
            if start <= event["serverTime"] <= end and (wanted is None or event["type"] in wanted)
        ]
        events.sort(key=lambda e: (e["serverTime"], e["id"]))
        return Reply.encoded(self.store.events.encoded_list(events, _id))

    def postSummaryReport(self, call: Call) -> list[Record]:
        self._check_accept(call)
        body = call.body
        ids = list(dict.fromkeys(_ids(body.get("deviceId")) + _ids(body.get("trackableId"))))
        self._selection(call, ids, body)
        devices = self.store.devices
        return [
            summary(d, (devices.get(d) or {}).get("name", ""), self._route(call, [d], body))
            for d in ids
        ]

    def getSwagger(self, call: Call) -> Reply:
        if self._swagger is None:
            self._swagger = orjson.dumps(self.contract.document)
        return Reply.encoded(self._swagger)

    # -- control actions (contracts/track/admin.yaml) ---------------------------------------------

    def _admin_build(self, kind: Kind, values: Record) -> Record:
        try:
            record = kind.build(values)
            kind.check(record)
        except BadRecord as exc:
            raise admin_error(400, str(exc)) from exc
        return record

    def reportPosition(self, call: Call) -> Reply:
        store, body = self.store, call.body
        device = store.devices.get(body["deviceId"])
        if device is None:
            raise admin_error(404, f"no device {body['deviceId']}")
        now = to_ms(call.now)
        values: Record = {"deviceName": device["name"], **body, "serverTime": now}
        values.setdefault("fixTime", now)
        values.setdefault("deviceTime", values["fixTime"])
        if body.get("beaconId") is not None:
            beacon = store.beacons.get(body["beaconId"])
            if beacon is None:
                raise admin_error(404, f"no beacon {body['beaconId']}")
            values.setdefault("latitude", beacon["latitude"])
            values.setdefault("longitude", beacon["longitude"])
            # A position carries a copy of its beacon's identity at report time.
            values.update(
                beaconName=beacon["name"],
                beaconMajor=beacon["major"],
                beaconMinor=beacon["minor"],
                beaconUuid=beacon["uuid"],
            )
        values["id"] = store.sequences.peek("position")
        record = self._admin_build(self.kinds.position, values)
        store.sequences.next("position")
        store.add_position(record)
        store.put_device({**device, "positionId": record["id"], "lastUpdate": record["serverTime"]})
        frame = self._frame("positions", [store.positions.encoded(record["id"])])
        self._push_device(device["id"], frame)
        return Reply.encoded(store.positions.encoded(record["id"]), status=201)

    def _admin_change(self, kind: Kind, stored: Record | None, call: Call, what: str) -> Record:
        if stored is None:
            raise admin_error(404, f"no {what} {call.path['id']}")
        unknown = sorted(set(call.body) - set(kind.fields))
        if unknown:
            raise admin_error(400, f"not {what} fields: {', '.join(unknown)}")
        return self._admin_build(kind, {**stored, **call.body})

    def changeDevice(self, call: Call) -> Reply:
        stored = self.store.devices.get(call.path["id"])
        record = self._admin_change(self.kinds.device, stored, call, "device")
        owner = self.store.unique_ids.get(record["uniqueId"])
        if owner is not None and owner != record["id"]:
            raise admin_error(400, f"uniqueId {record['uniqueId']!r} is used by device {owner}")
        self.store.put_device(record)
        self._push_device(record["id"])
        return Reply.encoded(self.store.devices.encoded(record["id"]))

    def changeBeacon(self, call: Call) -> Reply:
        stored = self.store.beacons.get(call.path["id"])
        record = self._admin_change(self.kinds.beacon, stored, call, "beacon")
        self.store.put_beacon(record)
        self._push_beacon(record["id"])
        return Reply.encoded(self.store.beacons.encoded(record["id"]))

    def createUser(self, call: Call) -> Reply:
        store, body = self.store, dict(call.body)
        password = body.pop("password")
        device_ids = body.pop("deviceIds", [])
        beacon_ids = body.pop("beaconIds", [])
        if store.user_by_email(body["email"]) is not None:
            raise admin_error(409, f"the email {body['email']} is taken")
        missing = [d for d in device_ids if d not in store.devices]
        missing += [b for b in beacon_ids if b not in store.beacons]
        if missing:
            raise admin_error(400, f"no such device or beacon: {missing}")
        record = self._admin_build(self.kinds.user, {**body, "id": store.sequences.peek("user")})
        store.put_user(record, password)
        store.grant(record["id"], device_ids, beacon_ids)
        user = self.kinds.user.render(record)
        return Reply(
            body={"user": user, "deviceIds": device_ids, "beaconIds": beacon_ids}, status=201
        )

    def addEvent(self, call: Call) -> Reply:
        store, body = self.store, call.body
        if body["deviceId"] not in store.devices:
            raise admin_error(404, f"no device {body['deviceId']}")
        values = {"serverTime": to_ms(call.now), **body, "id": store.sequences.peek("event")}
        record = self._admin_build(self.kinds.event, values)
        store.sequences.next("event")
        store.add_event(record)
        return Reply.encoded(store.events.encoded(record["id"]), status=201)

    def expireSessions(self, call: Call) -> dict[str, int]:
        email = (call.body or {}).get("email")
        user = None if email is None else self.store.user_by_email(email)
        if email is not None and user is None:
            raise admin_error(400, f"no user {email}")
        ended = [
            session
            for session in self.store.sessions.values()
            if user is None or session.user_id == user["id"]
        ]
        for session in ended:
            session.expired_at = call.now
            del self.store.sessions[session.id]
        # Wake the users' sockets so that they look at their session's end again.
        self.hub.publish({session.user_id for session in ended}, ())
        return {"expired": len(ended)}


def _id(record: Record) -> int:
    return int(record["id"])


def _ids(value: Any) -> list[int]:
    """One id or a list of them (JSON Schema lets ``216.0`` pass as an integer)."""
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, list) else [value])]


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
