"""One reply out to Telegram: its parts in order, each part once, to wherever the chat lives now.

- A long reply is several messages; the parts already sent are recorded (``progress.py``), so a retry
  (after a flood wait, a timeout, a restart, or in another process) continues where it stopped.
- A group upgraded to a supergroup answers ``ChatMigrated``: the part is sent again at once to the new
  chat and the move remembered (``migration.py``), so later replies go there directly.
- A private reply Telegram refuses (403: the customer never opened the bot, or blocked it) that carries
  ``meta["public_fallback"]`` becomes a short public note where the customer last wrote: a mention,
  "an answer is waiting", the button into the private chat. Never the reply's own text. The returned
  platform id is the note's, in the public chat: that is how the delivery shows it went there.
- A moderation step (delete a message, ban a member) is a Bot API call instead of a message (``moderation.py``).
- An agent writing a reply shows "typing…" (``sendChatAction``, ~5 s) in the chat and topic the reply goes to:
  one short call, never the public note's place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import ChatMigrated, Forbidden, TelegramError

from bots.telegram.inbound import message_id
from bots.telegram.migration import ChatMoves
from bots.telegram.moderation import perform
from bots.telegram.outbound import (
    PayloadMemory,
    answer_waiting,
    fit_text,
    keyboard_for,
    map_error,
    parse_conversation,
    parse_message_ref,
)
from bots.telegram.progress import PartsSent, RecentNotes
from core.errors import Undeliverable
from core.models import OutboundMessage, Sent

log = logging.getLogger(__name__)

Step = Callable[[int, dict[str, Any]], Awaitable[Message]]  # (chat id, extra arguments) -> the sent message
NO_FALLBACK = ("deactivated",)  # a deleted account reads no group either
TYPING_TIMEOUT = 5.0  # seconds: "typing…" that comes later than this has missed its moment


class Sender:
    def __init__(self, bot: Bot, bot_username: str, *, max_text_length: int, payloads: PayloadMemory,
                 parts: PartsSent, moves: ChatMoves, notes: RecentNotes) -> None:
        self._bot = bot
        self._username = bot_username
        self._max = max_text_length
        self._payloads = payloads
        self._parts = parts
        self._moves = moves
        self._notes = notes

    async def send(self, reply: OutboundMessage) -> Sent:
        """Raises RateLimited / Uncertain / RetryLater / Undeliverable (``outbound.map_error``). A moderation step
        (``reply.action``) is carried out instead of sending its text (``moderation.py``)."""
        if reply.action:
            return await perform(self._bot, self._moves, reply)
        address, thread_id = parse_conversation(reply.conversation)
        if not reply.text.strip() and not reply.attachments:
            raise Undeliverable("telegram: nothing to send (empty text)")
        hashed: dict[str, str] = {}
        markup = keyboard_for(reply, self._username, hashed)
        await self._payloads.remember(hashed)
        steps = self._steps(reply)
        row = reply.outbox_id if len(steps) > 1 else None  # progress matters only between parts
        done, first = await self._parts.get(row) if row else (0, None)
        chat_id = await self._moves.current(address)
        for index in range(done, len(steps)):
            def extra(chat: int, index: int = index) -> dict[str, Any]:
                args: dict[str, Any] = {"message_thread_id": thread_id}
                answer_to = parse_message_ref(reply.reply_to, chat) if index == 0 else None
                if answer_to is not None:
                    args["reply_parameters"] = ReplyParameters(answer_to, allow_sending_without_reply=True)
                if index == len(steps) - 1 and markup is not None:
                    args["reply_markup"] = markup
                return args

            try:
                sent, chat_id = await self._to_chat(steps[index], chat_id, extra)
            except Forbidden as exc:
                place = reply.meta.get("public_fallback")
                if chat_id > 0 and isinstance(place, Mapping) and place.get("conversation") and not any(
                        word in exc.message.lower() for word in NO_FALLBACK):
                    return await self._public_note(reply, place, exc)
                raise map_error(exc) from exc
            except TelegramError as exc:
                raise map_error(exc) from exc
            except OSError as exc:  # an attachment file that is gone
                raise Undeliverable(f"telegram: {exc}") from exc
            first = first or message_id(sent.chat.id, sent.message_id)
            if row:
                await self._parts.save(row, index + 1, first)
        assert first is not None
        return Sent(first)

    async def typing(self, conversation: str) -> None:
        """"typing…" in the chat (and forum topic) of ``conversation``, where the group lives now. Raises the
        mapped error (``outbound.map_error``): the caller drops it."""
        address, thread_id = parse_conversation(conversation)
        chat_id = await self._moves.current(address)
        try:
            await self._bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id,
                                             read_timeout=TYPING_TIMEOUT, write_timeout=TYPING_TIMEOUT,
                                             connect_timeout=TYPING_TIMEOUT, pool_timeout=TYPING_TIMEOUT)
        except TelegramError as exc:
            raise map_error(exc) from exc

    def _steps(self, reply: OutboundMessage) -> list[Step]:
        """Text parts first, then each file: one Bot API call each."""
        bot = self._bot
        steps: list[Step] = []
        for part in fit_text(reply.text, self._max) if reply.text.strip() else []:
            steps.append(lambda chat, extra, part=part: bot.send_message(chat, part, **extra))
        for attachment in reply.attachments:
            source: Any = Path(attachment.local_path) if attachment.local_path else attachment.url or attachment.ref
            sender = bot.send_photo if attachment.kind == "image" else bot.send_document
            steps.append(lambda chat, extra, sender=sender, source=source: sender(chat, source, **extra))
        return steps

    async def _to_chat(self, step: Step, chat_id: int,
                       extra: Callable[[int], dict[str, Any]]) -> tuple[Message, int]:
        """Send one part; a group that became a supergroup gets it at its new id at once. (message, chat id)"""
        try:
            return await step(chat_id, extra(chat_id)), chat_id
        except ChatMigrated as exc:
            new = int(exc.new_chat_id)
            await self._moves.moved(chat_id, new)
            return await step(new, extra(new)), new

    async def _public_note(self, reply: OutboundMessage, place: Mapping[str, Any], refused: Forbidden) -> Sent:
        """Tell the customer in public that an answer waits in private (the reply itself stays private). One note
        for several refusals in a row (``RecentNotes``)."""
        ticket = reply.meta.get("ticket_id")
        earlier = await self._notes.recent(ticket, str(place["conversation"])) if ticket is not None else None
        if earlier is not None:
            log.info("telegram: private reply (outbox row %s) refused (%s); the customer's note %s already says so",
                     reply.outbox_id, refused.message, earlier)
            return Sent(earlier, public_note=True)
        address, thread_id = parse_conversation(str(place["conversation"]))
        text, markup = answer_waiting(reply, place, self._username)

        def note(chat: int, extra: dict[str, Any]) -> Awaitable[Message]:
            return self._bot.send_message(chat, text, parse_mode=ParseMode.HTML, reply_markup=markup, **extra)

        def extra(chat: int) -> dict[str, Any]:
            args: dict[str, Any] = {"message_thread_id": thread_id}
            answer_to = parse_message_ref(place.get("reply_to"), chat)
            if answer_to is not None:
                args["reply_parameters"] = ReplyParameters(answer_to, allow_sending_without_reply=True)
            return args

        try:
            sent, _ = await self._to_chat(note, await self._moves.current(address), extra)
        except TelegramError as exc:
            error = map_error(exc)
            if isinstance(error, Undeliverable):
                raise Undeliverable(f"telegram: {refused.message}; the public note failed too: {exc.message}") from exc
            raise error from exc
        log.info("telegram: private reply (outbox row %s) refused (%s); told the customer in %s",
                 reply.outbox_id, refused.message, place["conversation"])
        note = message_id(sent.chat.id, sent.message_id)
        if ticket is not None:
            await self._notes.posted(ticket, str(place["conversation"]), note)
        return Sent(note, public_note=True)  # the reply itself is still owed
