"""A bodiless request as the pipeline reads it, straight from the bytes the server parsed.

``Call.request`` on the fast path reads as werkzeug's sans-IO ``Request`` reads (so ``args``,
``cookies``, ``mimetype``, ``host_url`` are werkzeug's own code, exactly as on the full path)
over ``RawHeaders``, a read-only view of the raw header pairs. No WSGI environ, no
``EnvironHeaders``, no input stream is built. The vendors' hooks read only what both request
types offer: ``headers``, ``cookies``, ``args``, ``path``, ``method``, ``query_string``,
``mimetype``, ``host_url``, ``remote_addr``, ``content_length``, ``get_data``, ``form``.

werkzeug is imported when a parse is first needed, not before the ports answer (importing
any part of it runs its package, which imports its development server and test client): the
health check needs none, and ``trackmock serve`` imports it on its warm-up thread right after
start-up (docs/architecture.md, "Start-up").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, overload

from .wire import Headers, Request

if TYPE_CHECKING:
    from werkzeug.datastructures import ImmutableMultiDict
    from werkzeug.sansio.request import Request as SansIORequest


LATE_IMPORTS = threading.RLock()
"""Held while werkzeug or Flask is imported after start-up (here, and by ``Emulator.app``):
two threads importing different parts of werkzeug at once can meet one of its modules half
made, as its modules import each other."""

_request_class: type[SansIORequest] | None = None


def werkzeug_request_class() -> type[SansIORequest]:
    """werkzeug's sans-IO ``Request`` with the query parameters and cookies of ``_Args``
    (werkzeug is imported, whole, on the first call)."""
    global _request_class
    found = _request_class
    if found is None:
        with LATE_IMPORTS:
            found = _request_class = _request_class or _make_request_class()
    return found


def _make_request_class() -> type[SansIORequest]:
    from werkzeug.datastructures import ImmutableMultiDict
    from werkzeug.sansio.request import Request as SansIORequest

    class _Args(ImmutableMultiDict[str, str]):
        """werkzeug's query parameters and cookies, with a ``get`` that raises nothing when
        a key is absent (werkzeug's builds an HTTP exception per miss: several microseconds
        each)."""

        def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
            if key not in self:
                return default
            return super().get(key, default, type)

    class _Request(SansIORequest):
        parameter_storage_class = _Args
        dict_storage_class = _Args
        empty_form: ImmutableMultiDict[str, str] = ImmutableMultiDict()

    return _Request


class RawHeaders:
    """Request headers as werkzeug's ``EnvironHeaders`` shows them, read from raw pairs.

    As through a WSGI environ: names are case-insensitive and ``_`` is ``-``; a repeated
    header is one value joined with ``,`` (``Content-Type``: the last one wins);
    ``Content-Length`` is the body's length (``0``: only bodiless requests come here);
    ``items()`` names headers in title case, in the order first received.
    """

    __slots__ = ("_values",)

    def __init__(self, raw: Headers) -> None:
        # Names come lower-cased (``wire.Request``); values are decoded when read.
        values = {b"content-length": b"0"}
        values.update(raw)
        if len(values) != len(raw) + 1 or b"_" in b"".join(values):
            values = _joined(raw)  # a repeated header, Content-Length, or a ``_`` in a name
        self._values = values

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    def get(self, name: str, default: str | None = None) -> str | None:
        key = _KEYS.get(name)  # ``_key`` inlined for the names asked before: hooks ask often
        value = self._values.get(_key(name) if key is None else key)
        return default if value is None else value.decode("latin-1")

    def getlist(self, name: str) -> list[str]:
        value = self.get(name)
        return [] if value is None else [value]

    def __getitem__(self, name: str) -> str:
        return self._values[_key(name)].decode("latin-1")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._values

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return self.items()

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Iterator[tuple[str, str]]:
        for name, value in self._values.items():
            yield name.decode("latin-1").title(), value.decode("latin-1")


def _joined(raw: Headers) -> dict[bytes, bytes]:
    """Headers as a WSGI environ keeps them (see ``RawHeaders``)."""
    values = {b"content-length": b"0"}
    for raw_name, value in raw:
        name = raw_name.replace(b"_", b"-")
        if name == b"content-length":
            continue
        if name in values and name != b"content-type":
            values[name] = values[name] + b"," + value
        else:
            values[name] = value
    return values


_KEYS: dict[str, bytes] = {}
_ARGS: dict[bytes, ImmutableMultiDict[str, str]] = {}
_COOKIES: dict[str | None, ImmutableMultiDict[str, str]] = {}
_MIMETYPES: dict[str, str] = {}
PARSES_KEPT = 256
"""Query strings, ``Cookie`` and ``Content-Type`` values whose parse is remembered (all
forgotten when full)."""


REMEMBERED_CHARS = 2048
"""A value longer than this is parsed each time, never remembered (bounds the memos' size)."""


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if key is not None and len(key) > REMEMBERED_CHARS:
        return
    if len(memo) >= PARSES_KEPT:
        memo.clear()
    memo[key] = value


def _key(name: str) -> bytes:
    """A header name as ``RawHeaders`` keeps it (remembered: callers ask by a few names)."""
    key = _KEYS.get(name)
    if key is None:
        key = name.lower().replace("_", "-").encode("latin-1", "replace")
        if len(_KEYS) < 1024:
            _KEYS[name] = key
    return key


class RequestView:
    """A bodiless request parsed by the server, read the way ``werkzeug.Request`` reads one
    (see the module docstring): what it needs no parse for is kept here, the rest is asked
    of werkzeug's sans-IO ``Request`` over the same values, made on first need."""

    def __init__(self, request: Request) -> None:
        server = request.server or ("127.0.0.1", 0)
        # As werkzeug's sans-IO ``Request.__init__`` keeps them.
        self.method = request.method.upper()
        self.scheme = request.scheme
        self.server = (str(server[0]), server[1])
        self.root_path = ""
        # werkzeug's path is the percent-decoded one, as the server's is.
        self.path = "/" + request.path.lstrip("/")
        self.query_string = request.query_string
        self.headers = RawHeaders(request.headers)
        self.remote_addr = request.client[0] if request.client else ""
        self._werkzeug: SansIORequest | None = None

    @property
    def werkzeug(self) -> SansIORequest:
        """werkzeug's sans-IO ``Request`` of the same request (made on first use)."""
        found = self._werkzeug
        if found is None:
            found = self._werkzeug = werkzeug_request_class()(
                method=self.method,
                scheme=self.scheme,
                server=self.server,
                root_path=self.root_path,
                path=self.path,
                query_string=self.query_string,
                headers=self.headers,  # type: ignore[arg-type]
                remote_addr=self.remote_addr,
            )
        return found

    def __getattr__(self, name: str) -> Any:
        """Whatever else werkzeug's request offers (``host_url``, ``host``, ``url`` ...)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.werkzeug, name)

    @property
    def args(self) -> ImmutableMultiDict[str, str]:
        """werkzeug's parse of the query string, remembered per query string (immutable, so
        shared safely: a client asks for the same few URLs again and again)."""
        return self._parsed(_ARGS, self.query_string, "args")

    @property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """werkzeug's parse of the ``Cookie`` header, remembered per header value."""
        return self._parsed(_COOKIES, self.headers.get("Cookie"), "cookies")

    @property
    def mimetype(self) -> str:
        """werkzeug's media type of the ``Content-Type`` header, remembered per value."""
        return self._parsed(_MIMETYPES, self.headers.get("Content-Type", ""), "mimetype")

    def _parsed(self, memo: dict[Any, Any], key: Any, attribute: str) -> Any:
        """werkzeug's ``attribute`` of this request, from ``memo`` by ``key`` when it was
        parsed before."""
        found = memo.get(key)
        if found is None:
            found = getattr(self.werkzeug, attribute)
            _remember(memo, key, found)
        return found

    @property
    def content_length(self) -> int:
        return 0  # only bodiless requests come here

    def get_data(self, cache: bool = True, as_text: bool = False) -> Any:
        return "" if as_text else b""

    @property
    def form(self) -> ImmutableMultiDict[str, str]:
        return werkzeug_request_class().empty_form  # type: ignore[attr-defined,no-any-return]
