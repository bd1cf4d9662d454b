"""OutboundMessage -> Telegram call arguments, and Telegram errors -> our typed errors (mapped once here)."""

from __future__ import annotations

import hashlib
import warnings
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bots.base import CursorStore, split_text
from core.errors import AdapterError, RateLimited, RetryLater, Undeliverable
from core.models import OutboundMessage

MAX_CALLBACK_BYTES = 64  # Bot API: callback_data is 1-64 bytes
HASH_PREFIX = "h:"
INVITE_LABEL = "💬 Continue privately · 私聊"


def fit_text(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` UTF-16 code units, the unit Telegram counts (an emoji is two)."""
    parts: list[str] = []
    for part in split_text(text, limit):
        if len(part.encode("utf-16-le")) // 2 <= limit:
            parts.append(part)
        else:
            parts.extend(split_text(part, limit // 2))
    return parts


def parse_conversation(conversation: str) -> tuple[int, int | None]:
    """``"-100123:45"`` -> (chat_id, message_thread_id); ``"5001"`` -> (5001, None)."""
    chat, _, thread = conversation.partition(":")
    try:
        return int(chat), (int(thread) if thread else None)
    except ValueError:
        raise Undeliverable(f"not a Telegram conversation: {conversation!r}") from None


def parse_message_ref(platform_id: str | None, chat_id: int) -> int | None:
    """Our message identity ``"<chat>:<message>"`` -> the message id to reply to in ``chat_id``.

    None for a button press, or a message in another chat (a private follow-up of a group message).
    """
    if not platform_id or platform_id.startswith("cb:"):
        return None
    chat, _, msg = platform_id.rpartition(":")
    if chat != str(chat_id) or not msg.isdigit():
        return None
    return int(msg)


def callback_data_for(payload: str) -> tuple[str, bool]:
    """The callback_data for a payload, and whether it is a hash that must be remembered.

    Telegram caps callback_data at 64 bytes: a longer payload travels as ``"h:" + 24 hex digits``
    of its SHA-256 and the adapter maps it back when the press arrives.
    """
    if payload and len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return payload, False
    return HASH_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24], True


class PayloadMemory:
    """Hashed callback_data -> payload: in memory, and in the store when one is given, so a press
    on a button sent before a restart (or by another process) still comes back whole."""

    def __init__(self, cursors: CursorStore | None, size: int = 10_000) -> None:
        self._cursors = cursors
        self._size = size
        self._known: dict[str, str] = {}

    async def remember(self, hashed: dict[str, str]) -> None:
        for data, payload in hashed.items():
            if len(self._known) >= self._size:
                self._known.pop(next(iter(self._known)))
            self._known[data] = payload
            if self._cursors is not None:
                await self._cursors.set_cursor("telegram", "callback:" + data, payload)

    async def payload(self, data: str) -> str:
        if not data.startswith(HASH_PREFIX):
            return data
        if data in self._known:
            return self._known[data]
        if self._cursors is not None:
            stored = await self._cursors.get_cursor("telegram", "callback:" + data)
            if stored is not None:
                return stored
        return data


def deep_link(bot_username: str, reply: OutboundMessage) -> str:
    """``https://t.me/<bot>?start=ticket-<id>``: opens the private chat and sends ``/start ticket-<id>``."""
    ticket = reply.meta.get("ticket_id")
    param = f"ticket-{ticket}" if ticket is not None else "support"
    return f"https://t.me/{bot_username}?start={param}"


def keyboard_for(
    reply: OutboundMessage, bot_username: str, remember: dict[str, str]
) -> InlineKeyboardMarkup | None:
    """Quick replies as an inline keyboard (one button a row); ``remember`` collects hashed payloads."""
    rows: list[list[InlineKeyboardButton]] = []
    for quick in reply.quick_replies:
        if quick.url:
            rows.append([InlineKeyboardButton(quick.label, url=quick.url)])
            continue
        data, hashed = callback_data_for(quick.payload)
        if hashed:
            remember[data] = quick.payload
        rows.append([InlineKeyboardButton(quick.label, callback_data=data)])
    if reply.invite_private and not any(q.url for q in reply.quick_replies):
        label = str(reply.meta.get("invite_label") or INVITE_LABEL)
        rows.append([InlineKeyboardButton(label, url=deep_link(bot_username, reply))])
    return InlineKeyboardMarkup(rows) if rows else None


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # int today, timedelta in PTB 23: accept both, quietly
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def map_error(exc: TelegramError) -> AdapterError:
    """The one place Telegram failures become RateLimited / RetryLater / Undeliverable."""
    if isinstance(exc, RetryAfter):
        return RateLimited(f"telegram: {exc.message}", retry_after=retry_after_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return Undeliverable(f"telegram: group became supergroup {exc.new_chat_id}")
    if isinstance(exc, InvalidToken):
        # 401/404 for the token: revoked or rotated. Replies stay queued while an operator fixes it
        # (PTB's message may quote the token, so it is not repeated here).
        return RetryLater("telegram: the Bot API rejected the bot token", retry_after=300.0)
    if isinstance(exc, (Forbidden, BadRequest)):
        return Undeliverable(f"telegram: {exc.message}")
    if isinstance(exc, (TimedOut, NetworkError)):
        return RetryLater(f"telegram: {exc.message}")
    # Conflict and anything unknown: the platform may accept it later.
    return RetryLater(f"telegram: {exc.message}")
