"""``trackmock diff``: two versions of a contract, change by change, breaking or not for a client.

Why written here and not taken from a library: the Python OpenAPI differs tried
(``api-schema-diff``) do not follow ``$ref``s into sibling schema files, which is how every
contract here is written, so they saw no change in the v100 example; ``jsoncompat`` answers
yes or no for one pair of schemas, without saying which field changed; ``oasdiff`` and
``openapi-diff`` are Go and Java programs. The comparison below walks both contracts through
the core loader (which resolves those ``$ref``s) and knows the one thing a generic differ does
not: who writes each schema.

Direction decides what breaks. A **response** (or a frame the server sends) is written by the
vendor and read by the client: the client breaks when a value can now be something it did not
expect (a new type, a new enum value, a field gone or no longer required). A **request** (or a
frame the client sends) is written by the client and read by the vendor: the client breaks
when what it sends may now be refused (a type or enum value taken away, a field newly
required or removed, a parameter added as required).
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ..core.contracts import pointer_escape
from . import events as ev
from .values import FORMAT_CHANGED, ITEM, TYPE_CHANGED, is_annotation, value_key

if TYPE_CHECKING:
    from ..core.contracts import Contract, Operation
    from .bundle import Bundle

RESPONSE = "response"
REQUEST = "request"
_CONSTRAINTS = (
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
    "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties",
)  # fmt: skip
_RENAME_CUTOFF = 0.8

Emit = Callable[[ev.Event], None]


@dataclass
class _View:
    """A schema as a comparison needs it: ``$ref``s followed, ``allOf`` parts merged, an
    ``X or null`` union seen as a nullable ``X``."""

    types: frozenset[str] | None = None
    nullable: bool = False
    format: str | None = None
    enum: dict[Any, Any] | None = None
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)
    lists_properties: bool = False
    required: set[str] = field(default_factory=set)
    items: tuple[Any, str] | None = None
    branches: list[tuple[Any, str]] = field(default_factory=list)
    constraints: dict[str, Any] = field(default_factory=dict)

    def type_text(self) -> str:
        types = sorted(self.types or {"any"})
        return " or ".join(types + (["null"] if self.nullable else []))


def _view(contract: Contract, node: Any, location: str, view: _View | None = None) -> _View:
    view = view or _View()
    # A $ref beside assertions (``"const": 0``) is one part among others; alone, it is followed.
    if isinstance(node, dict) and all(is_annotation(k) for k in node if k != "$ref"):
        node, location = contract.deref(node, location)
    if not isinstance(node, dict):
        return view
    kind = node.get("type")
    types = {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else None
    if types is not None:
        view.nullable |= "null" in types
        types.discard("null")
        view.types = frozenset(types) if view.types is None else view.types & types
    if isinstance(node.get("format"), str) and view.format is None:
        view.format = node["format"]
    if ("enum" in node or "const" in node) and view.enum is None:
        values = node["enum"] if "enum" in node else [node["const"]]
        view.enum = {value_key(v): v for v in values if v is not None}
        view.nullable |= None in values
    for name, sub in (node.get("properties") or {}).items():
        view.properties.setdefault(name, (sub, f"{location}/properties/{pointer_escape(name)}"))
    view.lists_properties |= "properties" in node
    if isinstance(node.get("required"), list):
        view.required |= set(node["required"])
    if isinstance(node.get("items"), dict) and view.items is None:
        view.items = (node["items"], f"{location}/items")
    for key in _CONSTRAINTS:
        if key in node:
            view.constraints.setdefault(key, node[key])
    if "$ref" in node:
        _view(contract, {"$ref": node["$ref"]}, location, view)
    for i, part in enumerate(node.get("allOf") or []):
        _view(contract, part, f"{location}/allOf/{i}", view)
    for key in ("anyOf", "oneOf"):
        branches = []
        for i, branch in enumerate(node.get(key) or []):
            target, _ = contract.deref(branch, f"{location}/{key}/{i}")
            if isinstance(target, dict) and target.get("type") == "null":
                view.nullable = True
            else:
                branches.append((branch, f"{location}/{key}/{i}"))
        if len(branches) == 1:
            _view(contract, *branches[0], view)
        else:
            view.branches.extend(branches)
    if view.types is None:
        if view.properties:
            view.types = frozenset({"object"})
        elif view.items is not None:
            view.types = frozenset({"array"})
    return view


def _widened(old: frozenset[str], new: frozenset[str]) -> set[str]:
    """Types ``new`` allows that ``old`` did not (an integer is a number)."""
    added = set(new - old)
    if "integer" in added and "number" in old:
        added.discard("integer")
    return added


def _join(path: str, name: str) -> str:
    if name == ITEM:
        return path + ITEM
    return f"{path}.{name}" if path else name


@dataclass
class _Schemas:
    """Compares one schema pair of an operation and collects the findings."""

    old: Contract
    new: Contract
    direction: str
    where: str
    findings: list[ev.Finding]
    stack: set[tuple[str, str]] = field(default_factory=set)

    def add(self, kind: str, breaking: bool, path: str, message: str) -> None:
        whole = "(value)" if self.where.startswith("parameter") else "(body)"
        place = f"{self.where}: {path or whole}"
        self.findings.append(ev.Finding(kind, breaking, place, f"{place}: {message}"))

    def compare(self, old: tuple[Any, str], new: tuple[Any, str], path: str = "") -> None:
        key = (old[1], new[1])
        if key in self.stack:
            return
        self.stack.add(key)
        try:
            self._compare(_view(self.old, *old), _view(self.new, *new), path)
        finally:
            self.stack.discard(key)

    def _compare(self, old: _View, new: _View, path: str) -> None:
        response = self.direction == RESPONSE
        if not self._types(old, new, path, response):
            return
        if old.format != new.format:
            breaking = old.format is not None if response else new.format is not None
            self.add(
                FORMAT_CHANGED,
                breaking,
                path,
                f"format {old.format or '(none)'} is now {new.format or '(none)'}",
            )
        self._enum(old, new, path, response)
        for key in sorted(set(old.constraints) | set(new.constraints)):
            before, after = old.constraints.get(key), new.constraints.get(key)
            if before != after:
                change = f"{key} {_shown(before)} is now {_shown(after)}"
                self.add(ev.CONSTRAINT_CHANGED, False, path, change)
        if old.lists_properties or new.lists_properties:
            self._properties(old, new, path, response)
        if old.items is not None and new.items is not None:
            self.compare(old.items, new.items, _join(path, ITEM))
        if old.branches or new.branches:
            if len(old.branches) != len(new.branches):
                more = len(new.branches) > len(old.branches)
                self.add(
                    ev.ALTERNATIVES_CHANGED,
                    more if response else not more,
                    path,
                    f"{len(old.branches)} alternative schemas are now {len(new.branches)}",
                )
            for before, after in zip(old.branches, new.branches, strict=False):
                self.compare(before, after, path)

    def _types(self, old: _View, new: _View, path: str, response: bool) -> bool:
        """Report a type change; False when the types share nothing (no point going deeper)."""
        if old.types is None or new.types is None:
            return True
        widened = _widened(old.types, new.types) | (
            {"null"} if new.nullable > old.nullable else set()
        )
        narrowed = _widened(new.types, old.types) | (
            {"null"} if old.nullable > new.nullable else set()
        )
        if not widened and not narrowed:
            return True
        breaking = bool(widened) if response else bool(narrowed)
        self.add(TYPE_CHANGED, breaking, path, f"type {old.type_text()} is now {new.type_text()}")
        return bool(old.types & new.types)

    def _enum(self, old: _View, new: _View, path: str, response: bool) -> None:
        if old.enum == new.enum:
            return
        if old.enum is not None and new.enum is not None:
            added = _values([new.enum[k] for k in new.enum if k not in old.enum])
            removed = _values([old.enum[k] for k in old.enum if k not in new.enum])
        elif new.enum is None:
            added, removed = "any value", ""
        else:
            added, removed = "", "any value but " + _values(list(new.enum.values()))
        if added:
            self.add(ev.ENUM_WIDENED, response, path, f"new values: {added}")
        if removed:
            self.add(ev.ENUM_NARROWED, not response, path, f"values gone: {removed}")

    def _properties(self, old: _View, new: _View, path: str, response: bool) -> None:
        removed = [name for name in old.properties if name not in new.properties]
        added = [name for name in new.properties if name not in old.properties]
        for before, after in self._renames(removed, added, new):
            removed.remove(before)
            added.remove(after)
            old_type = _view(self.old, *old.properties[before]).type_text()
            new_type = _view(self.new, *new.properties[after]).type_text()
            change = f" ({old_type})" if old_type == new_type else f" ({old_type} → {new_type})"
            self.add(
                ev.FIELD_RENAMED,
                True,
                _join(path, before),
                f"renamed to {after}{change}",
            )
        for name in removed:
            required = name in old.required
            self.add(
                ev.FIELD_REMOVED,
                required if response else True,
                _join(path, name),
                "removed" + (" (it was required)" if required else ""),
            )
        for name in added:
            required = name in new.required
            self.add(
                ev.FIELD_ADDED,
                False if response else required,
                _join(path, name),
                "added" + (" as required" if required else ""),
            )
        for name in old.properties:
            if name not in new.properties:
                continue
            sub = _join(path, name)
            was, now = name in old.required, name in new.required
            if now and not was:
                self.add(ev.FIELD_NOW_REQUIRED, not response, sub, "now required")
            elif was and not now:
                self.add(ev.FIELD_NOW_OPTIONAL, response, sub, "no longer required")
            self.compare(old.properties[name], new.properties[name], sub)

    def _renames(self, removed: list[str], added: list[str], new: _View) -> list[tuple[str, str]]:
        """Pairs (old name, new name): ``x-renamed-from``, else names alike (``caseOfficerId``
        and ``caseOfficerIds``)."""
        pairs = []
        left, right = list(removed), list(added)
        for name in list(right):
            node, _ = self.new.deref(*new.properties[name])
            source = node.get("x-renamed-from") if isinstance(node, dict) else None
            if source in left:
                pairs.append((source, name))
                left.remove(source)
                right.remove(name)
        for name in list(left):
            close = difflib.get_close_matches(name, right, n=1, cutoff=_RENAME_CUTOFF)
            if close:
                pairs.append((name, close[0]))
                left.remove(name)
                right.remove(close[0])
        return pairs


def _shown(value: Any) -> str:
    return "(none)" if value is None else repr(value)


def _values(values: list[Any]) -> str:
    text = ", ".join(orjson.dumps(v).decode() for v in values[:10])
    return text + (f", … ({len(values)} values)" if len(values) > 10 else "")


# -- operations -------------------------------------------------------------------------------


def _normal_path(path: str) -> str:
    return re.sub(r"\{[^}/]+\}", "{}", path.rstrip("/"))


def _pair_operations(
    old: Contract, new: Contract
) -> tuple[list[tuple[Operation, Operation]], list[Operation], list[Operation]]:
    pairs = []
    left = dict(old.operations)
    right = dict(new.operations)
    for op_id in list(left):
        if op_id in right:
            pairs.append((left.pop(op_id), right.pop(op_id)))
    by_route = {(op.method, _normal_path(op.path)): op for op in right.values()}
    for op_id, operation in list(left.items()):
        match = by_route.get((operation.method, _normal_path(operation.path)))
        if match is not None:
            pairs.append((operation, match))
            del left[op_id]
            del right[match.id]
    return pairs, list(left.values()), list(right.values())


def _security(contract: Contract, operation: Operation) -> set[frozenset[str]]:
    """The operation's alternatives of security schemes, each scheme by its definition."""
    item, _ = contract.deref(
        contract.document["paths"][operation.path], contract.location("paths", operation.path)
    )
    requirements = item[operation.method.lower()].get("security", contract.document.get("security"))
    schemes = (contract.document.get("components") or {}).get("securitySchemes") or {}
    out = set()
    for requirement in requirements or []:
        described = set()
        for name in requirement or {}:
            scheme, _ = contract.deref(schemes.get(name, {}), contract.location("components"))
            definition = {
                k: v for k, v in (scheme or {}).items() if k in ("type", "scheme", "in", "name")
            }
            described.add(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS).decode())
        out.add(frozenset(described))
    return out


class _Operations:
    def __init__(self, old: Contract, new: Contract) -> None:
        self.old = old
        self.new = new

    def compare(self, before: Operation, after: Operation) -> list[ev.Finding]:
        findings: list[ev.Finding] = []
        if before.method != after.method or _normal_path(before.path) != _normal_path(after.path):
            findings.append(
                ev.Finding(
                    ev.OPERATION_MOVED,
                    True,
                    "(operation)",
                    f"{before.method} {before.path} is now {after.method} {after.path}",
                )
            )
        self._parameters(before, after, findings)
        self._request(before, after, findings)
        self._responses(before, after, findings)
        old_security, new_security = _security(self.old, before), _security(self.new, after)
        if old_security != new_security:
            anonymous = frozenset() in new_security or not new_security
            findings.append(
                ev.Finding(
                    ev.SECURITY_CHANGED,
                    not anonymous,
                    "(security)",
                    "the authentication it takes changed"
                    + (" (it is now open)" if anonymous else ""),
                )
            )
        return findings

    def _schemas(self, direction: str, where: str, findings: list[ev.Finding]) -> _Schemas:
        return _Schemas(self.old, self.new, direction, where, findings)

    def _parameters(self, before: Operation, after: Operation, findings: list[ev.Finding]) -> None:
        def keys(operation: Operation) -> dict[tuple[str, str], Any]:
            # A path parameter is its place in the path: /a/{id} and /a/{userId} are one path.
            places = {name: str(i) for i, name in enumerate(operation.path_names.values())}
            return {
                (
                    p.location,
                    places.get(p.name, p.name)
                    if p.location == "path"
                    else p.name.lower()
                    if p.location == "header"
                    else p.name,
                ): p
                for p in operation.parameters
            }

        old, new = keys(before), keys(after)
        for k, param in old.items():
            place = f"parameter {param.location} {param.name}"
            if k not in new:
                findings.append(ev.Finding(ev.PARAMETER_REMOVED, True, place, f"{place}: removed"))
                continue
            if new[k].required and not param.required:
                findings.append(
                    ev.Finding(ev.PARAMETER_NOW_REQUIRED, True, place, f"{place}: now required")
                )
            schemas = self._schemas(REQUEST, place, findings)
            schemas.compare((param.schema, param.schema_uri), (new[k].schema, new[k].schema_uri))
        for k, param in new.items():
            if k not in old:
                place = f"parameter {param.location} {param.name}"
                findings.append(
                    ev.Finding(
                        ev.PARAMETER_ADDED,
                        param.required,
                        place,
                        f"{place}: added" + (" as required" if param.required else ""),
                    )
                )

    def _request(self, before: Operation, after: Operation, findings: list[ev.Finding]) -> None:
        if after.body_required and not before.body_required:
            findings.append(
                ev.Finding(
                    ev.REQUEST_BODY_NOW_REQUIRED, True, "request body", "request body: now required"
                )
            )
        for media, location in before.body.items():
            place = f"request body {media}"
            if media not in after.body:
                findings.append(
                    ev.Finding(ev.MEDIA_TYPE_REMOVED, True, place, f"{place}: no longer accepted")
                )
                continue
            self._schemas(REQUEST, "request body", findings).compare(
                ({"$ref": location}, location), ({"$ref": after.body[media]}, after.body[media])
            )
        for media in after.body:
            if media not in before.body:
                place = f"request body {media}"
                findings.append(
                    ev.Finding(ev.MEDIA_TYPE_ADDED, False, place, f"{place}: now accepted too")
                )

    def _responses(self, before: Operation, after: Operation, findings: list[ev.Finding]) -> None:
        for status, contents in before.responses.items():
            place = f"response {status}"
            if status not in after.responses:
                success = status.startswith("2")
                findings.append(
                    ev.Finding(ev.STATUS_REMOVED, success, place, f"{place}: no longer documented")
                )
                continue
            new_contents = after.responses[status]
            for media, location in contents.items():
                if media not in new_contents:
                    findings.append(
                        ev.Finding(
                            ev.MEDIA_TYPE_REMOVED, True, place, f"{place}: no longer sends {media}"
                        )
                    )
                elif location is not None and new_contents[media] is not None:
                    target = new_contents[media]
                    assert target is not None
                    self._schemas(RESPONSE, place, findings).compare(
                        ({"$ref": location}, location), ({"$ref": target}, target)
                    )
            for media in new_contents:
                if media not in contents:
                    findings.append(
                        ev.Finding(ev.MEDIA_TYPE_ADDED, False, place, f"{place}: may send {media}")
                    )
        for status in after.responses:
            if status not in before.responses:
                place = f"response {status}"
                findings.append(
                    ev.Finding(ev.STATUS_ADDED, False, place, f"{place}: newly documented")
                )


def _messages(contract: Contract) -> dict[str, tuple[str, bool]]:
    """Message name -> (payload location, whether the server sends it)."""
    from ..core.conformance import MessageCatalog

    payloads = MessageCatalog(contract).payloads
    sent: set[str] = set()
    for op_name, operation in (contract.document.get("operations") or {}).items():
        base = contract.location("operations", op_name)
        if operation.get("action") != "send":
            continue
        for i, ref in enumerate(operation.get("messages") or []):
            _, location = contract.deref(ref, f"{base}/messages/{i}")
            sent.add(location.rsplit("/", 1)[-1])
    return {name: (location, name in sent or not sent) for name, location in payloads.items()}


def _diff_messages(old: Contract, new: Contract, source: str, emit: Emit) -> None:
    before, after = _messages(old), _messages(new)
    for name in sorted(set(before) | set(after)):
        label = f"message {name}"
        if name not in after:
            finding = ev.Finding(ev.MESSAGE_REMOVED, True, "(message)", f"{label}: removed")
            emit(ev.Checked(source, label, "socket message", (finding,)))
            continue
        if name not in before:
            finding = ev.Finding(ev.MESSAGE_ADDED, False, "(message)", f"{label}: added")
            emit(ev.Checked(source, label, "socket message", (finding,)))
            continue
        (old_loc, server), (new_loc, _) = before[name], after[name]
        findings: list[ev.Finding] = []
        direction = RESPONSE if server else REQUEST
        _Schemas(old, new, direction, "payload", findings).compare(
            ({"$ref": old_loc}, old_loc), ({"$ref": new_loc}, new_loc)
        )
        emit(ev.Checked(source, label, "socket message", tuple(findings)))


def diff_bundles(old: Bundle, new: Bundle, emit: Emit) -> None:
    """Emit a ``Checked`` per operation and message of either version."""
    source = f"{old.name} → {new.name}"
    if old.openapi is not None and new.openapi is not None:
        compare = _Operations(old.openapi, new.openapi)
        pairs, removed, added = _pair_operations(old.openapi, new.openapi)
        for before, after in pairs:
            title = f"{after.method} {after.path}"
            emit(ev.Checked(source, after.id, title, tuple(compare.compare(before, after))))
        for operation in removed:
            title = f"{operation.method} {operation.path}"
            finding = ev.Finding(ev.OPERATION_REMOVED, True, "(operation)", f"{title}: removed")
            emit(ev.Checked(source, operation.id, title, (finding,)))
        for operation in added:
            title = f"{operation.method} {operation.path}"
            finding = ev.Finding(ev.OPERATION_ADDED, False, "(operation)", f"{title}: added")
            emit(ev.Checked(source, operation.id, title, (finding,)))
    if old.asyncapi is not None and new.asyncapi is not None:
        _diff_messages(old.asyncapi, new.asyncapi, source, emit)


def run_diff(old: dict[str, Bundle], new: dict[str, Bundle], emit: Emit) -> None:
    """Compare two contracts (one vendor folder each), or the vendors two folders share."""
    from ..core.contracts import ContractError

    started = time.perf_counter()
    if len(old) == len(new) == 1:
        pairs = [(next(iter(old.values())), next(iter(new.values())))]
    else:
        pairs = [(old[name], new[name]) for name in old if name in new]
        if not pairs:
            raise ContractError("the two folders hold no vendor contracts of the same name")
    label = "; ".join(f"{a.label} → {b.label}" for a, b in pairs)
    emit(ev.Started("diff", label, (", ".join(old), ", ".join(new))))
    for before, after in pairs:
        diff_bundles(before, after, emit)
    compared = {before.name for before, _ in pairs}
    notes = [f"Only in the old contracts: {name}" for name in old if name not in compared]
    notes += [f"Only in the new contracts: {name}" for name in new if name not in compared]
    emit(ev.Finished(time.perf_counter() - started, tuple(notes) if len(pairs) > 1 else ()))
