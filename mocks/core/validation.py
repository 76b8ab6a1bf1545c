"""Check a request against its operation: parameters, content type and body.

``parse_request`` returns the request's values converted to the types the contract gives
(query strings to integers, booleans, arrays) and every problem found. Strict mode enforces
every documented requirement; lenient mode lets missing header parameters and undocumented
content types through, but still refuses values that break a schema.

Hostile input is a problem like any other, never an exception: a number too long to convert,
a JSON body nested deeper than ``max_depth``. A problem's message shows at most a short piece
of the value it is about, so that a refusal never echoes a large request back.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from .contracts import INTEGER_FORMATS, check_date_time

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict
    from werkzeug.wrappers import Request

    from .contracts import Operation, Parameter

_INT = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_SIMPLE_KEYWORDS = {
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "default",
    "description",
    "title",
    "examples",
    "example",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "$schema",
    "deprecated",
    "readOnly",
    "writeOnly",
}
# Formats the fast checker knows; any other format goes to jsonschema.
_SIMPLE_FORMATS = {"int32", "int64", "float", "double", "date-time", None}
MAX_PROBLEMS = 10
SHOWN_CHARS = 80
"""A value quoted in a problem's message is cut to this many characters."""
MESSAGE_CHARS = 500
PARSED_CACHE_SIZE = 256
"""Outcomes of ``parse_request`` kept per operation (bodiless requests)."""
PARSED_INPUT_CHARS = 4096
"""Inputs longer than this (query, path arguments, headers) are checked each time, never
remembered: the memo stays small."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request."""

    location: str
    """``path``, ``query``, ``header``, ``cookie``, ``body`` or ``content-type``."""
    name: str
    """The parameter name, or the JSON path inside the body (``$.person.firstName``)."""
    message: str
    kind: str
    """``missing``, ``invalid``, ``unknown`` or ``unsupported``."""

    def describe(self) -> str:
        if self.location == "body":
            where = "request body" if self.name == "$" else f"request body at {self.name}"
        elif self.location == "content-type":
            where = "Content-Type"
        else:
            where = f"{self.location} parameter '{self.name}'"
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {
            "location": self.location,
            "name": self.name,
            "message": self.message,
            "kind": self.kind,
        }


@dataclass(slots=True)
class Parsed:
    """A request's values, converted to the contract's types."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    cookie: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    """The body, once it passed its schema (None otherwise)."""
    document: Any = None
    """The body as decoded (JSON or form), valid or not; None when it could not be decoded.
    What a vendor's refusal may look at (never parse the request again: it may be hostile)."""
    media_type: str | None = None


class _Invalid(ValueError):
    pass


def clipped(text: str, limit: int = 2 * SHOWN_CHARS) -> str:
    """``text`` (a path, say) cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def shown(value: Any) -> str:
    """``repr(value)``, cut to ``SHOWN_CHARS`` characters (it names how long the value was)."""
    if isinstance(value, str | bytes) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]!r}… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}… (cut)"


def _schema_message(error: Any) -> str:
    """A jsonschema error's message, with the value it quotes cut (see ``shown``)."""
    message: str = error.message
    if len(message) > MESSAGE_CHARS:
        message = message.replace(repr(error.instance), shown(error.instance))
    return message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS] + "…"


def _too_deep(raw: bytes, value: Any, limit: int) -> bool:
    """Whether a JSON value nests arrays and objects more than ``limit`` levels deep."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        node, depth = level.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        level.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _scalar(raw: str, schema: dict[str, Any]) -> Any:
    """Convert one string to the schema's type; raises ``_Invalid`` with a message."""
    types = schema.get("type")
    kinds = [types] if isinstance(types, str) else list(types or [])
    if "null" in kinds and raw == "":
        return None
    try:
        if "integer" in kinds:
            if _INT.fullmatch(raw):
                return int(raw)
            if "string" not in kinds and "number" not in kinds:
                raise _Invalid(f"{shown(raw)} is not an integer")
        if "number" in kinds:
            if _NUMBER.fullmatch(raw):
                return float(raw) if any(c in raw for c in ".eE") else int(raw)
            if "string" not in kinds:
                raise _Invalid(f"{shown(raw)} is not a number")
    except _Invalid:
        raise
    except ValueError:
        # More digits than Python converts (sys.get_int_max_str_digits): no API takes those.
        raise _Invalid(f"{shown(raw)} is too long a number") from None
    if "boolean" in kinds:
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if "string" not in kinds:
            raise _Invalid(f"{shown(raw)} is not true or false")
    return raw


def _simple_check(schema: dict[str, Any]) -> Callable[[Any], str | None] | None:
    """A fast checker for plain scalar schemas, or None when jsonschema must do it."""
    if any(key not in _SIMPLE_KEYWORDS and not key.startswith("x-") for key in schema):
        return None
    types = schema.get("type")
    if types not in ("integer", "number", "string", "boolean"):
        return None
    value_format = schema.get("format")
    if value_format not in _SIMPLE_FORMATS:
        return None
    enum = schema.get("enum")
    if "const" in schema:
        enum = [schema["const"]]
    low, high = schema.get("minimum"), schema.get("maximum")
    if types == "integer" and value_format in INTEGER_FORMATS:
        # OpenAPI's int32/int64 are ranges: the tighter of them and the schema's bounds holds.
        first, last = INTEGER_FORMATS[value_format]
        low = first if low is None else max(low, first)
        high = last if high is None else min(high, last)
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    min_len, max_len = schema.get("minLength"), schema.get("maxLength")
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

    def check(value: Any) -> str | None:
        if enum is not None and value not in enum:
            return f"{shown(value)} is not one of {enum}"
        if pattern is not None and not pattern.search(value):
            return f"{shown(value)} does not match {pattern.pattern!r}"
        if value_format == "date-time" and not check_date_time(value):
            return f"{shown(value)} is not a 'date-time'"
        if low is not None and value < low:
            return f"{shown(value)} is less than the minimum of {low}"
        if high is not None and value > high:
            return f"{shown(value)} is greater than the maximum of {high}"
        if xlow is not None and value <= xlow:
            return f"{shown(value)} is not above {xlow}"
        if xhigh is not None and value >= xhigh:
            return f"{shown(value)} is not below {xhigh}"
        if min_len is not None and len(value) < min_len:
            return f"{shown(value)} is shorter than {min_len} characters"
        if max_len is not None and len(value) > max_len:
            return f"{shown(value)} is longer than {max_len} characters"
        return None

    return check


def _check_value(param: Parameter, value: Any) -> str | None:
    memo = param.contract.memo
    key = ("param-check", param.schema_uri)
    if key not in memo:
        memo[key] = _simple_check(param.schema)
    simple = memo[key]
    if simple is not None:
        return simple(value)
    error = next(iter(param.contract.validator(param.schema_uri).iter_errors(value)), None)
    return None if error is None else _schema_message(error)


def _convert(param: Parameter, values: list[str]) -> Any:
    schema = param.schema
    types = schema.get("type")
    if types == "array" or (isinstance(types, list) and "array" in types):
        if not param.explode and len(values) == 1:
            values = values[0].split(",") if values[0] else []
        item_schema = schema.get("items", {})
        if isinstance(item_schema, dict) and "$ref" in item_schema:
            item_schema = param.contract.deref(item_schema, param.schema_uri)[0]
        return [_scalar(v, item_schema if isinstance(item_schema, dict) else {}) for v in values]
    if len(values) > 1:
        raise _Invalid("given more than once")
    return _scalar(values[0], schema)


def _read_values(param: Parameter, request: Request, path_args: dict[str, str]) -> list[str]:
    if param.location == "query":
        # No query string, no parse (the fast path's first parse imports werkzeug).
        return request.args.getlist(param.name) if request.query_string else []
    if param.location == "path":
        return [path_args[param.name]] if param.name in path_args else []
    if param.location == "header":
        value = request.headers.get(param.name)
        return [] if value is None else [value]
    if param.location == "cookie":
        value = request.cookies.get(param.name)
        return [] if value is None else [value]
    return []


def _media_match(media: str, documented: dict[str, str]) -> str | None:
    if media in documented:
        return media
    for candidate in documented:
        if candidate == "*/*" or (candidate.endswith("/*") and media.startswith(candidate[:-1])):
            return candidate
        if candidate.endswith("+json") and media == "application/json":
            return candidate
    return None


def _form_values(form: MultiDict[str, str], schema: dict[str, Any], owner: Any, loc: str) -> Any:
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    out: dict[str, Any] = {}
    for key in form:
        sub = props.get(key, {})
        if isinstance(sub, dict) and "$ref" in sub:
            sub = owner.deref(sub, loc)[0]
        try:
            out[key] = _scalar(form[key], sub if isinstance(sub, dict) else {})
        except _Invalid:
            out[key] = form[key]
    return out


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def parse_request(
    operation: Operation,
    request: Request,
    path_args: dict[str, str],
    *,
    strict: bool,
    reject_unknown_query: bool = False,
    max_depth: int = 64,
) -> tuple[Parsed, list[Problem]]:
    """Read and check ``request`` against ``operation``; see the module docstring.

    Without a body, the outcome depends only on the query string, the path arguments and the
    operation's header and cookie parameters: it is remembered per operation for those
    (``PARSED_CACHE_SIZE`` at most), since a client polls the same URL again and again."""
    if operation.body:
        return _parse(operation, request, path_args, strict, reject_unknown_query, max_depth)
    memo = operation.contract.memo
    key = ("parsed", operation.method, operation.path)
    outcomes: _Outcomes | None = memo.get(key)
    if outcomes is None:
        outcomes = memo[key] = _Outcomes(operation)
    inputs: list[Any] = [request.query_string, strict, reject_unknown_query]
    inputs += path_args.values()
    if outcomes.headers:
        headers = request.headers
        inputs += [headers.get(name) for name in outcomes.headers]
    if outcomes.cookies:
        cookies = request.cookies
        inputs += [cookies.get(name) for name in outcomes.cookies]
    key = tuple(inputs)
    cache = outcomes.found
    found = cache.get(key)
    if found is None:
        found = _parse(operation, request, path_args, strict, reject_unknown_query, max_depth)
        if sum(len(x) for x in inputs if isinstance(x, str | bytes)) <= PARSED_INPUT_CHARS:
            if len(cache) >= PARSED_CACHE_SIZE:
                cache.clear()
            cache[key] = found
    parsed, problems = found
    # A copy each time: a handler may change what it was given.
    query = {k: v[:] if isinstance(v, list) else v for k, v in parsed.query.items()}
    fresh = Parsed(dict(parsed.path), query, dict(parsed.header), dict(parsed.cookie))
    return fresh, list(problems)


class _Outcomes:
    """What ``parse_request`` remembers of a bodiless operation: the header and cookie
    parameters its outcome depends on, and the outcomes by their inputs."""

    __slots__ = ("cookies", "found", "headers")

    def __init__(self, operation: Operation) -> None:
        params = operation.parameters
        self.headers = tuple(p.name for p in params if p.location == "header")
        self.cookies = tuple(p.name for p in params if p.location == "cookie")
        self.found: dict[tuple[Any, ...], tuple[Parsed, list[Problem]]] = {}


def _parse(
    operation: Operation,
    request: Request,
    path_args: dict[str, str],
    strict: bool,
    reject_unknown_query: bool,
    max_depth: int,
) -> tuple[Parsed, list[Problem]]:
    parsed = Parsed()
    problems: list[Problem] = []
    declared_query = set()
    for param in operation.parameters:
        if param.location == "query":
            declared_query.add(param.name)
        raw = _read_values(param, request, path_args)
        if not raw:
            if param.required and (strict or param.location in ("path", "query")):
                problems.append(Problem(param.location, param.name, "is required", "missing"))
            elif "default" in param.schema:
                getattr(parsed, param.location)[param.name] = param.schema["default"]
            continue
        try:
            value = _convert(param, raw)
        except _Invalid as exc:
            problems.append(Problem(param.location, param.name, str(exc), "invalid"))
            continue
        message = _check_value(param, value)
        if message is not None:
            problems.append(Problem(param.location, param.name, message, "invalid"))
            continue
        getattr(parsed, param.location)[param.name] = value
    if reject_unknown_query and request.query_string:
        for name in sorted(set(request.args) - declared_query):
            problems.append(
                Problem("query", name, "is not a parameter of this operation", "unknown")
            )
    if operation.body:
        _parse_body(operation, request, parsed, problems, strict, max_depth)
    return parsed, problems[:MAX_PROBLEMS]


def _parse_body(
    operation: Operation,
    request: Request,
    parsed: Parsed,
    problems: list[Problem],
    strict: bool,
    max_depth: int,
) -> None:
    raw = request.get_data(cache=True)
    media = request.mimetype or ""
    if not raw and not request.form:
        if operation.body_required:
            problems.append(Problem("body", "$", "a request body is required", "missing"))
        return
    documented = _media_match(media, operation.body)
    if documented is None:
        if strict or not media.startswith(("application/json", "application/x-www-form", "")):
            listed = ", ".join(sorted(operation.body))
            problems.append(
                Problem(
                    "content-type",
                    media or "(none)",
                    f"{media or 'no Content-Type'} is not accepted; send one of: {listed}",
                    "unsupported",
                )
            )
            return
        documented = next(iter(operation.body))
    schema_uri = operation.body[documented]
    contract = operation.contract
    if documented.endswith("x-www-form-urlencoded") or media.endswith("x-www-form-urlencoded"):
        schema = contract.deref(contract.resolve(schema_uri), schema_uri)[0]
        body: Any = _form_values(request.form, schema, contract, schema_uri)
    else:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            problems.append(Problem("body", "$", "the request body is not valid JSON", "invalid"))
            return
        if _too_deep(raw, body, max_depth):
            message = f"the request body nests more than {max_depth} levels deep"
            problems.append(Problem("body", "$", message, "invalid"))
            return
    parsed.media_type = documented
    parsed.document = body
    validator = contract.validator(schema_uri)
    # A huge body may break its schema a million times: a few are enough to say so.
    found = itertools.islice(validator.iter_errors(body), MAX_PROBLEMS * 10)
    errors = sorted(found, key=lambda e: list(e.absolute_path))
    for error in errors[:MAX_PROBLEMS]:
        path = _json_path(error.absolute_path)
        problems.append(Problem("body", path, _schema_message(error), "invalid"))
    if not errors:
        parsed.body = body
