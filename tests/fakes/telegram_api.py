"""A fake Telegram Bot API server on 127.0.0.1, written from https://core.telegram.org/bots/api.

Serves ``POST /bot<token>/<method>`` (form-encoded or multipart; JSON-valued fields as JSON text)
and ``GET /file/bot<token>/<file_path>``, answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": ..., "parameters": {...}}`` like the real API.
Updates reach the bot through getUpdates (long poll with offset confirmation) or, once setWebhook
was called, as POSTs to the webhook URL with the ``X-Telegram-Bot-Api-Secret-Token`` header.
The builders (``user``, ``group``, ``message``, ``callback_query``, ``add_file``) live in
telegram_objects.PlatformSide; ``deliver`` hands what they build to the bot.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from aiohttp.test_utils import TestServer

from tests.fakes.telegram_objects import (
    DESCRIPTIONS,
    JSON,
    ApiError,
    Failure,
    FakeFile,
    PlatformSide,
    _json,
    _utf16_len,
)

TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnop"
BOT_ID = 123456789
MAX_FILE_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files (cloud Bot API)
SENDING_METHODS = frozenset({"sendmessage", "sendphoto", "senddocument"})
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics",
)


@dataclass
class FakeTelegram(PlatformSide):
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

    # -- server ---------------------------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._changed:
            self._poll_generation += 1  # release waiting long polls
            self._changed.notify_all()
        if self._session is not None:
            await self._session.close()
        if self._server is not None:
            await self._server.close()

    @property
    def api_base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    def fail_next(self, method: str | None, status: int, *, count: int = 1, retry_after: int | None = None,
                  description: str | None = None, after: int = 0) -> None:
        """The next ``count`` calls of ``method`` (None: any send method) fail with ``status``,
        once ``after`` matching calls went through."""
        self._failures.append(Failure(method.lower() if method else None, status, count, retry_after, description,
                                      after))

    def _take_failure(self, method: str) -> ApiError | None:
        for failure in self._failures:
            if failure.method == method or (failure.method is None and method in SENDING_METHODS):
                if failure.after > 0:
                    failure.after -= 1
                    return None
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
            return _json({"ok": True, "result": await handler(params)})
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
    @staticmethod
    def _int(params: JSON, key: str, default: int | None = None) -> int | None:
        value = params.get(key)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {key} specified") from None

    @staticmethod
    def _obj(params: JSON, key: str) -> Any:
        value = params.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        return value

    def chat(self, chat_id: int) -> JSON:
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Group"}

    def _check_chat(self, params: JSON) -> int:
        chat_id = self._int(params, "chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id > 0 and chat_id not in self.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _check_markup(self, params: JSON) -> JSON | None:
        markup = self._obj(params, "reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"(https?|tg)://", url):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return markup

    def _bot_message(self, params: JSON, chat_id: int, content: JSON) -> JSON:
        thread = self._int(params, "message_thread_id")
        if thread is not None and chat_id not in self.forums:
            raise ApiError(400, "Bad Request: message thread not found")
        markup = self._check_markup(params)
        msg: JSON = {"message_id": self._new_message_id(chat_id), "from": self.bot_user,
                     "chat": self.chat(chat_id), "date": int(time.time()), **content}
        if thread is not None:
            msg.update(message_thread_id=thread, is_topic_message=True)
        reply = self._obj(params, "reply_parameters")
        if reply:
            original = self.messages.get((chat_id, int(reply["message_id"])))
            if original is None and not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            if original is not None:
                msg["reply_to_message"] = original
        if markup:
            msg["reply_markup"] = markup
        self.messages[(chat_id, msg["message_id"])] = msg
        self.sent.append(msg)
        return msg

    # -- methods (https://core.telegram.org/bots/api#available-methods) --------------------------
    async def _m_getme(self, params: JSON) -> JSON:
        return self.bot_user

    async def _m_sendmessage(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._bot_message(params, chat_id, {"text": text})

    async def _m_senddocument(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        doc = params.get("document")
        if not doc:
            raise ApiError(400, "Bad Request: there is no document in the request")
        size = len(doc) if isinstance(doc, bytes) else 0
        content = {"document": {"file_id": f"BQAC{len(self.sent)}", "file_unique_id": f"AgAD{len(self.sent)}",
                                "file_size": size}}
        return self._bot_message(params, chat_id, content)

    async def _m_sendphoto(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        if not params.get("photo"):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        photo = [{"file_id": f"AgAC{len(self.sent)}", "file_unique_id": f"AQAD{len(self.sent)}",
                  "width": 90, "height": 90}]
        return self._bot_message(params, chat_id, {"photo": photo})

    async def _m_sendchataction(self, params: JSON) -> bool:
        self._check_chat(params)
        return True

    async def _m_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(params)
        return True

    async def _m_getfile(self, params: JSON) -> JSON:
        item = self.files.get(str(params.get("file_id") or ""))
        if item is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if item.size > MAX_FILE_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": item.file_id, "file_unique_id": item.file_unique_id, "file_size": item.size,
                "file_path": item.file_path}

    def _member(self, chat_id: int, user_id: int) -> JSON:
        user = self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "User"})
        admins = self.admins.get(chat_id, [])
        if admins and admins[0] == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in admins:
            rights = dict.fromkeys(ADMIN_RIGHTS, True)
            return {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False,
                    **rights}
        return {"status": "member", "user": user}

    async def _m_getchatadministrators(self, params: JSON) -> list[JSON]:
        chat_id = self._check_chat(params)
        if chat_id > 0:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return [self._member(chat_id, uid) for uid in self.admins.get(chat_id, [])]

    async def _m_getchatmember(self, params: JSON) -> JSON:
        chat_id = self._check_chat(params)
        user_id = self._int(params, "user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: invalid user_id specified")
        return self._member(chat_id, user_id)

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
        kind = next(k for k in update if k != "update_id")
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
            assert self._session is not None
            headers = {}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
            async with self._session.post(self.webhook["url"], json=update, headers=headers) as resp:
                self.webhook_statuses.append(resp.status)
            return
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()

    def sent_to(self, chat_id: int) -> list[JSON]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id]
