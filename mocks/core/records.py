"""Records shaped by their schemas: a field added to a schema appears with no code change.

``compile_shape`` turns a schema into a ``Shape`` whose ``shape(value)`` returns the value
with exactly the fields the schema lists, in its order: stored values where present, a value
stored under the ``x-renamed-from`` name, else the field's default (its ``default``; ``null``
where the type allows it; else the type's zero). Fields the schema does not list are dropped
unless ``additionalProperties`` allows them; ``writeOnly`` fields never appear.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .contracts import Contract

_ZERO: dict[str, Any] = {"string": "", "integer": 0, "number": 0, "boolean": False}


class Shape:
    """Base shape: keeps a value as it is."""

    def shape(self, value: Any) -> Any:
        return value

    def default(self) -> Any:
        return None


class _Leaf(Shape):
    def __init__(self, make_default: Callable[[], Any]) -> None:
        self._make_default = make_default

    def default(self) -> Any:
        return self._make_default()


class _Lazy(Shape):
    """Stands in for a schema still being compiled (recursive schemas)."""

    def __init__(self) -> None:
        self.target: Shape = Shape()

    def shape(self, value: Any) -> Any:
        return self.target.shape(value)

    def default(self) -> Any:
        return self.target.default()


class _Object(Shape):
    def __init__(
        self,
        fields: list[tuple[str, Shape, Callable[[], Any], str | None]],
        keep_extra: bool,
        make_default: Callable[[], Any] | None,
    ) -> None:
        self.fields = fields
        self.keep_extra = keep_extra
        self._make_default = make_default
        self._sources = {name for name, *_ in fields} | {
            renamed for *_, renamed in fields if renamed
        }

    def shape(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, sub, make_default, renamed in self.fields:
            if name in value:
                out[name] = sub.shape(value[name])
            elif renamed is not None and renamed in value:
                out[name] = sub.shape(value[renamed])
            else:
                out[name] = make_default()
        if self.keep_extra:
            for key, item in value.items():
                if key not in self._sources:
                    out[key] = item
        return out

    def default(self) -> Any:
        if self._make_default is not None:
            return self._make_default()
        return self.shape({})


class _Array(Shape):
    def __init__(self, items: Shape, make_default: Callable[[], Any]) -> None:
        self.items = items
        self._make_default = make_default

    def shape(self, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [self.items.shape(item) for item in value]

    def default(self) -> Any:
        return self._make_default()


class _Union(Shape):
    """``anyOf``/``oneOf``: a value is shaped by the first branch of its JSON kind."""

    def __init__(self, branches: list[tuple[str | None, Shape]], make_default: Callable[[], Any]):
        self.branches = branches
        self._make_default = make_default

    def shape(self, value: Any) -> Any:
        kind = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else None
        if kind is None:
            return value
        for branch_kind, branch in self.branches:
            if branch_kind == kind:
                return branch.shape(value)
        return value

    def default(self) -> Any:
        return self._make_default()


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return set(kind)
    return set()


def _constant(value: Any) -> Callable[[], Any]:
    if isinstance(value, dict | list):
        return lambda: copy.deepcopy(value)
    return lambda: value


class _Compiler:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.memo: dict[str, Shape] = {}

    def compile(self, node: Any, location: str) -> Shape:
        if not isinstance(node, dict):
            return Shape()
        if "$ref" in node:
            target_node, target = self.contract.deref(node, location)
            cached = self.memo.get(target)
            if cached is not None:
                return cached
            lazy = _Lazy()
            self.memo[target] = lazy
            lazy.target = self.compile(target_node, target)
            self.memo[target] = lazy.target
            return lazy.target
        return self._compile_plain(node, location)

    def _explicit_default(self, node: dict[str, Any], location: str) -> Callable[[], Any] | None:
        """A default written on the node itself, or on the schema its ``$ref`` names."""
        if "default" in node:
            return _constant(node["default"])
        if "const" in node:
            return _constant(node["const"])
        if "$ref" in node:
            target, _ = self.contract.deref(node, location)
            if isinstance(target, dict) and target is not node:
                return self._explicit_default(target, location)
        return None

    def field_default(self, node: Any, location: str, shape: Shape) -> Callable[[], Any]:
        if isinstance(node, dict):
            explicit = self._explicit_default(node, location)
            if explicit is not None:
                return explicit
        return shape.default

    def _nullable(self, node: dict[str, Any]) -> bool:
        if "null" in _types(node) or None in node.get("enum", [1]):
            return True
        for key in ("anyOf", "oneOf"):
            for branch in node.get(key, []):
                if isinstance(branch, dict) and _types(branch) == {"null"}:
                    return True
        return False

    def _compile_plain(self, node: dict[str, Any], location: str) -> Shape:
        explicit = self._explicit_default(node, location)
        nullable = self._nullable(node)
        types = _types(node) - {"null"}
        if "allOf" in node:
            return self._all_of(node, location, explicit, nullable)
        for key in ("anyOf", "oneOf"):
            if key in node:
                branches = []
                for i, branch in enumerate(node[key]):
                    resolved, _ = self.contract.deref(branch, f"{location}/{key}/{i}")
                    if not isinstance(resolved, dict) or _types(resolved) == {"null"}:
                        continue
                    kinds = _types(resolved) - {"null"}
                    kind = (
                        "object"
                        if "object" in kinds or "properties" in resolved
                        else "array"
                        if "array" in kinds or "items" in resolved
                        else None
                    )
                    branches.append((kind, self.compile(branch, f"{location}/{key}/{i}")))
                if explicit is not None:
                    make_default = explicit
                elif nullable or not branches:
                    make_default = _constant(None)
                else:
                    make_default = branches[0][1].default
                return _Union(branches, make_default)
        if "properties" in node or types == {"object"}:
            return self._object(node, location, explicit, nullable)
        if "items" in node or types == {"array"}:
            items = self.compile(node.get("items", {}), f"{location}/items")
            if explicit is None:
                explicit = _constant(None) if nullable else list
            return _Array(items, explicit)
        if explicit is not None:
            return _Leaf(explicit)
        if nullable or len(types) != 1:
            return _Leaf(_constant(None))
        return _Leaf(_constant(_ZERO.get(next(iter(types)))))

    def _object(
        self,
        node: dict[str, Any],
        location: str,
        explicit: Callable[[], Any] | None,
        nullable: bool,
    ) -> Shape:
        fields = []
        for name, sub in (node.get("properties") or {}).items():
            sub_loc = f"{location}/properties/{_escape(name)}"
            if isinstance(sub, dict) and sub.get("writeOnly"):
                continue
            shape = self.compile(sub, sub_loc)
            renamed = sub.get("x-renamed-from") if isinstance(sub, dict) else None
            fields.append((name, shape, self.field_default(sub, sub_loc, shape), renamed))
        # A free-form object keeps what it holds; a listed one keeps extras only when allowed.
        extra = node.get("additionalProperties")
        keep_extra = extra is not False if "properties" not in node else extra not in (None, False)
        if explicit is None and nullable:
            explicit = _constant(None)
        return _Object(fields, keep_extra, explicit)

    def _all_of(
        self,
        node: dict[str, Any],
        location: str,
        explicit: Callable[[], Any] | None,
        nullable: bool,
    ) -> Shape:
        fields: list[tuple[str, Shape, Callable[[], Any], str | None]] = []
        keep_extra = False
        for i, branch in enumerate(node["allOf"]):
            shape = self.compile(branch, f"{location}/allOf/{i}")
            if isinstance(shape, _Object):
                known = {name for name, *_ in fields}
                fields += [f for f in shape.fields if f[0] not in known]
                keep_extra = keep_extra or shape.keep_extra
        if "properties" in node:
            own = self._object(node, location, None, False)
            if isinstance(own, _Object):
                known = {name for name, *_ in fields}
                fields += [f for f in own.fields if f[0] not in known]
        if explicit is None and nullable:
            explicit = _constant(None)
        return _Object(fields, keep_extra, explicit)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def compile_shape(contract: Contract, location: str) -> Shape:
    """The shape of the schema at the absolute ``location`` in ``contract``."""
    compiler = _Compiler(contract)
    return compiler.compile({"$ref": location}, location)
