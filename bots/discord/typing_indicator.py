"""Typing on Discord, both ways.

Out: an agent writing a reply calls ``POST /channels/{id}/typing`` (Discord shows the bot typing for ~10 s,
or until its message arrives) where a reply to the conversation goes: the channel or thread itself, the
customer's DM channel (``dm:<user>``; opening a DM channel is idempotent and shows nothing), or the private
thread the adapter already opened for them (``thread:<channel>:<user>``). Typing never opens a thread or
posts anything: without the thread it does nothing. The request passes the adapter's rate-limit gate like
every other, and answers at once (``SENDING``): a closed global gate or a 429 is a ``RateLimited`` for the
caller to drop, never a wait.

In: TYPING_START (intents ``guild_typing`` and ``dm_typing``, not privileged; discord.py's ``on_raw_typing``,
sent whether or not the channel is cached) becomes the conversation the engine knows: ``dm:<user>`` in a DM,
``thread:<channel>:<user>`` in a private thread the adapter opened, else the channel's id. The bot's own
typing is not reported.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord

from bots.discord import translate as tr
from bots.discord.limits import SENDING
from bots.discord.send import map_error

if TYPE_CHECKING:
    from bots.discord.adapter import DiscordAdapter
    from bots.discord.send import Sender

LASTS = 10.0  # seconds Discord shows a user typing after one TYPING_START
TIMEOUT = 5.0  # seconds: "typing…" later than this has missed its moment


async def _target(sender: Sender, conversation: str) -> int | None:
    """The channel a reply to ``conversation`` would be sent in, when it exists without creating anything."""
    if conversation.isdigit():
        return int(conversation)
    kind, _, rest = conversation.partition(":")
    if kind == "dm" and rest.isdigit():
        known = sender.places.dm_channels.get(int(rest))
        if known is None:
            known = (await sender.client.create_dm(discord.Object(int(rest)))).id
            sender.places.saw_dm(int(rest), known)
        return known
    if kind == "thread":
        return await sender.threads.known(conversation)
    return None


async def show_typing(sender: Sender, conversation: str) -> None:
    """Raises RateLimited / RetryLater / Undeliverable (``send.map_error``); the caller drops them."""
    mark = SENDING.set(True)  # a closed gate or a 429 answers at once
    try:
        target = await _target(sender, conversation)
        if target is not None:
            await asyncio.wait_for(sender.client.http.send_typing(target), TIMEOUT)
    except (discord.DiscordException, OSError, TimeoutError, ValueError) as exc:
        raise map_error(exc) from exc
    finally:
        SENDING.reset(mark)


async def customer_typing(adapter: DiscordAdapter, event: discord.RawTypingEvent) -> None:
    """TYPING_START -> the adapter's ``customer_typing`` hook (core/typing_indicators.py), when one is set."""
    hook, client, sender = adapter.customer_typing, adapter.client, adapter.sender
    if hook is None or client is None or client.user is None or event.user_id == client.user.id:
        return
    if event.guild_id is None:
        hook(tr.dm_address(event.user_id), str(event.user_id), LASTS)
        return
    conversation = str(event.channel_id)
    channel = client.get_channel(event.channel_id)
    ours = isinstance(channel, discord.Thread) and channel.type is discord.ChannelType.private_thread \
        and channel.owner_id == client.user.id
    if sender is not None and (ours or channel is None):  # a thread we opened (uncached after a restart)
        conversation = await sender.thread_address(event.channel_id) or conversation
    hook(conversation, str(event.user_id), LASTS)
