"""Telegram through python-telegram-bot (our own polling loop, or a webhook on the shared aiohttp app).

PTB runs inside our event loop with ``initialize()``/``start()`` and without its Updater
(``updater(None)``) in both modes; never ``run_polling``. Nothing is confirmed to Telegram before
the engine committed it: polling moves its offset only past stored updates (``polling.py``), the
webhook answers 200 only after the commit (anything else makes Telegram send it again).
Translation lives in ``inbound`` (updates in) and ``outbound`` (replies out, error mapping); one
reply's way out (parts, moved groups, the public note for a refused private reply) in ``send``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import web
from telegram import CallbackQuery, ChatMemberUpdated, Message, ReplyParameters, Update, User
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bots.base import ChannelHealth, ChannelSettings, CursorStore, Inbound
from bots.telegram.escalation import COMMANDS, ModeratorCheck, escalate
from bots.telegram.files import FileFetcher
from bots.telegram.handover import Handed, Handover
from bots.telegram.inbound import (
    CHANNEL,
    MODERATOR_COMMANDS,
    BotIdentity,
    author_of,
    command_of,
    conversation_of,
    files_of,
    is_addressed,
    is_private,
    message_id,
    received_at,
    to_inbound,
)
from bots.telegram.members import joined_by_change, joined_by_message
from bots.telegram.migration import ChatMoves
from bots.telegram.outbound import PayloadMemory, map_error, parse_conversation
from bots.telegram.polling import UpdatePoller
from bots.telegram.progress import PartsSent, RecentNotes
from bots.telegram.send import Sender
from bots.telegram.settings import TelegramSettings
from bots.telegram.updates import Unreadable, read_update, update_id_of
from core.errors import ConfigError
from core.models import Attachment, InboundMessage, MemberJoined, MessageEdit, OutboundMessage, Sent, utcnow

log = logging.getLogger(__name__)

# chat_member: joins in large groups, where Telegram sends no join service message (members.py)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramAdapter:
    """One bot account. ``send`` works without ``start`` (a dispatcher-only process)."""

    name: ClassVar[str] = CHANNEL
    max_text_length: ClassVar[int] = 4096
    settings_model: ClassVar[type[ChannelSettings]] = TelegramSettings
    sends_without_receiving: ClassVar[bool] = True  # any dispatcher process sends (core/roles.py)

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        public_url: str | None = None,
        data_dir: str | Path = "data",
        cursor_store: CursorStore | None = None,
    ) -> None:
        self.settings = settings
        self.public_url = public_url.rstrip("/") if public_url else None
        self.files_dir = Path(data_dir) / "telegram"
        self._app: Application | None = None  # type: ignore[type-arg]
        self._lock = asyncio.Lock()
        self._inbound: Inbound | None = None
        self._identity: BotIdentity | None = None
        self._payloads = PayloadMemory(cursor_store)
        self._parts = PartsSent(cursor_store)
        self._moves = ChatMoves(cursor_store)
        self._notes = RecentNotes(cursor_store)
        self._sender: Sender | None = None
        self._moderators: ModeratorCheck | None = None
        self._files: FileFetcher | None = None
        self.health = ChannelHealth(self.name)
        self._handover: Handover | None = None
        self._poller: UpdatePoller | None = None
        self._receiving: asyncio.Task[None] | None = None  # the polling loop
        self._closed = asyncio.Event()  # set by stop()

    # -- lifecycle ---------------------------------------------------------------------------
    async def _application(self) -> Application:  # type: ignore[type-arg]
        async with self._lock:
            if self._app is not None:
                return self._app
            if self.settings.token is None:
                raise ConfigError("channels.telegram.token is not set")
            # httpx logs every request URL at INFO, and the URL holds the bot token.
            logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
            base = self.settings.api_base_url.rstrip("/")
            patience = self.settings.send_timeout_seconds  # a slow answer is waited for, not sent again
            builder = (
                Application.builder()
                .token(self.settings.token.get_secret_value())
                .base_url(f"{base}/bot")
                .base_file_url(f"{base}/file/bot")
                .read_timeout(patience)
                .write_timeout(patience)
                .media_write_timeout(max(patience, 60.0))
                .connect_timeout(min(patience, 10.0))
                .job_queue(None)
            )
            app = builder.updater(None).build()  # polling is our own loop (polling.py)
            try:
                await app.initialize()
            except TelegramError as exc:
                await app.bot.shutdown()  # close the HTTP pools opened before getMe failed
                if isinstance(exc, InvalidToken):  # PTB's message quotes the token: not chained, not logged
                    raise ConfigError("channels.telegram.token was rejected by the Bot API") from None
                raise map_error(exc) from exc
            self._identity = BotIdentity(app.bot.id, app.bot.username)
            self._moderators = ModeratorCheck(
                app.bot, set(self.settings.moderators), self.settings.moderator_cache_seconds
            )
            self._files = FileFetcher(app.bot, self.files_dir, self.settings.max_download_bytes)
            self._sender = Sender(app.bot, app.bot.username, max_text_length=self.max_text_length,
                                  payloads=self._payloads, parts=self._parts, moves=self._moves, notes=self._notes)
            self._app = app
            return app

    @property
    def bot(self) -> BotIdentity:
        if self._identity is None:
            raise RuntimeError("the Telegram adapter is not initialised yet")
        return self._identity

    async def start(self, inbound: Inbound) -> None:
        """Receiving runs when this returns: the polling loop started, or the webhook registered."""
        app = await self._application()
        if app.running:
            return
        self._inbound = inbound
        self._closed.clear()
        self._handover = Handover(self._on_update, self.files_dir / "failed-updates")
        await app.start()
        try:
            if self.settings.mode == "polling":
                await app.bot.delete_webhook(drop_pending_updates=False)  # getUpdates answers 409 while one is set
                self._poller = UpdatePoller(app.bot, self._handover, self.health, allowed_updates=ALLOWED_UPDATES,
                                            timeout=self.settings.poll_timeout_seconds,
                                            patience=self.settings.send_timeout_seconds)
                self._receiving = self._poller.start()
                return
            if self.public_url:
                secret = self.settings.webhook_secret
                await app.bot.set_webhook(
                    url=self.public_url + self.settings.webhook_path,
                    secret_token=secret.get_secret_value() if secret else None,
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                log.info("telegram: webhook mode without public_url; assuming the webhook is set elsewhere")
            self.health.up()
        except TelegramError as exc:
            await self.stop()
            if isinstance(exc, InvalidToken):
                raise ConfigError("channels.telegram.token was rejected by the Bot API") from None
            raise map_error(exc) from exc

    async def wait_closed(self) -> None:
        """Returns after ``stop()``; raises why the polling loop ended on its own (a rejected token, a bug)."""
        closed, receiving = self._closed, self._receiving
        waiting = asyncio.ensure_future(closed.wait())
        try:
            await asyncio.wait({waiting} | ({receiving} if receiving else set()),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        if closed.is_set() or receiving is None or receiving.cancelled():
            return
        raise receiving.exception() or RuntimeError("telegram: the polling loop ended")

    async def stop(self) -> None:
        """Stop receiving (the poller confirms only what was stored) and close the HTTP pools. Idempotent."""
        self._closed.set()
        poller, self._poller, self._receiving = self._poller, None, None
        if poller is not None:
            await poller.stop()  # before the app goes: a handover in progress still posts notices
        async with self._lock:
            app, self._app = self._app, None
        if app is None:
            return
        if app.running:
            await app.stop()
        await app.shutdown()

    def conversation_rate(self, conversation: str) -> float | None:
        """Groups (negative chat ids) take at most ``group_messages_per_minute``; others use the default."""
        chat_id, _ = parse_conversation(conversation)
        return self.settings.group_messages_per_minute / 60 if chat_id < 0 else None

    # -- webhook ----------------------------------------------------------------------------
    def web_routes(self) -> list[web.RouteDef]:
        if self.settings.mode != "webhook":
            return []
        return [web.post(self.settings.webhook_path, self._webhook)]

    async def _webhook(self, request: web.Request) -> web.Response:
        """Verify the secret, hand the update over; 200 once it is stored, 503 (Telegram resends) if not."""
        secret = self.settings.webhook_secret
        # aiohttp keeps header bytes that are not UTF-8 as surrogates: encoded back as they came, never an error
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value().encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
        except (ValueError, RecursionError):  # not JSON, a number int() refuses, nesting past the stack
            return web.Response(status=400, text="malformed JSON")
        update_id = update_id_of(data)
        if update_id is None:
            return web.Response(status=400, text="not a Telegram update")
        app, handover = self._app, self._handover
        if app is None or not app.running or handover is None:
            return web.Response(status=503, text="not running")  # Telegram retries later
        try:
            update = read_update(data, app.bot)
        except Unreadable as exc:  # signed by Telegram all the same: kept on disk for an operator to look at
            handover.keep(update_id, data, why=str(exc))
            return web.Response(status=400, text=str(exc))
        # Stored before the 200: Telegram never resends an update it got a 200 for, and resends any other.
        if await handover(update) is Handed.RETRY:
            self.health.trouble(f"telegram: updates not stored yet, Telegram will resend: {handover.last_error}")
            return web.Response(status=503, text="not stored; send it again")
        if not self.health.receiving:
            self.health.up()
        return web.Response(text="ok")

    # -- inbound ----------------------------------------------------------------------------
    async def _on_update(self, update: Update) -> None:
        """Hand one update to the engine; raises if it was not stored (``Handover`` decides what then)."""
        if update.callback_query is not None:
            await self._on_button(update.callback_query)
        elif update.edited_message is not None:
            await self._on_edit(update.edited_message)
        elif update.message is not None:
            await self._on_message(update.message)
        elif update.chat_member is not None:
            await self._on_member_change(update.chat_member)

    def _is_echo(self, message: Message) -> bool:
        return message.from_user is not None and message.from_user.id == self.bot.id

    async def home(self, inbound: InboundMessage) -> InboundMessage:
        """A supergroup that was a group keeps the conversation the store knows: the old group's address."""
        address = await self.home_address(inbound.conversation)
        return inbound if address == inbound.conversation else dataclasses.replace(inbound, conversation=address)

    async def home_address(self, conversation: str) -> str:
        """The address the store knows for a chat or topic (the old group's, after an upgrade)."""
        chat, colon, thread = conversation.partition(":")
        if not chat.startswith("-"):
            return conversation
        known = await self._moves.home(int(chat))
        return conversation if known == int(chat) else f"{known}{colon}{thread}"

    async def _on_message(self, message: Message) -> None:
        if self._is_echo(message) or message.is_automatic_forward:
            return
        if message.migrate_to_chat_id:  # the group became a supergroup (service message in the old chat)
            await self._moves.moved(message.chat.id, message.migrate_to_chat_id)
            return
        if message.migrate_from_chat_id:  # the same move, seen from the new supergroup
            await self._moves.moved(message.migrate_from_chat_id, message.chat.id)
            return
        if message.new_chat_members:  # a join service message
            await self._joined(message.chat.id, joined_by_message(message, self.bot), conversation_of(message),
                               received_at(message))
            return
        if not (message.text or message.caption or files_of(message)):
            return  # other service messages (pins, topic changes, members leaving)
        assert self._inbound is not None and self._moderators is not None
        command = command_of(message, self.bot)
        if command is not None and command.name in MODERATOR_COMMANDS:
            if is_private(message.chat):
                await self.post_notice(message, COMMANDS[command.name][2])
                return
            await escalate(self, message, command, self._inbound, self._moderators)
            return
        private = is_private(message.chat)
        moderator = False if private else await self._moderators.check(message)
        # Files of group chatter are not fetched: only what the bot is asked about (escalate()
        # fetches an escalated message's files itself).
        wanted = private or is_addressed(message, self.bot)
        attachments = (await self.attachments(message) if wanted
                       else tuple(ref.attachment() for ref in files_of(message)))
        inbound = to_inbound(message, self.bot, attachments=attachments, is_moderator=moderator)
        await self._inbound.handle_message(await self.home(inbound))

    async def _on_member_change(self, change: ChatMemberUpdated) -> None:
        user = joined_by_change(change, self.bot)
        if user is not None:
            await self._joined(change.chat.id, [user], str(change.chat.id), change.date)

    async def _joined(self, chat_id: int, users: list[User], conversation: str, at: datetime) -> None:
        """Hand each newcomer to the engine, which checks the name (raises if that was not stored)."""
        watch = getattr(self._inbound, "handle_member_joined", None)
        if not users or watch is None:  # an inbound side that does not watch names (a test recorder)
            return
        assert self._moderators is not None
        address = await self.home_address(conversation)
        for user in users:
            moderator = await self._moderators.is_moderator(chat_id, user.id)
            await watch(MemberJoined(CHANNEL, address, author_of(user, is_moderator=moderator), joined_at=at))

    async def _on_edit(self, message: Message) -> None:
        if self._is_echo(message):
            return
        assert self._inbound is not None
        text = message.text if message.text is not None else message.caption
        edited = to_inbound(message, self.bot).text if text is not None else None
        outcome = await self._inbound.handle_edit(
            MessageEdit(
                channel=CHANNEL,
                platform_id=message_id(message.chat.id, message.message_id),
                text=edited,
                edited_at=message.edit_date or utcnow(),
            )
        )
        if getattr(outcome, "action", None) == "unknown":
            # An edit of a message we never saw (a group message edited to mention the bot, one sent while the
            # bot was not in the chat): its text is all there is of it, so it is a new message, not lost.
            await self._on_message(message)

    async def _on_button(self, query: CallbackQuery) -> None:
        assert self._inbound is not None
        try:
            if query.data is None:
                return  # game buttons: nothing to hand over
            payload = await self._payloads.payload(query.data)
            shown = query.message
            if shown is None:
                conversation, public = str(query.from_user.id), False
            else:
                public = not is_private(shown.chat)
                conversation = conversation_of(shown) if isinstance(shown, Message) else str(shown.chat.id)
            raw: dict[str, Any] = {"button": True, "callback_data": query.data}
            if shown is not None:
                raw["keyboard_message"] = message_id(shown.chat.id, shown.message_id)
            await self._inbound.handle_message(await self.home(
                InboundMessage(
                    channel=CHANNEL,
                    platform_id=f"cb:{query.id}",
                    conversation=conversation,
                    author=author_of(query.from_user),
                    text=payload,
                    public=public,
                    private_conversation=str(query.from_user.id) if public else None,
                    addressed=True,
                    raw=raw,
                )
            ))
        finally:
            try:
                await query.answer()  # stops the button's spinner
            except TelegramError as exc:
                log.info("telegram: callback query %s not answered: %s", query.id, exc)

    async def attachments(self, message: Message) -> tuple[Attachment, ...]:
        assert self._files is not None
        return await self._files.attachments(message)

    async def post_notice(self, message: Message, text: str) -> None:
        """A short adapter-level reply (usage, escalation notice) under ``message``, in its topic."""
        assert self._app is not None
        thread = message.message_thread_id if message.is_topic_message else None
        try:
            await self._app.bot.send_message(
                message.chat.id,
                text,
                message_thread_id=thread,
                reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
            )
        except TelegramError as exc:
            log.warning("telegram: notice not posted in %s: %s", message.chat.id, exc)

    # -- outbound ---------------------------------------------------------------------------
    async def send(self, reply: OutboundMessage) -> Sent:
        await self._application()
        assert self._sender is not None
        return await self._sender.send(reply)

    async def typing(self, conversation: str) -> None:
        """An agent is writing to ``conversation``: "typing…" there (``sendChatAction``; Telegram shows it ~5 s)."""
        await self._application()
        assert self._sender is not None
        await self._sender.typing(conversation)
