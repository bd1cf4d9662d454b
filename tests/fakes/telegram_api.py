"""A fake Telegram Bot API server on 127.0.0.1, written from https://core.telegram.org/bots/api.

Serves ``POST /bot<token>/<method>`` (form-encoded or multipart; JSON-valued fields as JSON text)
and ``GET /file/bot<token>/<file_path>``, answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": ..., "parameters": {...}}`` like the real API.
Updates reach the bot through getUpdates (long poll; an update stays pending until a later call's
offset confirms it; at most ``limit`` <= 100 a call; a second concurrent long poll ends the first
with 409; 409 while a webhook is set) or, once setWebhook was called, as POSTs to the webhook URL
with the ``X-Telegram-Bot-Api-Secret-Token`` header, retried after any non-2xx answer or refused
connection when ``webhook_retry_seconds`` is set (Telegram retries until it gets a 2xx).
Faults: ``fail_next`` (some calls, or every call until ``heal``), ``go_offline``/``go_online``
(connections refused), ``slow_seconds`` / ``answer_late`` (a send is accepted at once but answered
later, as when Telegram is slow), strict flood control (``strict_rate_per_second``, ``strict_per_chat``,
``strict_per_group``: telegram_limits.py) and ``migrate`` (a group upgraded to a supergroup).
The builders (``user``, ``group``, ``message``, ``callback_query``, ``add_file``) live in
telegram_objects.PlatformSide, the chat methods (sendMessage, getFile, ...) in telegram_methods;
``deliver`` hands what the builders make to the bot.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from aiohttp.test_utils import TestServer

from tests.fakes.telegram_limits import FloodControl
from tests.fakes.telegram_methods import ChatMethods
from tests.fakes.telegram_objects import DESCRIPTIONS, JSON, ApiError, Failure, FakeFile, _json

TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnop"
BOT_ID = 123456789
SENDING_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class FakeTelegram(ChatMethods):
    token: str = TOKEN
    username: str = "okpay_support_bot"
    max_long_poll: float = 1.0  # seconds a getUpdates may hold (bounded, whatever the client asks)
    calls: list[tuple[str, JSON]] = field(default_factory=list)
    sent: list[JSON] = field(default_factory=list)  # every Message the bot sent, oldest first
    served: list[int] = field(default_factory=list)  # update ids returned by getUpdates
    callback_answers: list[JSON] = field(default_factory=list)
    webhook: JSON | None = None
    webhook_statuses: list[int] = field(default_factory=list)
    admins: dict[int, list[int]] = field(default_factory=dict)  # chat id -> admin user ids (first = owner)
    blocked_chats: set[int] = field(default_factory=set)
    webhook_retry_seconds: float | None = None  # None: one POST per delivery; else retried until a 2xx
    webhook_retry_max_seconds: float = 1.0
    webhook_attempts: Counter[int] = field(default_factory=Counter)  # update id -> webhook POSTs
    timeline: list[tuple[float, str, int]] = field(default_factory=list)  # (monotonic time, method, HTTP status)
    port: int | None = None  # a fixed port (a process configured before the fake starts); None: any free one
    strict_rate_per_second: int | None = None  # e.g. 30: one more send in any 1 s window is a 429
    strict_per_chat: bool = False  # at most 1 send per chat in any 1 s window
    strict_per_group: bool = False  # at most 20 sends per group in any 60 s window
    slow_seconds: float = 0.0  # sends are accepted at once, answered this much later
    sent_at: list[float] = field(default_factory=list)  # monotonic time each message in ``sent`` was accepted
    deleted: list[tuple[int, int]] = field(default_factory=list)  # (chat id, message id) deleted by the bot
    banned: dict[int, set[int]] = field(default_factory=dict)  # chat id -> user ids the bot banned
    withheld_rights: dict[int, set[str]] = field(default_factory=dict)  # chat id -> admin rights the bot lacks
    chat_actions: list[tuple[int, str, int | None, float]] = field(default_factory=list)  # (chat, action, topic, t)

    def __post_init__(self) -> None:
        self.bot_user: JSON = {
            "id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "OKPay Support",
            "username": self.username, "can_join_groups": True, "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.forums: set[int] = set()
        self.files: dict[str, FakeFile] = {}
        self.messages: dict[tuple[int, int], JSON] = {}
        self.started: set[int] = set()  # users who opened a private chat with the bot
        self._updates: list[JSON] = []
        self._next_update = 500_000
        self._message_ids: dict[int, int] = {}
        self._open_callbacks: set[str] = set()
        self._next_callback = 8_000_000_000
        self._failures: list[Failure] = []
        self._poll_generation = 0
        self._allowed: list[str] = []
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None
        self._session: ClientSession | None = None
        self._webhook_slots = asyncio.Semaphore(40)  # setWebhook max_connections (Telegram's default 40)
        self._senders: set[asyncio.Task[None]] = set()  # webhook POSTs of updates pending at setWebhook
        self.migrated: dict[int, int] = {}  # group id -> the supergroup it became
        self._late: list[float | int | None] | None = None  # [seconds, count or None, sends let through first]
        self.flood = FloodControl(self.strict_rate_per_second, 1 if self.strict_per_chat else None,
                                  20 if self.strict_per_group else None)

    # -- server ---------------------------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegram:
        await self.go_online()
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for sender in list(self._senders):
            sender.cancel()
        await self._release_polls()
        if self._session is not None:
            await self._session.close()
        if self._server is not None:
            await self._server.close()

    async def go_online(self) -> None:
        """Listen (again, on the same port): the bot's connections are accepted."""
        if self._server is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._server = TestServer(app, host="127.0.0.1", port=self.port)
        await self._server.start_server()
        self.port = self._server.port

    async def go_offline(self) -> None:
        """Stop listening: requests in flight are cut and new connections refused until ``go_online``."""
        server, self._server = self._server, None
        if server is not None:
            await server.close()

    async def _release_polls(self) -> None:
        async with self._changed:
            self._poll_generation += 1  # waiting long polls end
            self._changed.notify_all()

    @property
    def api_base_url(self) -> str:
        assert self.port is not None, "the fake has not started yet"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pending(self) -> list[int]:
        """Ids of the updates Telegram still holds (not confirmed by a getUpdates offset)."""
        return [u["update_id"] for u in self._updates]

    def fail_next(self, method: str | None, status: int, *, count: int | None = 1, retry_after: int | None = None,
                  description: str | None = None, after: int = 0) -> None:
        """The next ``count`` calls of ``method`` (None: any send method) fail with ``status``,
        once ``after`` matching calls went through. ``count=None``: every call until ``heal``."""
        self._failures.append(Failure(method.lower() if method else None, status, count, retry_after, description,
                                      after))

    def heal(self, method: str | None = None) -> None:
        """Forget the failures set for ``method`` (None: all of them)."""
        self._failures = [f for f in self._failures if method is not None and f.method != method.lower()]

    def answer_late(self, seconds: float, *, count: int | None = None, after: int = 0) -> None:
        """The next ``count`` accepted sends (None: every one until ``answer_on_time``), once ``after`` were
        answered normally, are answered ``seconds`` late: the message is sent at once all the same."""
        self._late = [seconds, count, after]

    def answer_on_time(self) -> None:
        self._late = None

    def _lateness(self) -> float:
        late = self._late
        if late is None:
            return self.slow_seconds
        seconds, count, after = late
        if after:
            late[2] = int(after) - 1
            return self.slow_seconds
        if count is not None:
            late[1] = int(count) - 1
            if int(count) <= 1:
                self._late = None
        return float(seconds or 0.0)

    def failed(self, method: str) -> int:
        """How many calls of ``method`` were answered with an error so far."""
        return sum(1 for _, name, status in self.timeline if name == method.lower() and status != 200)

    def _take_failure(self, method: str) -> ApiError | None:
        for failure in self._failures:
            if failure.method == method or (failure.method is None and method in SENDING_METHODS):
                if failure.after > 0:
                    failure.after -= 1
                    return None
                if failure.count is not None:
                    failure.count -= 1
                    if failure.count <= 0:
                        self._failures.remove(failure)
                text = failure.description or DESCRIPTIONS.get(failure.status, "Error")
                params = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
                return ApiError(failure.status, text.format(retry_after=failure.retry_after), params)
        return None

    async def _params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                params[key] = value if isinstance(value, str) else value.file.read()
        return params

    async def _api(self, request: web.Request) -> web.Response:
        response = await self._answer(request)
        self.timeline.append((time.monotonic(), request.match_info["method"].lower(), response.status))
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        method = request.match_info["method"].lower()  # method names are case-insensitive
        params = await self._params(request)
        self.calls.append((method, params))
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return ApiError(404, "Not Found").response()
        try:
            failure = self._take_failure(method)
            if failure is not None:
                raise failure
            sending = method in SENDING_METHODS
            if sending and self.flood.active:
                self.flood.check(self._int(params, "chat_id") or 0, time.monotonic())
            result = await handler(params)
            if sending:
                self.flood.accepted(result["chat"]["id"], time.monotonic())
                delay = self._lateness()
                if delay:
                    await asyncio.sleep(delay)  # accepted, but the answer comes late
            return _json({"ok": True, "result": result})
        except ApiError as error:
            return error.response()

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for item in self.files.values():
            if item.file_path == request.match_info["path"]:
                return web.Response(body=item.data, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    # -- helpers used by the methods -------------------------------------------------------------
    # -- receiving: getMe, webhooks, getUpdates (https://core.telegram.org/bots/api#getting-updates) ---
    async def _m_getme(self, params: JSON) -> JSON:
        return self.bot_user

    async def _m_setwebhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_RE.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not (url.startswith("https://") or re.match(r"http://(127\.0\.0\.1|localhost)[:/]", url)):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates") in ("true", "True", True):
            self._updates.clear()
        self.webhook = {"url": url, "secret_token": secret} if url else None
        if self._obj(params, "allowed_updates") is not None:
            self._allowed = list(self._obj(params, "allowed_updates"))
        connections = self._int(params, "max_connections", 40) or 40
        self._webhook_slots = asyncio.Semaphore(max(1, min(100, connections)))
        if self.webhook is not None:  # what was pending goes to the webhook now
            pending, self._updates = self._updates, []
            for update in pending:
                sender = asyncio.create_task(self._post_webhook(update))
                self._senders.add(sender)
                sender.add_done_callback(self._senders.discard)
        return True

    async def _m_deletewebhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates") in ("true", "True", True):
            self._updates.clear()
        self.webhook = None
        return True

    async def _m_getwebhookinfo(self, params: JSON) -> JSON:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _wanted(self, update: JSON) -> bool:
        kind = next((k for k in update if k != "update_id"), None)
        if kind is None:
            return True
        if self._allowed:
            return kind in self._allowed
        return kind not in ("chat_member", "message_reaction", "message_reaction_count")

    async def _m_getupdates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = self._int(params, "offset", 0) or 0
        limit = max(1, min(100, self._int(params, "limit", 100) or 100))
        timeout = min(float(params.get("timeout") or 0), self.max_long_poll)
        allowed = self._obj(params, "allowed_updates")
        if allowed is not None:
            self._allowed = list(allowed)
        async with self._changed:
            if offset > 0:  # confirms (forgets) every update below the offset
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()
            try:
                await asyncio.wait_for(self._changed.wait_for(
                    lambda: generation != self._poll_generation or any(map(self._wanted, self._updates))
                ), timeout)
            except TimeoutError:
                pass
            if generation != self._poll_generation:
                raise ApiError(409, DESCRIPTIONS[409] + "; make sure that only one bot instance is running")
            batch = [u for u in self._updates if self._wanted(u)][:limit]
        self.served.extend(u["update_id"] for u in batch)
        return batch

    async def deliver(self, kind: str, body: JSON, *, update_id: int | None = None) -> JSON:
        """Send an update to the bot (webhook POST if set, else the getUpdates queue); returns it."""
        if update_id is None:
            self._next_update += 1
            update_id = self._next_update
        update = {"update_id": update_id, kind: body}
        await self.redeliver(update)
        return update

    async def redeliver(self, update: JSON) -> None:
        """Deliver exactly this update again (a webhook retry, or an unconfirmed update)."""
        if self.webhook is not None:
            await self._post_webhook(update)
            return
        await self._queue(update)

    async def _queue(self, update: JSON) -> None:
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()

    async def _post_webhook(self, update: JSON) -> None:
        """POST the update to the webhook; with ``webhook_retry_seconds``, again after any non-2xx answer
        or refused connection (doubling, up to ``webhook_retry_max_seconds``) until one is 2xx.
        Status 0 in ``webhook_statuses`` stands for "no answer" (refused, cut, timed out)."""
        assert self._session is not None
        delay = self.webhook_retry_seconds
        async with self._webhook_slots:
            while True:
                hook = self.webhook
                if hook is None:  # deleted meanwhile: the update waits for getUpdates
                    await self._queue(update)
                    return
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                self.webhook_attempts[update["update_id"]] += 1
                try:
                    async with self._session.post(hook["url"], json=update, headers=headers) as resp:
                        status = resp.status
                except (ClientError, OSError, TimeoutError):
                    status = 0
                self.webhook_statuses.append(status)
                if 200 <= status < 300 or delay is None:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.webhook_retry_max_seconds)

    @property
    def rate_limited(self) -> int:
        """429s answered to send calls (flood control and ``fail_next``)."""
        return sum(1 for _, name, status in self.timeline if name in SENDING_METHODS and status == 429)

    def sent_to(self, chat_id: int) -> list[JSON]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id]
