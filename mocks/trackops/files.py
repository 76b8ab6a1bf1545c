"""File download links: signed, issued with every response, valid for 15 minutes.

Trackops API Reference (Files): each record carries a download URL valid for 15 minutes. The link's
form is inferred: ``/api/v1/files/{id}/download?expires=<unix seconds>&signature=<hex>``,
needing no basic auth. Links are signed with a random key made when the emulator starts, so
no one can forge one; the ``link_key: seed`` setting derives the key from the seed instead,
for links that are the same on every run (and that anyone who knows the seed can forge).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from .records import stamp


@dataclass(frozen=True)
class LinkSigner:
    key: bytes
    ttl: float

    @classmethod
    def for_seed(cls, seed: int, ttl: float) -> LinkSigner:
        return cls(hashlib.sha256(f"trackmock-trackops-links-{seed}".encode()).digest(), ttl)

    @classmethod
    def random(cls, ttl: float) -> LinkSigner:
        return cls(secrets.token_bytes(32), ttl)

    def signature(self, subdomain: str, file_id: int, expires: int) -> str:
        message = f"{subdomain}:{file_id}:{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:32]

    def issue(
        self, record: dict[str, Any], base_url: str, subdomain: str, now: float
    ) -> dict[str, Any]:
        """``record`` with a fresh link that stops working ``ttl`` seconds from now."""
        expires = int(now + self.ttl)
        url = (
            f"{base_url.rstrip('/')}/api/v1/files/{record['id']}/download"
            f"?expires={expires}&signature={self.signature(subdomain, record['id'], expires)}"
        )
        return {**record, "download_url": url, "download_url_expires_at": stamp(expires)}

    def valid(self, subdomain: str, file_id: int, expires: int, signature: str) -> bool:
        expected = self.signature(subdomain, file_id, expires)
        return hmac.compare_digest(expected, signature)


def placeholder(record: dict[str, Any], limit: int) -> bytes:
    """Deterministic bytes standing in for the file: ``size_bytes`` long, cut to ``limit``."""
    size = min(int(record.get("size_bytes") or 0), limit)
    line = f"trackmock placeholder for file {record['id']} ({record.get('filename')})\n".encode()
    return (line * (size // len(line) + 1))[:size]
