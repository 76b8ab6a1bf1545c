"""Compare one JSON value with a JSON Schema field by field, the way a client would notice.

``compile_check(contract, location)`` turns the schema at ``location`` into a ``ValueCheck``
whose ``check(value, path, out)`` appends an ``Issue`` per difference: a field the schema does
not list, a required field missing, another JSON type, a string of another format, a value
outside an enum, a broken constraint. A validator's error list is not enough here: it does not
see fields the schema merely leaves unlisted, and it stops at the first failing ``anyOf``.

Checks are compiled once per schema location and cached on the contract, so a large capture
costs one walk of each body, not one schema interpretation per value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..core.contracts import check_date_time, pointer_escape

if TYPE_CHECKING:
    from ..core.contracts import Contract

Path = tuple[str, ...]
ITEM = "[]"
"""The path part standing for "any element of the array": findings group by field, not index."""

TYPE_CHANGED = "type-changed"
MISSING_FIELD = "missing-required-field"
UNDOCUMENTED_FIELD = "undocumented-field"
FORMAT_CHANGED = "format-changed"
ENUM_VALUE = "enum-value-outside-contract"
CONSTRAINT = "constraint-violated"

# Keywords that only annotate: they never make a value wrong.
_ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$anchor", "$comment", "$defs", "definitions", "title",
        "description", "default", "examples", "example", "readOnly", "writeOnly", "deprecated",
        "contentMediaType", "contentEncoding", "contentSchema", "discriminator", "xml",
        "externalDocs", "$dynamicAnchor",
    }
)  # fmt: skip
# Keywords this module applies itself; every other assertion goes to a jsonschema validator.
_HANDLED = frozenset(
    {
        "$ref", "type", "enum", "const", "format", "properties", "required",
        "additionalProperties", "unevaluatedProperties", "patternProperties", "items",
        "prefixItems", "allOf", "anyOf", "oneOf", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems",
        "maxItems", "uniqueItems", "minProperties", "maxProperties",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Issue:
    """One difference between a value and its schema."""

    kind: str
    path: Path
    received: str
    """What the value had: a JSON type, a short value, or ``absent``."""
    documented: str
    """What the schema says instead."""
    breaking: bool


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(value: Any, kind: str, types: frozenset[str]) -> bool:
    if kind in types:
        return True
    if kind == "integer":
        return "number" in types
    # JSON Schema counts 1.0 as an integer.
    return kind == "number" and "integer" in types and float(value).is_integer()


def value_key(value: Any) -> Any:
    """A hashable key equal for equal JSON values (``True`` and ``1`` differ, as in JSON)."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    return ("j", orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


def short(value: Any, limit: int = 60) -> str:
    """A value as JSON, cut to ``limit`` characters."""
    text = orjson.dumps(value).decode() if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ValueCheck:
    """Checks values against one schema; ``names`` are the fields it lists (None: any)."""

    names: frozenset[str] | None = None

    def check(self, value: Any, path: Path, out: list[Issue]) -> None:
        """Append the issues of ``value`` (found at ``path``) to ``out``."""


class _Lazy(ValueCheck):
    """Stands in for a schema still being compiled (recursive schemas)."""

    def __init__(self) -> None:
        self.target: ValueCheck = ValueCheck()

    def check(self, value: Any, path: Path, out: list[Issue]) -> None:
        self.target.check(value, path, out)


_Constraint = Callable[[Any], str | None]
"""Returns what the schema documents when ``value`` breaks it, else None."""


class _Node(ValueCheck):
    def __init__(self) -> None:
        self.types: frozenset[str] | None = None
        self.enum: frozenset[Any] | None = None
        self.enum_text = ""
        self.format: tuple[str, Callable[[str], bool]] | None = None
        self.constraints: list[_Constraint] = []
        self.properties: dict[str, ValueCheck] = {}
        self.renamed: dict[str, str] = {}
        """Old name -> the field that replaced it (``x-renamed-from``)."""
        self.required: tuple[str, ...] = ()
        self.patterns: list[tuple[re.Pattern[str], ValueCheck]] = []
        self.extra: ValueCheck | None = None
        self.extra_breaking = False
        self.report_extras = False
        self.items: ValueCheck | None = None
        self.prefix: list[ValueCheck] = []
        self.all_of: list[ValueCheck] = []
        self.any_of: list[ValueCheck] = []

    def check(self, value: Any, path: Path, out: list[Issue]) -> None:
        kind = json_type(value)
        if self.types is not None and not _type_ok(value, kind, self.types):
            out.append(Issue(TYPE_CHANGED, path, kind, " or ".join(sorted(self.types)), True))
            return
        if self.enum is not None and value_key(value) not in self.enum:
            out.append(Issue(ENUM_VALUE, path, short(value), self.enum_text, True))
            return
        if self.format is not None and kind == "string" and not self.format[1](value):
            out.append(Issue(FORMAT_CHANGED, path, short(value), f"format {self.format[0]}", True))
        for constraint in self.constraints:
            broken = constraint(value)
            if broken is not None:
                out.append(Issue(CONSTRAINT, path, short(value), broken, True))
        if kind == "object":
            self._object(value, path, out)
        elif kind == "array":
            self._array(value, path, out)
        for branch in self.all_of:
            branch.check(value, path, out)
        if self.any_of:
            out.extend(_best_branch(self.any_of, value, path))

    def _object(self, value: dict[str, Any], path: Path, out: list[Issue]) -> None:
        for name in self.required:
            if name not in value:
                out.append(Issue(MISSING_FIELD, (*path, name), "absent", "required", True))
        properties = self.properties
        for name, item in value.items():
            sub = properties.get(name)
            if sub is None:
                sub = next((c for p, c in self.patterns if p.search(name)), self.extra)
            if sub is not None:
                sub.check(item, (*path, name), out)
            elif self.report_extras:
                renamed = self.renamed.get(name)
                documented = f"renamed to {renamed}" if renamed else "not in the contract"
                out.append(
                    Issue(
                        UNDOCUMENTED_FIELD,
                        (*path, name),
                        json_type(item),
                        documented,
                        self.extra_breaking,
                    )
                )

    def _array(self, value: list[Any], path: Path, out: list[Issue]) -> None:
        item_path = (*path, ITEM)
        for index, item in enumerate(value):
            if index < len(self.prefix):
                self.prefix[index].check(item, item_path, out)
            elif self.items is not None:
                self.items.check(item, item_path, out)


def _best_branch(branches: list[ValueCheck], value: Any, path: Path) -> list[Issue]:
    """The issues of the branch that fits ``value`` best: none, or the fewest breaking ones."""
    best: list[Issue] | None = None
    best_rank: tuple[int, int] = (0, 0)
    for branch in branches:
        found: list[Issue] = []
        branch.check(value, path, found)
        rank = (sum(issue.breaking for issue in found), len(found))
        if best is None or rank < best_rank:
            best, best_rank = found, rank
        if rank == (0, 0):
            break
    return best or []


def is_annotation(key: str) -> bool:
    """Whether a schema keyword only annotates (it never makes a value wrong)."""
    return key in _ANNOTATIONS or key.startswith("x-")


def _types(node: dict[str, Any]) -> frozenset[str] | None:
    kind = node.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(kind)
    return None


def _limit(
    name: str, bound: Any, ok: Callable[[Any], bool], applies: tuple[str, ...]
) -> _Constraint:
    def constraint(value: Any) -> str | None:
        if json_type(value) not in applies or ok(value):
            return None
        return f"{name} {short(bound)}"

    return constraint


def _number_constraints(node: dict[str, Any]) -> list[_Constraint]:
    numbers = ("integer", "number")
    found = []
    if isinstance(node.get("minimum"), int | float):
        low = node["minimum"]
        found.append(_limit("minimum", low, lambda v: v >= low, numbers))
    if isinstance(node.get("maximum"), int | float):
        high = node["maximum"]
        found.append(_limit("maximum", high, lambda v: v <= high, numbers))
    if isinstance(node.get("exclusiveMinimum"), int | float):
        xlow = node["exclusiveMinimum"]
        found.append(_limit("exclusiveMinimum", xlow, lambda v: v > xlow, numbers))
    if isinstance(node.get("exclusiveMaximum"), int | float):
        xhigh = node["exclusiveMaximum"]
        found.append(_limit("exclusiveMaximum", xhigh, lambda v: v < xhigh, numbers))
    if isinstance(node.get("multipleOf"), int | float) and node["multipleOf"] > 0:
        step = node["multipleOf"]
        found.append(
            _limit("multipleOf", step, lambda v: math.isclose(v / step, round(v / step)), numbers)
        )
    return found


def _size_constraints(node: dict[str, Any]) -> list[_Constraint]:
    found = []
    for name, applies, bigger in (
        ("minLength", ("string",), False),
        ("maxLength", ("string",), True),
        ("minItems", ("array",), False),
        ("maxItems", ("array",), True),
        ("minProperties", ("object",), False),
        ("maxProperties", ("object",), True),
    ):
        bound = node.get(name)
        if isinstance(bound, int):
            if bigger:
                found.append(_limit(name, bound, lambda v, b=bound: len(v) <= b, applies))
            else:
                found.append(_limit(name, bound, lambda v, b=bound: len(v) >= b, applies))
    if isinstance(node.get("pattern"), str):
        try:
            pattern = re.compile(node["pattern"])
        except re.error:
            pattern = None
        if pattern is not None:
            found.append(
                _limit("pattern", node["pattern"], lambda v: bool(pattern.search(v)), ("string",))
            )
    if node.get("uniqueItems") is True:
        found.append(
            _limit(
                "uniqueItems",
                True,
                lambda v: len({value_key(item) for item in v}) == len(v),
                ("array",),
            )
        )
    return found


def _format_checker(name: str) -> Callable[[str], bool]:
    if name == "date-time":
        return check_date_time
    from jsonschema import FormatChecker

    checker = FormatChecker()
    return lambda value: checker.conforms(value, name)


class _Compiler:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.memo: dict[tuple[str, bool], ValueCheck] = contract.memo.setdefault("drift.values", {})

    def compile(self, node: Any, location: str, report_extras: bool = True) -> ValueCheck:
        if not isinstance(node, dict) or node is True:
            return ValueCheck()
        if "$ref" in node and all(is_annotation(key) for key in node if key != "$ref"):
            target, target_loc = self.contract.deref(node, location)
            key = (target_loc, report_extras)
            cached = self.memo.get(key)
            if cached is not None:
                return cached
            lazy = _Lazy()
            self.memo[key] = lazy
            lazy.target = self.compile(target, target_loc, report_extras)
            self.memo[key] = lazy.target
            return lazy.target
        return self._plain(node, location, report_extras)

    def _plain(self, node: dict[str, Any], location: str, report_extras: bool) -> ValueCheck:
        out = _Node()
        out.types = _types(node)
        if "enum" in node or "const" in node:
            values = node["enum"] if "enum" in node else [node["const"]]
            out.enum = frozenset(value_key(v) for v in values)
            out.enum_text = "one of " + ", ".join(short(v, 30) for v in values[:12])
            if len(values) > 12:
                out.enum_text += f", … ({len(values)} values)"
        if isinstance(node.get("format"), str):
            out.format = (node["format"], _format_checker(node["format"]))
        out.constraints = _number_constraints(node) + _size_constraints(node)
        rest = self._rest(node, location)
        if rest is not None:
            out.constraints.append(rest)
        parts: list[tuple[Any, str]] = (
            [({"$ref": node["$ref"]}, location)] if "$ref" in node else []
        )
        parts += [(sub, f"{location}/allOf/{i}") for i, sub in enumerate(node.get("allOf", []))]
        names = self._object_part(out, node, location, has_parts=bool(parts))
        if isinstance(node.get("items"), dict):
            out.items = self.compile(node["items"], f"{location}/items")
        for i, sub in enumerate(node.get("prefixItems") or []):
            out.prefix.append(self.compile(sub, f"{location}/prefixItems/{i}"))
        # A $ref beside other keywords is one more schema the value must meet (2020-12).
        for sub, loc in parts:
            # Fields listed by any part are known: only this node reports the unknown ones.
            branch = self.compile(sub, loc, report_extras=False)
            out.all_of.append(branch)
            names = None if names is None or branch.names is None else names | branch.names
        # Branches of an object that lists its fields refine it: the object reports unknown
        # fields. Branches of a bare union (``X`` or null) are whole schemas and report their own.
        for key in ("anyOf", "oneOf"):
            for i, sub in enumerate(node.get(key, [])):
                branch = self.compile(sub, f"{location}/{key}/{i}", names is None and report_extras)
                out.any_of.append(branch)
                if names is not None and branch.names is not None:
                    names |= branch.names
        out.names = names
        out.report_extras = report_extras and names is not None and out.extra is None
        if out.report_extras:
            # Fields of allOf parts are checked by those parts; here they only count as known.
            known = names or frozenset()
            inner = out.properties
            out.properties = {
                **{name: ValueCheck() for name in known if name not in inner},
                **inner,
            }
        return out

    def _object_part(
        self, out: _Node, node: dict[str, Any], location: str, *, has_parts: bool
    ) -> frozenset[str] | None:
        """Fill the object keywords; return the field names the node lists (None: any)."""
        properties = node.get("properties")
        for name, sub in (properties or {}).items():
            sub_loc = f"{location}/properties/{pointer_escape(name)}"
            out.properties[name] = self.compile(sub, sub_loc)
            if isinstance(sub, dict) and isinstance(sub.get("x-renamed-from"), str):
                out.renamed[sub["x-renamed-from"]] = name
        required = node.get("required")
        out.required = tuple(required) if isinstance(required, list) else ()
        for pattern, sub in (node.get("patternProperties") or {}).items():
            try:
                compiled = re.compile(pattern)
            except re.error:
                continue
            sub_loc = f"{location}/patternProperties/{pointer_escape(pattern)}"
            out.patterns.append((compiled, self.compile(sub, sub_loc)))
        extra = node.get("additionalProperties", node.get("unevaluatedProperties"))
        if extra is True:
            return None
        if isinstance(extra, dict) and extra:
            out.extra = self.compile(extra, f"{location}/additionalProperties")
            return None
        # A schema without `properties` (or parts that list some) is a free-form object.
        if properties is None and extra is not False and not has_parts:
            return None
        out.extra_breaking = extra is False
        return frozenset(properties or ())

    def _rest(self, node: dict[str, Any], location: str) -> _Constraint | None:
        """Keywords not handled here (``not``, ``if``, ``contains`` …), left to jsonschema."""
        rest = {
            key: value
            for key, value in node.items()
            if key not in _HANDLED and not is_annotation(key)
        }
        if not rest:
            return None
        from jsonschema import Draft202012Validator

        base = location.split("#", 1)[0]
        validator = Draft202012Validator({"$id": base, **rest}, registry=self.contract.registry)

        def constraint(value: Any) -> str | None:
            error = next(iter(validator.iter_errors(value)), None)
            if error is None:
                return None
            return f"{error.validator} {short(error.validator_value)}"

        return constraint


def compile_check(contract: Contract, location: str) -> ValueCheck:
    """The (cached) check of the schema at ``location``, an absolute ``uri#pointer``."""
    return _Compiler(contract).compile({"$ref": location}, location)


def path_text(path: Path) -> str:
    """``positions[].attributes.floor``; the whole body is ``(body)``."""
    text = ""
    for part in path:
        text += part if part == ITEM else ("." + part if text else part)
    return text or "(body)"
