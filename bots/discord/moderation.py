"""Moderation steps the core asks for instead of a message (``reply.action``).

- ``delete_message``: a customer's public message that held a secret (``target``: its id, as
  translate.py gave it) is deleted where it was posted, the conversation's channel or thread:
  ``DELETE /channels/{channel}/messages/{message}``. Needs Manage Messages there; Discord never lets a
  bot delete someone else's message in a DM.
- ``remove_member``: an impersonator (``target``: their user id) is banned from the server the
  conversation belongs to: ``PUT /guilds/{guild}/bans/{user}``, keeping their messages.

Why a ban and not a kick: a kick is undone by the impersonator within seconds (a community's invite
link is public), and the engine asks once per impersonation ticket, so an account that rejoined would
stay while the ticket is open. A ban keeps it out. A mistaken ban is the cheaper error: the engine
removes only where the operator set ``impersonation.remove: true``, the high-priority ticket names the
account, and a moderator lifts the ban in one step (Server Settings > Bans). Their messages are kept
(``delete_message_seconds=0``, not discord.py's one day): they are the moderators' evidence.

Both are requests like any other (the global gate and pacing of limits.py, the send timeout), and both
are idempotent on Discord: a second delete answers 404 Unknown Message (taken as done), a second ban
204. What Discord does not let the bot do becomes ``Undeliverable`` saying what to change; the agent
reads it on the row.
"""

from __future__ import annotations

import logging

import discord

from bots.discord.threads import PrivateThreads
from core.errors import Undeliverable
from core.models import OutboundMessage, Sent

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL, UNKNOWN_GUILD, UNKNOWN_MESSAGE, UNKNOWN_USER = 10003, 10004, 10008, 10013
MISSING_ACCESS, DM_CHANNEL, MISSING_PERMISSIONS = 50001, 50003, 50013
IN_A_DM = ("Discord does not let a bot delete a customer's message in a direct message: ask the customer to "
           "delete it.")


def _reason(reply: OutboundMessage) -> str:
    """For the server's audit log (X-Audit-Log-Reason), so moderators see who did it and why."""
    return f"supportbot: {reply.text}"[:500] if reply.text else "supportbot"


def _digits(value: str | None, what: str) -> int:
    if not value or not value.isdigit():
        raise Undeliverable(f"discord: {value!r} is not {what}")
    return int(value)


class Moderation:
    def __init__(self, client: discord.Client, threads: PrivateThreads) -> None:
        self.client = client
        self.threads = threads

    async def perform(self, reply: OutboundMessage) -> Sent:
        if reply.action == "delete_message":
            return await self.delete(reply)
        if reply.action == "remove_member":
            return await self.remove(reply)
        raise Undeliverable(f"discord: unknown action {reply.action!r}")

    async def delete(self, reply: OutboundMessage) -> Sent:
        message_id = _digits(reply.target, "a Discord message id (a button press cannot be deleted)")
        channel_id = await self._channel_of(reply.conversation)
        try:
            await self.client.http.delete_message(channel_id, message_id, reason=_reason(reply))
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:
                raise Undeliverable(f"discord 404 ({exc.code}): channel {channel_id} is gone or the bot was removed "
                                    "from it, so it cannot delete the message") from exc
            log.info("discord: message %s in channel %s was already deleted", message_id, channel_id)
        except discord.Forbidden as exc:
            raise Undeliverable(_refused_delete(exc, channel_id)) from exc
        return Sent(platform_id=f"deleted:{message_id}")

    async def remove(self, reply: OutboundMessage) -> Sent:
        user_id = _digits(reply.target, "a Discord user id")
        guild_id = await self._guild_of(reply.conversation)
        try:
            await self.client.http.ban(user_id, guild_id, delete_message_seconds=0, reason=_reason(reply))
        except discord.NotFound as exc:
            what = {UNKNOWN_USER: f"account {user_id} no longer exists on Discord",
                    UNKNOWN_GUILD: f"the bot is no longer in server {guild_id}"}.get(exc.code, exc.text)
            raise Undeliverable(f"discord 404 ({exc.code}): {what}; nobody was banned") from exc
        except discord.Forbidden as exc:
            if exc.code == MISSING_PERMISSIONS:
                raise Undeliverable(
                    f"discord 403 ({exc.code}): Discord refused to ban {user_id} from server {guild_id}. Give the "
                    "bot's role the Ban Members permission and move it above the member's highest role (Server "
                    "Settings > Roles); a server's owner cannot be banned. Or ban the account by hand.") from exc
            raise Undeliverable(f"discord 403 ({exc.code}): {exc.text}") from exc
        log.info("discord: banned %s from server %s (a possible impersonator)", user_id, guild_id)
        return Sent(platform_id=f"banned:{guild_id}:{user_id}")

    # -- where ----------------------------------------------------------------------------------
    async def _channel_of(self, conversation: str) -> int:
        """The channel or thread a conversation's messages are in."""
        if conversation.isdigit():
            return int(conversation)
        kind = conversation.partition(":")[0]
        if kind == "dm":
            raise Undeliverable(IN_A_DM)
        if kind == "thread":
            found = await self.threads.known(conversation)
            if found is None:
                raise Undeliverable(f"discord: the private thread of {conversation} is not known any more")
            return found
        raise Undeliverable(f"discord: not a Discord conversation: {conversation!r}")

    async def _guild_of(self, conversation: str) -> int:
        """The server of a channel or thread; a conversation that is a server's own id (a join announced
        where the server has no system channel, see adapter.on_member_join) is that server."""
        kind, _, rest = conversation.partition(":")
        if kind == "dm":
            raise Undeliverable("discord: the account wrote in a direct message, which belongs to no server: "
                                "there is nothing to remove it from")
        place = _digits(rest.partition(":")[0] if kind == "thread" else conversation, "a Discord channel or server")
        if self.client.get_guild(place) is not None:
            return place
        guild = getattr(self.client.get_channel(place), "guild", None)
        if guild is not None:
            return guild.id
        try:
            data = await self.client.http.get_channel(place)
        except discord.NotFound:
            return place  # no such channel: a server the bot has not cached (yet)
        guild_id = data.get("guild_id")
        if not guild_id:
            raise Undeliverable(f"discord: channel {place} belongs to no server: there is nothing to remove it from")
        return int(guild_id)


def _refused_delete(exc: discord.Forbidden, channel_id: int) -> str:
    if exc.code == MISSING_PERMISSIONS:
        return (f"discord 403 ({exc.code}): Discord refused to delete the message: give the bot's role the Manage "
                f"Messages permission in channel {channel_id} (Server Settings > Roles, or the channel's "
                "Permissions), or delete the message by hand.")
    if exc.code == MISSING_ACCESS:
        return (f"discord 403 ({exc.code}): the bot cannot see channel {channel_id}: give its role View Channel, "
                "Read Message History and Manage Messages there, or delete the message by hand.")
    if exc.code == DM_CHANNEL:
        return f"discord 403 ({exc.code}): {IN_A_DM}"
    return f"discord 403 ({exc.code}): {exc.text}"
