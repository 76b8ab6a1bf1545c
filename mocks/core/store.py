"""In-memory state: named sequences, ordered tables with cached encodings, tenants.

A vendor declares its state once (a ``Tenant`` subclass holding ``Table``s) and keeps it in a
``Store`` keyed by tenant (an organization, an account, a user). Every mutation takes the
store's lock, so concurrent writers never see a half-made change, and sequences never repeat
or skip a value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from .snapshot import (
    SEQUENCES,
    STR,
    Codec,
    Field,
    SnapshotError,
    Snapshotted,
    apply_fields,
    dump_fields,
    load_fields,
)

Record = dict[str, Any]
Encoder = Callable[[Record], bytes]


class Sequences:
    """Named counters, strictly increasing with no gaps or duplicates under concurrent draws."""

    def __init__(self, starts: dict[str, int] | None = None) -> None:
        self._lock = threading.Lock()
        self._starts = dict(starts or {})
        self._next: dict[str, int] = dict(self._starts)

    def configure(self, name: str, start: int) -> None:
        """Set where ``name`` starts; takes effect now and after every reset."""
        with self._lock:
            self._starts[name] = start
            self._next[name] = start

    def next(self, name: str) -> int:
        """Draw the next value of ``name`` (1 unless configured otherwise)."""
        with self._lock:
            value = self._next.get(name, self._starts.get(name, 1))
            self._next[name] = value + 1
            return value

    def peek(self, name: str) -> int:
        """The value the next draw of ``name`` will return."""
        with self._lock:
            return self._next.get(name, self._starts.get(name, 1))

    def skip_past(self, name: str, used: int) -> None:
        """Make sure the next draw of ``name`` is above ``used`` (after loading fixed ids)."""
        with self._lock:
            if self._next.get(name, self._starts.get(name, 1)) <= used:
                self._next[name] = used + 1

    def reset(self) -> None:
        with self._lock:
            self._next = dict(self._starts)

    def state(self) -> dict[str, int]:
        """The value each sequence drawn or configured so far draws next (a snapshot)."""
        with self._lock:
            return dict(self._next)

    def restore(self, next_values: dict[str, int]) -> None:
        """Draw these values next (a snapshot's); the configured starts stay for resets."""
        with self._lock:
            self._next = dict(next_values)


K = TypeVar("K", bound=Hashable)


class Table(Generic[K]):
    """Records by key, in insertion order, each with a cached encoding.

    Keys are kept in a list so that a page anywhere in the table costs the same as the first
    one; the encoded form of a record is built once and reused until the record changes.
    """

    def __init__(self, encode: Encoder | None = None) -> None:
        self._rows: dict[K, Record] = {}
        self._order: list[K] = []
        self._encoded: dict[K, bytes] = {}
        self._encode = encode
        self.version = 0
        """Counts the changes to the records: an answer built from the table (a page's
        encoding) stays valid while the table, and this number, are the same."""

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[Record]:
        return (self._rows[key] for key in self._order)

    def keys(self) -> list[K]:
        return list(self._order)

    def get(self, key: K) -> Record | None:
        return self._rows.get(key)

    def put(self, key: K, record: Record) -> Record:
        """Insert or replace ``record`` under ``key``; a new key goes to the end."""
        if key not in self._rows:
            self._order.append(key)
        self._rows[key] = record
        self._encoded.pop(key, None)
        self.version += 1
        return record

    def delete(self, key: K) -> Record | None:
        record = self._rows.pop(key, None)
        if record is not None:
            self._order.remove(key)
            self._encoded.pop(key, None)
            self.version += 1
        return record

    def clear(self) -> None:
        self._rows.clear()
        self._order.clear()
        self._encoded.clear()
        self.version += 1

    def restore(self, rows: list[tuple[K, Record]]) -> None:
        """Hold exactly these records, in this order (a snapshot's); no cached encoding
        survives."""
        self.clear()
        for key, record in rows:
            self._order.append(key)
            self._rows[key] = record

    def slice(self, start: int, stop: int, *, reverse: bool = False) -> list[Record]:
        """Records at positions [start, stop) in insertion order, or counted from the end."""
        return [self._rows[key] for key in self.key_slice(start, stop, reverse=reverse)]

    def key_slice(self, start: int, stop: int, *, reverse: bool = False) -> list[K]:
        """Keys at positions [start, stop) in insertion order, or counted from the end."""
        if reverse:
            total = len(self._order)
            return self._order[max(total - stop, 0) : max(total - start, 0)][::-1]
        return self._order[start:stop]

    def encoded(self, key: K) -> bytes:
        """The record's encoding (built by the table's encoder, then cached)."""
        cached = self._encoded.get(key)
        if cached is None:
            if self._encode is None:
                raise RuntimeError("this table has no encoder")
            # A copy of exact size: orjson's output keeps ~4 KiB of spare capacity, which
            # would multiply the memory of every cached record.
            cached = bytes(memoryview(self._encode(self._rows[key])))
            self._encoded[key] = cached
        return cached

    def encoded_list(self, records: list[Record], key_of: Callable[[Record], K]) -> bytes:
        """A JSON array of the given records' cached encodings."""
        return b"[" + b",".join([self.encoded(key_of(record)) for record in records]) + b"]"


class Tenant:
    """Base for a vendor's per-tenant state; subclasses add their tables as attributes."""

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.sequences = Sequences()


T = TypeVar("T", bound=Tenant)


class Store(Snapshotted, Generic[T]):
    """One emulator's state: tenants made on first use, global sequences, one lock.

    Args:
        make_tenant: builds the empty state of a tenant from its key.
    """

    def __init__(self, make_tenant: Callable[[Hashable], T]) -> None:
        self.lock = threading.RLock()
        self.sequences = Sequences()
        self._make_tenant = make_tenant
        self._tenants: dict[Hashable, T] = {}

    def tenant(self, key: Hashable) -> T:
        # A tenant once made stays until a reset: found without the lock (a dict read is
        # atomic), made under it.
        found = self._tenants.get(key)
        if found is not None:
            return found
        with self.lock:
            found = self._tenants.get(key)
            if found is None:
                found = self._tenants[key] = self._make_tenant(key)
            return found

    def tenants(self) -> list[T]:
        with self.lock:
            return list(self._tenants.values())

    def has_tenant(self, key: Hashable) -> bool:
        return key in self._tenants

    def reset(self) -> None:
        """Forget every tenant and rewind every global sequence."""
        with self.lock:
            self._tenants.clear()
            self.sequences.reset()

    # -- snapshots (``core/snapshot.py``) ------------------------------------------------------

    tenant_key: ClassVar[Codec] = STR
    """How a tenant's key is written (``INT`` for integer keys)."""

    def state_fields(self) -> list[Field]:
        """The vendor's state beyond tenants and global sequences."""
        return []

    def tenant_fields(self) -> list[Field]:
        """A tenant's state beyond its sequences."""
        return []

    def snapshot_fields(self) -> list[Field]:
        return [
            Field("sequences", SEQUENCES),
            Field("tenants", TenantsOf(self), attr="_tenants"),
            *self.state_fields(),
        ]


@dataclass(frozen=True)
class Tenants:
    """Tenants built from a snapshot, to take the place of a store's."""

    tenants: dict[Hashable, Tenant]

    def apply_to(self, target: dict[Hashable, Tenant]) -> None:
        target.clear()
        target.update(self.tenants)


@dataclass(frozen=True)
class TenantsOf:
    """A store's tenants: ``[{"key", "sequences", ...the tenant's fields}]``, in order."""

    store: Store[Any]

    def _fields(self) -> list[Field]:
        return [
            Field("key", self.store.tenant_key),
            Field("sequences", SEQUENCES),
            *self.store.tenant_fields(),
        ]

    def dump(self, value: dict[Hashable, Tenant]) -> Any:
        fields = self._fields()
        return [dump_fields(tenant, fields) for tenant in value.values()]

    def load(self, data: Any, where: str) -> Tenants:
        if not isinstance(data, list):
            raise SnapshotError(f"{where}: expected an array of tenants")
        fields = self._fields()
        tenants: dict[Hashable, Tenant] = {}
        for i, item in enumerate(data):
            loaded = load_fields(item, fields, f"{where}[{i}]")
            key = loaded.pop("key")
            if key in tenants:
                raise SnapshotError(f"{where}[{i}]: tenant {key!r} appears twice")
            try:
                tenant = self.store._make_tenant(key)
            except (KeyError, ValueError):
                raise SnapshotError(f"{where}[{i}]: no tenant {key!r} in this emulator") from None
            apply_fields(tenant, loaded)
            tenants[key] = tenant
        return Tenants(tenants)
