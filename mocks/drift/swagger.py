"""Swagger 2.0 to OpenAPI 3.0, as far as ``check`` and ``diff`` read a document.

What moves where (OpenAPI 3.0.3 specification, "Migrating from Swagger 2.0" in spirit):
``definitions`` → ``components/schemas``, ``parameters`` → ``components/parameters``,
``responses`` → ``components/responses``, ``securityDefinitions`` →
``components/securitySchemes``; ``host``/``basePath``/``schemes`` → ``servers``; a body
parameter → ``requestBody`` in each media type the operation ``consumes``; ``formData``
parameters → one form ``requestBody``; a response ``schema`` → ``content`` in each media type
the operation ``produces``; a parameter's ``type``/``format``/``items``/``enum`` → its
``schema``. ``$ref``s are rewritten to the new places.
"""

from __future__ import annotations

import copy
from typing import Any

from ..core.contracts import HTTP_METHODS, ContractError

_MOVED = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}
_SCHEMA_KEYS = (
    "type", "format", "items", "enum", "default", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
    "uniqueItems", "multipleOf", "x-nullable",
)  # fmt: skip
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_COLLECTION_STYLES = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}


def swagger_to_openapi(swagger: dict[str, Any], where: str) -> dict[str, Any]:
    """An OpenAPI 3.0.3 document saying what ``swagger`` (a Swagger 2.0 document) says."""
    source = _rewrite_refs(copy.deepcopy(swagger))
    if not isinstance(source.get("paths", {}), dict):
        raise ContractError(f"{where}: 'paths' is not a mapping")
    converter = _Converter(source, where)
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": source.get("info") or {"title": "", "version": ""},
        "servers": _servers(source),
        "paths": {path: converter.path_item(item) for path, item in source["paths"].items()},
        "components": {
            "schemas": source.get("definitions") or {},
            "parameters": {
                name: converter.parameter(node)
                for name, node in (source.get("parameters") or {}).items()
                if isinstance(node, dict) and node.get("in") not in ("body", "formData")
            },
            "responses": {
                name: converter.response(node, converter.produces)
                for name, node in (source.get("responses") or {}).items()
            },
            "securitySchemes": {
                name: _security_scheme(node)
                for name, node in (source.get("securityDefinitions") or {}).items()
            },
        },
    }
    if "security" in source:
        document["security"] = source["security"]
    return document


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            for old, new in _MOVED.items():
                if ref.startswith(old):
                    node["$ref"] = new + ref[len(old) :]
        for value in node.values():
            _rewrite_refs(value)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value)
    return node


def _servers(source: dict[str, Any]) -> list[dict[str, str]]:
    host = source.get("host")
    base = str(source.get("basePath") or "")
    if not host:
        return [{"url": base or "/"}]
    schemes = source.get("schemes") or ["https"]
    return [{"url": f"{scheme}://{host}{base}"} for scheme in schemes]


def _security_scheme(node: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    kind = node.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic"}
    if kind == "apiKey":
        return {"type": "apiKey", "name": node.get("name", ""), "in": node.get("in", "header")}
    if kind == "oauth2":
        flow = {"implicit": "implicit", "password": "password", "application": "clientCredentials"}
        name = flow.get(str(node.get("flow")), "authorizationCode")
        details = {k: node[k] for k in ("authorizationUrl", "tokenUrl", "scopes") if k in node} or {
            "scopes": {}
        }
        return {"type": "oauth2", "flows": {name: details}}
    return dict(node)


class _Converter:
    def __init__(self, source: dict[str, Any], where: str) -> None:
        self.source = source
        self.where = where
        self.consumes: list[str] = source.get("consumes") or ["application/json"]
        self.produces: list[str] = source.get("produces") or ["application/json"]

    def _deref_parameter(self, node: Any) -> Any:
        """A shared parameter inlined: a body or form one cannot stay a component."""
        ref = node.get("$ref") if isinstance(node, dict) else None
        prefix = "#/components/parameters/"
        if isinstance(ref, str) and ref.startswith(prefix):
            target = (self.source.get("parameters") or {}).get(ref[len(prefix) :])
            if isinstance(target, dict) and target.get("in") in ("body", "formData"):
                return target
        return node

    def path_item(self, item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        shared = [self._deref_parameter(p) for p in item.get("parameters") or []]
        out: dict[str, Any] = {k: v for k, v in item.items() if k.startswith("x-")}
        plain = [p for p in shared if not _is_payload(p)]
        if plain:
            out["parameters"] = [self.parameter(p) for p in plain]
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                payload = [p for p in shared if _is_payload(p)]
                out[method] = self.operation(item[method], payload)
        return out

    def operation(self, raw: dict[str, Any], shared_payload: list[Any]) -> dict[str, Any]:
        consumes = raw.get("consumes") or self.consumes
        produces = raw.get("produces") or self.produces
        out = {k: v for k, v in raw.items() if k not in ("parameters", "responses", "consumes")}
        out.pop("produces", None)
        out.pop("schemes", None)
        parameters = [self._deref_parameter(p) for p in raw.get("parameters") or []]
        plain = [p for p in parameters if not _is_payload(p)]
        if plain:
            out["parameters"] = [self.parameter(p) for p in plain]
        body = self._request_body([*shared_payload, *filter(_is_payload, parameters)], consumes)
        if body is not None:
            out["requestBody"] = body
        out["responses"] = {
            str(status): self.response(node, produces)
            for status, node in (raw.get("responses") or {}).items()
        }
        return out

    def parameter(self, node: Any) -> Any:
        if not isinstance(node, dict) or "$ref" in node:
            return node
        out = {k: v for k, v in node.items() if k not in _SCHEMA_KEYS and k != "collectionFormat"}
        schema = {k: node[k] for k in _SCHEMA_KEYS if k in node}
        if schema.get("type") == "file":
            schema = {"type": "string", "format": "binary"}
        out["schema"] = schema
        style = _COLLECTION_STYLES.get(str(node.get("collectionFormat", "csv")))
        if schema.get("type") == "array" and style and node.get("in") in ("query", "cookie"):
            out["style"], out["explode"] = style
        return out

    def _request_body(self, payload: list[Any], consumes: list[str]) -> dict[str, Any] | None:
        body = next((p for p in payload if p.get("in") == "body"), None)
        if body is not None:
            return {
                "required": bool(body.get("required", False)),
                "content": {media: {"schema": body.get("schema", {})} for media in consumes},
            }
        form = [p for p in payload if p.get("in") == "formData"]
        if not form:
            return None
        properties = {}
        for parameter in form:
            converted = self.parameter(parameter)
            properties[str(parameter.get("name", ""))] = converted.get("schema", {})
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [str(p.get("name")) for p in form if p.get("required")]
        if required:
            schema["required"] = required
        media = [m for m in consumes if m in (_FORM, _MULTIPART)] or [_FORM]
        return {"required": bool(required), "content": {m: {"schema": schema} for m in media}}

    def response(self, node: Any, produces: list[str]) -> Any:
        if not isinstance(node, dict) or "$ref" in node:
            return node
        out: dict[str, Any] = {"description": node.get("description", "")}
        if "schema" in node:
            schema = node["schema"]
            if isinstance(schema, dict) and schema.get("type") == "file":
                schema = {"type": "string", "format": "binary"}
            out["content"] = {media: {"schema": schema} for media in produces}
        if isinstance(node.get("headers"), dict):
            out["headers"] = {
                name: {"schema": {k: v for k, v in header.items() if k in _SCHEMA_KEYS}}
                for name, header in node["headers"].items()
                if isinstance(header, dict)
            }
        return out


def _is_payload(parameter: Any) -> bool:
    return isinstance(parameter, dict) and parameter.get("in") in ("body", "formData")
