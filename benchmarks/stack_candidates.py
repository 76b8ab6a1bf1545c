"""Server-stack candidates for the emulators, measured side by side on one Flask app.

Each candidate serves the same Flask app (a 20-record JSON list behind a basic-auth check)
in ONE process (emulator state lives in memory), and wrk drives it at 32 connections. A
candidate must also carry a WebSocket on the same port (Track) and accept the Track
document's 32-byte Sec-WebSocket-Key; the last column says whether it does.

Run: python -m benchmarks.stack_candidates [--duration 8]   (needs `pip install .[bench]`, wrk)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from .wrk import run_wrk, wait_for_port

APP = textwrap.dedent(
    """
    import io, sys, socket
    import orjson
    from flask import Flask, Response, request

    CLIENTS = [{"id": i, "name": f"Client {i}", "created_at": "2024-01-01T00:00:00Z",
                "email": f"c{i}@example.com"} for i in range(1, 21)]
    app = Flask(__name__)

    @app.get("/api/v1/clients")
    def clients():
        if not request.authorization:
            return Response(b'{"error":"auth"}', 401, mimetype="application/json")
        return Response(orjson.dumps(CLIENTS), mimetype="application/json")

    def environ(method, path, qs, headers, body, scheme):
        env = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
               "QUERY_STRING": qs, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "0",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": scheme,
               "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
               "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False}
        for key, value in headers:
            key = key.upper().replace("-", "_")
            env["CONTENT_TYPE" if key == "CONTENT_TYPE" else "HTTP_" + key] = value
        return env

    def inline(env):
        out = {}
        def start(status, headers, exc=None):
            out["s"], out["h"] = int(status[:3]), headers
        body = b"".join(app.wsgi_app(env, start))
        return out["s"], out["h"], body

    async def asgi_inline(scope, receive, send):
        if scope["type"] == "websocket":
            await receive(); await send({"type": "websocket.accept"}); return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive(); body += message.get("body", b"")
            if not message.get("more_body"): break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        s, h, b = inline(environ(scope["method"], scope["path"],
                                 scope["query_string"].decode(), headers, body, scope["scheme"]))
        await send({"type": "http.response.start", "status": s,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in h]})
        await send({"type": "http.response.body", "body": b})

    class RsgiInline:
        async def __rsgi__(self, scope, protocol):
            if scope.proto == "ws":
                transport = await protocol.accept(); return
            body = await protocol()
            s, h, b = inline(environ(scope.method, scope.path, scope.query_string,
                                     list(scope.headers.items()), body, scope.scheme))
            protocol.response_bytes(s, h, b)

    rsgi_inline = RsgiInline()
    wsgi = app.wsgi_app

    def a2wsgi_app():
        from a2wsgi import WSGIMiddleware
        return WSGIMiddleware(app.wsgi_app)

    def serve_uvicorn(port, ws):
        import uvicorn
        sock = socket.socket(); sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port)); sock.listen(2048)
        target = asgi_inline if ws != "a2wsgi" else a2wsgi_app()
        uvicorn.Server(uvicorn.Config(target, http="httptools", ws="wsproto", loop="uvloop",
                       lifespan="off", log_level="warning", access_log=False)).run(sockets=[sock])

    if __name__ == "__main__":
        serve_uvicorn(int(sys.argv[1]), sys.argv[2])
    """
)


def candidates(port: int) -> dict[str, list[str]]:
    granian = [
        sys.executable,
        "-m",
        "granian",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]
    return {
        "uvicorn httptools+wsproto, Flask inline (chosen)": [
            sys.executable,
            "app.py",
            str(port),
            "inline",
        ],
        "uvicorn httptools+wsproto, Flask via a2wsgi": [
            sys.executable,
            "app.py",
            str(port),
            "a2wsgi",
        ],
        "granian WSGI (no WebSocket)": [*granian, "--interface", "wsgi", "app:wsgi"],
        "granian RSGI, Flask inline": [*granian, "--interface", "rsgi", "app:rsgi_inline"],
        "granian ASGI, Flask inline": [*granian, "--interface", "asgi", "app:asgi_inline"],
    }


def accepts_32_byte_key(port: int) -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
            raw.sendall(
                (
                    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    f"Sec-WebSocket-Key: {key}\r\n\r\n"
                ).encode()
            )
            head = raw.recv(64)
    except OSError as exc:
        return f"error {exc}"
    return "yes" if head.startswith(b"HTTP/1.1 101") else head.split(b"\r\n")[0].decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/stack.json"))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "app.py").write_text(APP)
        for index, name in enumerate(candidates(0)):
            port = 19100 + index
            command = candidates(port)[name]
            process = subprocess.Popen(
                command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                wait_for_port(port, 20)
                auth = "Basic " + base64.b64encode(b"a:b").decode()
                stats = run_wrk(
                    f"http://127.0.0.1:{port}/api/v1/clients",
                    args.duration,
                    headers={"Authorization": auth},
                )
                stats["websocket_32_byte_key"] = accepts_32_byte_key(port)
                stats["candidate"] = name
                results.append(stats)
                print(json.dumps(stats), flush=True)
            finally:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                time.sleep(0.5)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results},
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
