"""Moderators in Telegram groups: who is one, and their commands as a reply to someone's message:
``/escalate [note]`` (this customer needs support) and ``/impersonator [note]`` (this account imitates us).

Being a moderator is a platform fact (chat administrator, anonymous admin, or a user id listed in
``channels.telegram.moderators``); what a command does, and whether its author may use it, is the engine's
decision (a refusal comes back as the notice to post).
"""

from __future__ import annotations

import logging
from typing import Protocol

from telegram import Bot, ChatMember, Message
from telegram.error import TelegramError

from bots.base import Inbound
from bots.lru import LRU
from bots.telegram.inbound import (
    CHANNEL,
    ESCALATE,
    IMPERSONATOR,
    BotIdentity,
    Command,
    author_of,
    message_id,
    received_at,
    replied_message,
    to_inbound,
)
from core.models import Attachment, Escalation, InboundMessage

log = logging.getLogger(__name__)

# The one place the adapter's own usage text lives (everything else the moderator reads comes
# from the engine's Outcome.notice, in the moderator's language).
USAGE = "Reply to the customer's message with /escalate [note] to open a ticket for it."
USAGE_PRIVATE = "/escalate works in a group: reply there to a customer's message with /escalate [note]."
IMPERSONATOR_USAGE = ("Reply to the suspect's message with /impersonator [note] to report the account as an "
                      "impersonator.")
IMPERSONATOR_USAGE_PRIVATE = ("/impersonator works in a group: reply there to the suspect's message with "
                              "/impersonator [note].")
# command -> (Escalation.kind, usage in a group, usage in a private chat)
COMMANDS = {ESCALATE: ("escalate", USAGE, USAGE_PRIVATE),
            IMPERSONATOR: ("impersonator", IMPERSONATOR_USAGE, IMPERSONATOR_USAGE_PRIVATE)}
FAILURE_TTL = 30.0  # seconds an unknown administrator list is not asked again
CHATS_REMEMBERED = 2_000  # groups whose administrators are cached (least recently seen forgotten first)
ADMIN_STATUSES = frozenset({ChatMember.ADMINISTRATOR, ChatMember.OWNER})


class ModeratorCheck:
    """Chat administrators per chat, cached for ``ttl`` seconds (one getChatAdministrators a chat), for at
    most ``chats`` chats."""

    def __init__(self, bot: Bot, listed: set[int], ttl: float, chats: int = CHATS_REMEMBERED) -> None:
        self._bot = bot
        self._listed = listed
        self._ttl = ttl
        self._admins: LRU[int, frozenset[int]] = LRU(chats, ttl=ttl)

    async def is_moderator(self, chat_id: int, user_id: int) -> bool:
        """Is this user (not a message's author: someone who joined) a moderator of the chat?"""
        return user_id in self._listed or (chat_id < 0 and user_id in await self.admins(chat_id))

    async def check(self, message: Message) -> bool:
        """Is the author of ``message`` a moderator of its chat?"""
        chat = message.chat
        if message.sender_chat is not None:
            return message.sender_chat.id == chat.id  # an anonymous administrator posts as the group
        user = message.from_user
        if user is None:
            return False
        if user.id in self._listed:
            return True
        if chat.type == chat.PRIVATE:
            return False
        return user.id in await self.admins(chat.id)

    async def admins(self, chat_id: int) -> frozenset[int]:
        cached = self._admins.get(chat_id)
        if cached is not None:
            return cached
        try:
            members = await self._bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            log.warning("telegram: administrators of %s unknown: %s", chat_id, exc)
            # remembered briefly, so a busy group does not turn one failure into a request per message
            self._admins.put(chat_id, frozenset(), ttl=min(self._ttl, FAILURE_TTL))
            return frozenset()
        ids = frozenset(m.user.id for m in members if m.status in ADMIN_STATUSES)
        self._admins.put(chat_id, ids)
        return ids


class Notices(Protocol):
    """What an escalation needs of the adapter (a protocol, so this module never imports the adapter)."""

    @property
    def bot(self) -> BotIdentity: ...
    async def post_notice(self, message: Message, text: str) -> None: ...
    async def attachments(self, message: Message) -> tuple[Attachment, ...]: ...
    async def home(self, inbound: InboundMessage) -> InboundMessage: ...


async def escalate(
    adapter: Notices, message: Message, command: Command, inbound: Inbound, moderators: ModeratorCheck
) -> None:
    """Build the Escalation for ``/escalate`` or ``/impersonator`` sent as a reply, hand it over, post the
    engine's notice.

    The Bot API gives bots no chat history: the context (what the customer said just before) is
    read by the engine from the group messages already in the store, so it survives a restart."""
    kind, usage, _ = COMMANDS[command.name]
    target = replied_message(message)
    bot = adapter.bot
    if target is None or (target.from_user is not None and target.from_user.id == bot.id):
        # The bot's own answer is not a customer's message: escalate the customer's question instead.
        await adapter.post_notice(message, usage)
        return
    is_moderator = await moderators.check(message)
    target_in = await adapter.home(to_inbound(
        target,
        bot,
        attachments=await adapter.attachments(target),
        is_moderator=await moderators.check(target),
        addressed=False,
    ))
    escalation = Escalation(
        channel=CHANNEL,
        platform_id=message_id(message.chat.id, message.message_id),
        moderator=author_of(message.from_user, message, is_moderator=is_moderator),
        target=target_in,
        note=command.args,
        received_at=received_at(message),
        raw={"chat_type": message.chat.type, "message_thread_id": message.message_thread_id},
        kind=kind,
    )
    outcome = await inbound.handle_escalation(escalation)
    notice = getattr(outcome, "notice", None)
    if notice:
        await adapter.post_notice(message, str(notice))
