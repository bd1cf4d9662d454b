"""Discord through discord.py (gateway for events, REST for sends).

Receives DMs, guild channel/thread/forum messages, button presses, edits, deletions and typing over the
gateway (``AutoShardedClient``: one process serves many guilds, shards split across processes with
``shard_ids``) and registers the moderators' commands (escalate, report an impersonator). Intents:
guilds, guild_messages, dm_messages, guild_typing, dm_typing and the privileged message_content; the
privileged members only with ``watch_joins`` (joins go to the impersonation check). Sends, and the moderation
steps the core queues (delete a message that held a secret, ban an impersonator), go out through send.py;
typing both ways is typing_indicator.py.

Nothing is lost between sessions: discord.py resumes by itself (Discord replays what was missed),
and after every new session the backfill reads back the channels we know (bots/discord/backfill.py).
While discord.py reconnects, ``health`` says so; when its client ends for good, ``wait_closed``
raises why and the supervisor starts the channel again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import discord

from bots.base import ChannelHealth, ChannelSettings, CursorStore, Inbound, TypingSeen
from bots.discord import translate as tr
from bots.discord.backfill import Backfill
from bots.discord.client import Client, Endpoints, intents
from bots.discord.commands import Escalations
from bots.discord.limits import GlobalLimit, trace
from bots.discord.memory import Places
from bots.discord.positions import Positions, snowflake_at
from bots.discord.send import Sender
from bots.discord.settings import DiscordSettings
from bots.discord.typing_indicator import show_typing
from core.errors import ConfigError, RetryLater
from core.models import InboundMessage, MemberJoined, OutboundMessage, Sent

__all__ = ["DiscordAdapter", "DiscordSettings", "intents"]

log = logging.getLogger(__name__)

LOST = object()  # what _hand_over returns when the engine could not take an event


def _reason(exc: BaseException | None, watch_joins: bool = False) -> Exception:
    """Why the gateway client ended, as the error the supervisor logs, shows and retries on."""
    if isinstance(exc, discord.LoginFailure):
        return ConfigError("discord: the bot token was rejected (channels.discord.token)")
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        which = ("the Message Content and Server Members intents (Server Members because watch_joins is on)"
                 if watch_joins else "the Message Content intent")
        return ConfigError(f"discord: enable {which} for this bot in the Developer Portal (Bot > Privileged "
                           "Gateway Intents)")
    if isinstance(exc, discord.ConnectionClosed):
        if exc.code == 4004:
            return ConfigError("discord: the gateway rejected the bot token (close 4004; channels.discord.token)")
        return RetryLater(f"discord: the gateway ended the session for good (close {exc.code}); "
                          "check shard_count / shard_ids")
    if isinstance(exc, discord.GatewayNotFound):
        return RetryLater("discord: GET /gateway/bot failed (a Discord outage, or api_base_url is wrong)")
    if exc is None:
        return RetryLater("discord: the gateway client stopped by itself")
    if isinstance(exc, aiohttp.ClientResponseError):  # e.g. the gateway answered 503 instead of upgrading
        url = exc.request_info.real_url.with_query(None)
        return RetryLater(f"discord: the gateway connection failed: {exc.status} {exc.message} from {url}")
    return RetryLater(f"discord: the gateway connection failed: {type(exc).__name__}: {str(exc)[:300]}")


def _retrieved(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


class DiscordAdapter:
    name: ClassVar[str] = "discord"
    max_text_length: ClassVar[int] = 2000
    settings_model: ClassVar[type[ChannelSettings]] = DiscordSettings
    # Each part carries nonce + enforce_nonce from the outbox id: a send repeated after a crash returns
    # the message Discord already has (for a few minutes) instead of posting it twice.
    idempotent_sends: ClassVar[bool] = True

    def __init__(self, settings: DiscordSettings, *, public_url: str | None = None,
                 data_dir: str | Path = "data", cursor_store: CursorStore | None = None) -> None:
        self.settings = settings
        self.cursor_store = cursor_store
        self.health = ChannelHealth(self.name)
        self.client: Client | None = None
        self.escalations: Escalations | None = None
        self.sender: Sender | None = None
        self.positions: Positions | None = None
        self.backfill: Backfill | None = None
        # Discord's global rate limit, for every request of this adapter (kept across restarts of the client)
        self.global_limit = GlobalLimit(settings.requests_per_second)
        self.places = Places()  # users' DM channels and last public messages (bounded)
        self.customer_typing: TypingSeen | None = None  # set by core/typing_indicators.py (typing_indicator.py)
        self._endpoints: Endpoints | None = None
        self._inbound: Inbound | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._down: set[int] = set()  # shards discord.py is reconnecting
        self._synced = False
        self._bot_id: int | None = None
        # Per-channel order: discord.py runs each event in its own task; an edit must not
        # overtake the message it edits. A fixed set of locks keeps memory bounded.
        self._locks = [asyncio.Lock() for _ in range(64)]

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self, inbound: Inbound) -> None:
        """Returns once every shard is ready; raises as soon as the first connection fails."""
        if self.settings.token is None:
            raise ConfigError("discord: no token configured (channels.discord.token)")
        if self.client is not None:
            await self.stop()
        self._inbound = inbound
        self._ready.clear()
        self._stopping = False
        self._down.clear()
        settings = self.settings
        self._endpoints = Endpoints(settings.api_base_url)
        client = Client(self, self._endpoints, intents=intents(settings.watch_joins), shard_count=settings.shard_count,
                        shard_ids=settings.shard_ids, max_ratelimit_timeout=30.0,
                        guild_ready_timeout=settings.guild_ready_timeout,
                        shard_connect_timeout=settings.ready_timeout,
                        http_trace=trace(settings.api_base_url, self.global_limit),
                        allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True,
                                                                 replied_user=True))
        # The constructor floors this at 30 s; the dispatcher, not discord.py, owns long waits.
        client.http.max_ratelimit_timeout = settings.max_ratelimit_wait
        self.client = client
        self.escalations = Escalations(client, settings, self.hand_over_escalation)
        self.escalations.install(client.tree)
        self.positions = Positions(self.cursor_store, limit=settings.backfill_channels,
                                   max_age=settings.backfill_days * 86400)
        self.positions.start()
        self.backfill = Backfill(client, self.positions, settings, self._receive, self._lock)
        self.sender = Sender(client, settings, self.cursor_store, on_sent=self._sent, places=self.places)
        self._task = asyncio.create_task(client.start(settings.token.get_secret_value()))
        self._task.add_done_callback(_retrieved)  # reported by start or wait_closed, not by asyncio
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait({self._task, ready}, timeout=settings.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._task in done:
            exc = None if self._task.cancelled() else self._task.exception()
            await self.stop()
            raise _reason(exc, settings.watch_joins) from exc
        if not done:
            await self.stop()
            raise TimeoutError(f"discord: gateway not ready within {settings.ready_timeout:g} s")
        self.health.up()

    async def wait_closed(self) -> None:
        """Returns after `stop`; raises why the gateway client ended when it ended by itself (a
        fatal close such as 4004, a revoked token, GET /gateway/bot failing)."""
        task = self._task
        if task is None:
            return
        await asyncio.wait({task})
        if self._stopping or task.cancelled():
            return
        exc = task.exception()
        log.error("discord: the gateway client stopped: %r", exc)
        raise _reason(exc, self.settings.watch_joins) from exc

    async def stop(self) -> None:
        self._stopping = True
        client, task, backfill = self.client, self._task, self.backfill
        self.client, self._task, self.backfill = None, None, None
        if backfill is not None:
            await backfill.close()
        if client is not None:
            await client.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        if self.positions is not None:
            await self.positions.close()  # after the client: every position handed over is saved
        if self._endpoints is not None:
            self._endpoints.restore()
            self._endpoints = None

    async def send(self, reply: OutboundMessage) -> Sent:
        if self.sender is None or self.client is None:
            raise RetryLater("discord: not connected (the channel is stopped or restarting)")
        return await self.sender.send(reply)

    async def typing(self, conversation: str) -> None:
        """An agent is writing to ``conversation``: the bot types where the reply will go (typing_indicator.py)."""
        if self.sender is None or self.client is None:
            raise RetryLater("discord: not connected (the channel is stopped or restarting)")
        await show_typing(self.sender, conversation)

    # -- the gateway's state --------------------------------------------------------------------
    async def prepare_shards(self, shard_ids: list[int]) -> None:
        """Before the first READY: the read positions of this process's shards."""
        assert self.positions is not None
        await self.positions.load(shard_ids)

    def session_started(self, shard_id: int) -> None:
        """READY: a new session, so whatever was written while we were away must be read back."""
        if self.client is not None and self.client.user is not None:
            self._bot_id = self.client.user.id
        if self.backfill is not None and not self._stopping:
            self.backfill.session_started(shard_id)
        self.shard_up(shard_id)

    def guilds_ready(self, shard_id: int) -> None:
        if self.backfill is not None:
            self.backfill.guilds_ready(shard_id)

    def shard_up(self, shard_id: int) -> None:
        self._down.discard(shard_id)
        if not self._down and not self._stopping and self._ready.is_set():
            self.health.up()

    def shard_down(self, shard_id: int) -> None:
        if not self._stopping:
            self._down.add(shard_id)
            self.health.trouble(f"gateway shard {shard_id} disconnected; reconnecting")

    # -- events ---------------------------------------------------------------------------------
    async def on_ready(self) -> None:
        """Ready is set whatever happens to the command sync: a 429 there must not drop the channel."""
        try:
            if not self._synced and self.client is not None and self.escalations is not None:
                self._synced = True
                self._synced = await self.escalations.sync(self.client.tree)
        finally:
            self._ready.set()
            if not self._down and not self._stopping:
                self.health.up()

    @property
    def bot_id(self) -> int:
        if self.client is not None and self.client.user is not None:
            self._bot_id = self.client.user.id
        assert self._bot_id is not None, "not connected yet"
        return self._bot_id

    async def on_message(self, message: discord.Message) -> None:
        backfill = self.backfill
        if backfill is not None:
            await backfill.wait_turn(message.channel.id)
        async with self._lock(message.channel.id):
            if not self._stopping:  # else left unread: the next start reads it back
                await self._receive(message)

    async def _receive(self, message: discord.Message) -> None:
        """One message, live or read back (the caller holds the channel's lock): translated, handed
        over, and its id kept as the channel's read position once it is stored (or not for us)."""
        guild_id = tr.guild_of(message)
        shard = self._shard_of(guild_id)
        if self.positions is not None and self.positions.limit > 0 and self.positions.last(message.channel.id) is None:
            await self._first_in_channel(message, guild_id, shard)
        item = tr.inbound(message, bot_id=self.bot_id, settings=self.settings)
        if item is not None:
            self._where(message, guild_id, item.public)
            item = await self._in_private_thread(item, message.channel)
            if await self._hand_over(self._require().handle_message, item, item.platform_id) is LOST:
                return
        if self.positions is not None:
            self.positions.note(message.channel.id, guild_id, message.id, shard)

    async def _first_in_channel(self, message: discord.Message, guild_id: int | None, shard: int) -> None:
        """A channel not known yet is saved as known before its first message is handed over. A DM
        channel is read from ``backfill_days`` back first: a stranger's first DM sent while we were
        away is found when they write again."""
        assert self.positions is not None
        if guild_id is not None or self.backfill is None:
            await self.positions.register(message.channel.id, guild_id, message.id - 1, shard, message.id)
            return
        since = snowflake_at(message.created_at.timestamp() - self.settings.backfill_days * 86400)
        await self.positions.register(message.channel.id, None, since, shard, message.id)
        await self.backfill.earlier(message, since)

    def _where(self, message: discord.Message, guild_id: int | None, public: bool) -> None:
        """A user's DM channel (a reply needs no lookup), or their last public message (where a DM
        Discord refuses can be announced)."""
        if guild_id is None:
            self.places.saw_dm(message.author.id, message.channel.id)
        elif public:
            self.places.saw_public(message.author.id, message.channel.id, message.id, tr.storable(message.author.name))

    def _sent(self, message: discord.Message) -> None:
        """A channel we wrote to first (a DM the bot opened): read back the customer's answer
        after a restart, from just before our message."""
        if self.positions is not None and self.positions.limit > 0 and self.positions.last(message.channel.id) is None:
            guild_id = message.guild.id if message.guild else None
            self.positions.note(message.channel.id, guild_id, message.id - 1, self._shard_of(guild_id))

    def _shard_of(self, guild_id: int | None) -> int:
        """Discord's formula; DMs arrive on shard 0."""
        count = (self.client.shard_count if self.client else None) or 1
        return 0 if guild_id is None else (guild_id >> 22) % count

    async def on_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        async with self._lock(event.channel_id):
            item = tr.edit(event.message, bot_id=self.bot_id)
            if item is None:
                return
            outcome = await self._hand_over(self._require().handle_edit, item, item.platform_id)
            if getattr(outcome, "action", None) == "unknown":
                await self._unseen_edit(event.message)

    async def _unseen_edit(self, message: discord.Message) -> None:
        """An edit of a message we never stored (a channel message edited to mention the bot): the edited text is
        all there is of it, so it is handed over as a new message, not lost. The read position does not move."""
        item = tr.inbound(message, bot_id=self.bot_id, settings=self.settings)
        if item is None:
            return
        self._where(message, tr.guild_of(message), item.public)
        item = await self._in_private_thread(item, message.channel)
        await self._hand_over(self._require().handle_message, item, item.platform_id)

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
                              text=tr.storable(data.get("custom_id")), public=public,
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

    async def on_member_join(self, member: discord.Member) -> None:
        """Someone joined a server (only with ``watch_joins``): their names go to the impersonation check
        before they post. The conversation is the server's system channel, where Discord itself announces
        the join (so the place an agent opens is a real channel); a server without one is named by its own
        id, which the moderation steps also understand (moderation.py)."""
        if self._stopping or self._inbound is None:
            return
        joined = getattr(self._inbound, "handle_member_joined", None)
        if joined is None:
            return
        guild = member.guild
        place = guild.system_channel
        event = MemberJoined(channel=tr.CHANNEL, conversation=str(place.id if place is not None else guild.id),
                             author=tr.author(member, guild.id, self.settings),
                             joined_at=member.joined_at or discord.utils.utcnow())
        await self._hand_over(joined, event, f"join:{guild.id}:{member.id}")

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
        """A store failing now and then is retried a few times; after that the event is LOST here
        (a message is read back after the next new session: its position did not move)."""
        for attempt in range(4):
            try:
                return await fn(item)
            except Exception:
                if attempt == 3:
                    log.exception("discord: event %s could not be handed over", ident)
                    return LOST
                log.warning("discord: handing over %s failed, retrying", ident, exc_info=True)
                await asyncio.sleep(0.5 * 2**attempt)
        return LOST
