"""Safectory Track: one handler per operationId of the REST API, over the core pipeline.

Handlers are thin: who may call is ``rules``; the socket and the pushes of every change are
``socket`` (its timing rules ``feed``); reports ``reports``; control actions ``admin``; the
state ``store``; the starting state ``initial_state``. What is emulated and what is inferred:
docs/vendors/track.md.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import orjson

from ..core.emulator import Call, Provider, Reply, SocketHandler
from ..core.errors import HttpError
from ..core.paths import fixtures_dir
from ..core.snapshot import Apply
from ..core.state_tables import StateTable
from ..core.store import Table
from ..core.validation import clipped, shown
from .admin import TrackAdmin
from .errors import LOGIN_FAILED, NOT_UPGRADE, own_refusal, track_error
from .export import CSV, csv_table
from .initial_state import fixture_rows, load_initial_state, load_volume
from .records import BadRecord, Kind, Kinds, Record
from .reports import Reports, ids, span
from .rules import COOKIE, Gate
from .settings import TrackSettings
from .socket import TrackSocket
from .store import TrackStore, WebSession
from .times import formatter

if TYPE_CHECKING:
    from ..core.emulator import Emulator
    from ..core.validation import Problem

RESET_CLOSE_CODE = 1012
"""Close code of sockets open when the emulator is reset (RFC 6455: service restart)."""
REPORTS = frozenset({"getRouteReport", "postRouteReport", "postEventsReport", "postSummaryReport"})
"""Operations whose answer grows with the positions and events in a time span."""


def _id(record: Record) -> int:
    return int(record["id"])


class TrackProvider(Provider[TrackSettings]):
    """Safectory Track: session login, devices, beacons, positions and reports over REST, and
    the WebSocket feed on the same port."""

    name = "track"
    error = track_error
    settings_class = TrackSettings

    def __init__(self, emulator: Emulator, settings: TrackSettings) -> None:
        super().__init__(emulator, settings)
        self.fixture_folder = fixtures_dir() / "track"
        self.kinds = Kinds(self.contract, formatter(settings.timestamp_style))
        self.store = TrackStore(self.kinds)
        self.gate = Gate(self.store, settings)
        self.socket = TrackSocket(
            self.contract, self.store, settings, clock=self.clock, gate=self.gate
        )
        self.reports = Reports(self.store, settings, gate=self.gate)
        self.actions = TrackAdmin(self.store, self.kinds, socket=self.socket)
        self._swagger: bytes | None = None

    # -- state -----------------------------------------------------------------------------------

    def reset(self) -> None:
        # Sockets belong to the state being thrown away: close them like a restarted server.
        self.socket.close_all(RESET_CLOSE_CODE)
        self.store.reset()
        load_initial_state(self.store, self.kinds, self.fixture_folder)
        if self.settings.volume > 0:
            load_volume(
                self.store,
                self.kinds,
                self.settings,
                seed=self.core_settings.seed,
                now=self.clock.now(),
            )

    def state_tables(self) -> list[StateTable]:
        return self.store.state_tables()

    def dump_state(self) -> dict[str, Any]:
        return self.store.dump_state()

    def load_state(self, data: Any, where: str) -> Apply:
        put_in_place = self.store.load_state(data, where)

        def apply() -> None:
            # Open sockets were fed the state being replaced: close them, as a reset does.
            self.socket.close_all(RESET_CLOSE_CODE)
            put_in_place()

        return apply

    def credentials(self) -> dict[str, Any]:
        """The first fixture user as ``email``/``password``; the others as
        ``<name>_email``/``<name>_password`` (``api_user_email`` …)."""
        first, *others = fixture_rows(self.fixture_folder, "users")
        found = {"email": first["email"], "password": first["password"]}
        for user in others:
            prefix = user["name"].replace("-", "_")
            found |= {f"{prefix}_email": user["email"], f"{prefix}_password": user["password"]}
        return found

    def shutdown(self) -> None:
        self.socket.close_all(1001)

    # -- pipeline hooks --------------------------------------------------------------------------

    def authenticate(self, call: Call) -> Record:
        return self.gate.authenticate(call)

    def invalid(self, call: Call, problems: list[Problem]) -> HttpError:
        refusal = own_refusal(call.operation, clipped(call.request.path), problems)
        return refusal or super().invalid(call, problems)

    def sockets(self) -> dict[str, SocketHandler]:
        return {"/api/socket": self.socket.serve}

    def heavy(self, call: Call) -> bool:
        """Reports, positions over a time span and CSV exports grow with the data."""
        if call.operation.id in REPORTS:
            return True
        if not call.request.query_string:
            return False  # nothing to parse (the health check before start-up ends, say)
        args = call.request.args
        return (call.operation.id == "getPositions" and "from" in args) or args.get(
            "responseType"
        ) == "csv"

    # -- session ---------------------------------------------------------------------------------

    def createSession(self, call: Call) -> Reply:
        user = self.gate.login(call.body.get("email"), call.body.get("password"), call.now)
        if user is None:
            call.fire("login", LOGIN_FAILED)
            raise track_error(401, LOGIN_FAILED)
        session_id = secrets.token_hex(16).upper()
        self.gate.open_session(WebSession(session_id, user["id"], call.now), call.now)
        call.response_headers["Set-Cookie"] = f"{COOKIE}={session_id}; Path=/api"
        return Reply.encoded(self.store.users.encoded(user["id"]))

    def getSession(self, call: Call) -> Reply:
        user = self.gate.caller(call)
        if user is None:
            raise track_error(404, "No session")
        return Reply.encoded(self.store.users.encoded(user["id"]))

    def deleteSession(self, call: Call) -> None:
        session = self.store.sessions.pop(call.request.cookies.get(COOKIE) or "", None)
        if session is not None:
            session.logged_out = True
            self.socket.logged_out(session)

    def openSocket(self, call: Call) -> None:
        # Reached only by a request the server did not treat as an upgrade.
        raise track_error(400, NOT_UPGRADE)

    # -- positions -------------------------------------------------------------------------------

    def getPositions(self, call: Call) -> Reply:
        user_id, query, store = call.principal["id"], call.query, self.store
        if "id" in query:
            found = []
            for position_id in query["id"]:
                position = store.positions.get(position_id)
                if position is None or not store.sees_device(user_id, position["deviceId"]):
                    raise track_error(
                        400,
                        f"Position access denied: no position with id {position_id} "
                        "is visible to this user",
                    )
                found.append(position)
        elif "deviceId" in query:
            device_id = query["deviceId"]
            self.gate.check_device(user_id, device_id)
            if "from" in query or "to" in query:
                if "from" not in query or "to" not in query:
                    raise track_error(400, "Give both from and to, or neither")
                found = store.track(device_id, *span(query["from"], query["to"]))
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

    def _listing(self, call: Call, kind: Kind, rows: list[Record], table: Table[int]) -> Reply:
        if call.query.get("responseType") == "csv":
            rendered = [kind.render(row) for row in rows]
            body = csv_table(kind.fields, rendered, call.query.get("delimiter", ","))
            return Reply.encoded(body, content_type=CSV)
        return Reply.encoded(table.encoded_list(rows, _id))

    def getDevices(self, call: Call) -> Reply:
        user_id, store = call.principal["id"], self.store
        device_ids = store.user_devices.get(user_id, [])
        if "id" in call.query:
            for device_id in call.query["id"]:
                self.gate.check_device(user_id, device_id)
            wanted = set(call.query["id"])
            device_ids = [d for d in device_ids if d in wanted]
        rows = [row for row in map(store.devices.get, device_ids) if row is not None]
        if "uniqueId" in call.query:
            unique = set(call.query["uniqueId"])
            rows = [row for row in rows if row["uniqueId"] in unique]
        return self._listing(call, self.kinds.device, rows, store.devices)

    def getBeacons(self, call: Call) -> Reply:
        store = self.store
        beacon_ids = store.user_beacons.get(call.principal["id"], [])
        rows = [row for row in map(store.beacons.get, beacon_ids) if row is not None]
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
            raise track_error(400, str(exc)) from exc

    def _check_unique_id(self, record: Record) -> None:
        owner = self.store.unique_ids.get(record["uniqueId"])
        if owner is not None and owner != record["id"]:
            # Not which device: it may be another user's.
            raise track_error(
                400, f"Duplicate uniqueId {shown(record['uniqueId'])}: another device has it"
            )

    def _owned_device(self, call: Call) -> Record:
        device_id = call.path_params["id"]
        device = self.store.devices.get(device_id)
        if device is None or not self.store.sees_device(call.principal["id"], device["id"]):
            raise track_error(404, f"Not found: no device with id {device_id} is visible")
        return device

    def _owned_beacon(self, call: Call) -> Record:
        beacon_id = call.path_params["id"]
        beacon = self.store.beacons.get(beacon_id)
        if beacon is None or not self.store.sees_beacon(call.principal["id"], beacon["id"]):
            raise track_error(404, f"Not found: no beacon with id {beacon_id} is visible")
        return beacon

    def _check_beacon_device(self, call: Call, record: Record) -> None:
        if record["deviceId"] is not None:
            self.gate.check_device(call.principal["id"], record["deviceId"])

    def createDevice(self, call: Call) -> Reply:
        store = self.store
        record = self._replace(self.kinds.device, call.body, None, store.sequences.peek("device"))
        self._check_unique_id(record)
        store.sequences.next("device")
        store.put_device(record)
        store.grant(call.principal["id"], [record["id"]], [])
        self.socket.push_device(record["id"])
        return Reply.encoded(store.devices.encoded(record["id"]))

    def getDevice(self, call: Call) -> Reply:
        return Reply.encoded(self.store.devices.encoded(self._owned_device(call)["id"]))

    def updateDevice(self, call: Call) -> Reply:
        stored = self._owned_device(call)
        record = self._replace(self.kinds.device, call.body, stored, stored["id"])
        self._check_unique_id(record)
        self.store.put_device(record)
        self.socket.push_device(record["id"])
        return Reply.encoded(self.store.devices.encoded(record["id"]))

    def createBeacon(self, call: Call) -> Reply:
        store = self.store
        record = self._replace(self.kinds.beacon, call.body, None, store.sequences.peek("beacon"))
        self._check_beacon_device(call, record)
        store.sequences.next("beacon")
        store.put_beacon(record)
        store.grant(call.principal["id"], [], [record["id"]])
        self.socket.push_beacon(record["id"])
        return Reply.encoded(store.beacons.encoded(record["id"]))

    def getBeacon(self, call: Call) -> Reply:
        return Reply.encoded(self.store.beacons.encoded(self._owned_beacon(call)["id"]))

    def updateBeacon(self, call: Call) -> Reply:
        stored = self._owned_beacon(call)
        record = self._replace(self.kinds.beacon, call.body, stored, stored["id"])
        self._check_beacon_device(call, record)
        self.store.put_beacon(record)
        self.socket.push_beacon(record["id"])
        return Reply.encoded(self.store.beacons.encoded(record["id"]))

    # -- reports ---------------------------------------------------------------------------------

    def getRouteReport(self, call: Call) -> Reply:
        self.reports.check_accept(call.request.headers.get("Accept"))
        route = self.reports.route(call.principal["id"], call.query["deviceId"], call.query)
        return Reply.encoded(self.store.positions.encoded_list(route, _id))

    def postRouteReport(self, call: Call) -> Reply:
        self.reports.check_accept(call.request.headers.get("Accept"))
        body = call.body
        device_ids = ids(body.get("deviceIds")) + ids(body.get("trackableIds"))
        route = self.reports.route(call.principal["id"], device_ids, body)
        return Reply.encoded(self.store.positions.encoded_list(route, _id))

    def postEventsReport(self, call: Call) -> Reply:
        self.reports.check_accept(call.request.headers.get("Accept"))
        events = self.reports.events(call.principal["id"], call.body)
        return Reply.encoded(self.store.events.encoded_list(events, _id))

    def postSummaryReport(self, call: Call) -> list[Record]:
        self.reports.check_accept(call.request.headers.get("Accept"))
        return self.reports.summaries(call.principal["id"], call.body)

    def getSwagger(self, call: Call) -> Reply:
        if self._swagger is None:
            self._swagger = orjson.dumps(self.contract.document)
        return Reply.encoded(self._swagger)
