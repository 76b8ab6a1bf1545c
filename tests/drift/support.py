"""Helpers of the drift tests: captures built from the contracts' own examples, mutations
chosen by reading the schemas (never by naming fields here), and running the CLI."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trackmock.cli import main
from trackmock.core.contracts import Contract
from trackmock.core.paths import contracts_dir
from trackmock.core.redact import Redactor
from trackmock.drift import events as ev
from trackmock.drift.bundle import vendor_bundle
from trackmock.drift.check import run_check
from trackmock.drift.har import har_document, har_entry
from trackmock.drift.values import ITEM, path_text

HOST = "https://vendor.example"
MISSING = object()


def contract(vendor: str) -> Contract:
    return Contract.from_path(contracts_dir() / vendor / "openapi.yaml")


def _example(contract: Contract, location: str) -> Any:
    """The first example of the schema at ``location`` (or of its items, as a list)."""
    node, loc = contract.deref(contract.resolve(location), location)
    if not isinstance(node, dict):
        return MISSING
    if node.get("examples"):
        return node["examples"][0]
    if isinstance(node.get("items"), dict):
        item = _example(contract, f"{loc}/items")
        return MISSING if item is MISSING else [item]
    for key in ("oneOf", "anyOf"):
        for i in range(len(node.get(key, []))):
            found = _example(contract, f"{loc}/{key}/{i}")
            if found is not MISSING:
                return found
    return MISSING


def _media_example(contract: Contract, location: str) -> Any:
    """The response's own example (``examples`` beside the schema), else the schema's."""
    media_location = location.rsplit("/schema", 1)[0]
    media = contract.resolve(media_location)
    if "example" in media:
        return media["example"]
    for name, example in (media.get("examples") or {}).items():
        example, _ = contract.deref(example, f"{media_location}/examples/{name}")
        if isinstance(example, dict) and "value" in example:
            return example["value"]
    return _example(contract, location)


def example_entries(vendor: str) -> list[dict[str, Any]]:
    """A HAR entry for each GET whose success answer's schema has an example."""
    found = contract(vendor)
    entries = []
    for operation in found.operations.values():
        contents = operation.responses.get("200") or {}
        location = contents.get("application/json")
        if operation.method != "GET" or location is None:
            continue
        value = _media_example(found, location)
        if value is MISSING:
            continue
        path = operation.path
        for name in operation.path_names.values():
            path = path.replace("{" + name + "}", "1")
        entries.append(har_entry("GET", HOST + path, 200, body=json.dumps(value)))
    assert entries, f"no examples to build a {vendor} capture from"
    return entries


def message_examples(vendor: str) -> list[dict[str, Any]]:
    """The AsyncAPI messages' example payloads (the Track API guide's frames), as Chrome keeps
    frames."""
    document = Contract.from_path(contracts_dir() / vendor / "asyncapi.yaml").document
    frames = []
    for message in document["components"]["messages"].values():
        for example in message.get("examples", []):
            payload = example["payload"]
            data = payload if isinstance(payload, str) else json.dumps(payload)
            kind = "send" if isinstance(payload, str) else "receive"
            frames.append({"type": kind, "time": 1740132000.0, "opcode": 1, "data": data})
    return frames


def ws_frame(payload: bytes) -> bytes:
    """An unmasked RFC 6455 text frame, as a server sends it."""
    if len(payload) < 126:
        return bytes([0x81, len(payload)]) + payload
    return bytes([0x81, 126]) + len(payload).to_bytes(2, "big") + payload


def write_har(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(har_document(entries)))
    return path


@dataclass
class Outcome:
    events: list[ev.Event]

    @property
    def findings(self) -> set[tuple[str, str, str]]:
        """(operation, kind, path) of every finding."""
        return {
            (event.operation, finding.kind, finding.path)
            for event in self.events
            if isinstance(event, ev.Checked)
            for finding in event.findings
        }

    @property
    def checked(self) -> list[ev.Checked]:
        return [event for event in self.events if isinstance(event, ev.Checked)]


def check(vendor: str, *paths: Path, contracts: Path | None = None) -> Outcome:
    events: list[ev.Event] = []
    run_check(vendor_bundle(vendor, contracts), list(paths), Redactor(), events.append)
    return Outcome(events)


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(arg) for arg in args])
    return code, out.getvalue(), err.getvalue()


# -- mutations chosen from the schema ----------------------------------------------------------


def _object_schema(found: Contract, node: Any, location: str) -> tuple[dict[str, Any], str] | None:
    node, location = found.deref(node, location)
    if not isinstance(node, dict):
        return None
    for key in ("anyOf", "oneOf"):
        for i, branch in enumerate(node.get(key, [])):
            target = _object_schema(found, branch, f"{location}/{key}/{i}")
            if target is not None:
                return target
    return (node, location) if "properties" in node or "items" in node else None


def _places(
    found: Contract, value: Any, node: Any, location: str, path: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], dict[str, Any], str, tuple[str, ...]]]:
    """(object, its schema, schema location, path) for nested objects, innermost first."""
    resolved = _object_schema(found, node, location)
    if resolved is None:
        return
    schema, loc = resolved
    if isinstance(value, list) and "items" in schema:
        for item in value[:1]:
            yield from _places(found, item, schema["items"], f"{loc}/items", (*path, ITEM))
    elif isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name in value:
                yield from _places(
                    found, value[name], sub, f"{loc}/properties/{name}", (*path, name)
                )
        yield value, schema, loc, path


def _field_schema(found: Contract, schema: dict[str, Any], loc: str, name: str) -> dict[str, Any]:
    node, _ = found.deref(schema["properties"][name], f"{loc}/properties/{name}")
    return node if isinstance(node, dict) else {}


def mutate(found: Contract, value: Any, location: str, how: str) -> tuple[str, tuple[str, ...]]:
    """Change ``value`` in place the way ``how`` says (add, remove, retype, enum) at the first
    place the schema allows it; returns the expected finding kind and its field path."""
    for target, schema, loc, path in _places(found, value, {"$ref": location}, location, ()):
        names = [n for n in schema["properties"] if n in target]
        if how == "add" and schema.get("additionalProperties") is None:
            target["driftCanary"] = 1
            return "undocumented-field", (*path, "driftCanary")
        if how == "remove":
            for name in schema.get("required", []):
                if name in target:
                    del target[name]
                    return "missing-required-field", (*path, name)
        for name in names:
            field = _field_schema(found, schema, loc, name)
            if how == "retype" and field.get("type") in ("string", "integer", "boolean"):
                target[name] = [] if field["type"] != "string" else 12345
                return "type-changed", (*path, name)
            if how == "enum" and field.get("enum"):
                # Same JSON type as the listed values, so only the value is new.
                sample = field["enum"][0]
                target[name] = "drift-canary-value" if isinstance(sample, str) else 987654
                return "enum-value-outside-contract", (*path, name)
    raise AssertionError(f"no place to {how} a field in this value")


def mutated_entries(
    found: Contract, entries: list[dict[str, Any]], how: str, *, operation: str | None = None
) -> tuple[list[dict[str, Any]], tuple[str, str, str]]:
    """A copy of ``entries`` with one body changed; the finding it must give."""
    from trackmock.drift.match import Matcher

    changed = copy.deepcopy(entries)
    matcher = Matcher(found)
    for entry in changed:
        content = entry["response"]["content"]
        request = entry["request"]
        url_path = request["url"].split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        op = matcher.match(request["method"], "/" + url_path)
        if op is None or "text" not in content or (operation and op.id != operation):
            continue
        location = (op.response(entry["response"]["status"]) or {}).get("application/json")
        if location is None:
            continue
        body = json.loads(content["text"])
        try:
            kind, path = mutate(found, body, location, how)
        except AssertionError:
            continue
        content["text"] = json.dumps(body)
        return changed, (op.id, kind, path_text(path))
    raise AssertionError(f"no entry allows the mutation {how!r}")
