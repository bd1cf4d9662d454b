"""One shared read of what the bot recently sent, instead of one read per reply whose outcome is unknown.

After a crash or a lost answer, several replies each need to know "did X take this already?". A
``Recent`` keeps the last list it read (the account's newest posts, or the newest DM events) and when
that read began; a caller says how fresh the list must be (it must have begun after the attempt in
question ended), and every caller that a read satisfies shares it: one read at a restart serves all
the replies taken over, and concurrent callers wait for the same read (single flight).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Fetch = Callable[[float | None], Awaitable[tuple[list[Mapping[str, Any]], float | None]]]


class Recent:
    """``fetch(back_to)`` -> (items newest first, the oldest moment the list covers; None = everything)."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._items: list[Mapping[str, Any]] = []
        self._began = float("-inf")  # when the read behind ``_items`` began (time.time())
        self._covers: float | None = float("inf")  # items reach back to this moment (None: all there is)
        self._reading: asyncio.Task[tuple[float, list[Mapping[str, Any]], float | None]] | None = None
        self._reading_back_to: float | None = None
        self.reads = 0

    @property
    def cached(self) -> list[Mapping[str, Any]]:
        """The last list read, whatever its age (a match found there is still true)."""
        return self._items

    @staticmethod
    def _covered(back_to: float | None, covers: float | None) -> bool:
        return back_to is None or covers is None or covers <= back_to

    async def since(self, moment: float, back_to: float | None = None) -> list[Mapping[str, Any]]:
        """Items from a read that began at or after ``moment`` and reaches back to ``back_to``."""
        if self._began >= moment and self._covered(back_to, self._covers):
            return self._items
        reading = self._reading
        if reading is not None and not reading.done():
            began, items, covers = await asyncio.shield(reading)
            if began >= moment and self._covered(back_to, covers):
                return items
        return await self._read(back_to)

    async def fresh(self, back_to: float | None = None) -> list[Mapping[str, Any]]:
        """Items from a read that begins now (or one under way that began no earlier than this call)."""
        return await self.since(time.time(), back_to)

    async def _read(self, back_to: float | None) -> list[Mapping[str, Any]]:
        reading = self._reading
        if reading is None or reading.done():
            reading = asyncio.ensure_future(self._run(back_to))
            reading.add_done_callback(lambda t: t.cancelled() or t.exception())  # waiters may all be gone
            self._reading = reading
        _, items, _ = await asyncio.shield(reading)
        return items

    async def _run(self, back_to: float | None) -> tuple[float, list[Mapping[str, Any]], float | None]:
        began = time.time()
        self.reads += 1
        items, covers = await self._fetch(back_to)
        if began >= self._began:
            self._items, self._began, self._covers = items, began, covers
        return began, items, covers
