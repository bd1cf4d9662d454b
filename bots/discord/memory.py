"""What the adapter remembers in memory, bounded however many users and channels it meets.

- ``Places``: per user, their DM channel id (so a reply needs no ``POST /users/@me/channels``;
  discord.py keeps only 128 DM channels) and the public message they wrote last (where a private
  message Discord refuses can be announced when the core gave no ``public_fallback``, e.g. the
  acknowledgement of a ticket opened from a public channel).
"""

from __future__ import annotations

from typing import Any

from bots.lru import LRU

USERS = 20_000  # users remembered per map: a few hundred kB at most


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
