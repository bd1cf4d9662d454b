"""What the adapter remembers in memory, bounded however many users and channels it meets.

- ``LRU``: a map that forgets the least recently used entry past ``size``.
- ``Places``: per user, their DM channel id (so a reply needs no ``POST /users/@me/channels``;
  discord.py keeps only 128 DM channels) and the public message they wrote last (where a private
  message Discord refuses can be announced when the core gave no ``public_fallback``, e.g. the
  acknowledgement of a ticket opened from a public channel).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

USERS = 20_000  # users remembered per map: a few hundred kB at most


class LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError("size must be positive")
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items


class Places:
    """Where users are: their DM channel, and their last public message."""

    def __init__(self, size: int = USERS) -> None:
        self.dm_channels: LRU[int, int] = LRU(size)
        self._public: LRU[int, tuple[int, int, str]] = LRU(size)  # user -> (channel, message, handle)

    def saw_dm(self, user_id: int, channel_id: int) -> None:
        self.dm_channels.put(user_id, channel_id)

    def saw_public(self, user_id: int, channel_id: int, message_id: int, handle: str) -> None:
        self._public.put(user_id, (channel_id, message_id, handle))

    def public(self, user_id: int) -> dict[str, Any] | None:
        """In the shape of ``reply.meta["public_fallback"]``."""
        found = self._public.get(user_id)
        if found is None:
            return None
        channel_id, message_id, handle = found
        return {"conversation": str(channel_id), "reply_to": str(message_id), "user_id": str(user_id),
                "handle": handle}
