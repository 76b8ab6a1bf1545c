"""Settings: the core's, and each vendor's, as typed dataclasses read from a file or flags.

A settings file is YAML or JSON: core keys at the top level, one section per vendor
(``tracker:``, ``trackops:``, ``track:``). Defaults reproduce the vendor documents; an
unknown key or a value of the wrong type is refused with its dotted name.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the key."""


@dataclasses.dataclass(frozen=True)
class CoreSettings:
    """What every emulator shares."""

    strict: bool = True
    """Enforce every documented requirement (headers, content types); False relaxes them."""
    seed: int = 0
    """Seed of every generated value, so the same seed gives the same data."""
    clock_frozen: bool = False
    """Start with a frozen clock that moves only when set or advanced."""
    clock_start: str | None = None
    """ISO 8601 instant to start the clock at (default: now)."""
    journal_size: int = 1000
    """How many requests and socket frames the journal keeps."""
    journal_body_bytes: int = 65536
    """Bodies in the journal are cut to this many bytes."""
    journal_admin: bool = False
    """Also journal calls to the control API."""
    journal_bytes: int = 64 * 1024 * 1024
    """What the journal keeps, in bytes (bodies, headers, paths); the oldest entries leave
    first."""
    journal_header_bytes: int = 16384
    """Each request's and each response's headers in the journal are cut to this many bytes (a
    longer value is cut, later headers left out; the entry says so)."""
    journal_page_bytes: int = 4 * 1024 * 1024
    """Largest answer of ``GET /__admin/journal``; more entries are read with ``since=next``."""
    journal_secrets: bool = False
    """Show secrets in the journal (passwords, credentials, cookies, tokens); by default they
    are masked by the rules of ``trackmock check``. For local debugging only."""
    violations_size: int = 1000
    """How many contract violations, and how many emulator errors, are kept (the newest)."""
    max_json_depth: int = 64
    """JSON request bodies nested deeper are refused with the vendor's 400."""
    offload: bool = True
    """Run heavy requests (a body over ``offload_body_bytes``, a report or export over many
    records, a journal page; docs/architecture.md) on the emulator's worker thread, one at a
    time, so that the event loop keeps serving the other emulators; False runs all on the loop."""
    offload_body_bytes: int = 16384
    """Requests with a larger body are heavy (see ``offload``)."""
    admin_token: str | None = None
    """When set, the control API wants ``X-Trackmock-Admin-Token`` with this value."""
    check_responses: bool = False
    """Validate every response and socket frame against the contract and record violations."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Larger request bodies are refused with 413."""
    # The transport's limits (``core/limits.py``); every one bounds what a client can hold.
    idle_timeout: float = 30.0
    """Close a connection that has not sent a whole request within this many seconds (also
    between requests on a kept-alive connection)."""
    max_connections: int = 10_000
    """Open connections (sockets included) per emulator; more are refused with 503."""
    max_request_head_bytes: int = 65_536
    """Request line plus headers; a larger head is refused with 431."""
    max_request_headers: int = 200
    """Header lines per request; more are refused with 431."""
    socket_max_message_bytes: int = 4_096
    """Largest WebSocket message a client may send (Track's clients send ``pong <uuid>``); a
    larger one closes the socket with 1009."""
    socket_inbound_bytes: int = 16 * 1024 * 1024
    """Socket message bytes received and not yet handled, all sockets of an emulator together;
    past it the socket that sends more is closed with 1013."""
    socket_send_buffer_bytes: int = 1024 * 1024
    """Bytes sent to a socket that its client has not read yet; a client further behind is
    closed with 1008, so a client that never reads cannot make memory grow."""
    socket_queue_events: int = 1_000
    """Pushes and client messages waiting for one socket's session; more close it with 1013."""
    tls_cert: str | None = None
    """Your own server certificate (PEM, with its chain) for the emulators that serve TLS
    (Trackops), instead of a test CA (``trackmock serve --tls-cert``); needs ``tls_key``."""
    tls_key: str | None = None
    """The private key (PEM, unencrypted) of ``tls_cert`` (``--tls-key``)."""
    tls_ca: str | None = None
    """The CA file clients should trust for ``tls_cert``, listed as ``ca_cert`` in the ready
    file and credentials (``--tls-ca``); None when the system's CAs trust it."""
    cors_origins: list[str] | None = None
    """Origins a browser page may call the emulator from (``https://app.example:3000``, or
    ``*`` for any): answers carry ``Access-Control-*`` headers and preflights are answered
    (``trackmock serve --cors``). None sends no CORS header, as the vendors document none."""


T = TypeVar("T")


def _check_type(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in get_args(hint):
            try:
                return _check_type(value, option, where)
            except SettingsError:
                continue
        raise SettingsError(f"{where}: {value!r} is not a valid value")
    if hint is type(None):
        if value is None:
            return None
        raise SettingsError(f"{where}: expected null")
    if origin is typing.Literal:
        if value in get_args(hint):
            return value
        raise SettingsError(f"{where}: must be one of {', '.join(map(str, get_args(hint)))}")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise SettingsError(f"{where}: expected a list")
        (item_hint, *_) = get_args(hint) or (Any,)
        items = [_check_type(v, item_hint, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise SettingsError(f"{where}: expected a mapping")
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return from_mapping(typing.cast(type, hint), value, where)
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise SettingsError(f"{where}: expected true or false")
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise SettingsError(f"{where}: expected an integer")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise SettingsError(f"{where}: expected {hint.__name__}")
    return value


def from_mapping(cls: type[T], data: Any, where: str = "settings") -> T:
    """Build the dataclass ``cls`` from ``data``, checking every key and type."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: expected a mapping")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(typing.cast(Any, cls))}
    unknown = sorted(set(data) - names)
    if unknown:
        raise SettingsError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    values = {key: _check_type(value, hints[key], f"{where}.{key}") for key, value in data.items()}
    return cls(**values)


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON settings file."""
    from .contracts import ContractError, read_document

    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"{path}: no such settings file")
    try:
        data = read_document(path)
    except ContractError as exc:
        raise SettingsError(str(exc)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: a settings file holds a mapping")
    return data


def split_settings(
    data: dict[str, Any], vendors: typing.Iterable[str]
) -> tuple[CoreSettings, dict[str, dict[str, Any]]]:
    """Core settings from the top level, and each vendor's raw section."""
    vendor_names = set(vendors)
    core = {k: v for k, v in data.items() if k not in vendor_names}
    known = {f.name for f in dataclasses.fields(CoreSettings)}
    unknown = sorted(set(core) - known)
    if unknown:
        # The top level holds core keys and one section per vendor: name both kinds.
        raise SettingsError(
            f"settings: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            f", and the vendor sections {', '.join(sorted(vendor_names))}"
        )
    sections = {}
    for name in vendor_names:
        section = data.get(name) or {}
        if not isinstance(section, dict):
            raise SettingsError(f"settings.{name}: expected a mapping")
        sections[name] = section
    return from_mapping(CoreSettings, core), sections
