"""The discord.py client the adapter runs: where it connects, how fast it reconnects, and which
gateway events reach the adapter.

discord.py has no option for another API host or gateway: it reads ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY``. ``Endpoints`` sets them for the life of one client and puts
back what was there. The gateway is the configured ``gateway_url`` or, as discord.py does, what
``GET /gateway/bot`` answers; it also becomes DEFAULT_GATEWAY because discord.py goes back there
(not to the URL it first used) to identify afresh after op 9 or a failed resume.

Three of discord.py's defaults would hide a dead channel or keep it away too long: a first
connection that fails now raises (discord.py retries it every 5 s for ever, invisible to the
supervisor); each shard reconnects after 0.5-3 s instead of an exponential backoff that reaches
minutes; and a new IDENTIFY waits 1-2 s (Discord's rule: 1-5 s after op 9, one per 5 s) instead of
a flat 5 s. And an event discord.py cannot read no longer ends the client (malformed.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bots.discord import typing_indicator
from bots.discord.malformed import SteadyShard, guard_parsers, tolerate_strict_json

if TYPE_CHECKING:
    from bots.discord.adapter import DiscordAdapter


def intents(watch_joins: bool = False) -> discord.Intents:
    """What the bot needs; message_content is privileged (enable it in the Developer Portal), and so is
    members, asked for only with ``watch_joins`` (Discord tells a bot about joins only with it)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.guild_typing = wanted.dm_typing = True  # customers typing, shown to the agent (not privileged)
    wanted.message_content = True
    wanted.members = watch_joins
    return wanted


class Endpoints:
    """Points discord.py at ``api_base_url`` (and later the gateway) until ``restore``."""

    def __init__(self, api_base_url: str) -> None:
        self._before = (discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        self._base = api_base_url
        self._gateway: yarl.URL | None = None
        discord.http.Route.BASE = api_base_url

    def use_gateway(self, url: yarl.URL) -> None:
        self._gateway = DiscordWebSocket.DEFAULT_GATEWAY = url

    def restore(self) -> None:
        """Only what is still ours: another client may have set them since."""
        if discord.http.Route.BASE == self._base:
            discord.http.Route.BASE = self._before[0]
        if self._gateway is not None and DiscordWebSocket.DEFAULT_GATEWAY == self._gateway:
            DiscordWebSocket.DEFAULT_GATEWAY = self._before[1]


class QuickBackoff:
    """Reconnect delays for one shard: ~0.5-1 s, doubling to at most 3 s (jittered, so shards and
    processes do not reconnect in step), starting over after a quiet minute. Replaces discord.py's
    ExponentialBackoff, which draws from [0, 2^n] s up to 1024 s."""

    def __init__(self, first: float = 1.0, cap: float = 3.0, reset_after: float = 60.0) -> None:
        self.first, self.cap, self.reset_after = first, cap, reset_after
        self._attempt = 0
        self._last = time.monotonic()
        self._random = random.Random()

    def delay(self) -> float:
        now = time.monotonic()
        if now - self._last > self.reset_after:
            self._attempt = 0
        self._last = now
        ceiling = min(self.first * 2**self._attempt, self.cap)
        self._attempt += 1
        return self._random.uniform(ceiling / 2, ceiling)


class Client(discord.AutoShardedClient):
    """Routes gateway events to the adapter; nothing else lives here."""

    def __init__(self, adapter: DiscordAdapter, endpoints: Endpoints, **options: Any) -> None:
        # With the members intent discord.py would ask for every member of every server at start and keep
        # them all: neither is needed to hand a join over (memory stays bounded).
        options.setdefault("chunk_guilds_at_startup", False)
        options.setdefault("member_cache_flags", discord.MemberCacheFlags.none())
        super().__init__(**options)
        guard_parsers(self._connection.parsers)  # an event discord.py cannot read is dropped, not the client
        tolerate_strict_json()  # with orjson installed, one odd character would cost a whole message
        self.adapter = adapter
        self.endpoints = endpoints
        self.tree = discord.app_commands.CommandTree(self)
        self._next_identify = 0.0  # monotonic time before which no IDENTIFY may be sent

    # -- connecting -----------------------------------------------------------------------------
    async def launch_shards(self) -> None:
        """discord.py's, except for the gateway URL (see the module docstring) and loading the
        channels' read positions before the first READY needs them."""
        if self.is_closed():
            return
        url, count = self.adapter.settings.gateway_url, self.shard_count
        if url is None or count is None:
            bot_count, bot_url, _limits = await self.http.get_bot_gateway()
            url, count = url or bot_url, count or bot_count
        gateway = yarl.URL(url)
        self.endpoints.use_gateway(gateway)
        self.shard_count = count
        self._connection.shard_count = count
        shard_ids = self.shard_ids or list(range(count))
        self._connection.shard_ids = shard_ids
        await self.adapter.prepare_shards(shard_ids)
        for shard_id in shard_ids:
            await self.launch_shard(gateway, shard_id, initial=shard_id == shard_ids[0])

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        """One attempt; a failure ends ``start`` so the supervisor retries with its backoff."""
        connect = DiscordWebSocket.from_client(self, initial=initial, gateway=gateway, shard_id=shard_id)
        ws = await asyncio.wait_for(connect, timeout=self.shard_connect_timeout)
        shard = SteadyShard(ws, self, self._AutoShardedClient__queue.put_nowait)  # type: ignore[attr-defined]
        shard._backoff = QuickBackoff()  # type: ignore[assignment]
        self._AutoShardedClient__shards[shard_id] = shard  # type: ignore[attr-defined]
        shard.launch()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every IDENTIFY but the very first. Discord asks for 1-5 s
        after op 9 and at most one IDENTIFY per 5 s (max_concurrency 1, the conservative case):
        wait 1-2 s, longer only while the last IDENTIFY is under 5 s old."""
        now = time.monotonic()
        at = max(now if initial else now + random.uniform(1.0, 2.0), self._next_identify)
        self._next_identify = at + 5.0
        if at > now:
            await asyncio.sleep(at - now)

    # -- events ---------------------------------------------------------------------------------
    async def on_shard_connect(self, shard_id: int) -> None:  # READY: a new session
        self.adapter.session_started(shard_id)

    async def on_shard_ready(self, shard_id: int) -> None:  # the shard's guilds are cached
        self.adapter.guilds_ready(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:  # Discord replays what was missed
        self.adapter.shard_up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.adapter.shard_down(shard_id)

    async def on_ready(self) -> None:
        await self.adapter.on_ready()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        await self.adapter.on_edit(event)

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        await self.adapter.on_delete(event.channel_id, [event.message_id])

    async def on_raw_bulk_message_delete(self, event: discord.RawBulkMessageDeleteEvent) -> None:
        await self.adapter.on_delete(event.channel_id, sorted(event.message_ids))

    async def on_raw_typing(self, event: discord.RawTypingEvent) -> None:
        await typing_indicator.customer_typing(self.adapter, event)

    async def on_member_join(self, member: discord.Member) -> None:  # only with watch_joins (members intent)
        await self.adapter.on_member_join(member)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.component:
            await self.adapter.on_button(interaction)
