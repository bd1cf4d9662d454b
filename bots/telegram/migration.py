"""Groups upgraded to supergroups. The upgrade gives the chat a new id, and the old one answers
``ChatMigrated`` (400 with ``migrate_to_chat_id``) from then on.

The move is remembered both ways in the cursor store (kept for good: the store's conversations keep
the old address for ever): a reply to the old id goes to the new one, and a message from the supergroup
lands in the conversation the store already knows (the old address). A move is learnt from a send
answered with ``ChatMigrated`` or from the service messages Telegram posts in both chats.
"""

from __future__ import annotations

import logging

from bots.base import CursorStore
from bots.lru import LRU

log = logging.getLogger(__name__)

FIRST_SUPERGROUP_ID = -1_000_000_000_000  # supergroup and channel ids are -100xxxxxxxxxx; basic groups above
REMEMBERED = 10_000
NOT_MOVED_TTL = 60.0  # seconds a "this chat did not move" answer is trusted (another process may learn a move)


def is_basic_group(chat_id: int) -> bool:
    return FIRST_SUPERGROUP_ID < chat_id < 0


def is_supergroup(chat_id: int) -> bool:
    return chat_id <= FIRST_SUPERGROUP_ID


class ChatMoves:
    def __init__(self, cursors: CursorStore | None) -> None:
        self._cursors = cursors
        self._to: LRU[int, int] = LRU(REMEMBERED)  # old group id -> supergroup id (itself: not moved)
        self._from: LRU[int, int] = LRU(REMEMBERED)  # supergroup id -> old group id (itself: not moved)

    async def moved(self, old: int, new: int) -> None:
        """Remember that group ``old`` is now supergroup ``new``. A store failure is logged: the move is
        still followed in this process, and learnt again from the next ``ChatMigrated``."""
        if self._to.get(old) == new and self._from.get(new) == old:
            return
        self._to.put(old, new, ttl=float("inf"))
        self._from.put(new, old, ttl=float("inf"))
        log.info("telegram: group %s was upgraded to supergroup %s", old, new)
        if self._cursors is None:
            return
        try:
            await self._cursors.set_cursor("telegram", f"moved-to:{old}", str(new))
            await self._cursors.set_cursor("telegram", f"moved-from:{new}", str(old))
        except Exception as exc:
            log.warning("telegram: the move of group %s to %s is not stored: %s", old, new, exc)

    async def current(self, chat_id: int) -> int:
        """Where a message for ``chat_id`` goes now (only a basic group can have moved)."""
        if not is_basic_group(chat_id):
            return chat_id
        return await self._look_up(self._to, "moved-to:", chat_id)

    async def home(self, chat_id: int) -> int:
        """The id the store knows ``chat_id`` by: the old group's, for a supergroup that was one."""
        if not is_supergroup(chat_id):
            return chat_id
        return await self._look_up(self._from, "moved-from:", chat_id)

    async def _look_up(self, cache: LRU[int, int], prefix: str, chat_id: int) -> int:
        known = cache.get(chat_id)
        if known is not None:
            return known
        found = chat_id
        if self._cursors is not None:
            value = await self._cursors.get_cursor("telegram", prefix + str(chat_id))
            if value and value.lstrip("-").isdigit():
                found = int(value)
        cache.put(chat_id, found, ttl=None if found != chat_id else NOT_MOVED_TTL)
        return found
