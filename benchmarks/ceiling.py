"""The bare-ASGI ceiling: the fastest this server stack answers a GET, as a reference target.

An ASGI app on uvicorn + httptools + uvloop that answers every request with the same
20-record JSON list (the body WireMock serves in the peer comparison) and does nothing else:
no routing, no auth, no journal. Whatever an emulator reaches is measured against it in the
same run, so the ratio holds however busy the machine is.

    python -m benchmarks.ceiling PORT
"""

from __future__ import annotations

import sys
from typing import Any

import orjson

RECORDS = [
    {
        "id": n,
        "name": f"Client {n}",
        "created_at": f"2024-01-{n:02d}T09:00:00Z",
        "email": f"client{n}@example.com",
    }
    for n in range(1, 21)
]
BODY = orjson.dumps(RECORDS)
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
