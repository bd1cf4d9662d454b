"""Moderation steps the engine asks of Telegram instead of a message (``OutboundMessage.action``).

- ``delete_message``: deleteMessage for ``target`` (``"<chat id>:<message id>"``, our message identity):
  a customer's public message that held a secret. A message already gone counts as deleted, so a retry
  (after a timeout, a restart) never fails a step that was done.
- ``remove_member``: banChatMember of ``target`` (a user id) in the conversation's chat. A ban, not a kick:
  a kicked impersonator rejoins through the group's invite link a minute later; a banned one cannot until
  an administrator lifts the ban.

The bot needs administrator rights for both. Where Telegram refuses for lack of them, the step is
Undeliverable with a sentence the agent can act on (it shows on the outbox row). Repeating either call is
harmless, so a timeout is "try again" here, never "may have been done twice".
"""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from bots.telegram.migration import ChatMoves
from bots.telegram.outbound import map_error, parse_conversation
from core.errors import RetryLater, Uncertain, Undeliverable
from core.models import OutboundMessage, Sent

ACTIONS = ("delete_message", "remove_member")
# Telegram's words (lower case) for "the bot is not an administrator with that right"
NO_RIGHTS = ("not enough rights", "can't be deleted", "chat_admin_required", "need administrator rights",
             "have no rights", "not an administrator", "right_forbidden")
GONE = ("message to delete not found",)  # deleted already (by us before a retry, by the author, by a moderator)
NOT_THERE = ("user_not_participant",)  # a basic group the user already left: nothing to remove
# (words, what the agent can do) for refusals that admin rights alone do not fix
BAN_REFUSALS = (
    (("user is an administrator", "can't remove chat owner", "only the creator"),
     "a bot cannot ban an administrator or the owner; the owner must demote or remove them"),
    (("need to be inviter",), "in a basic group a bot may only remove members it added: upgrade the group to a "
                              "supergroup, or remove them by hand"),
)
BOT_OUT = ("bot is not a member", "bot was kicked", "chat not found", "group chat was deactivated")


async def perform(bot: Bot, moves: ChatMoves, reply: OutboundMessage) -> Sent:
    """Carry out ``reply.action``; returns a stable id for the step (not a message id)."""
    if reply.action == "delete_message":
        return await _delete(bot, reply)
    if reply.action == "remove_member":
        return await _remove(bot, moves, reply)
    raise Undeliverable(f"telegram: unknown action {reply.action!r}")


async def _delete(bot: Bot, reply: OutboundMessage) -> Sent:
    chat, _, message = (reply.target or "").rpartition(":")
    try:
        chat_id, message_id = int(chat), int(message)
    except ValueError:
        raise Undeliverable(f"telegram: cannot delete {reply.target!r}: not a Telegram message id") from None
    done = Sent(f"deleted:{chat_id}:{message_id}")
    try:
        await bot.delete_message(chat_id, message_id)
    except TelegramError as exc:
        _refused(exc, "delete", chat_id, gone=GONE)
    return done


async def _remove(bot: Bot, moves: ChatMoves, reply: OutboundMessage) -> Sent:
    address, _ = parse_conversation(reply.conversation)
    target = (reply.target or "").strip()
    if not target.lstrip("-").isdigit() or address > 0:
        raise Undeliverable(f"telegram: cannot remove {target!r} from {reply.conversation}: "
                            "a member is removed from a group by user id")
    user_id = int(target)
    done = Sent(f"removed:{address}:{user_id}")
    chat_id = await moves.current(address)
    try:
        try:
            await bot.ban_chat_member(chat_id, user_id)
        except ChatMigrated as exc:  # the group became a supergroup: the member is there now
            chat_id = int(exc.new_chat_id)
            await moves.moved(address, chat_id)
            await bot.ban_chat_member(chat_id, user_id)
    except TelegramError as exc:
        _refused(exc, "ban", chat_id, gone=NOT_THERE)
    return done


def _refused(exc: TelegramError, step: str, chat_id: int, *, gone: tuple[str, ...]) -> None:
    """Return quietly when the step's effect is already there; otherwise raise the typed error."""
    text = exc.message.lower()
    if isinstance(exc, (BadRequest, Forbidden)) and not isinstance(exc, ChatMigrated):
        if any(word in text for word in gone):
            return
        if any(word in text for word in NO_RIGHTS):
            right = "delete messages" if step == "delete" else "ban users"
            raise Undeliverable(f"telegram: the bot may not {right} in chat {chat_id} ({exc.message}): make the bot "
                                f"an admin of that group with the right to {right}"
                                + (" (a message older than 48 hours cannot be deleted by bots)"
                                   if step == "delete" else "")) from exc
        for words, advice in BAN_REFUSALS if step == "ban" else ():
            if any(word in text for word in words):
                raise Undeliverable(f"telegram: {exc.message} (chat {chat_id}): {advice}") from exc
        if any(word in text for word in BOT_OUT):
            raise Undeliverable(f"telegram: the bot is not in chat {chat_id} any more ({exc.message}): add it back "
                                "as an admin to let it moderate there") from exc
    error = map_error(exc)
    if isinstance(error, Uncertain):  # doing it again is harmless: no "may have been done twice"
        raise RetryLater(f"telegram: no answer to {step}; trying again: {exc.message}") from exc
    raise error from exc
