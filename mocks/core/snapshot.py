"""Snapshots: an emulator's whole state as versioned JSON, and its exact restore.

``take`` writes ``{"format", "version", "vendor", "clock", "settings", "state"}``; the state
is the vendor's own (``ProviderHooks.dump_state``), made of its stores' tables of records as
they are stored, its counters and its indexes. ``restore`` checks everything first (the
envelope here, the vendor's state with ``ProviderHooks.load_state``, which builds the new
state aside) and only then applies it, so a bad snapshot changes nothing.

A store says what its state is with codecs (``Field`` lists of ``Codec``s below): each codec
writes one kind of value as JSON and reads it back, checking its shape, so the restore of a
hand-edited file fails with the path of what is wrong. Records are kept as JSON objects; a
table (``TableOf(INT, record="Case")``) or a record (``Record("Office")``) names the contract
schema its records follow, and the restore checks each record against it
(``stored_records.py``), so that no read of a restored record can fail. What is not state is
left out: the journal, faults, recorded violations, open sockets.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from .. import __version__
from .stored_records import RecordError, record_check

if TYPE_CHECKING:
    from .contracts import Contract
    from .emulator import Emulator
    from .store import Sequences, Table

FORMAT = "trackmock-snapshot"
VERSION = 1
"""The layout ``take`` writes and ``restore`` reads; a change that old files cannot be read
with raises it."""
LAST_EPOCH = 253402300799
"""The clock's last second a snapshot may hold (9999-12-31T23:59:59Z, as ISO 8601 reaches)."""
SET_FORMAT = "trackmock-snapshots"
"""A file of several emulators' snapshots: ``{"format", "version", "snapshots": {vendor: ...}}``
(``trackmock serve --save-state`` writes one)."""


class SnapshotError(ValueError):
    """A snapshot that cannot be restored; the message names where and why."""


Apply = Callable[[], None]
"""Puts checked state in place: cannot fail (everything was checked before)."""


class Codec(Protocol):
    """Writes one kind of value as JSON and reads it back, checking its shape."""

    def dump(self, value: Any) -> Any: ...

    def load(self, data: Any, where: str) -> Any:
        """The value of ``data``; raises ``SnapshotError`` naming ``where`` when it is wrong."""
        ...


def _wrong(where: str, expected: str, data: Any) -> SnapshotError:
    found = "null" if data is None else type(data).__name__
    return SnapshotError(f"{where}: expected {expected}, found {found}")


@dataclass(frozen=True)
class Scalar:
    """A number, string or boolean (``bool`` is not taken for a number)."""

    kinds: tuple[type, ...]
    expected: str

    def dump(self, value: Any) -> Any:
        return value

    def load(self, data: Any, where: str) -> Any:
        if isinstance(data, bool) != (bool in self.kinds) or not isinstance(data, self.kinds):
            raise _wrong(where, self.expected, data)
        return data


INT = Scalar((int,), "an integer")
NUMBER = Scalar((int, float), "a number")
STR = Scalar((str,), "a string")
BOOL = Scalar((bool,), "a boolean")


@dataclass(frozen=True)
class AnyJson:
    """Any JSON value, passed on as it is (a part that its owner checks itself)."""

    def dump(self, value: Any) -> Any:
        return value

    def load(self, data: Any, where: str) -> Any:
        return data


_CONTRACT: ContextVar[Contract | None] = ContextVar("snapshot_contract", default=None)
"""The contract of the emulator whose snapshot is being checked (set by ``check``)."""


@dataclass(frozen=True)
class Record:
    """A record: a JSON object, of the contract schema ``schema`` names (a component's name or
    a location in the emulator's contract); any object when none is named."""

    schema: str = ""

    def dump(self, value: Any) -> Any:
        return value

    def load(self, data: Any, where: str) -> Any:
        if not isinstance(data, dict):
            raise _wrong(where, "an object", data)
        if self.schema:
            contract = _CONTRACT.get()
            if contract is None:
                raise RuntimeError("records are checked within snapshot.check (no contract)")
            try:
                record_check(contract, self.schema).run(data)
            except RecordError as exc:
                name = self.schema.split("#")[0].rsplit("/", 1)[-1].removesuffix(".json")
                raise SnapshotError(
                    f"{where}{exc.path}: not a {name} record: {exc.message}"
                ) from None
        return data


RECORD = Record()
ANY = AnyJson()


@dataclass(frozen=True)
class Nullable:
    """A value of ``item``, or null."""

    item: Codec

    def dump(self, value: Any) -> Any:
        return None if value is None else self.item.dump(value)

    def load(self, data: Any, where: str) -> Any:
        return None if data is None else self.item.load(data, where)


@dataclass(frozen=True)
class ListOf:
    """A list, deque, set (written sorted) or tuple of one kind of item."""

    item: Codec
    make: Callable[[Iterable[Any]], Any] = list

    def dump(self, value: Any) -> Any:
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [self.item.dump(item) for item in items]

    def load(self, data: Any, where: str) -> Any:
        if not isinstance(data, list):
            raise _wrong(where, "an array", data)
        return self.make(self.item.load(item, f"{where}[{i}]") for i, item in enumerate(data))


@dataclass(frozen=True)
class TupleOf:
    """A tuple of fixed length, one codec per place (written as an array)."""

    items: tuple[Codec, ...]

    def dump(self, value: Any) -> Any:
        return [codec.dump(item) for codec, item in zip(self.items, value, strict=True)]

    def load(self, data: Any, where: str) -> Any:
        if not isinstance(data, list) or len(data) != len(self.items):
            raise _wrong(where, f"an array of {len(self.items)}", data)
        return tuple(
            c.load(item, f"{where}[{i}]")
            for i, (c, item) in enumerate(zip(self.items, data, strict=True))
        )


_CANONICAL_INT = re.compile(r"-?(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class MapOf:
    """A mapping, in its order. String and integer keys make a JSON object (integers written
    as their digits); other keys (tuples) an array of ``[key, value]`` pairs."""

    key: Codec
    value: Codec
    make: Callable[[], Any] = dict
    secret_keys: bool = False
    """Keys that are secrets (tokens, session ids): a refusal names the entry by its position."""

    def dump(self, value: Any) -> Any:
        if self.key in (STR, INT):
            return {str(k): self.value.dump(v) for k, v in value.items()}
        return [[self.key.dump(k), self.value.dump(v)] for k, v in value.items()]

    def load(self, data: Any, where: str) -> Any:
        found = self.make()
        for position, (raw, item) in enumerate(self._pairs(data, where)):
            named = f"{where}[entry {position}]" if self.secret_keys else f"{where}[{raw!r}]"
            key = self._key(raw, where)
            found[key] = self.value.load(item, named)
        return found

    def _pairs(self, data: Any, where: str) -> Iterable[tuple[Any, Any]]:
        if self.key in (STR, INT):
            if not isinstance(data, dict):
                raise _wrong(where, "an object", data)
            return data.items()
        if not isinstance(data, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in data
        ):
            raise _wrong(where, "an array of [key, value] pairs", data)
        return [(pair[0], pair[1]) for pair in data]

    def _key(self, raw: Any, where: str) -> Any:
        if self.key is INT:
            if not _CANONICAL_INT.fullmatch(raw):
                raise SnapshotError(f"{where}: key {raw[:40]!r} is not an integer")
            return int(raw)
        return self.key.load(raw, f"{where} key")


@dataclass(frozen=True)
class Fields:
    """An object of a dataclass, field by field (codecs derived from its type hints)."""

    cls: type
    codecs: tuple[tuple[str, Codec], ...]

    @classmethod
    def of(cls, target: type) -> Fields:
        hints = typing.get_type_hints(target, include_extras=True)
        return cls(
            target,
            tuple((f.name, codec_for(hints[f.name])) for f in dataclasses.fields(target)),
        )

    def dump(self, value: Any) -> Any:
        return {name: codec.dump(getattr(value, name)) for name, codec in self.codecs}

    def load(self, data: Any, where: str) -> Any:
        values = _exact_object(data, [name for name, _ in self.codecs], where)
        return self.cls(
            **{name: codec.load(values[name], f"{where}.{name}") for name, codec in self.codecs}
        )


def codec_for(hint: Any) -> Codec:
    """The codec of a type hint of a dataclass field (the kinds a store keeps); a codec in an
    ``Annotated`` hint's metadata wins (``Annotated[Record, RecordOf("StaticToken")]``)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        given = [meta for meta in args[1:] if hasattr(meta, "load") and hasattr(meta, "dump")]
        return typing.cast(Codec, given[0]) if given else codec_for(args[0])
    simple = {int: INT, float: NUMBER, str: STR, bool: BOOL}
    if hint in simple:
        return simple[hint]
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        (other,) = [arg for arg in args if arg is not type(None)]
        return Nullable(codec_for(other))
    if origin is dict and args and args[1] is Any:
        return RECORD
    if origin in (dict, OrderedDict):
        return MapOf(
            codec_for(args[0]), codec_for(args[1]), OrderedDict if origin is OrderedDict else dict
        )
    makers: dict[Any, Callable[[Iterable[Any]], Any]] = {list: list, set: set, deque: deque}
    if origin in makers:
        return ListOf(codec_for(args[0]), makers[origin])
    if origin is tuple:
        return TupleOf(tuple(codec_for(arg) for arg in args))
    raise TypeError(f"no snapshot codec for {hint!r}")


class Restorable(Protocol):
    """A checked value that is put into an existing object, not assigned over it."""

    def apply_to(self, target: Any) -> None: ...


@dataclass(frozen=True)
class Rows:
    """A table's records, checked (``TableOf``), to put in place of the table's records."""

    rows: list[tuple[Hashable, dict[str, Any]]]

    def apply_to(self, target: Table[Any]) -> None:
        target.restore(self.rows)


@dataclass(frozen=True)
class TableOf:
    """A ``Table``: its records in order, as ``[[key, record], ...]`` (each as stored), each
    of the contract schema ``record`` names (see ``Record``)."""

    key: Codec
    record: str = ""

    def dump(self, value: Table[Any]) -> Any:
        # A table iterates its records; its keys are in the same order.
        return [[key, record] for key, record in zip(value.keys(), value, strict=True)]

    def load(self, data: Any, where: str) -> Rows:
        if not isinstance(data, list):
            raise _wrong(where, "an array of [key, record] pairs", data)
        rows: list[tuple[Hashable, dict[str, Any]]] = []
        record = Record(self.record)
        seen: set[Hashable] = set()
        for i, pair in enumerate(data):
            if not isinstance(pair, list) or len(pair) != 2:
                raise _wrong(f"{where}[{i}]", "a [key, record] pair", pair)
            key = self.key.load(pair[0], f"{where}[{i}][0]")
            if key in seen:
                raise SnapshotError(f"{where}[{i}]: key {key!r} appears twice")
            seen.add(key)
            rows.append((key, record.load(pair[1], f"{where}[{i}][1]")))
        return Rows(rows)


@dataclass(frozen=True)
class TableSet:
    """Checked records of a fixed set of named tables."""

    tables: dict[str, Rows]

    def apply_to(self, target: dict[str, Table[Any]]) -> None:
        for name, rows in self.tables.items():
            rows.apply_to(target[name])


@dataclass(frozen=True)
class TablesOf:
    """A dict of named ``Table``s, every one of ``names`` present (no other); ``records``
    names the contract schema of a table's records (see ``TableOf``)."""

    names: tuple[str, ...]
    key: Codec
    records: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def dump(self, value: dict[str, Table[Any]]) -> Any:
        table = TableOf(self.key)
        return {name: table.dump(value[name]) for name in self.names}

    def load(self, data: Any, where: str) -> TableSet:
        values = _exact_object(data, list(self.names), where)
        return TableSet(
            {
                name: TableOf(self.key, self.records.get(name, "")).load(
                    values[name], f"{where}.{name}"
                )
                for name in self.names
            }
        )


@dataclass(frozen=True)
class Counters:
    """Checked next values of named sequences."""

    next: dict[str, int]

    def apply_to(self, target: Sequences) -> None:
        target.restore(self.next)


@dataclass(frozen=True)
class SequencesOf:
    """``Sequences``: the value each named sequence draws next."""

    def dump(self, value: Sequences) -> Any:
        return value.state()

    def load(self, data: Any, where: str) -> Counters:
        return Counters(MapOf(STR, INT).load(data, where))


SEQUENCES = SequencesOf()


@dataclass(frozen=True)
class Field:
    """One part of an object's state: its name in the snapshot, its codec, and the attribute
    it is (the name, unless given)."""

    name: str
    codec: Codec
    attr: str = ""

    @property
    def attribute(self) -> str:
        return self.attr or self.name


def dump_fields(owner: object, fields: Iterable[Field]) -> dict[str, Any]:
    return {field.name: field.codec.dump(getattr(owner, field.attribute)) for field in fields}


def load_fields(data: Any, fields: list[Field], where: str) -> dict[str, Any]:
    """Each field's checked value (``apply_fields`` puts them in place)."""
    values = _exact_object(data, [field.name for field in fields], where)
    return {
        field.attribute: field.codec.load(values[field.name], f"{where}.{field.name}")
        for field in fields
    }


def apply_fields(owner: object, loaded: dict[str, Any]) -> None:
    """Put checked values in place: tables and sequences keep their objects (others hold them,
    and their encoders), everything else is assigned."""
    for attribute, value in loaded.items():
        apply_to = getattr(value, "apply_to", None)
        if apply_to is not None:
            apply_to(getattr(owner, attribute))
        else:
            setattr(owner, attribute, value)


class Snapshotted:
    """A store whose state is the ``snapshot_fields`` it lists, changed under ``lock``."""

    lock: Any

    def snapshot_fields(self) -> list[Field]:
        raise NotImplementedError

    def dump_state(self) -> dict[str, Any]:
        """Everything the store holds, as JSON (records as they are stored)."""
        with self.lock:
            return dump_fields(self, self.snapshot_fields())

    def load_state(self, data: Any, where: str) -> Apply:
        """Check ``data`` (a ``dump_state``), building what it holds aside; the function
        returned puts it all in place at once."""
        loaded = load_fields(data, self.snapshot_fields(), where)

        def apply() -> None:
            with self.lock:
                apply_fields(self, loaded)

        return apply


def _exact_object(data: Any, names: list[str], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _wrong(where, "an object", data)
    missing = [name for name in names if name not in data]
    extra = sorted(set(data) - set(names))
    if missing or extra:
        parts = [f"missing {', '.join(missing)}" if missing else "", ""]
        if extra:
            parts[1] = f"unknown {', '.join(name[:40] for name in extra[:5])}"
        raise SnapshotError(f"{where}: {'; '.join(p for p in parts if p)}")
    return data


# -- the envelope -------------------------------------------------------------------------------


def take(emulator: Emulator) -> dict[str, Any]:
    """The emulator's whole state as a snapshot (see the module docstring)."""
    clock = emulator.clock
    return {
        "format": FORMAT,
        "version": VERSION,
        "vendor": emulator.name,
        "trackmock": __version__,
        "clock": {"epoch": clock.now(), "frozen": clock.frozen},
        "settings": settings_of(emulator),
        "state": emulator.provider.dump_state(),
    }


def settings_of(emulator: Emulator) -> dict[str, Any]:
    """The settings that shape the state: the seed and the vendor's section (for a reader;
    ``restore`` reports which differ from the running emulator's, and keeps the running ones)."""
    section = dataclasses.asdict(emulator.provider.settings)  # type: ignore[attr-defined]
    return {
        "seed": emulator.settings.seed,
        emulator.name: {k: v for k, v in section.items() if _plain(v)},
    }


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def restore(emulator: Emulator, snapshot: Any) -> dict[str, Any]:
    """Put ``snapshot`` in place of the emulator's state, all or nothing.

    Returns what the control API answers: the vendor, the clock, and the settings of the
    snapshot that differ from the running emulator's.

    Raises:
        SnapshotError: another format, version or vendor, or a state that does not check.
    """
    clock_state, apply = check(emulator, snapshot)
    apply()
    clock = emulator.clock
    clock.freeze(clock_state["frozen"])
    clock.set(clock_state["epoch"])
    differ = _differences(snapshot.get("settings"), settings_of(emulator))
    return {"vendor": emulator.name, "clock": clock.snapshot(), "settings_differ": differ}


def check(emulator: Emulator, snapshot: Any) -> tuple[dict[str, Any], Apply]:
    """The snapshot's clock and the function that applies its state, everything checked."""
    if not isinstance(snapshot, dict):
        raise _wrong("snapshot", "an object", snapshot)
    if snapshot.get("format") != FORMAT:
        raise SnapshotError(f'not a trackmock snapshot: "format" must be "{FORMAT}"')
    version = snapshot.get("version")
    if version != VERSION or isinstance(version, bool):
        raise SnapshotError(
            f"snapshot version {str(version)[:20]} cannot be read by this trackmock "
            f"({__version__}), which reads version {VERSION}"
        )
    vendor = snapshot.get("vendor")
    if vendor != emulator.name:
        raise SnapshotError(
            f"this is a snapshot of {str(vendor)[:40]!r}; this emulator is {emulator.name!r}"
        )
    clock = _exact_object(snapshot.get("clock"), ["epoch", "frozen"], "clock")
    if not 0 <= NUMBER.load(clock["epoch"], "clock.epoch") <= LAST_EPOCH:
        raise SnapshotError("clock.epoch: out of range (epoch seconds from 1970 to 9999)")
    BOOL.load(clock["frozen"], "clock.frozen")
    if "state" not in snapshot:
        raise SnapshotError("snapshot: missing state")
    token = _CONTRACT.set(emulator.contract)
    try:
        return clock, emulator.provider.load_state(snapshot["state"], "state")
    finally:
        _CONTRACT.reset(token)


def _differences(given: Any, running: dict[str, Any]) -> list[str]:
    """Names (``seed``, ``tracker.volume``) whose value in ``given`` is not the running one."""
    if not isinstance(given, dict):
        return []
    found = []
    for key, value in running.items():
        if isinstance(value, dict):
            other = given.get(key)
            other = other if isinstance(other, dict) else {}
            found += [f"{key}.{k}" for k, v in value.items() if k in other and other[k] != v]
        elif key in given and given[key] != value:
            found.append(key)
    return found


# -- files --------------------------------------------------------------------------------------


def snapshot_set(snapshots: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several emulators' snapshots in one document, by vendor."""
    return {
        "format": SET_FORMAT,
        "version": VERSION,
        "snapshots": {snapshot["vendor"]: snapshot for snapshot in snapshots},
    }


def snapshots_in(document: Any) -> dict[str, Any]:
    """The snapshots of a document by vendor: one snapshot (``GET /__admin/snapshot``) or a
    set of them (``snapshot_set``). Each is checked when it is restored."""
    if not isinstance(document, dict):
        raise _wrong("the document", "a snapshot (an object)", document)
    if document.get("format") == SET_FORMAT:
        if document.get("version") != VERSION:
            raise SnapshotError(
                f"snapshot set version {str(document.get('version'))[:20]} cannot be read by "
                f"this trackmock ({__version__}), which reads version {VERSION}"
            )
        found = document.get("snapshots")
        if not isinstance(found, dict):
            raise _wrong("snapshots", "an object of snapshots by vendor", found)
        for vendor, snapshot in found.items():
            given = snapshot.get("vendor") if isinstance(snapshot, dict) else None
            if given != vendor:
                raise SnapshotError(f"snapshots.{vendor[:40]}: its vendor is {str(given)[:40]!r}")
        return dict(found)
    if document.get("format") != FORMAT:
        raise SnapshotError(
            f'not a trackmock snapshot: "format" must be "{FORMAT}" (one emulator) or '
            f'"{SET_FORMAT}" (several)'
        )
    return {str(document.get("vendor")): document}


def read_snapshots(path: Path) -> dict[str, Any]:
    """The snapshots in a file, by vendor (``snapshots_in``)."""
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SnapshotError(f"cannot read it: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"not JSON: {exc}") from None
    return snapshots_in(document)


def snapshot_of(vendor: str, source: Any) -> dict[str, Any]:
    """``vendor``'s snapshot in ``source``: a file (path) or a document, of one emulator or a
    set (as ``snapshots_in`` reads them)."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            found = read_snapshots(path)
        except SnapshotError as exc:
            raise SnapshotError(f"{path}: {exc}") from None
        where = str(path)
    else:
        found, where = snapshots_in(source), "the snapshot given"
    if vendor not in found:
        raise SnapshotError(f"{where} holds no snapshot of {vendor} (it holds {', '.join(found)})")
    snapshot: dict[str, Any] = found[vendor]
    return snapshot


def write_snapshots(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` whole or not at all (a temporary file, then renamed), readable by
    its owner only: it holds tokens, passwords and sessions."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    os.replace(temporary, path)


def restore_files(paths: Iterable[Path], emulators: Iterable[Emulator]) -> None:
    """Restore each emulator whose snapshot is in one of ``paths`` (at most one per vendor).

    Raises:
        SnapshotError: prefixed with the file; a snapshot of a vendor not in ``emulators``,
            a second snapshot of one, or one that does not restore.
    """
    by_name = {emulator.name: emulator for emulator in emulators}
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            found = read_snapshots(path)
            for vendor, snapshot in found.items():
                if vendor not in by_name:
                    raise SnapshotError(
                        f"a snapshot of {vendor[:40]!r}, which is not served here "
                        f"(served: {', '.join(by_name)})"
                    )
                if vendor in seen:
                    raise SnapshotError(f"a second snapshot of {vendor} (one is in {seen[vendor]})")
                seen[vendor] = path
                restore(by_name[vendor], snapshot)
        except SnapshotError as exc:
            raise SnapshotError(f"{path}: {exc}") from None
