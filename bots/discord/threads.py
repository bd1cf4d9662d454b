"""Private follow-up threads: ``thread:<text channel id>:<user id>`` is a private thread the adapter
opens once under that channel for that user and reuses.

The mapping lives in the cursor store, so every process and every restart finds the same thread:
``thread:<c>:<u>`` -> thread id, ``owner:<thread id>`` -> ``thread:<c>:<u>`` (a message in the
thread belongs to that conversation) and ``user-thread:<u>`` -> ``thread:<c>:<u>`` (the thread a
refused DM can fall back to). It is delivery state: written with ``keep_days`` and written again
when the thread is used (at most once a day), so a thread nobody used for that long is forgotten
(the next reply opens a new one). In memory only bounded LRU maps are kept.
"""

from __future__ import annotations

import time

import discord

from bots.base import CursorStore
from bots.lru import LRU
from core.errors import Undeliverable

CHANNEL = "discord"
THREAD_NAME = "Private support {user}"
KEEP_DAYS = 90.0
REFRESH_EVERY = 86400.0  # seconds between writes that keep a used thread's rows from expiring
CACHED = 10_000


class PrivateThreads:
    def __init__(self, client: discord.Client, cursor_store: CursorStore | None) -> None:
        self.client = client
        self.cursor_store = cursor_store
        self._values: LRU[str, str] = LRU(CACHED * 3)  # the rows, when there is no cursor store
        self._refreshed: LRU[str, float] = LRU(CACHED)  # key -> when its rows were last written

    async def open(self, channel_id: int, user_id: int, key: str) -> discord.Thread:
        """The user's private thread under ``channel_id``, opened once and reused."""
        thread = await self.reuse(key, user_id)
        if thread is not None:
            return thread
        parent = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        if not isinstance(parent, discord.TextChannel):
            raise Undeliverable(f"channel {channel_id} cannot hold private threads")
        thread = await parent.create_thread(name=THREAD_NAME.format(user=user_id),
                                            type=discord.ChannelType.private_thread, invitable=False,
                                            auto_archive_duration=10080)
        await self._remember(key, thread.id, user_id)  # first: a failed add is retried on reuse, in this thread
        await thread.add_user(discord.Object(user_id))
        return thread

    async def reuse(self, key: str, user_id: int) -> discord.Thread | None:
        """The thread remembered for ``key`` if it still takes messages, with the user added again (an
        idempotent PUT: an add that failed once must not leave replies where the customer cannot see them)."""
        value = await self._get(key)
        if not value:
            return None
        known = int(value)
        thread = self.client.get_channel(known)
        if not (isinstance(thread, discord.Thread) and not thread.locked):
            try:
                thread = await self.client.fetch_channel(known)
            except discord.NotFound:
                return None
        if not isinstance(thread, discord.Thread) or thread.locked:
            return None
        await thread.add_user(discord.Object(user_id))
        if time.monotonic() - (self._refreshed.get(key) or -REFRESH_EVERY) >= REFRESH_EVERY:
            await self._remember(key, known, user_id)
        return thread

    async def for_user(self, user_id: int, near: str | None = None) -> discord.Thread | None:
        """A private thread we opened for this user: the one named by ``user-thread:<u>``, else the one
        under the channel ``near`` (a channel id, or a thread whose parent is a text channel)."""
        keys = [await self._get(f"user-thread:{user_id}")]
        if near and near.isdigit():
            place = self.client.get_channel(int(near))
            parent = place.parent_id if isinstance(place, discord.Thread) else int(near)
            keys.append(f"thread:{parent}:{user_id}")
        for key in dict.fromkeys(k for k in keys if k):
            thread = await self.reuse(key, user_id)
            if thread is not None:
                return thread
        return None

    async def known(self, key: str) -> int | None:
        """The id of the thread remembered for ``thread:<c>:<u>``, without opening or checking it."""
        value = await self._get(key)
        return int(value) if value and value.isdigit() else None

    async def address(self, thread_id: int) -> str | None:
        """The ``thread:<channel>:<user>`` address of a private thread this adapter opened."""
        return await self._get(f"owner:{thread_id}")

    # -- rows -----------------------------------------------------------------------------------
    async def _get(self, key: str) -> str | None:
        if self.cursor_store is not None:
            return await self.cursor_store.get_cursor(CHANNEL, key)
        return self._values.get(key)

    async def _remember(self, key: str, thread_id: int, user_id: int) -> None:
        rows = {key: str(thread_id), f"owner:{thread_id}": key, f"user-thread:{user_id}": key}
        for name, value in rows.items():
            if self.cursor_store is not None:
                await self.cursor_store.set_cursor(CHANNEL, name, value, keep_days=KEEP_DAYS)
            else:
                self._values.put(name, value)
        self._refreshed.put(key, time.monotonic())
