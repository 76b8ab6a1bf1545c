"""A small vendor used only to test the core: widgets, a rate limit, a socket with ticks."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trackmock.core.emulator import Call, Provider, Reply
from trackmock.core.errors import JsonErrorShape
from trackmock.core.ratelimit import Policy, RateLimiter
from trackmock.core.store import Store, Table, Tenant
from trackmock.core.websocket import SocketConnection, drive

HERE = Path(__file__).parent
CONTRACT = HERE / "openapi.yaml"
TICK_EVERY = 10.0


class WidgetTenant(Tenant):
    def __init__(self, key: Any, encode: Any) -> None:
        super().__init__(key)
        self.widgets: Table[int] = Table(encode)


class TickSession:
    """Sends {"tick": n} every TICK_EVERY seconds; echoes texts; 'bye' closes."""

    def __init__(self, start: float) -> None:
        self.close_code: int | None = None
        self.next_tick = start + TICK_EVERY
        self.ticks = 0

    def opened(self, now: float) -> list[str]:
        return [json.dumps({"tick": 0})]

    def received(self, text: str, now: float) -> list[str]:
        if text == "bye":
            self.close_code = 1000
            return []
        return [json.dumps({"echo": text})]

    def pushed(self, change: Any, now: float) -> list[str]:
        return [json.dumps(change)]

    def tick(self, now: float) -> list[str]:
        frames = []
        while self.next_tick <= now:
            self.ticks += 1
            self.next_tick += TICK_EVERY
            frames.append(json.dumps({"tick": self.ticks}))
        return frames

    def deadline(self) -> float | None:
        return self.next_tick


@dataclass(frozen=True)
class SampleSettings:
    """The sample vendor has no settings of its own."""


class SampleProvider(Provider[SampleSettings]):
    name = "sample"
    error = JsonErrorShape(
        lambda status, message, **details: {"message": message, "status": status}
    )
    settings_class = SampleSettings

    def __init__(self, emulator: Any, settings: SampleSettings) -> None:
        super().__init__(emulator, settings)
        encode_shape = self.contract.shape(self.contract.schema_uri("schemas/Widget.json"))
        import orjson

        self.store: Store[WidgetTenant] = Store(
            lambda key: WidgetTenant(key, lambda record: orjson.dumps(encode_shape.shape(record)))
        )
        self.limiter = RateLimiter(self.clock, Policy(limit=2, period=1.0))
        self.started = threading.Event()
        self.release = threading.Event()
        self.slow_threads: list[str] = []

    def reset(self) -> None:
        self.store.reset()
        self.limiter.reset()
        tenant = self.store.tenant(1)
        for name in ("alpha", "beta"):
            self._create(tenant, {"name": name, "secret": "s3cret"})

    def credentials(self) -> dict[str, Any]:
        return {"token": "good", "tenant": 1}

    def authenticate(self, call: Call) -> str:
        header = call.request.headers.get("Authorization", "")
        if header != "Bearer good":
            raise self.error(401, "a valid bearer token is required")
        return "good"

    def admit(self, call: Call) -> None:
        if call.principal is None:
            return
        decision = self.limiter.hit(call.principal)
        if not decision.allowed:
            raise self.error(
                429, "too many requests", headers={"Retry-After": decision.retry_after_header}
            )

    def sockets(self) -> dict[str, Any]:
        return {"/api/feed": self._feed}

    async def _feed(self, connection: SocketConnection) -> None:
        if "sid" not in connection.cookies:
            await connection.reject(503, b"no session", "text/plain")
            return
        await connection.accept()
        await drive(connection, TickSession(self.clock.now()), self.clock)

    def _create(self, tenant: WidgetTenant, values: dict[str, Any]) -> dict[str, Any]:
        record = self.contract.build(
            "schemas/Widget.json", {**values, "id": tenant.sequences.next("widget")}
        )
        tenant.widgets.put(record["id"], record)
        for connection in list(self.emulator.open_sockets):
            connection.push({"echo": f"created {record['id']}"})
        return record

    # -- handlers --
    def listWidgets(self, call: Call) -> Reply:
        tenant = self.store.tenant(1)
        rows = [
            w
            for w in tenant.widgets
            if "color" not in call.query or w["color"] == call.query["color"]
        ]
        rows = rows[: call.query["per_page"]]
        return Reply.encoded(tenant.widgets.encoded_list(rows, lambda r: r["id"]))

    def createWidget(self, call: Call) -> Reply:
        record = self._create(self.store.tenant(1), call.body)
        return Reply(body=record, status=201)

    def getWidget(self, call: Call) -> dict[str, Any]:
        found = self.store.tenant(1).widgets.get(call.path_params["id"])
        if found is None:
            raise self.error(404, f"no widget {call.path_params['id']}")
        return found

    def countWidgets(self, call: Call) -> dict[str, Any]:
        return {"count": len(self.store.tenant(1).widgets)}

    def deleteWidget(self, call: Call) -> None:
        if self.store.tenant(1).widgets.get(call.path_params["id"]) is None:
            raise self.error(404, f"no widget {call.path_params['id']}")
        self.store.tenant(1).widgets.delete(call.path_params["id"])

    def ping(self, call: Call) -> dict[str, Any]:
        return {"pong": True}

    def broken(self, call: Call) -> dict[str, Any]:
        # X-Echo: a value the answer repeats (a secret, in the secrets tests).
        return {"ok": call.request.headers.get("X-Echo", "yes")}

    def explode(self, call: Call) -> None:
        raise KeyError(" ".join(["boom", *call.request.headers.getlist("X-Echo")]))

    def heavy(self, call: Call) -> bool:
        return call.operation.id == "slow"

    def slow(self, call: Call) -> None:
        """Waits for the test: ``started`` is set once it runs, ``release`` lets it end."""
        self.slow_threads.append(threading.current_thread().name)
        self.started.set()
        self.release.wait(30)
        self.release.clear()
