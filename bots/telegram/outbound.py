"""OutboundMessage -> Telegram call arguments, and Telegram errors -> our typed errors (mapped once here)."""

from __future__ import annotations

import hashlib
import html
import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
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
from core.errors import AdapterError, RateLimited, RetryLater, Uncertain, Undeliverable
from core.language import to_traditional
from core.models import OutboundMessage

MAX_CALLBACK_BYTES = 64  # Bot API: callback_data is 1-64 bytes
HASH_PREFIX = "h:"
CALLBACK_KEEP_DAYS = 30.0  # a button's hashed payload is remembered this long (presses on older ones read the hash)
# The adapter's own words, in the customer's language (``reply.meta["lang"]``: zh-Hans, zh-Hant or en; the
# traditional texts are converted from the simplified ones). ``invite``: the button into the private chat.
# ``waiting``: the note posted in public when a private reply is refused (the customer never opened the bot,
# or blocked it): it says only that an answer waits, never what it says. HTML; {mention} is filled in.
WORDS: dict[str, dict[str, str]] = {
    "en": {"invite": "💬 Continue privately",
           "waiting": "{mention} 👋 An answer from our support team is waiting for you: tap the button below to "
                      "read it in a private chat."},
    "zh-Hans": {"invite": "💬 私聊继续", "waiting": "{mention} 👋 客服已回复你，请点击下方按钮，在私聊中查看。"},
}
# httpx failures that leave the request unsent, or not completely written (Telegram cannot act on half a
# request). Anything later (a read timeout, a cut connection) may come after Telegram accepted it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout,
            httpx.UnsupportedProtocol, httpx.ProxyError, RuntimeError)


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
                await self._cursors.set_cursor("telegram", "callback:" + data, payload, keep_days=CALLBACK_KEEP_DAYS)

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
        label = str(reply.meta.get("invite_label") or words(reply)["invite"])
        rows.append([InlineKeyboardButton(label, url=deep_link(bot_username, reply))])
    return InlineKeyboardMarkup(rows) if rows else None


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # int today, timedelta in PTB 23: accept both, quietly
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def may_have_arrived(exc: TelegramError) -> bool:
    """Whether a failed call may still have reached Telegram: a timeout or cut connection after the request
    was written. An HTTP answer (a 5xx: ``NetworkError`` without a cause) says the call did nothing."""
    cause = exc.__cause__
    if cause is None:
        return isinstance(exc, TimedOut)
    return not isinstance(cause, NOT_SENT)


def map_error(exc: TelegramError) -> AdapterError:
    """The one place Telegram failures become RateLimited / Uncertain / RetryLater / Undeliverable."""
    if isinstance(exc, RetryAfter):  # a flood wait stops the whole bot, not one chat
        return RateLimited(f"telegram: {exc.message}", retry_after=retry_after_seconds(exc), scope="channel")
    if isinstance(exc, ChatMigrated):  # the sender follows the move itself; anywhere else it ends here
        return Undeliverable(f"telegram: group became supergroup {exc.new_chat_id}")
    if isinstance(exc, InvalidToken):
        # 401/404 for the token: revoked or rotated. Replies stay queued while an operator fixes it
        # (PTB's message may quote the token, so it is not repeated here).
        return RetryLater("telegram: the Bot API rejected the bot token", retry_after=300.0)
    if isinstance(exc, (Forbidden, BadRequest)):
        return Undeliverable(f"telegram: {exc.message}")
    if isinstance(exc, NetworkError) and may_have_arrived(exc):  # TimedOut is a NetworkError
        return Uncertain(f"telegram: no answer after the request was sent: {exc.message}")
    # 5xx, a refused connection, Conflict and anything unknown: the platform may accept it later.
    return RetryLater(f"telegram: {exc.message}")


def answer_waiting(reply: OutboundMessage, place: Mapping[str, Any],
                   bot_username: str) -> tuple[str, InlineKeyboardMarkup]:
    """The public note for a private reply Telegram refused: mentions the customer, says an answer waits and
    offers the way into the private chat. (HTML text, keyboard)."""
    handle, user_id = place.get("handle"), str(place.get("user_id") or "")
    if handle:
        mention = "@" + html.escape(str(handle))
    elif user_id.isdigit():
        mention = f'<a href="tg://user?id={user_id}">Hi</a>'  # a text mention notifies users without a username
    else:
        mention = "Hi"
    text = words(reply)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(text["invite"], url=deep_link(bot_username, reply))]])
    return text["waiting"].format(mention=mention), markup


def words(reply: OutboundMessage) -> dict[str, str]:
    """The adapter's texts in the reply's language (``meta["lang"]``); English when it is not known."""
    lang = str(reply.meta.get("lang") or "en")
    if lang == "zh-Hant":
        return {key: to_traditional(text) for key, text in WORDS["zh-Hans"].items()}
    return WORDS.get(lang, WORDS["en"])
