"""What an AsyncAPI 3.0 document must hold, as trackmock writes them: a JSON Schema of the
structure (required fields and their types, from the AsyncAPI 3.0.0 specification's object
definitions) and the reference rules a JSON Schema cannot state.
"""

from __future__ import annotations

from typing import Any

from trackmock.core.contracts import Contract

_REF = {"type": "object", "required": ["$ref"], "properties": {"$ref": {"type": "string"}}}
_EXTENSIONS = {"^x-": {}}

STRUCTURE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["asyncapi", "info"],
    "properties": {
        "asyncapi": {"const": "3.0.0"},
        "id": {"type": "string", "format": "uri"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {"title": {"type": "string"}, "version": {"type": "string"}},
        },
        "defaultContentType": {"type": "string"},
        "servers": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["host", "protocol"],
                "properties": {"host": {"type": "string"}, "protocol": {"type": "string"}},
            },
        },
        "channels": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "address": {"type": ["string", "null"]},
                    "messages": {"type": "object", "additionalProperties": _REF},
                    "servers": {"type": "array", "items": _REF},
                },
            },
        },
        "operations": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["action", "channel"],
                "properties": {
                    "action": {"enum": ["send", "receive"]},
                    "channel": _REF,
                    "messages": {"type": "array", "items": _REF},
                },
            },
        },
        "components": {
            "type": "object",
            "properties": {
                "messages": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["payload"],
                        "properties": {
                            "name": {"type": "string"},
                            "contentType": {"type": "string"},
                            "payload": {"type": "object"},
                            "examples": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "anyOf": [{"required": ["payload"]}, {"required": ["headers"]}],
                                    "properties": {"name": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
                "securitySchemes": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {"type": {"type": "string"}},
                    },
                },
            },
        },
    },
    "patternProperties": _EXTENSIONS,
    "additionalProperties": False,
}


def reference_problems(contract: Contract) -> list[str]:
    """The AsyncAPI 3.0 reference rules: an operation's channel is one of ``channels``, and its
    messages are messages of that channel; a channel's messages are ``components.messages``."""
    document = contract.document
    problems = []
    for name, channel in (document.get("channels") or {}).items():
        for key, ref in (channel.get("messages") or {}).items():
            target = ref.get("$ref", "")
            if not target.startswith("#/components/messages/"):
                problems.append(
                    f"channel {name} message {key}: Received {target!r} / Documented:"
                    " a $ref into #/components/messages/"
                )
            else:
                contract.deref(ref, contract.location("channels", name, "messages", key))
    for name, operation in (document.get("operations") or {}).items():
        channel = operation.get("channel", {}).get("$ref", "")
        prefix = f"{channel}/messages/"
        if not channel.startswith("#/channels/") or channel.count("/") != 2:
            problems.append(
                f"operation {name}: Received channel {channel!r} / Documented: a"
                " $ref to one of #/channels/"
            )
            continue
        contract.deref(operation["channel"], contract.location("operations", name, "channel"))
        for index, ref in enumerate(operation.get("messages") or []):
            if not ref.get("$ref", "").startswith(prefix):
                problems.append(
                    f"operation {name} message {index}: Received {ref.get('$ref')!r} /"
                    f" Documented: a message of its channel ({prefix}…)"
                )
            else:
                contract.deref(ref, contract.location("operations", name, "messages", index))
    return problems
