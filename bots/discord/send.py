"""OutboundMessage -> Discord REST calls, and Discord errors -> the typed adapter errors, once.

Conversations: a channel/thread id (digits), ``dm:<user id>`` (DM opened with create_dm) or
``thread:<text channel id>:<user id>`` (a private thread the adapter opens for that user and
remembers in the cursor store). Every part carries a nonce with ``enforce_nonce`` derived from the
outbox id, so a send retried by the dispatcher after a timeout or a partial failure returns the
message Discord already has instead of posting it twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bots.base import split_text
from core.errors import AdapterError, RateLimited, RetryLater, Undeliverable
from core.models import OutboundMessage, QuickReply, Sent

if TYPE_CHECKING:
    from bots.base import CursorStore
    from bots.discord.settings import DiscordSettings

log = logging.getLogger(__name__)

INVITE_PRIVATE = "Please check your DMs from us."
MAX_BUTTONS = 25  # 5 rows of 5
THREAD_NAME = "Private support {user}"


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
    if isinstance(exc, discord.RateLimited):
        return RateLimited(f"discord rate limit ({exc.retry_after:.2f}s)", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 401:
            # A revoked or rotated token: keep the replies queued while an operator fixes it.
            return RetryLater(f"discord refused the bot token (401): {exc.text}", retry_after=300.0)
        if exc.status == 429:
            return RateLimited(f"discord 429: {exc.text}", retry_after=_retry_after(exc.response))
        if exc.status >= 500:
            return RetryLater(f"discord {exc.status}: {exc.text}")
        return Undeliverable(f"discord {exc.status} ({exc.code}): {exc.text}")
    if isinstance(exc, (aiohttp.ClientError, OSError, TimeoutError)):
        return RetryLater(f"discord unreachable: {exc!r}")
    if isinstance(exc, discord.ClientException):
        return Undeliverable(f"discord: {exc}")
    return RetryLater(f"discord: unexpected {exc!r}")


def dispatcher_owns_retries(api_base_url: str = "https://discord.com/api/v10") -> aiohttp.TraceConfig:
    """For writes to the API, a 429 or a 5xx is raised at once instead of being slept on inside the
    send: discord.py would otherwise wait out ``retry_after`` (up to max_ratelimit_timeout) and retry
    500/502/504/524 five times, sleeping 1+3+5+7 s. The dispatcher owns retries and honours the
    platform's ``retry_after``; the nonce makes its retry safe. Reads keep discord.py's own retries.
    (Pre-emptive waits from X-RateLimit-* headers stay with discord.py: they avoid the 429.)
    A failing ``GET /gateway/bot`` is raised at once too: the start fails fast and the supervisor
    retries it with its own backoff, instead of discord.py sleeping 25 s inside the start."""

    async def on_request_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        if not str(params.url).startswith(api_base_url):
            return
        if params.method == "GET" and params.url.path.endswith("/gateway/bot") and params.response.status >= 500:
            raise discord.DiscordServerError(params.response, f"{params.response.status} {params.response.reason}")
        if params.method == "GET":
            return
        response = params.response
        if response.status == 429:
            raise discord.RateLimited(await _retry_after_of(response))
        if response.status >= 500:
            raise discord.DiscordServerError(response, f"{response.status} {response.reason}")

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


async def _retry_after_of(response: aiohttp.ClientResponse) -> float:
    """The body's float ``retry_after`` (Discord's own figure), else the headers."""
    try:
        body = await response.json(content_type=None)
        return float(body["retry_after"])
    except Exception:  # Cloudflare's HTML ban page, an empty body
        return _retry_after(response)


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", {}) or {}
    for key in ("X-RateLimit-Reset-After", "Retry-After"):
        try:
            return float(headers[key])
        except (KeyError, TypeError, ValueError):
            continue
    return 1.0


class Sender:
    def __init__(self, client: discord.Client, settings: DiscordSettings,
                 cursor_store: CursorStore | None = None,
                 on_sent: Callable[[discord.Message], None] | None = None) -> None:
        self.client = client
        self.settings = settings
        self.cursor_store = cursor_store
        self.on_sent = on_sent  # the adapter learns the channels it wrote to (read back after a restart)
        self._threads: dict[str, int] = {}  # used when no cursor store is given
        self._owners: dict[str, str] = {}

    async def send(self, reply: OutboundMessage) -> Sent:
        try:
            return await asyncio.wait_for(self._send(reply), timeout=self.settings.send_timeout)
        except AdapterError:
            raise
        except Exception as exc:  # mapped once, here
            raise map_error(exc) from exc

    async def _send(self, reply: OutboundMessage) -> Sent:
        target = await self._channel(reply.conversation)
        text = reply.text or (INVITE_PRIVATE if reply.invite_private else "")
        parts = split_text(text, 2000) if text else [""]
        view = buttons(reply.quick_replies)
        reference = None
        if reply.reply_to and reply.conversation.isdigit() and reply.reply_to.isdigit():
            reference = discord.MessageReference(message_id=int(reply.reply_to), channel_id=target.id,
                                                 fail_if_not_exists=False)
        first: discord.Message | None = None
        for index, part in enumerate(parts):
            kwargs: dict[str, Any] = {"content": part or None}
            if reply.outbox_id is not None:
                kwargs["nonce"] = f"sb{reply.outbox_id}.{index}"
            if index == 0 and reference is not None:
                kwargs["reference"] = reference
            if index == len(parts) - 1 and view is not None:
                kwargs["view"] = view
            message = await target.send(**kwargs)
            first = first or message
        assert first is not None
        if self.on_sent is not None:
            self.on_sent(first)
        return Sent(platform_id=str(first.id), sent_at=first.created_at)

    async def _channel(self, conversation: str) -> discord.abc.Messageable:
        if conversation.isdigit():
            return self.client.get_channel(int(conversation)) or self.client.get_partial_messageable(
                int(conversation))
        kind, _, rest = conversation.partition(":")
        if kind == "dm" and rest.isdigit():
            return await self.client.create_dm(discord.Object(int(rest)))
        if kind == "thread":
            channel_id, _, user_id = rest.partition(":")
            if channel_id.isdigit() and user_id.isdigit():
                return await self._private_thread(int(channel_id), int(user_id), conversation)
        raise Undeliverable(f"not a Discord conversation: {conversation!r}")

    async def _private_thread(self, channel_id: int, user_id: int, key: str) -> discord.abc.Messageable:
        """The user's private thread under ``channel_id``, opened once and reused. The user is added
        again on every reuse (an idempotent PUT): an add that failed once must not leave replies
        in a thread the customer cannot see."""
        known = await self._remembered(key)
        if known is not None:
            thread = self.client.get_channel(known)
            if not (isinstance(thread, discord.Thread) and not thread.locked):
                try:
                    thread = await self.client.fetch_channel(known)
                except discord.NotFound:
                    thread = None
            if isinstance(thread, discord.Thread) and not thread.locked:
                await thread.add_user(discord.Object(user_id))
                return thread
        parent = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        if not isinstance(parent, discord.TextChannel):
            raise Undeliverable(f"channel {channel_id} cannot hold private threads")
        thread = await parent.create_thread(name=THREAD_NAME.format(user=user_id),
                                            type=discord.ChannelType.private_thread, invitable=False,
                                            auto_archive_duration=10080)
        await self._remember(key, thread.id)  # first: a failed add is retried on reuse, in this thread
        await thread.add_user(discord.Object(user_id))
        return thread

    async def thread_address(self, thread_id: int) -> str | None:
        """The ``thread:<channel>:<user>`` address of a private thread this adapter opened."""
        key = f"owner:{thread_id}"
        if self.cursor_store is not None:
            return await self.cursor_store.get_cursor("discord", key)
        return self._owners.get(key)

    async def _remembered(self, key: str) -> int | None:
        if self.cursor_store is not None:
            value = await self.cursor_store.get_cursor("discord", key)
            return int(value) if value else None
        return self._threads.get(key)

    async def _remember(self, key: str, thread_id: int) -> None:
        if self.cursor_store is not None:
            await self.cursor_store.set_cursor("discord", key, str(thread_id))
            await self.cursor_store.set_cursor("discord", f"owner:{thread_id}", key)
        self._threads[key] = thread_id
        self._owners[f"owner:{thread_id}"] = key
