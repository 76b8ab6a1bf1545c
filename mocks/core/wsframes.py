"""WebSocket frames as a server writes them, and the scope key of our server's channel.

Apart from ``wschannel`` (which needs wsproto, loaded on the first upgrade) so that serving
an emulator without sockets never imports it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

CHANNEL_KEY = "trackmock.websocket"
"""ASGI scope extension holding the ``WebSocketChannel`` (see ``wschannel``)."""


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (RFC 6455 section 5.2), as a server sends it."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, size))
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def encode_text_frames(texts: Iterable[str]) -> bytes:
    """Text frames, ready to write to any number of sockets."""
    return b"".join(encode_frame(0x1, text.encode("utf-8")) for text in texts)
