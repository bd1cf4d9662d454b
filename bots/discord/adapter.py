"""Discord through discord.py (gateway for events, REST for sends).

Receives DMs, guild channel/thread/forum messages, button presses, edits and deletions over the
gateway (``AutoShardedClient``: one process serves many guilds, shards split across processes with
``shard_ids``) and registers the moderator escalation commands. Intents: guilds, guild_messages,
dm_messages and the privileged message_content; members is not needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

import discord

from bots.base import ChannelSettings, CursorStore, Inbound
from bots.discord import translate as tr
from bots.discord.commands import Escalations
from bots.discord.send import Sender, dispatcher_owns_retries
from bots.discord.settings import DiscordSettings
from core.errors import ConfigError, RetryLater
from core.models import InboundMessage, OutboundMessage, Sent

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """What the bot needs; message_content is privileged (enable it in the Developer Portal)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True
    return wanted


class _Client(discord.AutoShardedClient):
    """Routes gateway events to the adapter; nothing else lives here."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter
        self.tree = discord.app_commands.CommandTree(self)
        adapter.escalations = Escalations(self, adapter.settings, adapter.hand_over_escalation)
        adapter.escalations.install(self.tree)

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

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.component:
            await self.adapter.on_button(interaction)


def _report_end(task: asyncio.Task[None]) -> None:
    """discord.py reconnects by itself; if its task ends on an error, say so loudly."""
    if not task.cancelled() and task.exception() is not None:
        log.error("discord: the gateway client stopped: %r", task.exception())


class DiscordAdapter:
    name: ClassVar[str] = "discord"
    max_text_length: ClassVar[int] = 2000
    settings_model: ClassVar[type[ChannelSettings]] = DiscordSettings

    def __init__(self, settings: DiscordSettings, *, public_url: str | None = None,
                 data_dir: str | Path = "data", cursor_store: CursorStore | None = None) -> None:
        self.settings = settings
        self.cursor_store = cursor_store
        self.client: _Client | None = None
        self.escalations: Escalations | None = None
        self.sender: Sender | None = None
        self._inbound: Inbound | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._synced = False
        # Per-channel order: discord.py runs each event in its own task; an edit must not
        # overtake the message it edits. A fixed set of locks keeps memory bounded.
        self._locks = [asyncio.Lock() for _ in range(64)]

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self, inbound: Inbound) -> None:
        if self.settings.token is None:
            raise ConfigError("discord: no token configured (channels.discord.token)")
        self._inbound = inbound
        self._ready.clear()
        client = _Client(self, intents=intents(), shard_count=self.settings.shard_count,
                         shard_ids=self.settings.shard_ids, max_ratelimit_timeout=30.0,
                         guild_ready_timeout=self.settings.guild_ready_timeout,
                         http_trace=dispatcher_owns_retries(),
                         allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True,
                                                                  replied_user=True))
        # The constructor floors this at 30 s; the dispatcher, not discord.py, owns long waits.
        client.http.max_ratelimit_timeout = self.settings.max_ratelimit_wait
        self.client = client
        self.sender = Sender(client, self.settings, self.cursor_store)
        self._task = asyncio.create_task(client.start(self.settings.token.get_secret_value()))
        self._task.add_done_callback(_report_end)
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait({self._task, ready}, timeout=self.settings.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._task in done:
            await self.stop()
            try:
                self._task_result(done)
            except discord.LoginFailure as exc:
                raise ConfigError("discord: the bot token was rejected (channels.discord.token)") from exc
            except discord.PrivilegedIntentsRequired as exc:
                raise ConfigError("discord: enable the Message Content intent for this bot in the Developer "
                                  "Portal (Bot > Privileged Gateway Intents)") from exc
            raise RetryLater("discord: the gateway connection ended before it was ready")
        if not done:
            await self.stop()
            raise TimeoutError("discord: gateway not ready in time")

    @staticmethod
    def _task_result(done: set[asyncio.Task[Any]]) -> None:
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def stop(self) -> None:
        client, task = self.client, self._task
        self.client, self._task = None, None
        if client is not None:
            await client.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)

    async def send(self, reply: OutboundMessage) -> Sent:
        if self.sender is None or self.client is None:
            raise RetryLater("discord adapter is not running")
        return await self.sender.send(reply)

    # -- events ---------------------------------------------------------------------------------
    async def on_ready(self) -> None:
        """Ready is set whatever happens to the command sync: a 429 there must not drop the channel."""
        try:
            if not self._synced and self.client is not None and self.escalations is not None:
                self._synced = True
                self._synced = await self.escalations.sync(self.client.tree)
        finally:
            self._ready.set()

    @property
    def bot_id(self) -> int:
        assert self.client is not None and self.client.user is not None
        return self.client.user.id

    async def on_message(self, message: discord.Message) -> None:
        async with self._lock(message.channel.id):
            item = tr.inbound(message, bot_id=self.bot_id, settings=self.settings)
            if item is not None:
                item = await self._in_private_thread(item, message.channel)
                await self._hand_over(self._require().handle_message, item, item.platform_id)

    async def on_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        async with self._lock(event.channel_id):
            item = tr.edit(event.message, bot_id=self.bot_id)
            if item is not None:
                await self._hand_over(self._require().handle_edit, item, item.platform_id)

    async def on_delete(self, channel_id: int, message_ids: list[int]) -> None:
        async with self._lock(channel_id):
            for mid in message_ids:
                await self._hand_over(self._require().handle_edit, tr.deletion(mid), str(mid))

    async def on_button(self, interaction: discord.Interaction) -> None:
        """A quick-reply press becomes the customer's message; acknowledged once it is stored."""
        data: dict[str, Any] = dict(interaction.data or {})
        message = interaction.message
        guild_id = interaction.guild_id
        who = tr.author(interaction.user, guild_id, self.settings, permissions=interaction.permissions,
                        locale=interaction.locale.value)
        public = guild_id is not None
        private = (tr.private_conversation(interaction.channel, interaction.user.id, self.settings)
                   if public else None)
        conversation = str(interaction.channel_id) if public else tr.dm_address(interaction.user.id)
        item = InboundMessage(channel=tr.CHANNEL, platform_id=f"ix:{interaction.id}",
                              conversation=conversation, author=who,
                              text=str(data.get("custom_id", "")), public=public,
                              received_at=interaction.created_at, private_conversation=private,
                              reply_to=str(message.id) if message else None,
                              raw={"button": True, "message_id": str(message.id) if message else None})
        item = await self._in_private_thread(item, interaction.channel)
        async with self._lock(interaction.channel_id or 0):
            task = asyncio.ensure_future(self._hand_over(self._require().handle_message, item, item.platform_id))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout=2.0)
            with contextlib.suppress(discord.DiscordException):
                await interaction.response.defer()  # type 6: deferred update, the buttons stay
            await task

    async def hand_over_escalation(self, escalation: Any) -> object:
        return await self._require().handle_escalation(escalation)

    # -- helpers --------------------------------------------------------------------------------
    async def _in_private_thread(self, item: InboundMessage, channel: Any) -> InboundMessage:
        """In a private follow-up thread the adapter opened, speak of it by the address the engine
        knows (``thread:<channel>:<user>``), so the customer's answers join that conversation.
        After a restart such a thread may be uncached (a PartialMessageable): ask the cursor store."""
        if self.sender is None or not item.raw.get("guild_id"):
            return item
        if isinstance(channel, discord.Thread):
            if channel.type is not discord.ChannelType.private_thread or channel.owner_id != self.bot_id:
                return item
        elif not isinstance(channel, discord.PartialMessageable):
            return item
        key = await self.sender.thread_address(channel.id)
        if key is None:
            return item
        if key.rpartition(":")[2] != item.author.platform_user_id:
            # A moderator (or anyone else) in the customer's thread: kept as context, never answered
            # as if the customer had written it.
            return dataclasses.replace(item, addressed=False)
        return dataclasses.replace(item, conversation=key, public=False, addressed=True, private_conversation=None)

    def _require(self) -> Inbound:
        assert self._inbound is not None, "start() first"
        return self._inbound

    def _lock(self, channel_id: int) -> asyncio.Lock:
        return self._locks[channel_id % len(self._locks)]

    @staticmethod
    async def _hand_over(fn: Callable[[Any], Awaitable[object]], item: Any, ident: str) -> object:
        """The gateway never redelivers: retry a failing store a few times before giving up loudly."""
        for attempt in range(4):
            try:
                return await fn(item)
            except Exception:
                if attempt == 3:
                    log.exception("discord: event %s could not be handed over; it is lost", ident)
                    return None
                log.warning("discord: handing over %s failed, retrying", ident, exc_info=True)
                await asyncio.sleep(0.5 * 2**attempt)
        return None
