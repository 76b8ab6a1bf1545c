"""Load OpenAPI 3.1 contracts with their JSON Schema files; list operations; make validators.

One loader for everything that reads a contract: the emulators, the tests, the drift check and
the contract diff. Every YAML and JSON file in a contract's folder is registered under its
``file://`` URI, so ``$ref``s across files resolve with no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property, lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import orjson

if TYPE_CHECKING:
    from jsonschema.protocols import Validator
    from referencing import Registry

    from .records import Shape

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
_DOC_SUFFIXES = (".yaml", ".yml", ".json")


class ContractError(ValueError):
    """A contract that cannot be loaded or used; the message names the file and the place."""


@cache
def _loader() -> type[Any]:
    """PyYAML's fastest safe loader (libyaml's when built with it), reading YAML as JSON sees
    it: timestamps stay strings, so examples compare with JSON traffic. Made on first use: a
    start whose contracts are all cached never imports PyYAML."""
    import yaml

    base = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader

    class Loader(base):  # type: ignore[valid-type,misc]
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in found if tag != "tag:yaml.org,2002:timestamp"]
        for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def _cache_dir() -> Path | None:
    folder = os.environ.get("TRACKMOCK_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "trackmock"
    )
    return None if folder == "off" else Path(folder)


def _parse_yaml(data: bytes, path: Path) -> Any:
    """YAML parsed once per content: the result is kept as JSON under the user's cache folder,
    keyed by a hash of the text, because PyYAML takes a good part of a second on a contract."""
    folder = _cache_dir()
    cached = None
    if folder is not None:
        cached = folder / f"{hashlib.sha256(data).hexdigest()}.json"
        try:
            return orjson.loads(cached.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            pass
    import yaml

    try:
        document = yaml.load(data, Loader=_loader())
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    if cached is not None:
        _write_cache(cached, document)
    return document


def _write_cache(cached: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``cached`` whole or not at all: two processes starting at
    once each write their own temporary file and the last rename wins, both with the same
    content; a reader never sees half a file."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        temporary.write_bytes(orjson.dumps(value))
        os.replace(temporary, cached)
    except (OSError, TypeError):
        # A read-only home or a value JSON cannot hold: load from the sources next time.
        pass


BUNDLE_FORMAT = 2
"""Bump when what a cached bundle holds changes: older bundles are then not used."""

BUNDLES_KEPT = 32
"""Bundles a process keeps once read (all forgotten when full): the emulators of one process
load the same folders again (every emulator the control API's, each vendor's ``openapi.yaml``
and ``admin.yaml``)."""

_read_bundles: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
"""Cache file -> (its size and change time when read, the bundle)."""


SETTLED_NS = 2_000_000_000
"""A file changed less than this long ago is read and hashed on every load: a change within
one tick of the file system's clock can leave a file's size and times as they were (git
treats such "racily clean" files the same way)."""

_folder_keys: dict[Path, tuple[list[Any], str]] = {}
"""Document -> (its folder's files' names, sizes, times and inodes when hashed, the key)."""


def _documents(path: Path) -> dict[str, Any]:
    """URI -> document: ``path``, every document in its folder, and every file outside the
    folder that they refer to.

    The whole set is cached as one JSON file under the user's cache folder, keyed by the
    folder's name and every file's name and content (the same bundle for each document of
    the folder), so a start reads one file instead of parsing and walking dozens, and a
    process reads it once. Files outside the folder are listed in the bundle with a hash of
    their content (or as missing) and checked on every use: a change anywhere loads afresh.
    The documents are shared by the contracts of a process, which only read them."""
    listing = [(path, path.stat())]
    for other in sorted(path.parent.rglob("*")):
        if other.suffix in _DOC_SUFFIXES and other != path:
            try:
                found = other.stat()
            except OSError:
                continue
            if S_ISREG(found.st_mode):
                listing.append((other, found))
    folder = _cache_dir()
    contents: dict[Path, bytes] | None = None
    cached = None
    if folder is not None:
        signature = _folder_signature(path, listing)
        key = _folder_key(folder, path, signature)
        if key is None:
            contents = {file: file.read_bytes() for file, _ in listing}
            key = _content_key(path, contents)
            _remember_folder_key(folder, path, signature, key)
        cached = folder / f"contract-{key}.json"
        bundle = _cached_bundle(cached)
        if bundle is not None:
            return dict(bundle)
    if contents is None:
        contents = {file: file.read_bytes() for file, _ in listing}
    documents = {file.as_uri(): _parse(data, file) for file, data in contents.items()}
    outside: dict[str, Any] = {}
    missing: set[str] = set()
    _add_referenced_files(outside, documents, missing)
    if cached is not None:
        # A file referred to but missing is listed too (no hash): once it is made, it counts.
        hashes = {uri: _file_hash(uri) for uri in sorted({*outside, *missing})}
        made = {"documents": {**documents, **outside}, "outside": hashes}
        _write_cache(cached, made)
        _keep(cached, made)
    return {**documents, **outside}


def _content_key(path: Path, contents: dict[Path, bytes]) -> str:
    """The bundle key of ``path``'s folder: its name and every file's name and content."""
    key = hashlib.sha256(f"{BUNDLE_FORMAT}\0{path.parent}\0".encode())
    for file in sorted(contents):
        data = contents[file]
        key.update(f"{file.relative_to(path.parent)}\0{len(data)}\0".encode())
        key.update(data)
    return key.hexdigest()


def _folder_signature(path: Path, listing: list[tuple[Path, os.stat_result]]) -> list[Any] | None:
    """Every file of ``path``'s folder by name, size, times and inode, which tell it unchanged
    without reading it; None while any file changed too recently for that (below)."""
    signature: list[Any] = []
    settled = time.time_ns() - SETTLED_NS
    for file, stat in listing:
        if max(stat.st_mtime_ns, stat.st_ctime_ns) > settled:
            return None
        name = str(file.relative_to(path.parent))
        signature.append([name, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino])
    return signature


def _index_file(folder: Path, path: Path) -> Path:
    name = hashlib.sha256(f"{BUNDLE_FORMAT}\0{path}\0".encode()).hexdigest()
    return folder / f"folder-{name}.json"


def _folder_key(folder: Path, path: Path, signature: list[Any] | None) -> str | None:
    """The bundle key of ``path``'s folder as last hashed, if every file is as it was then
    (remembered in the process, and in an index file beside the bundles for the next one)."""
    if signature is None:
        return None
    known = _folder_keys.get(path)
    if known is None:
        try:
            index = orjson.loads(_index_file(folder, path).read_bytes())
            known = (index["files"], index["key"])
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
            return None
    if known[0] != signature or not isinstance(known[1], str):
        return None
    _folder_keys[path] = known
    return known[1]


def _remember_folder_key(folder: Path, path: Path, signature: list[Any] | None, key: str) -> None:
    if signature is None:
        return
    if len(_folder_keys) >= BUNDLES_KEPT:
        _folder_keys.clear()
    _folder_keys[path] = (signature, key)
    _write_cache(_index_file(folder, path), {"files": signature, "key": key})


def _signature(cached: Path) -> tuple[int, int] | None:
    try:
        found = cached.stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


def _keep(cached: Path, bundle: dict[str, Any]) -> None:
    """Remember a bundle read from (or written to) ``cached`` while that file stays as it is."""
    signature = _signature(cached)
    if signature is None:
        return
    if len(_read_bundles) >= BUNDLES_KEPT:
        _read_bundles.clear()
    _read_bundles[cached] = (signature, bundle)


def _cached_bundle(cached: Path) -> dict[str, Any] | None:
    """The documents of a cached bundle (read once per process while the file stays the
    same), or None if there is none or a file outside the folder has changed since it was
    made."""
    kept = _read_bundles.get(cached)
    bundle = kept[1] if kept is not None and kept[0] == _signature(cached) else None
    if bundle is None:
        try:
            bundle = orjson.loads(cached.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(bundle, dict) or not isinstance(bundle.get("documents"), dict):
            return None
    for uri, digest in (bundle.get("outside") or {}).items():
        if _file_hash(uri) != digest:
            _read_bundles.pop(cached, None)
            return None
    _keep(cached, bundle)
    documents: dict[str, Any] = bundle["documents"]
    return documents


def _file_hash(uri: str) -> str | None:
    try:
        return hashlib.sha256(_file_path(uri).read_bytes()).hexdigest()
    except OSError:
        return None


def _file_path(uri: str) -> Path:
    """The file a ``file:`` URI names, as ``urllib.request.url2pathname`` reads it (that
    module would import ``http.client`` and ``email`` at start-up)."""
    path = urlparse(uri).path
    if os.name == "nt":
        from nturl2path import url2pathname

        return Path(url2pathname(path))
    return Path(unquote(path))


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file (JSON is YAML, but orjson is much faster for it)."""
    return _parse(path.read_bytes(), path)


def _parse(data: bytes, path: Path) -> Any:
    if path.suffix == ".json":
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ContractError(f"{path}: not valid JSON: {exc}") from exc
    return _parse_yaml(data, path)


def pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


INTEGER_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
"""OpenAPI's integer formats, as the ranges they allow."""


def check_integer_format(value_format: str) -> Callable[[object], bool]:
    low, high = INTEGER_FORMATS[value_format]

    def check(value: object) -> bool:
        return not isinstance(value, int) or isinstance(value, bool) or low <= value <= high

    return check


def check_date_time(value: object) -> bool:
    """RFC 3339 date-time: a date, a time and an offset (``Z`` or ``+hh:mm``)."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value
    ):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    schema_uri: str
    style: str
    explode: bool
    contract: Contract = field(repr=False, compare=False)


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the contract describes it."""

    id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body: dict[str, str]
    """Media type -> schema URI of the request body."""
    body_required: bool
    responses: dict[str, dict[str, str | None]]
    """Status ("200", "4XX", "default") -> media type -> schema URI (None: no schema)."""
    secured: bool
    extensions: dict[str, Any]
    contract: Contract = field(repr=False, compare=False)

    @property
    def rule(self) -> str:
        """The path as a Flask URL rule."""
        return self.rule_excluding({})

    def rule_excluding(self, literals: dict[str, set[str]]) -> str:
        """The path as a Flask URL rule whose parameters never match the ``literals`` given
        for them (``except`` converter: see ``concrete_siblings``)."""

        def part(match: re.Match[str]) -> str:
            name = match.group(1)
            if literals.get(name):
                quoted = ",".join(json.dumps(value) for value in sorted(literals[name]))
                return f"<except({quoted}):{_param_key(name)}>"
            return f"<{_param_key(name)}>"

        return re.sub(r"\{([^}/]+)\}", part, self.path)

    @property
    def path_names(self) -> dict[str, str]:
        """Flask-safe keyword -> the contract's path parameter name."""
        return {_param_key(name): name for name in re.findall(r"\{([^}/]+)\}", self.path)}

    def response(self, status: int) -> dict[str, str | None] | None:
        """The documented contents for ``status`` (exact, then ``4XX``-style, then default)."""
        found = self.responses.get(str(status))
        if found is None:
            found = self.responses.get(f"{str(status)[0]}XX")
        if found is None:
            found = self.responses.get("default")
        return found


def documented_media(media: str, contents: dict[str, str | None]) -> str | None:
    """The documented media type (key of ``contents``) that ``media`` falls under, if any."""
    if media in contents:
        return media
    for candidate in contents:
        if candidate in ("*/*", media.split("/")[0] + "/*"):
            return candidate
    return None


def _param_key(name: str) -> str:
    return re.sub(r"\W", "_", name)


def concrete_siblings(paths: list[str]) -> dict[tuple[str, str], set[str]]:
    """(templated path, parameter) -> the literal segments other paths put in its place.

    OpenAPI matches concrete paths before templated ones: ``/cases/search`` is not
    ``/cases/{id}`` with id ``search``, even for a method only ``/cases/{id}`` takes (that is a
    405 on ``/cases/search``). A path counts when it differs from the templated one in that
    segment only.
    """
    # Two paths differ in segment i only when they agree on every other one: group the
    # paths by their segments with segment i left out (linear, not every pair).
    groups: dict[tuple[int, tuple[str, ...]], list[tuple[str, str]]] = {}
    for path in dict.fromkeys(paths):
        parts = path.strip("/").split("/")
        for index, segment in enumerate(parts):
            key = (index, (*parts[:index], "/", *parts[index + 1 :]))
            groups.setdefault(key, []).append((path, segment))
    found: dict[tuple[str, str], set[str]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        literals = [segment for _, segment in members if not _TEMPLATE.fullmatch(segment)]
        if not literals:
            continue
        for path, segment in members:
            if _TEMPLATE.fullmatch(segment):
                found.setdefault((path, segment[1:-1]), set()).update(literals)
    return found


_TEMPLATE = re.compile(r"\{[^}/]+\}")


@lru_cache(maxsize=4096)
def _join(base: str, ref: str) -> str:
    """``urljoin(base, ref)``, remembered: contracts repeat the same few refs thousands of
    times. (A non-empty ref's join does not depend on the base's fragment: it is left out.)"""
    return urljoin(base, ref)


def _add_referenced_files(
    resources: dict[str, Any], documents: dict[str, Any], missing: set[str] | None = None
) -> None:
    """Load into ``resources`` the files outside the folder that ``documents`` refer to (and
    name in ``missing`` those referred to that do not exist)."""
    pending = list(documents.items())
    while pending:
        uri, node = pending.pop()
        # A contract repeats the same few $refs thousands of times: join each one once.
        targets = {urldefrag(urljoin(uri, ref))[0] for ref in _refs(node)}
        for target in sorted(targets):
            if not target.startswith("file:") or target in resources or target in documents:
                continue
            file = _file_path(target)
            if file.is_file():
                resources[target] = read_document(file)
                pending.append((target, resources[target]))
            elif missing is not None:
                missing.add(target)


def _refs(node: Any) -> set[str]:
    """Every ``$ref`` in ``node`` that leaves its document (not ``#/...``), once each."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                found.add(ref)
            stack.extend(value for value in current.values() if isinstance(value, dict | list))
        elif isinstance(current, list):
            stack.extend(value for value in current if isinstance(value, dict | list))
    return found


class Contract:
    """An OpenAPI document with every schema file beside it.

    Use ``Contract.from_path`` for a file on disk, ``Contract.from_dict`` for a document in
    memory (``resources`` maps further URIs to documents it refers to).
    """

    def __init__(self, document: dict[str, Any], uri: str, resources: dict[str, Any]) -> None:
        if not isinstance(document, dict):
            raise ContractError(f"{uri}: a contract is a mapping at the top level")
        self.document = document
        self.uri = uri
        self.resources = {uri: document, **resources}
        self._validators: dict[str, Validator] = {}
        self._shapes: dict[str, Shape] = {}
        self.memo: dict[Any, Any] = {}
        """Things derived from this contract by other modules, cached with it."""

    @classmethod
    def from_path(cls, path: str | Path) -> Contract:
        """The document at ``path``, every document in its folder, and any other file its
        documents refer to (``../admin/openapi.yaml#/components/schemas/Error``)."""
        path = Path(path).resolve()
        if not path.is_file():
            raise ContractError(f"{path}: no such contract file")
        resources = _documents(path)
        document = resources.pop(path.as_uri())
        return cls(document, path.as_uri(), resources)

    @classmethod
    def from_file(cls, path: str | Path) -> Contract:
        """The document at ``path`` and only the files it refers to (not its whole folder):
        for a description downloaded somewhere, beside files that are none of its business."""
        path = Path(path).resolve()
        if not path.is_file():
            raise ContractError(f"{path}: no such contract file")
        document = read_document(path)
        resources: dict[str, Any] = {}
        _add_referenced_files(resources, {path.as_uri(): document})
        return cls(document, path.as_uri(), resources)

    @classmethod
    def from_dict(
        cls,
        document: dict[str, Any],
        *,
        uri: str = "urn:trackmock:contract",
        resources: dict[str, Any] | None = None,
    ) -> Contract:
        return cls(document, uri, dict(resources or {}))

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", ""))

    @property
    def info(self) -> dict[str, Any]:
        info = self.document.get("info", {})
        return info if isinstance(info, dict) else {}

    @cached_property
    def registry(self) -> Registry:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        return Registry().with_resources(
            (uri, Resource.from_contents(contents, default_specification=DRAFT202012))
            for uri, contents in self.resources.items()
        )

    def resolve(self, location: str) -> Any:
        """The contents at an absolute ``uri#/json/pointer`` location."""
        base, _, fragment = location.partition("#")
        try:
            node = self.resources[base]
        except KeyError:
            raise ContractError(f"{location}: no such document in this contract") from None
        for part in [p for p in fragment.split("/") if p] if fragment else []:
            key = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, ValueError, TypeError):
                raise ContractError(f"{location}: the pointer does not resolve") from None
        return node

    def deref(self, node: Any, location: str) -> tuple[Any, str]:
        """Follow ``$ref``s from ``node`` (found at ``location``) to what they point at."""
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            # Most refs stay in their document: the same as urljoin, without its parsing.
            # Another document's is joined once per (document, ref) (``_join``).
            base = location.partition("#")[0]
            if ref.startswith("#"):
                target = base + ref
            else:
                target = _join(base, ref) if ref else urljoin(location, ref)
            if "#" not in target:
                target += "#"
            if target in seen:
                raise ContractError(f"{location}: $ref cycle through {target}")
            seen.add(target)
            node, location = self.resolve(target), target
        return node, location

    def location(self, *parts: str | int) -> str:
        """The absolute location of a place in the main document."""
        return self.uri + "#" + "".join("/" + pointer_escape(str(part)) for part in parts)

    def schema_uri(self, ref: str) -> str:
        """The absolute location of a schema given relative to the main document."""
        target = urljoin(self.uri, ref)
        return target if "#" in target else target + "#"

    @cached_property
    def operations(self) -> dict[str, Operation]:
        """Every operation by ``operationId``."""
        found: dict[str, Operation] = {}
        for operation in self._walk_operations():
            if operation.id in found:
                raise ContractError(f"{self.uri}: operationId {operation.id!r} is used twice")
            found[operation.id] = operation
        return found

    def _walk_operations(self) -> Iterator[Operation]:
        paths = self.document.get("paths") or {}
        top_security = self.document.get("security")
        for path, item in paths.items():
            item_loc = self.location("paths", path)
            item, item_loc = self.deref(item, item_loc)
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                raw = item[method]
                op_loc = f"{item_loc}/{method}"
                op_id = raw.get("operationId")
                if not op_id:
                    raise ContractError(f"{op_loc}: the operation has no operationId")
                params = self._parameters(shared, f"{item_loc}/parameters", raw, op_loc)
                body, body_required = self._request_body(raw, op_loc)
                security = raw.get("security", top_security)
                secured = bool(security) and any(requirement for requirement in security)
                yield Operation(
                    id=op_id,
                    method=method.upper(),
                    path=path,
                    parameters=params,
                    body=body,
                    body_required=body_required,
                    responses=self._responses(raw, op_loc),
                    secured=secured,
                    extensions={k: v for k, v in raw.items() if k.startswith("x-")},
                    contract=self,
                )

    def _parameters(
        self, shared: list[Any], shared_loc: str, raw: dict[str, Any], op_loc: str
    ) -> tuple[Parameter, ...]:
        merged: dict[tuple[str, str], Parameter] = {}
        sources = [(p, f"{shared_loc}/{i}") for i, p in enumerate(shared)]
        sources += [
            (p, f"{op_loc}/parameters/{i}") for i, p in enumerate(raw.get("parameters", []))
        ]
        for node, loc in sources:
            param, param_loc = self.deref(node, loc)
            schema = param.get("schema", {})
            schema_loc = f"{param_loc}/schema"
            resolved, _ = self.deref(schema, schema_loc)
            location = param["in"]
            style = param.get("style", "simple" if location in ("path", "header") else "form")
            merged[(param["name"], location)] = Parameter(
                name=param["name"],
                location=location,
                required=bool(param.get("required", location == "path")),
                schema=resolved,
                schema_uri=schema_loc,
                style=style,
                explode=bool(param.get("explode", style == "form")),
                contract=self,
            )
        return tuple(merged.values())

    def _request_body(self, raw: dict[str, Any], op_loc: str) -> tuple[dict[str, str], bool]:
        if "requestBody" not in raw:
            return {}, False
        body, body_loc = self.deref(raw["requestBody"], f"{op_loc}/requestBody")
        content = body.get("content", {})
        media = {
            media_type: f"{body_loc}/content/{pointer_escape(media_type)}/schema"
            for media_type in content
        }
        return media, bool(body.get("required", False))

    def _responses(self, raw: dict[str, Any], op_loc: str) -> dict[str, dict[str, str | None]]:
        out: dict[str, dict[str, str | None]] = {}
        for status, node in (raw.get("responses") or {}).items():
            response, loc = self.deref(node, f"{op_loc}/responses/{pointer_escape(str(status))}")
            contents: dict[str, str | None] = {}
            for media_type, media in (response.get("content") or {}).items():
                has_schema = isinstance(media, dict) and "schema" in media
                contents[media_type] = (
                    f"{loc}/content/{pointer_escape(media_type)}/schema" if has_schema else None
                )
            out[str(status)] = contents
        return out

    def validator(self, location: str) -> Validator:
        """A JSON Schema 2020-12 validator for the schema at ``location`` (cached)."""
        found = self._validators.get(location)
        if found is None:
            from jsonschema import Draft202012Validator, FormatChecker

            checker = FormatChecker()
            checker.checks("date-time")(check_date_time)
            for name in INTEGER_FORMATS:
                checker.checks(name)(check_integer_format(name))
            found = Draft202012Validator(
                {"$ref": location}, registry=self.registry, format_checker=checker
            )
            self._validators[location] = found
        return found

    def shape(self, location: str) -> Shape:
        """The record shaper for the schema at ``location`` (cached); see ``records``."""
        found = self._shapes.get(location)
        if found is None:
            from .records import compile_shape

            found = compile_shape(self, location)
            self._shapes[location] = found
        return found

    def build(self, ref: str, values: dict[str, Any]) -> dict[str, Any]:
        """A record of the schema at ``ref`` (relative to the document) from ``values``,
        with every field the schema lists and defaults where a value is missing."""
        built = self.shape(self.schema_uri(ref)).shape(values)
        if not isinstance(built, dict):
            raise ContractError(f"{ref}: not an object schema")
        return built
