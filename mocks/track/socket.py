"""The Track socket (``/api/socket``): the endpoint, the frames it sends, and the fan-out of
changes to every open socket of every user who sees them.

The Track API guide (3 Approach 1: WebSocket): on connect every device, beacon and latest
position is pushed once, then only changes. The socket's timing rules (PING, pong, the
session-timeout frame) are ``feed.py``'s, without I/O. A change is encoded once; every socket
gets the same bytes, so a push to 1 000 sockets costs 1 000 writes, not 1 000 encodings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from ..core.websocket import Frames, drive, fan_out
from .errors import NO_SESSION, track_error
from .feed import FeedSession, PingRule
from .records import frame_key
from .rules import COOKIE

if TYPE_CHECKING:
    from ..core.clock import Clock
    from ..core.contracts import Contract
    from ..core.websocket import SocketConnection
    from .rules import Gate
    from .settings import TrackSettings
    from .store import TrackStore, WebSession

FRAME_KINDS = ("devices", "beacons", "positions")
LOGOUT_CLOSE_CODE = 1000
"""Close code of a socket whose web session logged out (inferred: the guide shows no logout)."""


class Socket(Protocol):
    def push(self, change: object, later: list[Any] | None = None) -> None: ...

    def close_soon(self, code: int = 1000) -> None: ...


class Hub:
    """Open sockets by user id."""

    def __init__(self) -> None:
        self._by_user: dict[int, set[Socket]] = {}

    def join(self, user_id: int, socket: Socket) -> None:
        self._by_user.setdefault(user_id, set()).add(socket)

    def leave(self, user_id: int, socket: Socket) -> None:
        sockets = self._by_user.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._by_user[user_id]

    def publish(self, user_ids: Iterable[int], frames: tuple[str, ...]) -> int:
        """Push ``frames`` to every socket of these users; returns how many sockets got them.
        Encoded once, written to each socket in one write (``fan_out``)."""
        by_user = self._by_user
        return fan_out(
            [socket for user_id in user_ids for socket in by_user.get(user_id, ())],
            Frames(frames),
        )

    def close_all(self, code: int) -> None:
        for sockets in list(self._by_user.values()):
            for socket in list(sockets):
                socket.close_soon(code)


@dataclass
class TrackSocket:
    """The socket endpoint of one Track emulator, and the pushes of its changes.

    Args:
        contract: the contract the frames are shaped by.
        gate: the sessions (the socket opens on the ``JSESSIONID`` cookie only).
    """

    contract: InitVar[Contract]
    store: TrackStore
    settings: TrackSettings
    clock: Clock
    gate: Gate
    hub: Hub = field(init=False, default_factory=Hub)
    by_session: dict[str, set[SocketConnection]] = field(init=False, default_factory=dict)
    """Open sockets by the web session that opened them (closed when it logs out)."""
    keys: dict[str, str] = field(init=False)
    """Frame kind → the key its frame schema requires."""
    timeout_frame: str = field(init=False)

    def __post_init__(self, contract: Contract) -> None:
        self.keys = {
            name: frame_key(contract, f"schemas/{name.capitalize()}Frame.json")
            for name in FRAME_KINDS
        }
        self._ping_shape = contract.shape(contract.schema_uri("schemas/PingFrame.json"))
        timeout_ref = "schemas/WebSessionTimeoutFrame.json"
        timeout_shape = contract.shape(contract.schema_uri(timeout_ref))
        self.timeout_frame = orjson.dumps(
            timeout_shape.shape({frame_key(contract, timeout_ref): [self.settings.session_timeout]})
        ).decode()

    # -- frames --------------------------------------------------------------------------------

    def frame(self, kind: str, encodings: list[bytes]) -> str:
        """A ``{"<kind>": [...]}`` frame of already encoded records."""
        return (b'{"' + self.keys[kind].encode() + b'":[' + b",".join(encodings) + b"]}").decode()

    def _ping_frame(self, message: str) -> str:
        return orjson.dumps(self._ping_shape.shape({"status": [{"message": message}]})).decode()

    def _snapshot(self, user_id: int) -> list[str]:
        """The initial push: devices, beacons, each device's latest position."""
        store = self.store
        device_ids = store.user_devices.get(user_id, [])
        return [
            self.frame("devices", [store.devices.encoded(d) for d in device_ids]),
            self.frame(
                "beacons", [store.beacons.encoded(b) for b in store.user_beacons.get(user_id, [])]
            ),
            self.frame(
                "positions",
                [store.positions.encoded(store.latest[d]) for d in device_ids if d in store.latest],
            ),
        ]

    # -- pushes --------------------------------------------------------------------------------

    def push_device(self, device_id: int, *extra: str) -> None:
        """The device (then ``extra`` frames) to every user who sees it."""
        store = self.store
        frames = (self.frame("devices", [store.devices.encoded(device_id)]), *extra)
        self.hub.publish(store.device_viewers.get(device_id, ()), frames)

    def push_beacon(self, beacon_id: int) -> None:
        store = self.store
        frame = self.frame("beacons", [store.beacons.encoded(beacon_id)])
        self.hub.publish(store.beacon_viewers.get(beacon_id, ()), (frame,))

    def wake(self, user_ids: Iterable[int]) -> None:
        """Make these users' sockets look at their session's end again."""
        self.hub.publish(user_ids, ())

    def close_all(self, code: int) -> None:
        self.hub.close_all(code)

    def logged_out(self, session: WebSession) -> None:
        """Close the sockets of a session that logged out; they get no push from now on."""
        for connection in self.by_session.pop(session.id, set()):
            self.hub.leave(session.user_id, connection)
            connection.close_soon(LOGOUT_CLOSE_CODE)

    # -- the endpoint ----------------------------------------------------------------------------

    async def serve(self, connection: SocketConnection) -> None:
        """One socket, from the cookie check to its close."""
        session = self.gate.session(connection.cookies.get(COOKIE), self.clock.now())
        if session is None:
            refusal = track_error(503, NO_SESSION)
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
        self.hub.join(user_id, connection)
        opened_by = self.by_session.setdefault(session.id, set())
        opened_by.add(connection)
        try:
            await drive(connection, feed, self.clock)
        finally:
            self.hub.leave(user_id, connection)
            opened_by.discard(connection)
            if not opened_by and self.by_session.get(session.id) is opened_by:
                del self.by_session[session.id]
