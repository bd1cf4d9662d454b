"""The website chat: a page at /chat and a WebSocket at /chat/ws, served by the shared aiohttp app.

A visitor is a random secret in an HttpOnly cookie; the conversation is ``web:<visitor id>``, where
the visitor id is a hash of that secret (so the id the inbox shows cannot be replayed as the cookie).
Inbound frames become `InboundMessage`s handed to the engine; replies come back through the outbox
and the dispatcher to `send`, which pushes them to every open socket of the conversation (several
tabs) and reports them sent even when none is open: the store keeps them and the history frame
shows them on the next connect. Delivery is at least once, so every frame carries an id the page
dedupes on.

A visitor's message carries the page's own id for it; the stored message's platform id is
``<visitor id>:<client id>``, so a resent frame is stored once (the engine's insert is idempotent).
The server answers ``{"type": "ack", "id": <client id>}`` only after the engine committed it (an
exact resend is acknowledged too, and queues nothing); until then the page keeps the message and sends
it again after reconnecting. A message the engine could not store gets an error frame and no ack. An id
already used for a different message gets an error (``duplicate_id``): the first one is what was kept.
An id the server does not take (not 1-64 of ``A-Za-z0-9_-``) gets an error (``bad_id``) and nothing is
stored; a frame without an id gets one from the server, named in its ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import secrets
import uuid
from collections import OrderedDict
from importlib import resources
from typing import Any, ClassVar
from urllib.parse import urlsplit

import jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from aiolimiter import AsyncLimiter
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bots.base import ChannelHealth, ChannelSettings, Inbound, TypingSeen, split_text
from bots.lru import LRU
from bots.webchat.frames import (
    FROM,
    ID_RULE,
    TYPING_FRAME,
    client_id,
    file_links,
    frame_size_limit,
    language_tag,
    reply_frame,
    same_message,
    send_error,
    storable,
)
from bots.webchat.settings import WebchatSettings
from core.language import normalise_hint
from core.models import Author, InboundMessage, OutboundMessage, Sent, utcnow

log = logging.getLogger(__name__)

COOKIE = "supportbot_visitor"
COOKIE_MAX_AGE = 180 * 24 * 3600
CHANNEL = "webchat"
HISTORY_LIMIT = 200
WELCOMED_KEPT = 50_000  # visitors welcomed lately who have not written yet, remembered (bounded)
WELCOMED_SECONDS = 3600.0
STARTING_WAIT = 10.0  # seconds a visitor arriving during start-up waits for the chat
TYPING_SHOWN = 6.0  # seconds the agent's page shows a visitor typing after one typing frame
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

UI_TEXT: dict[str, dict[str, str]] = {
    "en": {"title": "{brand} support", "placeholder": "Type your question…", "send": "Send",
           "human": "Talk to a person", "topics": "Topics", "connecting": "Connecting…",
           "offline": "Connection lost, reconnecting…", "online": "Connected", "unsent": "Not sent yet",
           "you": "You", "bot": "{brand} assistant", "agent": "Support agent", "log": "Conversation",
           "too_long": "This message is too long.", "typing": "Support agent is typing…",
           "privacy": "Never send your password, PIN or verification codes."},
    "zh-Hans": {"title": "{brand} 客服", "placeholder": "请输入你的问题…", "send": "发送", "human": "转人工客服",
                "topics": "常见问题", "connecting": "正在连接…", "offline": "连接已断开，正在重连…", "online": "已连接",
                "unsent": "尚未发送", "you": "你", "bot": "{brand} 助手", "agent": "客服人员", "log": "对话记录",
                "too_long": "消息太长了。", "privacy": "请勿发送密码、PIN 码或验证码。", "typing": "客服人员正在输入…"},
    "zh-Hant": {"title": "{brand} 客服", "placeholder": "請輸入你的問題…", "send": "傳送", "human": "轉人工客服",
                "topics": "常見問題", "connecting": "正在連線…", "offline": "連線已中斷，正在重新連線…",
                "online": "已連線",
                "unsent": "尚未傳送", "you": "你", "bot": "{brand} 助理", "agent": "客服人員", "log": "對話紀錄",
                "too_long": "訊息太長了。", "privacy": "請勿傳送密碼、PIN 碼或驗證碼。", "typing": "客服人員正在輸入…"},
}


def visitor_id(token: str) -> str:
    """The visitor's public id (conversation key) derived from the cookie secret."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def conversation_of(token: str) -> str:
    return f"web:{visitor_id(token)}"


class WebchatAdapter:
    name: ClassVar[str] = CHANNEL
    max_text_length: ClassVar[int] = 4000  # longer replies arrive as several bubbles
    settings_model: ClassVar[type[ChannelSettings]] = WebchatSettings
    idempotent_sends: ClassVar[bool] = True  # every frame has an id the page dedupes: a resend is never seen twice
    page: ClassVar[tuple[str, str]] = ("website chat", "/chat")  # shown at start: what to open, and where
    # `send` reaches the sockets of this process only: with several processes, core/relay.py takes a reply to the
    # web process that holds the customer's socket
    sends_to_local_sockets: ClassVar[bool] = True

    def __init__(self, settings: WebchatSettings, *, public_url: str | None = None, data_dir: str = "data",
                 cursor_store: object | None = None) -> None:
        """``cursor_store`` is accepted like every adapter's; the chat keeps no cursors (history is the store)."""
        self.settings = settings
        self.public_url = public_url.rstrip("/") if public_url else None
        self.data_dir = data_dir
        self._inbound: Inbound | None = None
        self._sockets: dict[str, set[web.WebSocketResponse]] = {}
        self._limits: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._per_address: dict[str, int] = {}  # open sockets per client address
        self._new_visitors = MovingWindowRateLimiter(MemoryStorage())
        self._welcomed: LRU[str, bool] = LRU(WELCOMED_KEPT, ttl=WELCOMED_SECONDS)  # counted once as new
        self._new_visitor_limit = RateLimitItemPerMinute(settings.new_visitors_per_address_per_minute)
        self._template: jinja2.Template | None = None
        self.health = ChannelHealth(CHANNEL)
        self.customer_typing: TypingSeen | None = None  # set by core/typing_indicators.py
        self._stopped = asyncio.Event()
        self._started = asyncio.Event()

    # ---- lifecycle ---------------------------------------------------------------------------
    async def start(self, inbound: Inbound) -> None:
        """Sockets are accepted from now on; ``inbound`` is the engine (its ``store`` serves history)."""
        self._inbound = inbound
        self._stopped.clear()
        self._started.set()
        self.health.up()  # served by our own web server: receiving as soon as sockets are accepted

    async def wait_closed(self) -> None:
        """The chat receives for as long as the web server serves it: only `stop` ends it."""
        await self._stopped.wait()

    async def stop(self) -> None:
        """Close every socket (the page reconnects to the next server). Idempotent."""
        self._inbound = None
        self._started.clear()
        self._stopped.set()
        sockets = [ws for group in self._sockets.values() for ws in group]
        self._sockets.clear()
        results = await asyncio.gather(*(ws.close(code=1001, message=b"server restarting") for ws in sockets),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):  # a socket that is already gone needs no closing
                log.debug("closing a chat socket failed: %r", result)

    @property
    def open_sockets(self) -> int:
        return sum(len(group) for group in self._sockets.values())

    def holds(self, conversation: str) -> bool:
        """Whether a tab of ``conversation`` is open in this process (core/relay.py pushes only there)."""
        return conversation in self._sockets

    async def resync(self) -> None:
        """Replies may have been missed (this process's link to the others was re-established): every open tab
        gets its history again; the page dedupes by frame id."""
        for conversation, group in list(self._sockets.items()):
            for ws in list(group):
                with contextlib.suppress(Exception):
                    await self._send_history(ws, conversation, conversation.removeprefix("web:"))

    def web_routes(self) -> list[web.RouteDef]:
        return [web.get("/chat", self._page, name="chat"), web.get("/chat/ws", self._socket, name="chat_ws")]

    # ---- outbound ----------------------------------------------------------------------------
    async def send(self, reply: OutboundMessage) -> Sent:
        """Push to every open tab of the conversation; with none open the stored reply waits for the history."""
        frame = reply_frame(reply)
        parts = split_text(reply.text, self.max_text_length) if reply.text else [""]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            data = json.dumps({**frame, "id": frame["id"] + (f".{index}" if index else ""), "text": part,
                               "quick_replies": frame["quick_replies"] if last else [],
                               "attachments": frame["attachments"] if last else []}, ensure_ascii=False)
            for ws in list(self._sockets.get(reply.conversation, ())):
                try:
                    await ws.send_str(data)
                except Exception:  # the tab went away mid-send: it gets the reply from the history
                    self._sockets.get(reply.conversation, set()).discard(ws)
        return Sent(platform_id=frame["id"])

    async def typing(self, conversation: str) -> None:
        """An agent is writing: "typing…" in every tab of the conversation open in this process (the page hides it
        after a few seconds, or when the reply arrives)."""
        for ws in list(self._sockets.get(conversation, ())):
            with contextlib.suppress(Exception):  # a tab going away misses nothing it needs
                await ws.send_str(TYPING_FRAME)

    def _visitor_typing(self, conversation: str, visitor: str) -> None:
        """A ``{"type": "typing"}`` frame (the page sends at most one every 3 s): shown to the agent, nothing
        stored, no answer; it costs nothing of the visitor's message allowance."""
        if self.customer_typing is not None:
            self.customer_typing(conversation, visitor, TYPING_SHOWN)

    # ---- the page ----------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        await self._until_started()
        token = request.cookies.get(COOKIE)
        if not token or not _TOKEN.match(token):
            token = secrets.token_urlsafe(32)
        lang = page_language(request.headers.get("Accept-Language"))
        kb = getattr(self._inbound, "kb", None)
        brand = getattr(kb, "brand", None) or "Support"
        text = {k: v.replace("{brand}", brand) for k, v in UI_TEXT[lang].items()}
        greeting = kb.message("greeting", lang) if kb is not None else ""
        html = self._page_template().render(lang=lang, text=text, greeting=greeting,
                                             max_length=self.settings.max_message_length)
        response = web.Response(text=html, content_type="text/html", charset="utf-8")
        self._set_cookie(response, token, request)
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", self._csp())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    def _page_template(self) -> jinja2.Template:
        if self._template is None:
            folder = resources.files("core.web") / "templates"
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True)
            self._template = env.get_template("chat.html")
        return self._template

    def _csp(self) -> str:
        ancestors = " ".join(["'self'", *self.settings.allowed_origins])
        return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                f"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}")

    def _set_cookie(self, response: web.StreamResponse, token: str, request: web.Request) -> None:
        secure = request.secure or bool(self.public_url and self.public_url.startswith("https://"))
        # Embedded on another site (allowed_origins) the cookie must be cross-site: browsers allow that over HTTPS.
        samesite = "None" if secure and self.settings.allowed_origins else "Lax"
        response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/chat", httponly=True, secure=secure,
                            samesite=samesite)

    # ---- the socket --------------------------------------------------------------------------
    async def _until_started(self) -> None:
        """The web server listens a moment before the channels start: a visitor arriving then waits for
        the chat (a few milliseconds) instead of getting an error; after a stop it is refused."""
        if self._inbound is None and not self._stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._started.wait(), STARTING_WAIT)
        if self._inbound is None:
            raise web.HTTPServiceUnavailable(text="the chat is not available right now, try again in a moment")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        await self._until_started()
        if not self._origin_allowed(request):
            raise web.HTTPForbidden(text="this origin may not open the chat")
        token = request.cookies.get(COOKIE)
        fresh = not token or not _TOKEN.match(token)
        if fresh:
            token = secrets.token_urlsafe(32)
        assert token is not None
        address = request.remote or "unknown"
        if self._per_address.get(address, 0) >= self.settings.sockets_per_address:
            raise web.HTTPTooManyRequests(text="too many chats are open from your network; close one and try again")
        if not await self._welcome(visitor_id(token), address, fresh):
            raise web.HTTPTooManyRequests(text="too many new chats from your network; try again in a minute")
        # timeout: how long close() waits for the browser's answer (a shutdown must not hang on a dead tab)
        ws = web.WebSocketResponse(heartbeat=30, timeout=3.0,
                                   max_msg_size=frame_size_limit(self.settings.max_message_length))
        if fresh:
            self._set_cookie(ws, token, request)
        await ws.prepare(request)
        visitor = visitor_id(token)
        conversation = f"web:{visitor}"
        language = language_tag(request.headers.get("Accept-Language", ""))
        group = self._sockets.setdefault(conversation, set())
        group.add(ws)  # before reading the history: a reply sent meanwhile is pushed, never missed
        self._per_address[address] = self._per_address.get(address, 0) + 1
        try:
            await self._send_history(ws, conversation, visitor)
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    await self._receive(ws, frame.data, visitor, conversation, language)
                elif frame.type == WSMsgType.BINARY:
                    await send_error(ws, "send JSON text frames")
        except ConnectionError:  # the tab went away while we wrote to it
            log.debug("a chat socket of %s closed mid-write", conversation)
        except Exception:
            # The socket is open: an HTTP error page written now would reach the browser as garbage inside the
            # WebSocket stream. Close it properly instead (1011); the page reconnects and sends again.
            log.exception("the chat socket of %s failed", conversation)
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
        finally:
            group.discard(ws)
            if not group and self._sockets.get(conversation) is group:
                del self._sockets[conversation]
            left = self._per_address.get(address, 1) - 1
            if left > 0:
                self._per_address[address] = left
            else:
                self._per_address.pop(address, None)
        return ws

    async def _welcome(self, visitor: str, address: str, fresh: bool) -> bool:
        """A visitor the store has never seen counts against its address's new visitors per minute (a cookie
        minted by /chat is as new as none at all), once: a visitor welcomed lately who has not written yet (a
        phone's socket dropping and coming back, a reload) is not new again, or customers behind one carrier's
        address would use the allowance up by reconnecting. A returning visitor is always welcome."""
        if not fresh:
            if visitor in self._welcomed:
                return True
            store = getattr(self._inbound, "store", None)
            if store is not None and await store.identity_exists(CHANNEL, visitor):
                return True
        if not self._new_visitors.hit(self._new_visitor_limit, address):
            return False
        self._welcomed.put(visitor, True)
        return True

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser: Origin is the browser's defence against other sites' pages
            return True
        origin = origin.strip().rstrip("/").lower()
        allowed = {o.strip().rstrip("/").lower() for o in self.settings.allowed_origins}
        if self.public_url:
            parts = urlsplit(self.public_url)
            allowed.add(f"{parts.scheme}://{parts.netloc}".lower())
        if origin in allowed:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == request.host.lower()

    async def _send_history(self, ws: web.WebSocketResponse, conversation: str, visitor: str) -> None:
        store = getattr(self._inbound, "store", None)
        messages: list[dict[str, Any]] = []
        if store is not None:
            try:
                thread = await store.messages_for_conversation(CHANNEL, conversation)
            except Exception:
                log.exception("reading the chat history of %s failed", conversation)
                await send_error(ws, "your earlier messages could not be loaded; new messages work")
                thread = []
            for item in thread[-HISTORY_LIMIT:]:
                row = item.message
                if row.direction not in ("in", "out") or row.deleted_at is not None:
                    continue
                if row.direction == "in":
                    frame_id = (row.platform_id or "").removeprefix(f"{visitor}:")
                    author = "customer"
                else:
                    frame_id, author = f"m{row.id}", FROM.get(row.author_kind, "bot")
                messages.append({"id": frame_id, "from": author, "text": row.text,
                                 "at": row.created_at.isoformat(), "quick_replies": [],
                                 "attachments": file_links(row.attachments or ()) if row.direction == "out" else []})
        await ws.send_str(json.dumps({"type": "history", "messages": messages}, ensure_ascii=False))

    async def _receive(self, ws: web.WebSocketResponse, data: str, visitor: str, conversation: str,
                       language: str | None) -> None:
        """One client frame: validate, rate-limit, hand to the engine, then ack it and echo it to the visitor's tabs."""
        try:
            frame = json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: [[[[...]]]] thousands deep
            await send_error(ws, "malformed JSON")
            return
        if not isinstance(frame, dict):
            await send_error(ws, "a frame must be a JSON object")
            return
        kind = frame.get("type")
        if kind == "typing":
            self._visitor_typing(conversation, visitor)
            return
        given = client_id(frame.get("id"))
        if kind not in ("message", "button"):
            named = repr(kind) if isinstance(kind, str) and len(kind) <= 32 else f"of JSON type {type(kind).__name__}"
            await send_error(ws, f"unknown frame type {named}; use 'message' or 'button'", given)
            return
        if frame.get("id") is not None and given is None:  # a new id each time would store each resend again
            await send_error(ws, f"bad id: {ID_RULE}; nothing was stored", code="bad_id")
            return
        text = frame.get("text" if kind == "message" else "payload")
        if isinstance(text, str):
            text = storable(text).strip()
        if not isinstance(text, str) or not text:
            await send_error(ws, "empty message" if kind == "message" else "a button needs a payload", given)
            return
        if len(text) > self.settings.max_message_length:
            await send_error(ws, f"message too long: {len(text)} characters, at most "
                                 f"{self.settings.max_message_length}", given, code="too_long")
            return
        if not self._limiter(visitor).has_capacity():
            await send_error(ws, "too many messages; please wait a moment and send again", given,
                             code="rate_limited")
            return
        await self._limiter(visitor).acquire()
        given = given or uuid.uuid4().hex
        message = InboundMessage(
            channel=CHANNEL, platform_id=f"{visitor}:{given}", conversation=conversation,
            author=Author(platform_user_id=visitor, display_name=f"Web visitor {visitor[:6]}", language=language),
            text=text, received_at=utcnow(), raw={"button": True} if kind == "button" else {})
        inbound = self._inbound
        if inbound is None:
            await send_error(ws, "the chat is restarting; send again in a moment", given, code="unavailable")
            return
        try:
            outcome = await inbound.handle_message(message)
        except Exception:
            log.exception("storing a chat message of %s failed", conversation)
            await send_error(ws, "your message could not be saved; please send it again", given,
                             code="unavailable")
            return
        duplicate = getattr(outcome, "action", None) == "duplicate"
        if duplicate and not await self._resent_as_kept(ws, message, given):
            return
        # committed: only now may the page forget it (an exact resend of a stored one is acknowledged the same way)
        try:
            await ws.send_str(json.dumps({"type": "ack", "id": given}))
        except Exception:  # the tab went away after the commit: its resend is a duplicate, acknowledged then
            log.debug("ack to a closed tab", exc_info=True)
        echo = json.dumps({"type": "message", "from": "customer", "id": given, "text": text,
                           "at": message.received_at.isoformat(), "quick_replies": []}, ensure_ascii=False)
        for tab in [ws] if duplicate else list(self._sockets.get(conversation, ())):
            try:
                await tab.send_str(echo)
            except Exception:
                log.debug("echo to a closed tab", exc_info=True)

    async def _resent_as_kept(self, ws: web.WebSocketResponse, message: InboundMessage, given: str) -> bool:
        """A message whose id is stored already: True if it is the one stored (a resend after a reconnect). Else
        the visitor is told it was not stored (acked, it would look sent while only the first text was kept)."""
        store = getattr(self._inbound, "store", None)
        try:
            row = await store.message(CHANNEL, message.platform_id) if store is not None else None
        except Exception:
            log.exception("reading the stored chat message %s failed", message.platform_id)
            await send_error(ws, "your message could not be checked; please send it again", given,
                             code="unavailable")
            return False
        if row is None or same_message(row.text, row.raw or {}, message.text, button=bool(message.raw)):
            return True
        await send_error(ws, "this id was already used for a different message, which is the one kept; this one "
                             "was not stored: send it with a new id", given, code="duplicate_id")
        return False

    def _limiter(self, visitor: str) -> AsyncLimiter:
        limiter = self._limits.get(visitor)
        if limiter is None:
            limiter = self._limits[visitor] = AsyncLimiter(self.settings.visitor_messages_per_minute, 60)
            if len(self._limits) > 10_000:
                self._limits.popitem(last=False)
        else:
            self._limits.move_to_end(visitor)
        return limiter


def page_language(accept_language: str | None) -> str:
    """The page's own language from the browser's preference: zh-Hant, zh-Hans or en."""
    for part in (accept_language or "").split(","):
        lang = normalise_hint(part.split(";")[0])
        if lang:
            return lang
    return "en"
