"""A bounded list of the newest items, counting what fell out (violations, emulator errors)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    """Keeps the newest ``size`` items appended; ``dropped`` counts the older ones let go."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("keeps at least one item")
        self._items: deque[T] = deque(maxlen=size)
        self.dropped = 0

    def append(self, item: T) -> None:
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(item)

    def clear(self) -> None:
        self._items.clear()
        self.dropped = 0

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> T:
        return self._items[index]
