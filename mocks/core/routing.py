"""The emulator's operations as a routing table, for the fast path.

Compiled once from the routes the contracts give (``Emulator.routes``): a tree of path
segments, searched literal segments first, as OpenAPI (and werkzeug, which serves the full
path) match. A templated segment never takes a value that a sibling path spells out in its
place (``concrete_siblings``): ``/cases/search`` is never ``/cases/{id}``.

The table answers only what it is sure the full path's router would answer alike: a path
with an empty segment (``//``), a trailing ``/`` the contract's path lacks (or the other way
round) or a method no operation takes at the path (a 405, ``OPTIONS``) is ``None``, and the
request goes the full path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .contracts import concrete_siblings

if TYPE_CHECKING:
    from .emulator import Route

MATCHES_KEPT = 1024
"""(method, path) pairs whose match the table remembers (forgotten all at once when full)."""
MATCHED_PATH_CHARS = 2048
"""A longer path is matched each time, never remembered (bounds the memo's size)."""


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    params: list[tuple[str, frozenset[str], _Node]] = field(default_factory=list)
    """(parameter name, the literals it never takes, the node after it), in contract order."""
    methods: dict[str, Route] = field(default_factory=dict)


class RouteTable:
    """Method and path -> the route serving them, and its path arguments (as spelled)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        routes = list(routes)
        self._root = _Node()
        self._matched: dict[tuple[str, str], tuple[Route, dict[str, str]] | Literal[False]] = {}
        """Matches remembered: a client asks for the same few URLs again and again."""
        siblings = concrete_siblings([route.operation.path for route in routes])
        for route in routes:
            node = self._root
            path = route.operation.path
            for segment in path[1:].split("/"):
                if segment.startswith("{") and segment.endswith("}"):
                    name = segment[1:-1]
                    excluded = frozenset(siblings.get((path, name), ()))
                    node = self._param_child(node, name, excluded)
                else:
                    node = node.literals.setdefault(segment, _Node())
            node.methods[route.operation.method.upper()] = route

    @staticmethod
    def _param_child(node: _Node, name: str, excluded: frozenset[str]) -> _Node:
        for known, known_excluded, child in node.params:
            if known == name and known_excluded == excluded:
                return child
        child = _Node()
        node.params.append((name, excluded, child))
        return child

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and path arguments (a new dict each time: callers may change it)."""
        found = self._matched.get((method, path))
        if found is None:
            found = self._match(method, path)
            if len(path) <= MATCHED_PATH_CHARS:
                if len(self._matched) >= MATCHES_KEPT:
                    self._matched.clear()
                self._matched[method, path] = found
        return None if found is False else (found[0], dict(found[1]))

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | Literal[False]:
        if not path.startswith("/") or "//" in path:
            return False
        args: dict[str, str] = {}
        route = _search(self._root, path[1:].split("/"), 0, method, args)
        return False if route is None else (route, args)


def _search(
    node: _Node, segments: list[str], index: int, method: str, args: dict[str, str]
) -> Route | None:
    if index == len(segments):
        route = node.methods.get(method)
        if route is None and method == "HEAD":
            route = node.methods.get("GET")
        return route
    segment = segments[index]
    literal = node.literals.get(segment)
    if literal is not None:
        found = _search(literal, segments, index + 1, method, args)
        if found is not None:
            return found
    for name, excluded, child in node.params if segment else ():
        if segment in excluded:
            continue
        found = _search(child, segments, index + 1, method, args)
        if found is not None:
            args[name] = segment
            return found
    return None
