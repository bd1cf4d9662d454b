"""OutboundMessage -> Discord REST calls, and Discord errors -> the typed adapter errors, once.

Conversations: a channel/thread id (digits), ``dm:<user id>`` (the user's DM channel) or
``thread:<text channel id>:<user id>`` (a private thread the adapter opens for that user, see
threads.py). Every part carries a nonce with ``enforce_nonce`` derived from the outbox id, so a send
retried by the dispatcher (after a timeout, a partial failure, or a crash of the process that sent
it) returns the message Discord already has instead of posting it twice: the adapter's sends are
idempotent, which is why a timeout is a plain RetryLater here, not Uncertain.

A DM Discord refuses with 403 code 50007 ("Cannot send messages to this user": the customer does
not accept DMs from server members, or blocked the bot) goes where the customer can still be
reached: a private follow-up thread we already opened for them (the message itself, with a
mention), else their last public place (``reply.meta["public_fallback"]``, else the last public
message the adapter saw from them): a mention, "there is a message for you" and how to read it
privately, never the message itself, in the customer's language (wording.py). Such a public note
returns ``Sent(public_note=True)``: the reply stays owed until the customer writes to us privately.
Without either place: Undeliverable.

A row with ``reply.action`` is a moderation step (delete a message, remove a member: moderation.py),
performed instead of sending ``reply.text``, through the same rate-limit gate, timeout and error mapping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bots.base import split_text
from bots.discord.limits import SENDING, Limited
from bots.discord.memory import Places
from bots.discord.moderation import Moderation
from bots.discord.threads import PrivateThreads
from bots.discord.wording import language, say
from core.errors import AdapterError, RateLimited, RetryLater, Undeliverable
from core.models import OutboundMessage, QuickReply, Sent

if TYPE_CHECKING:
    from bots.base import CursorStore
    from bots.discord.settings import DiscordSettings

log = logging.getLogger(__name__)

MAX_BUTTONS = 25  # 5 rows of 5
CLOSED_DMS = 50007  # "Cannot send messages to this user"


def buttons(quick_replies: tuple[QuickReply, ...]) -> discord.ui.View | None:
    """Quick replies as buttons (custom_id = payload). The view is stopped before sending: presses
    are not handled by view callbacks but arrive as interactions the adapter hands to the engine."""
    if not quick_replies:
        return None
    view = discord.ui.View(timeout=None)
    for qr in quick_replies[:MAX_BUTTONS]:
        label = qr.label[:80]
        if qr.url:
            view.add_item(discord.ui.Button(label=label, url=qr.url))
        else:
            view.add_item(discord.ui.Button(label=label, custom_id=qr.payload[:100],
                                            style=discord.ButtonStyle.primary))
    view.stop()
    return view


def map_error(exc: BaseException) -> AdapterError:
    """The one place Discord failures become RetryLater / RateLimited / Undeliverable."""
    if isinstance(exc, Limited):  # a 429 answered to us, or the global gate closed (limits.py)
        kind = "global" if exc.is_global else "shared resource" if exc.shared else "route"
        return RateLimited(f"discord {kind} rate limit ({exc.retry_after:.2f}s) on {exc.route}",
                           retry_after=exc.retry_after, scope=exc.scope)
    if isinstance(exc, discord.RateLimited):  # discord.py: this route's bucket resets later than we wait
        return RateLimited(f"discord rate limit ({exc.retry_after:.2f}s)", retry_after=exc.retry_after,
                           scope="conversation")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 401:
            # A revoked or rotated token: keep the replies queued while an operator fixes it.
            return RetryLater(f"discord refused the bot token (401): {exc.text}", retry_after=300.0)
        if exc.status == 429:  # not Discord's JSON: Cloudflare holds the whole address
            return RateLimited(f"discord 429: {exc.text[:200]}", retry_after=10.0, scope="channel")
        if exc.status >= 500:
            return RetryLater(f"discord {exc.status}: {exc.text}")
        return Undeliverable(f"discord {exc.status} ({exc.code}): {exc.text}")
    if isinstance(exc, (aiohttp.ClientError, OSError, TimeoutError)):
        # A timeout may come after Discord created the message: the retry's nonce returns that one.
        return RetryLater(f"discord unreachable: {exc!r}")
    if isinstance(exc, discord.ClientException):
        return Undeliverable(f"discord: {exc}")
    return RetryLater(f"discord: unexpected {exc!r}")


def _files(reply: OutboundMessage) -> list[discord.File]:
    """The files an agent attached that exist on this machine (Discord takes up to 10 per message). A file that
    is gone cannot come back: the reply is undeliverable as written, and the agent is told, not retried forever."""
    try:
        return [discord.File(a.local_path, filename=a.name or Path(a.local_path).name)
                for a in reply.attachments[:10] if a.local_path]
    except OSError as exc:
        raise Undeliverable(f"discord: an attached file is gone: {exc}") from exc


def _mention_only(user_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(user_id)],
                                   replied_user=False)


class Sender:
    def __init__(self, client: discord.Client, settings: DiscordSettings,
                 cursor_store: CursorStore | None = None,
                 on_sent: Callable[[discord.Message], None] | None = None,
                 places: Places | None = None) -> None:
        self.client = client
        self.settings = settings
        self.on_sent = on_sent  # the adapter learns the channels it wrote to (read back after a restart)
        self.places = places or Places()
        self.threads = PrivateThreads(client, cursor_store)
        self.moderation = Moderation(client, self.threads)

    async def send(self, reply: OutboundMessage) -> Sent:
        mark = SENDING.set(True)  # every request of this send answers the dispatcher at once (limits.py)
        try:
            return await asyncio.wait_for(self._send(reply), timeout=self.settings.send_timeout)
        except AdapterError:
            raise
        except Exception as exc:  # mapped once, here
            raise map_error(exc) from exc
        finally:
            SENDING.reset(mark)

    async def _send(self, reply: OutboundMessage) -> Sent:
        if reply.action:  # a moderation step: reply.text only describes it for the inbox
            return await self.moderation.perform(reply)
        target = await self._channel(reply.conversation)
        text = reply.text or (say("invite", language(reply.meta)) if reply.invite_private else "")
        reference = None
        if reply.reply_to and reply.conversation.isdigit() and reply.reply_to.isdigit():
            reference = discord.MessageReference(message_id=int(reply.reply_to), channel_id=target.id,
                                                 fail_if_not_exists=False)
        try:
            first = await self._parts(target, text, reply, "", reference=reference)
        except discord.Forbidden as exc:
            if exc.code == CLOSED_DMS and reply.conversation.startswith("dm:"):
                return await self._closed_dms(reply, int(reply.conversation[3:]), exc)
            raise
        return self._delivered(first)

    async def _parts(self, target: discord.abc.Messageable, text: str, reply: OutboundMessage, tag: str, *,
                     reference: discord.MessageReference | None = None, prefix: str = "",
                     mentions: discord.AllowedMentions | None = None) -> discord.Message:
        """Each part once: nonce ``sb<outbox id>.<tag><index>`` (Discord takes at most 25 characters)."""
        limit = 2000 - len(prefix)
        links = [a.url for a in reply.attachments if not a.local_path and a.url]  # nothing to upload: linked
        if links and not reply.action:
            text = "\n".join([text, *links]) if text else "\n".join(links)
        parts = split_text(text, limit) if text else [""]
        view = buttons(reply.quick_replies)
        first: discord.Message | None = None
        for index, part in enumerate(parts):
            content = (prefix + part) if index == 0 else part
            kwargs: dict[str, Any] = {"content": content or None}
            if index == len(parts) - 1 and (files := _files(reply)):
                kwargs["files"] = files  # with the last part, after the words that introduce them
            if reply.outbox_id is not None:
                kwargs["nonce"] = f"sb{reply.outbox_id}.{tag}{index}"
            if index == 0 and reference is not None:
                kwargs["reference"] = reference
            if index == len(parts) - 1 and view is not None:
                kwargs["view"] = view
            if mentions is not None:
                kwargs["allowed_mentions"] = mentions
            message = await target.send(**kwargs)
            first = first or message
        assert first is not None
        return first

    def _delivered(self, first: discord.Message) -> Sent:
        if self.on_sent is not None:
            self.on_sent(first)
        return Sent(platform_id=str(first.id), sent_at=first.created_at)

    async def _channel(self, conversation: str) -> discord.abc.Messageable:
        if conversation.isdigit():
            return self.client.get_channel(int(conversation)) or self.client.get_partial_messageable(
                int(conversation))
        kind, _, rest = conversation.partition(":")
        if kind == "dm" and rest.isdigit():
            known = self.places.dm_channels.get(int(rest))
            if known is not None:
                return self.client.get_partial_messageable(known, type=discord.ChannelType.private)
            channel = await self.client.create_dm(discord.Object(int(rest)))
            self.places.saw_dm(int(rest), channel.id)
            return channel
        if kind == "thread":
            channel_id, _, user_id = rest.partition(":")
            if channel_id.isdigit() and user_id.isdigit():
                return await self.threads.open(int(channel_id), int(user_id), conversation)
        raise Undeliverable(f"not a Discord conversation: {conversation!r}")

    async def thread_address(self, thread_id: int) -> str | None:
        """The ``thread:<channel>:<user>`` address of a private thread this adapter opened."""
        return await self.threads.address(thread_id)

    # -- closed DMs -----------------------------------------------------------------------------
    async def _closed_dms(self, reply: OutboundMessage, user_id: int, refused: discord.Forbidden) -> Sent:
        given = reply.meta.get("public_fallback")
        place = dict(given) if isinstance(given, Mapping) and given.get("conversation") else self.places.public(
            user_id)
        mention = f"<@{user_id}> "
        try:
            thread = await self.threads.for_user(user_id, str(place["conversation"]) if place else None)
        except discord.HTTPException as exc:  # the thread is gone or closed to us: the public note then
            log.info("discord: private thread of user %s unusable (%s)", user_id, exc.status)
            thread = None
        if thread is not None:
            first = await self._parts(thread, reply.text, reply, "t", prefix=mention, mentions=_mention_only(user_id))
            log.info("discord: DMs to %s refused; outbox row %s went to their private thread %s", user_id,
                     reply.outbox_id, thread.id)
            return self._delivered(first)
        if place is None or not str(place["conversation"]).isdigit():
            raise Undeliverable(f"discord 403 ({refused.code}): {refused.text}; the customer does not accept DMs "
                                "from us and has not written in public here")
        target = await self._channel(str(place["conversation"]))
        answer_to = str(place.get("reply_to") or "")
        reference = discord.MessageReference(message_id=int(answer_to), channel_id=target.id,
                                             fail_if_not_exists=False) if answer_to.isdigit() else None
        note = OutboundMessage(channel=reply.channel, conversation=str(place["conversation"]),
                               text=say("waiting", language(reply.meta), mention=mention.strip()),
                               outbox_id=reply.outbox_id)
        first = await self._parts(target, note.text, note, "n", reference=reference, mentions=_mention_only(user_id))
        log.info("discord: DMs to %s refused; outbox row %s announced in channel %s", user_id, reply.outbox_id,
                 place["conversation"])
        return Sent(platform_id=str(first.id), sent_at=first.created_at, public_note=True)  # the reply is still owed
