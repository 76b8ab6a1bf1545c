"""Track's control actions (contracts/track/admin.yaml): what devices and the vendor's own UI do.

One method per operationId: report a position (the socket pushes it), change a device or a
beacon, create a user, add an event, end sessions. They answer the control API's error shape
(``core.errors.admin_error``), never the vendor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.emulator import Call, Reply
from ..core.errors import admin_error
from .records import BadRecord, Kind, Kinds, Record
from .times import to_ms

if TYPE_CHECKING:
    from .socket import TrackSocket
    from .store import TrackStore


@dataclass
class TrackAdmin:
    """The Track emulator's control actions.

    Args:
        socket: the socket endpoint, which pushes every change to the users who see it.
    """

    store: TrackStore
    kinds: Kinds
    socket: TrackSocket

    def _build(self, kind: Kind, values: Record) -> Record:
        try:
            record = kind.build(values)
            kind.check(record)
        except BadRecord as exc:
            raise admin_error(400, str(exc)) from exc
        return record

    def _change(self, kind: Kind, stored: Record | None, call: Call, what: str) -> Record:
        if stored is None:
            raise admin_error(404, f"no {what} {call.path_params['id']}")
        unknown = sorted(set(call.body) - set(kind.fields))
        if unknown:
            raise admin_error(400, f"not {what} fields: {', '.join(unknown)}")
        return self._build(kind, {**stored, **call.body})

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
        record = self._build(self.kinds.position, values)
        store.sequences.next("position")
        store.add_position(record)
        store.put_device({**device, "positionId": record["id"], "lastUpdate": record["serverTime"]})
        frame = self.socket.frame("positions", [store.positions.encoded(record["id"])])
        self.socket.push_device(device["id"], frame)
        return Reply.encoded(store.positions.encoded(record["id"]), status=201)

    def changeDevice(self, call: Call) -> Reply:
        stored = self.store.devices.get(call.path_params["id"])
        record = self._change(self.kinds.device, stored, call, "device")
        owner = self.store.unique_ids.get(record["uniqueId"])
        if owner is not None and owner != record["id"]:
            raise admin_error(400, f"uniqueId {record['uniqueId']!r} is used by device {owner}")
        self.store.put_device(record)
        self.socket.push_device(record["id"])
        return Reply.encoded(self.store.devices.encoded(record["id"]))

    def changeBeacon(self, call: Call) -> Reply:
        stored = self.store.beacons.get(call.path_params["id"])
        record = self._change(self.kinds.beacon, stored, call, "beacon")
        self.store.put_beacon(record)
        self.socket.push_beacon(record["id"])
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
        record = self._build(self.kinds.user, {**body, "id": store.sequences.peek("user")})
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
        record = self._build(self.kinds.event, values)
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
        self.socket.wake({session.user_id for session in ended})
        return {"expired": len(ended)}
