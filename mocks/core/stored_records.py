"""Stored records checked against their contract schema, fast enough for a whole snapshot.

A restore checks every record of every table (hundreds of thousands at a time), and a full
JSON Schema validator takes milliseconds a record. So a schema is compiled once, cached with
its contract, into the checks that keep every read of a restored record from failing: the
record holds every field the schema lists (records are stored shaped by their schema,
``records.py``: every field, ``writeOnly`` ones aside), and each holds a JSON type the schema
allows, in nested objects and array items too. Formats, patterns, ranges and enums are not
checked: a value out of them gives a wrong answer, never a failed read. Fields the schema does
not list are allowed (a stored record may carry the emulator's own).

A schema whose stored form differs from the written one says so with ``x-stored-as`` (a
schema): Track keeps its timestamps as epoch milliseconds and writes them as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .contracts import Contract

_NAMES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    dict: "object",
    list: "array",
}


def _kind(value: Any) -> str:
    return _NAMES.get(type(value), type(value).__name__)


class RecordError(ValueError):
    """A record that is not of its schema: ``path`` is where in it (``.field[2]``), or ""."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def inside(self, step: str) -> RecordError:
        """The same error seen from the value that holds this one at ``step``."""
        return RecordError(step + self.path, self.message)


class _Missing:
    """Stands for a field a record lacks (its kind is ``missing``, which no schema allows)."""


_NAMES[_Missing] = "missing"
_MISSING = _Missing()
_ANY = frozenset(_NAMES.values()) - {"missing"}


class Check:
    """The checks of one schema node (all of them pass for a value that matches)."""

    def __init__(self) -> None:
        self.kinds: frozenset[str] | None = None
        """The JSON types allowed (``number`` lets integers in); None: any."""
        self.leaves: list[tuple[str, frozenset[str]]] = []
        """An object's fields whose types are all there is to check: each must be present."""
        self.nested: list[tuple[str, Check]] = []
        """An object's other fields, each present and checked further."""
        self.items: Check | None = None
        self.any_of: list[Check] = []
        """Alternatives (``anyOf``/``oneOf``): a value passes one of them."""
        self.by_kind: dict[str, Check] = {}
        """Alternatives of distinct types, by type (``[an array of ..., null]``): a value is
        checked by the one of its type alone."""
        self.all_of: list[Check] = []

    @property
    def leaf(self) -> bool:
        """Whether the types are all there is to check."""
        return not (
            self.leaves or self.nested or self.items or self.any_of or self.by_kind or self.all_of
        )

    def run(self, value: Any) -> None:
        """Raise ``RecordError`` naming the first thing wrong with ``value``."""
        if self.kinds is not None and _NAMES.get(type(value)) not in self.kinds:
            raise _wrong_kind(self.kinds, value)
        if type(value) is dict:
            # The hot loop of a restore: one lookup a field, the error made on failure only.
            get = value.get
            for name, kinds in self.leaves:
                if _NAMES.get(type(get(name, _MISSING))) not in kinds:
                    raise _field_error(name, kinds, get(name, _MISSING))
            for name, check in self.nested:
                item = get(name, _MISSING)
                if item is _MISSING:
                    raise _field_error(name, _ANY, item)
                try:
                    check.run(item)
                except RecordError as exc:
                    raise exc.inside(f".{name}") from None
        if self.items is not None and type(value) is list:
            kinds = self.items.kinds if self.items.leaf else None
            for i, item in enumerate(value):
                try:
                    if kinds is None:
                        self.items.run(item)
                    elif _NAMES.get(type(item)) not in kinds:
                        raise _wrong_kind(kinds, item)
                except RecordError as exc:
                    raise exc.inside(f"[{i}]") from None
        if self.by_kind:
            further = self.by_kind.get(_NAMES.get(type(value), ""))
            if further is not None:
                further.run(value)
        for check in self.all_of:
            check.run(value)
        if self.any_of:
            first: RecordError | None = None
            for check in self.any_of:
                try:
                    check.run(value)
                    return
                except RecordError as exc:
                    first = first or exc
            if first is not None:
                raise first


def _field_error(name: str, kinds: frozenset[str], value: Any) -> RecordError:
    if value is _MISSING:
        return RecordError("", f"missing field {name!r}")
    return _wrong_kind(kinds, value).inside(f".{name}")


def _wrong_kind(kinds: frozenset[str], value: Any) -> RecordError:
    allowed = sorted(kinds - {"integer"} if "number" in kinds else kinds)
    return RecordError("", f"expected {' or '.join(allowed)}, found {_kind(value)}")


def _types(node: dict[str, Any]) -> frozenset[str] | None:
    kind = node.get("type")
    if kind is None:
        return None
    kinds = frozenset([kind] if isinstance(kind, str) else kind)
    return kinds | {"integer"} if "number" in kinds else kinds


class _Compiler:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.memo: dict[str, Check] = {}

    def compile(self, node: Any, location: str) -> Check:
        if not isinstance(node, dict):
            return Check()
        if "$ref" in node:
            target_node, target = self.contract.deref(node, location)
            found = self.memo.get(target)
            if found is None:
                # Placed before compiling: a recursive schema refers to the one being built.
                found = self.memo[target] = Check()
                try:
                    compiled = self.compile(target_node, target)
                except BaseException:
                    del self.memo[target]  # never a half-made check for the next record
                    raise
                found.__dict__.update(compiled.__dict__)
            return found
        if isinstance(node.get("x-stored-as"), dict):
            return self.compile(node["x-stored-as"], f"{location}/x-stored-as")
        check = Check()
        check.kinds = _types(node)
        for name, sub in (node.get("properties") or {}).items():
            where = f"{location}/properties/{name}"
            resolved, _ = self.contract.deref(sub, where)
            if not (isinstance(resolved, dict) and resolved.get("writeOnly")):
                field = self.compile(sub, where)
                if field.leaf:
                    check.leaves.append((name, _ANY if field.kinds is None else field.kinds))
                else:
                    check.nested.append((name, field))
        if isinstance(node.get("items"), dict):
            check.items = self.compile(node["items"], f"{location}/items")
        for key in ("anyOf", "oneOf"):
            for i, branch in enumerate(node.get(key) or []):
                check.any_of.append(self.compile(branch, f"{location}/{key}/{i}"))
        _by_kind(check)
        for i, branch in enumerate(node.get("allOf") or []):
            check.all_of.append(self.compile(branch, f"{location}/allOf/{i}"))
        return check


def _by_kind(check: Check) -> None:
    """Alternatives of distinct types become one set of types, each type checked further by
    its alternative alone (no trying one after another)."""
    kinds = [branch.kinds for branch in check.any_of]
    if not kinds or any(k is None for k in kinds):
        return
    union: frozenset[str] = frozenset().union(*kinds)  # type: ignore[arg-type]
    if len(union) != sum(len(k) for k in kinds if k is not None):
        return
    check.kinds = union if check.kinds is None else check.kinds & union
    check.by_kind = {
        kind: branch for branch in check.any_of if not branch.leaf for kind in branch.kinds or ()
    }
    check.any_of = []


def record_check(contract: Contract, schema: str) -> Check:
    """The compiled check of ``schema``: a component's name (``Case``) or a location in the
    contract (``schemas/Case.json``, an absolute ``file://...#/...``). Cached with the contract.
    """
    found: Check | None = contract.memo.get((Check, schema))
    if found is None:
        location = (
            contract.location("components", "schemas", schema)
            if "#" not in schema and "/" not in schema
            else contract.schema_uri(schema)
        )
        compiler: _Compiler = contract.memo.setdefault(_Compiler, _Compiler(contract))
        found = contract.memo[(Check, schema)] = compiler.compile({"$ref": location}, contract.uri)
    return found
