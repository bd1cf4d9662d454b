"""Read back what a new gateway session missed.

Discord replays missed events only on a RESUME. After a new session (READY: the first connection
after a start, or discord.py identifying afresh after op 9, a refused resume or a long outage)
what was written meanwhile exists only in channel history. For every channel we read lately
(bots/discord/positions.py) this fetches ``GET /channels/{id}/messages?after=<last id>`` page by
page, oldest first, and gives each message to the same function the live path uses, so a
backfilled message is indistinguishable from a live one; the engine drops what it already has.

Order within a channel: at READY every known channel of that shard is *gated*; a live message for
a gated channel waits until that channel was read back (and asks for it to be read next), so it
is never stored before older messages the backfill is about to find.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bots.discord.positions import Positions, Seen

if TYPE_CHECKING:
    from bots.discord.settings import DiscordSettings

log = logging.getLogger(__name__)

WORKERS = 4  # channels read at the same time (discord.py keeps each route's rate limit)
CHANNEL_TIMEOUT = 60.0  # one channel's backfill, so a hung request cannot hold its live messages for ever
GUILDS_TIMEOUT = 30.0  # the wait for a shard's GUILD_CREATEs before reading its guild channels
RATE_LIMIT_TRIES = 3  # a channel's read waits out this many long rate limits before it is left for later


class _Gate:
    __slots__ = ("generation", "open", "shard")

    def __init__(self, shard: int, generation: int) -> None:
        self.shard = shard
        self.generation = generation
        self.open = asyncio.Event()


class Backfill:
    """One per started client. ``receive`` translates and hands over one message; the caller holds
    the channel's lock, taken with ``lock_for`` (the live path's per-channel lock)."""

    def __init__(self, client: discord.Client, positions: Positions, settings: DiscordSettings,
                 receive: Callable[[discord.Message], Awaitable[None]],
                 lock_for: Callable[[int], asyncio.Lock]) -> None:
        self.client = client
        self.positions = positions
        self.settings = settings
        self.receive = receive
        self.lock_for = lock_for
        self.runs = 0  # finished backfills (for the log and the tests)
        self.read_back = 0  # messages read back, over all runs
        self._gates: dict[int, _Gate] = {}
        self._generation = 0
        self._serial: dict[int, asyncio.Lock] = {}
        self._guilds_ready: dict[int, asyncio.Event] = {}
        self._queues: dict[int, deque[Seen]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what the client tells us ---------------------------------------------------------------
    def session_started(self, shard: int) -> None:
        """READY on ``shard``: gate its known channels now (before any event of the new session is
        handled) and read them back once the previous backfill of this shard is done."""
        self._generation += 1
        generation = self._generation
        self._guilds_ready.setdefault(shard, asyncio.Event()).clear()
        for seen in self.positions.channels(shard):
            gate = self._gates.get(seen.channel_id)
            if gate is None:
                self._gates[seen.channel_id] = _Gate(shard, generation)
            else:
                gate.generation = generation
        task = asyncio.create_task(self._run(shard, generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def guilds_ready(self, shard: int) -> None:
        """discord.py has every guild of the shard in its cache (``shard_ready``)."""
        self._guilds_ready.setdefault(shard, asyncio.Event()).set()

    async def wait_turn(self, channel_id: int) -> None:
        """The live path calls this before taking the channel's lock."""
        gate = self._gates.get(channel_id)
        if gate is None:
            return
        for queue in self._queues.values():  # someone is waiting: read this channel next
            for seen in queue:
                if seen.channel_id == channel_id:
                    queue.remove(seen)
                    queue.appendleft(seen)
                    break
        await gate.open.wait()

    async def earlier(self, message: discord.Message, since: int) -> None:
        """A DM channel seen for the first time may hold what its customer wrote while we had no
        session (a first DM Discord never told us about: bots cannot list their DM channels). Read
        it, oldest first, before ``message``; the caller holds the channel's lock."""
        try:
            async for old in message.channel.history(limit=100, after=discord.Object(since), before=message,
                                                      oldest_first=True):
                self.read_back += 1
                await self.receive(old)
        except Exception:
            log.warning("discord: could not read what came before the first DM in channel %s",
                        message.channel.id, exc_info=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for gate in self._gates.values():
            gate.open.set()
        self._gates.clear()

    # -- the work -------------------------------------------------------------------------------
    async def _run(self, shard: int, generation: int) -> None:
        async with self._serial.setdefault(shard, asyncio.Lock()):
            queue = self._queues[shard] = deque(self.positions.channels(shard))
            total, before = len(queue), self.read_back
            members: dict[tuple[int, int], discord.Member | None] = {}
            try:
                await asyncio.gather(*(self._worker(queue, shard, generation, members) for _ in range(WORKERS)))
            finally:
                self._queues.pop(shard, None)
                for channel_id in [c for c, g in self._gates.items() if g.shard == shard]:
                    self._release(channel_id, generation)
            self.runs += 1
            if total:
                log.info("discord: new session on shard %s: read back %s channels, %s messages", shard, total,
                         self.read_back - before)

    async def _worker(self, queue: deque[Seen], shard: int, generation: int,
                      members: dict[tuple[int, int], discord.Member | None]) -> None:
        while queue:
            seen = queue.popleft()
            try:
                if seen.guild_id is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._guilds_ready[shard].wait(), GUILDS_TIMEOUT)
                await self._patiently(seen, members)
            except (discord.NotFound, discord.Forbidden) as exc:
                log.info("discord: channel %s can no longer be read (%s); forgotten", seen.channel_id, exc.status)
                self.positions.forget(seen.channel_id)
            except Exception:
                log.warning("discord: could not read back channel %s; tried again after the next new session",
                            seen.channel_id, exc_info=True)
            finally:
                self._release(seen.channel_id, generation)

    async def _patiently(self, seen: Seen, members: dict[tuple[int, int], discord.Member | None]) -> None:
        """One channel; a rate limit longer than discord.py waits by itself (it raises RateLimited) is
        waited out here a few times, rather than leaving the channel unread until the next session.
        (A global limit holds every read at the gate in limits.py without raising.)"""
        for attempt in range(RATE_LIMIT_TRIES):
            try:
                await asyncio.wait_for(self._channel(seen, members), CHANNEL_TIMEOUT)
                return
            except discord.RateLimited as exc:
                if attempt == RATE_LIMIT_TRIES - 1 or exc.retry_after > CHANNEL_TIMEOUT:
                    raise
                log.info("discord: reading channel %s waits %.1f s for a rate limit", seen.channel_id,
                         exc.retry_after)
                await asyncio.sleep(exc.retry_after)

    async def _channel(self, seen: Seen, members: dict[tuple[int, int], discord.Member | None]) -> None:
        async with self.lock_for(seen.channel_id):
            after = self.positions.last(seen.channel_id)
            if after is None:  # forgotten meanwhile
                return
            channel = await self._resolve(seen)
            limit = self.settings.backfill_pages * 100
            count = 0
            async for message in channel.history(limit=limit, after=discord.Object(after), oldest_first=True):
                count += 1
                self.read_back += 1
                await self.receive(await with_member(message, members))
            if count >= limit:
                log.warning("discord: channel %s has more than %s missed messages; the rest is read after the "
                            "next new session", seen.channel_id, limit)

    async def _resolve(self, seen: Seen) -> discord.abc.Messageable:
        """The cached channel, as the live path sees it; over REST when not cached (an archived thread).
        A DM needs no object: nothing in its translation depends on the channel."""
        channel = self.client.get_channel(seen.channel_id)
        if channel is not None:
            return channel  # type: ignore[return-value]
        if seen.guild_id is None:
            return self.client.get_partial_messageable(seen.channel_id, type=discord.ChannelType.private)
        return await self.client.fetch_channel(seen.channel_id)  # type: ignore[return-value]

    def _release(self, channel_id: int, generation: int) -> None:
        gate = self._gates.get(channel_id)
        if gate is not None and gate.generation <= generation:
            del self._gates[channel_id]
            gate.open.set()


async def with_member(message: discord.Message,
                      members: dict[tuple[int, int], discord.Member | None]) -> discord.Message:
    """A REST message carries its author as a user; the gateway adds the guild member (roles).
    Fetch the member so a moderator is still recognised (one lookup per author, ``members`` caches)."""
    guild = message.guild
    if guild is None or isinstance(message.author, discord.Member) or message.webhook_id is not None:
        return message
    key = (guild.id, message.author.id)
    if key not in members:
        try:
            members[key] = await guild.fetch_member(message.author.id)
        except discord.NotFound:  # left the guild since
            members[key] = None
    member = members[key]
    if member is not None:
        message.author = member
    return message
