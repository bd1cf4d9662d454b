"""A small least-recently-used map, so an adapter's caches stay bounded however many chats and users it meets."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` entries; the least recently used goes first. ``ttl`` (seconds, optional) also
    forgets an entry that old, so a remembered answer is asked again after a while."""

    def __init__(self, size: int, ttl: float | None = None) -> None:
        if size <= 0:
            raise ValueError("size must be positive")
        self.size = size
        self.ttl = ttl
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Remember ``value``; ``ttl`` overrides the map's own for this entry."""
        life = ttl if ttl is not None else self.ttl
        self._items[key] = (time.monotonic() + life if life is not None else float("inf"), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        found = self._items.pop(key, None)
        return found[1] if found is not None else None

    def __contains__(self, key: K) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self._items)
