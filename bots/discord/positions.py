"""Which Discord channels we read, and the last message id handed over in each.

The gateway never redelivers what a new session missed; the backfill reads it back from these
positions (bots/discord/backfill.py). They live in the cursor store, one row per channel, so they
survive a restart: ``seen:<shard>:<slot>`` = ``"<channel id> <guild id or 0> <last message id>
<newest message id seen>"`` (the last for its age: a position may point far back, see ``register``)
and ``seen:<shard>:count`` = how many slots that shard has used. A slot, not the channel id, names
the row because the store can only be read by key: the slots are what a restart lists.

Bounded: at most ``limit`` channels per shard (the stalest is forgotten for a new one), and
channels silent for longer than ``max_age`` are not read back. Rows are written lazily (every
``flush_every`` seconds and on close): a position that lags only makes the backfill fetch messages
the engine then ignores as duplicates, never skip one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from bots.base import CursorStore

log = logging.getLogger(__name__)

CHANNEL = "discord"
DISCORD_EPOCH = 1420070400  # seconds; snowflake >> 22 counts milliseconds from here
FREE = "free"


def snowflake_age(snowflake: int, now: float | None = None) -> float:
    """Seconds since the snowflake was made (message ids carry their creation time)."""
    return (now or time.time()) - (DISCORD_EPOCH + (snowflake >> 22) / 1000)


def snowflake_at(unix: float) -> int:
    """The smallest snowflake of that moment: ``after=`` it reads everything since."""
    return max(int((unix - DISCORD_EPOCH) * 1000), 0) << 22


@dataclass
class Seen:
    channel_id: int
    guild_id: int | None
    last_id: int  # read on after this one
    shard: int
    slot: int
    active: int = 0  # the newest message id seen here: how recently the channel was active

    def row(self) -> str:
        return f"{self.channel_id} {self.guild_id or 0} {self.last_id} {self.active}"


class Positions:
    def __init__(self, store: CursorStore | None, *, limit: int, max_age: float, flush_every: float = 1.0) -> None:
        self.store = store
        self.limit = limit
        self.max_age = max_age
        self.flush_every = flush_every
        self._seen: dict[int, Seen] = {}
        self._slots: dict[int, int] = {}  # shard -> slots used (the count row)
        self._free: dict[int, list[int]] = {}  # shard -> slots of forgotten channels
        self._dirty: set[int] = set()  # channel ids
        self._dirty_slots: dict[tuple[int, int], str] = {}  # (shard, slot) -> value, for forgotten rows
        self._dirty_counts: set[int] = set()
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- reading back at start ------------------------------------------------------------------
    async def load(self, shards: Iterable[int]) -> None:
        """Read this process's shards' rows (once per start; rows already in memory win)."""
        if self.store is None:
            return
        now = time.time()
        for shard in shards:
            if shard in self._slots:
                continue
            count = int(await self.store.get_cursor(CHANNEL, f"seen:{shard}:count") or 0)
            self._slots[shard], free = count, self._free.setdefault(shard, [])
            for slot in range(count):
                seen = self._parse(await self.store.get_cursor(CHANNEL, f"seen:{shard}:{slot}"), shard, slot)
                if seen is None or snowflake_age(seen.active, now) > self.max_age or seen.channel_id in self._seen:
                    free.append(slot)
                else:
                    self._seen[seen.channel_id] = seen

    @staticmethod
    def _parse(value: str | None, shard: int, slot: int) -> Seen | None:
        try:
            channel_id, guild_id, last_id, *active = (int(part) for part in (value or "").split())
        except ValueError:
            return None
        return Seen(channel_id, guild_id or None, last_id, shard, slot, max([last_id, *active]))

    # -- what the adapter tells us --------------------------------------------------------------
    def last(self, channel_id: int) -> int | None:
        seen = self._seen.get(channel_id)
        return seen.last_id if seen else None

    def note(self, channel_id: int, guild_id: int | None, message_id: int, shard: int,
             active: int | None = None) -> None:
        """``message_id`` in ``channel_id`` was handed over (or was not for us): read on from there.
        ``active``: the newest message seen there, when the position is older (a registration)."""
        active = max(active or 0, message_id)
        seen = self._seen.get(channel_id)
        if seen is None:
            if self.limit <= 0:
                return
            slot = self._slot(shard)
            seen = self._seen[channel_id] = Seen(channel_id, guild_id, message_id, shard, slot, active)
        elif message_id <= seen.last_id:
            return
        seen.last_id, seen.active = message_id, max(seen.active, active)
        self._dirty.add(channel_id)

    async def register(self, channel_id: int, guild_id: int | None, since_id: int, shard: int,
                       message_id: int) -> None:
        """A channel seen for the first time (with ``message_id``), saved at once (not lazily) and
        before that message is handed over, to be read on after ``since_id``: after a crash at any
        point its messages can still be read back. Positions may lag; a channel missing from the
        store could never be read back."""
        if channel_id in self._seen:
            return
        self.note(channel_id, guild_id, since_id, shard, active=message_id)
        try:
            await self.flush()
        except Exception:
            log.warning("discord: could not save channel %s as known; trying again", channel_id, exc_info=True)

    def forget(self, channel_id: int) -> None:
        """A channel we can no longer read (deleted, access lost): its slot is free again."""
        seen = self._seen.pop(channel_id, None)
        if seen is not None:
            self._dirty.discard(channel_id)
            self._free.setdefault(seen.shard, []).append(seen.slot)
            self._dirty_slots[(seen.shard, seen.slot)] = FREE

    def channels(self, shard: int) -> list[Seen]:
        """The channels of ``shard`` worth reading back, most recently active first."""
        now = time.time()
        found = [s for s in self._seen.values() if s.shard == shard and snowflake_age(s.active, now) <= self.max_age]
        return sorted(found, key=lambda s: s.active, reverse=True)

    def _slot(self, shard: int) -> int:
        free = self._free.setdefault(shard, [])
        if free:
            return free.pop()
        used = self._slots.get(shard, 0)
        if used < self.limit:
            self._slots[shard] = used + 1
            self._dirty_counts.add(shard)
            return used
        stalest = min((s for s in self._seen.values() if s.shard == shard), key=lambda s: s.active)
        log.info("discord: no longer reading back channel %s (more than %s channels)", stalest.channel_id, self.limit)
        self.forget(stalest.channel_id)
        return self._free[shard].pop()

    # -- writing --------------------------------------------------------------------------------
    async def flush(self) -> None:
        if self.store is None:
            self._dirty.clear(), self._dirty_slots.clear(), self._dirty_counts.clear()
            return
        async with self._flushing:
            rows = dict(self._dirty_slots)
            rows.update({(s.shard, s.slot): s.row() for cid in self._dirty if (s := self._seen.get(cid))})
            counts = {shard: self._slots[shard] for shard in self._dirty_counts}
            self._dirty.clear(), self._dirty_slots.clear(), self._dirty_counts.clear()
            try:
                for shard, count in counts.items():  # first: a row beyond the count would be ignored
                    await self.store.set_cursor(CHANNEL, f"seen:{shard}:count", str(count))
                for (shard, slot), value in rows.items():
                    await self.store.set_cursor(CHANNEL, f"seen:{shard}:{slot}", value)
            except Exception:
                # Written again next time; until then a restart reads back a little more.
                self._dirty_counts.update(counts)
                for key, value in rows.items():
                    self._dirty_slots.setdefault(key, value)
                raise

    def start(self) -> None:
        if self._task is None and self.store is not None:
            self._task = asyncio.create_task(self._flush_now_and_then())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.flush()
        except Exception:
            log.warning("discord: could not save the read positions", exc_info=True)

    async def _flush_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every)
            try:
                await self.flush()
            except Exception:
                log.warning("discord: could not save the read positions; trying again", exc_info=True)
