"""Match a captured request (method and URL path) to the contract operation it called.

Path templates become regular expressions, tried most specific first (``/api/cases/search``
before ``/api/cases/{id}``, as OpenAPI asks). The path part of each server URL
(``https://{subdomain}.viewcases.com/api/v1``) may prefix the request path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from ..core.contracts import Contract, Operation


def _template(path: str) -> re.Pattern[str]:
    pattern = "".join(
        "[^/]+" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{[^}/]+\})", path)
        if part
    )
    return re.compile(pattern)


def _specificity(path: str) -> tuple[int, int]:
    segments = [s for s in path.split("/") if s]
    literal = sum(1 for s in segments if "{" not in s)
    return (-literal, len(segments))


class Matcher:
    """Finds the operation of a request; knows which paths belong to the API at all."""

    def __init__(self, contract: Contract) -> None:
        bases = {""}
        for server in contract.document.get("servers") or []:
            url = server.get("url", "") if isinstance(server, dict) else ""
            base = re.sub(r"\{[^}]+\}", "x", url)
            bases.add(urlsplit(base).path.rstrip("/") if "//" in base else base.rstrip("/"))
        self._bases = sorted(bases, key=len, reverse=True)
        self._by_method: dict[str, list[tuple[re.Pattern[str], Operation]]] = {}
        self._paths: list[tuple[re.Pattern[str], str]] = []
        self._roots: set[str] = set()
        operations = sorted(contract.operations.values(), key=lambda op: _specificity(op.path))
        for operation in operations:
            pattern = _template(operation.path.rstrip("/") or "/")
            self._by_method.setdefault(operation.method, []).append((pattern, operation))
            self._paths.append((pattern, operation.path))
            first = operation.path.strip("/").split("/", 1)[0]
            self._roots.add(first)

    def _candidates(self, path: str) -> list[str]:
        path = unquote(path).rstrip("/") or "/"
        out = []
        for base in self._bases:
            if base and path.startswith(base + "/"):
                out.append(path[len(base) :])
            elif not base:
                out.append(path)
        return out

    def owns(self, path: str) -> bool:
        """Whether ``path`` lies where the contract's operations live (its first segments)."""
        for candidate in self._candidates(path):
            if candidate.strip("/").split("/", 1)[0] in self._roots:
                return True
        return False

    def match(self, method: str, path: str) -> Operation | None:
        for candidate in self._candidates(path):
            for pattern, operation in self._by_method.get(method.upper(), ()):
                if pattern.fullmatch(candidate):
                    return operation
        return None

    def template(self, path: str) -> str | None:
        """The contract path template ``path`` fits, whatever the method."""
        for candidate in self._candidates(path):
            for pattern, template in self._paths:
                if pattern.fullmatch(candidate):
                    return template
        return None
