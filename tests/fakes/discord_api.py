"""A fake Discord on 127.0.0.1: the gateway (WebSocket) and the REST API the bot uses.

Written from the Discord API documentation (Gateway, Channel, Message, User, Guild, Interactions,
Application Commands, Rate Limits). The real discord.py connects to it: the adapter's
``api_base_url`` is ``rest_base``, and ``GET /gateway/bot`` names the fake's gateway. Events reach
the client only through the socket. ``GET /channels/{id}/messages`` answers as documented: newest
first (with ``after`` too: the ``limit`` messages right after it; ``before``/``after``/``around``
mutually exclusive), and message objects without the gateway-only ``guild_id``/``member`` fields.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.discord_events import EventMaker
from tests.fakes.discord_gateway import Gateway, Session
from tests.fakes.discord_limits import Limits
from tests.fakes.discord_moderation import Moderation
from tests.fakes.discord_typing import Typing
from tests.fakes.discord_world import DM, PRIVATE_THREAD, World, payload

API = "/api/v10"


def jsonr(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header verbatim.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def error(status: int, message: str, code: int = 0, headers: dict[str, str] | None = None) -> web.Response:
    return jsonr({"message": message, "code": code}, status, headers)


def rest_message(msg: dict[str, Any]) -> dict[str, Any]:
    """A message as REST returns it: ``guild_id``, ``member`` and the mentions' ``member`` are
    MESSAGE_CREATE extra fields (Gateway Events), not part of the message object."""
    out = {k: v for k, v in msg.items() if k not in ("guild_id", "member")}
    out["mentions"] = [{k: v for k, v in m.items() if k != "member"} for m in msg.get("mentions", [])]
    ref = out.get("referenced_message")
    if ref:
        out["referenced_message"] = rest_message(ref)
    return out


@dataclass
class Bucket:
    """Per-route rate limit as announced in X-RateLimit-* headers."""

    limit: int
    window: float
    remaining: int = 0
    reset_at: float = 0.0


class FakeDiscord(World, EventMaker, Gateway, Limits, Moderation, Typing):
    def __init__(self, *, token: str = "test-token", shard_count: int = 1) -> None:
        World.__init__(self)
        self._init_limits()
        self._init_moderation()
        self._init_typing()
        self.token = token
        self.shard_count = shard_count
        self.sessions: dict[str, Session] = {}
        self.identifies: list[dict[str, Any]] = []
        self.message_content_enabled = True  # the privileged intent switch in the Developer Portal
        self.resumes: list[dict[str, Any]] = []
        self.replay_on_resume: list[dict[str, Any]] = []  # frames to resend on RESUME (at-least-once)
        self.sent: list[dict[str, Any]] = []  # messages the bot created (oldest first)
        self.uploads: dict[int, bytes] = {}  # files the bot uploaded, by attachment id
        self.callbacks: list[dict[str, Any]] = []  # interaction callbacks {"id", "type", "data"}
        self.webhook_messages: list[dict[str, Any]] = []  # edits of @original and follow-ups
        self.command_syncs: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.rejected_at: list[datetime] = []  # when each 429 was answered
        self.rejected_at_global: list[float] = []  # monotonic times of each global 429
        self.sent_at: list[float] = []  # monotonic time each message in ``sent`` was created
        self.send_delay = 0.0  # seconds between creating a message and answering the request
        self.closed_dms: set[int] = set()  # users who accept no DMs from the bot: 403 code 50007
        self.trouble_until = 0.0  # monotonic time until which message creations meet ``trouble`` statuses
        self.trouble: tuple[int, ...] = ()
        self.troubles = 0
        self.allowed_mentions: dict[str, Any] = {}  # message id -> the allowed_mentions it was sent with
        self._failures: deque[tuple[int, float | None, str]] = deque()
        self._pass_first = 0
        self._buckets: dict[str, Bucket] = {}
        self.bucket_limit, self.bucket_window = 50, 1.0
        self.undelivered: list[dict[str, Any]] = []  # events for a shard without a session (lost)
        self.refuse_until = 0.0  # monotonic time until which gateway connections are refused
        self.refused = 0
        self.gateway_bot_down_until = 0.0  # GET /gateway/bot answers 503 until then
        self.history_reads: list[tuple[int, dict[str, str]]] = []  # (channel id, query) per history call
        self.history_delay = 0.0  # seconds each history read takes
        self.hold_ready = asyncio.Event()  # cleared: IDENTIFY waits (no session) until it is set again
        self.hold_ready.set()
        self.server: TestServer | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        """Serve on a free port (again after ``close``: a restart of Discord, the world kept)."""
        if self.server is not None:
            return self
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway-resume", self._gateway)
        r = app.router
        r.add_get(API + "/users/@me", self._me)
        r.add_get(API + "/users/{uid}", self._user)
        r.add_get(API + "/gateway", self._gateway_url)
        r.add_get(API + "/gateway/bot", self._gateway_bot)
        r.add_get(API + "/oauth2/applications/@me", self._application)
        r.add_post(API + "/users/@me/channels", self._create_dm)
        r.add_get(API + "/channels/{cid}", self._get_channel)
        r.add_post(API + "/channels/{cid}/messages", self._create_message)
        r.add_get(API + "/channels/{cid}/messages", self._history)
        r.add_get(API + "/channels/{cid}/messages/{mid}", self._get_message)
        r.add_get(API + "/guilds/{gid}/members/{uid}", self._get_member)
        r.add_post(API + "/channels/{cid}/threads", self._create_thread)
        r.add_put(API + "/channels/{cid}/thread-members/{uid}", self._add_thread_member)
        r.add_post(API + "/interactions/{iid}/{token}/callback", self._callback)
        r.add_patch(API + "/webhooks/{app}/{token}/messages/@original", self._edit_original)
        r.add_post(API + "/webhooks/{app}/{token}", self._followup)
        r.add_put(API + "/applications/{app}/guilds/{gid}/commands", self._sync_commands)
        r.add_put(API + "/applications/{app}/commands", self._sync_commands)
        self.add_moderation_routes(r)
        self.add_typing_routes(r)
        app.middlewares.append(self._auth)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=1001)
        if self.server is not None:
            await self.server.close()
            self.server = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.port}"

    @property
    def rest_base(self) -> str:
        return f"http://{self.base}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.base}/gateway"

    # -- test controls -------------------------------------------------------------------------
    def fail_next_sends(self, status: int, *, count: int = 1, retry_after: float | None = None,
                        after: int = 0, scope: str = "user") -> None:
        """The next ``count`` message creations fail with ``status``, once ``after`` more have succeeded.
        A 429's ``scope``: ``user`` (a route bucket), ``shared`` (the channel) or ``global`` (everything)."""
        self._pass_first = after
        for _ in range(count):
            self._failures.append((status, retry_after, scope))

    def trouble_for(self, seconds: float, statuses: tuple[int, ...] = (500, 502, 429)) -> None:
        """For ``seconds`` message creations answer these statuses in turn: 500 (nothing created), 502
        (created, but the answer was lost on the way: only the nonce keeps a retry from posting it
        twice), 429 (the channel's bucket, retry after 0.3 s)."""
        self.trouble_until, self.trouble = time.monotonic() + seconds, statuses

    @property
    def rejected_429(self) -> int:
        return len(self.rejected_at)

    # -- REST: plumbing ------------------------------------------------------------------------
    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.path.startswith(API) and "/interactions/" not in request.path \
                and "/webhooks/" not in request.path:
            if request.headers.get("Authorization") != f"Bot {self.token}":
                return error(401, "401: Unauthorized")
        limited = self.check_global(request)
        if limited is not None:
            return limited
        return await handler(request)

    def _rate_headers(self, key: str) -> tuple[dict[str, str], bool]:
        """Consume one request from ``key``'s bucket; returns headers and whether it was over."""
        now = time.monotonic()
        bucket = self._buckets.setdefault(key, Bucket(self.bucket_limit, self.bucket_window))
        if now >= bucket.reset_at:
            bucket.remaining, bucket.reset_at = bucket.limit, now + bucket.window
        over = bucket.remaining <= 0
        if not over:
            bucket.remaining -= 1
        reset_after = max(bucket.reset_at - now, 0.0)
        headers = {"X-RateLimit-Limit": str(bucket.limit), "X-RateLimit-Remaining": str(bucket.remaining),
                   "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                   "X-RateLimit-Reset-After": f"{reset_after:.3f}", "X-RateLimit-Bucket": f"fake-{key}"}
        return headers, over

    @staticmethod
    def too_many(retry_after: float, headers: dict[str, str] | None = None) -> web.Response:
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        extra = {"Via": "1.1 google", "Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": "user",
                 **(headers or {})}
        return jsonr(body, 429, extra)

    # -- REST: users, gateway, application -----------------------------------------------------
    async def _me(self, request: web.Request) -> web.Response:
        return jsonr(self.bot)

    async def _user(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["uid"]))
        return jsonr(user) if user else error(404, "Unknown User", 10013)

    async def _gateway_url(self, request: web.Request) -> web.Response:
        return jsonr({"url": f"ws://{self.base}/gateway"})

    def fail_gateway_bot_for(self, seconds: float) -> None:
        """``GET /gateway/bot`` answers 503 for ``seconds`` (a Discord API outage at start)."""
        self.gateway_bot_down_until = time.monotonic() + seconds

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        if time.monotonic() < self.gateway_bot_down_until:
            return error(503, "503: Service Unavailable")
        data = payload("gateway_bot")
        data.update(url=f"ws://{self.base}/gateway", shards=self.shard_count)
        return jsonr(data)

    async def _application(self, request: web.Request) -> web.Response:
        return jsonr({"id": self.app_id, "name": self.bot["username"], "bot_public": True, "flags": 0,
                      "bot_require_code_grant": False, "description": "", "verify_key": "0" * 64,
                      "icon": None, "team": None, "owner": self.public_user(self.bot["id"])})

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        if int(body["recipient_id"]) not in self.users:
            return error(400, "Invalid Recipient(s)", 50033)
        return jsonr(self.dm_channel(body["recipient_id"]))

    # -- REST: channels and messages -----------------------------------------------------------
    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["cid"]))
        return jsonr(channel) if channel else error(404, "Unknown Channel", 10003)

    async def _create_message(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["cid"])
        channel = self.channels.get(cid)
        if channel is None:
            return error(404, "Unknown Channel", 10003)
        if self._failures and self._pass_first > 0:
            self._pass_first -= 1
        elif self._failures:
            status, retry_after, scope = self._failures.popleft()
            if status == 429:
                self.rejected_at.append(datetime.now(UTC))
                return self.refuse_send(retry_after if retry_after is not None else 0.1, scope)
            if status == 403:
                return error(403, "Cannot send messages to this user", 50007)
            if status == 404:
                return error(404, "Unknown Channel", 10003)
            return error(status, f"{status}: Internal Server Error")
        trouble = None
        if time.monotonic() < self.trouble_until and self.trouble:
            trouble = self.trouble[self.troubles % len(self.trouble)]
            self.troubles += 1
            if trouble == 429:
                self.rejected_at.append(datetime.now(UTC))
                return self.refuse_send(0.3, "user")
            if trouble != 502:
                return error(trouble, f"{trouble}: Internal Server Error")
        headers, over = self._rate_headers(f"messages-{cid}")
        if over:
            self.rejected_at.append(datetime.now(UTC))
            return self.too_many(float(headers["X-RateLimit-Reset-After"]), headers)
        if channel["type"] == DM and int(channel["recipients"][0]["id"]) in self.closed_dms:
            return error(403, "Cannot send messages to this user", 50007)
        body, files = await self._message_body(request)
        existing = self.created_for(body)
        if existing is not None:
            return jsonr(existing, headers=headers)
        if not (body.get("content") or files or body.get("components")):
            return error(400, "Cannot send an empty message", 50006)
        ref = (body.get("message_reference") or {}).get("message_id")
        msg = self.new_message(channel, self.bot["id"], body.get("content") or "", reference=ref,
                               components=body.get("components"), nonce=body.get("nonce"), attachments=files)
        self.allowed_mentions[msg["id"]] = body.get("allowed_mentions")
        self.remember_nonce(body, msg)
        self.sent.append(msg)
        self.sent_at.append(time.monotonic())
        await self.dispatch("MESSAGE_CREATE", msg, guild_id=channel.get("guild_id"))
        await asyncio.sleep(self.send_delay)  # created now, answered later: a crash may fall in between
        if trouble == 502:
            return error(502, "502: Bad Gateway")
        return jsonr(msg, headers=headers)

    async def _message_body(self, request: web.Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """JSON, or multipart/form-data with ``payload_json`` and ``files[n]`` parts as the API documents for
        uploads; each file becomes an attachment object (its bytes kept in ``uploads`` by attachment id)."""
        if not request.content_type.startswith("multipart/"):
            return await request.json(), []
        body: dict[str, Any] = {}
        files: list[dict[str, Any]] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                body = json.loads(await part.text())
            elif part.name and part.name.startswith("files["):
                data = await part.read()
                aid = self.snowflake()
                self.uploads[aid] = data
                files.append({"id": str(aid), "filename": part.filename, "size": len(data),
                              "url": f"https://cdn.discordapp.com/attachments/{aid}/{part.filename}",
                              "proxy_url": f"https://media.discordapp.net/attachments/{aid}/{part.filename}",
                              "content_type": part.headers.get("Content-Type", "application/octet-stream")})
        return body, files

    async def _history(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["cid"])
        if cid not in self.channels:
            return error(404, "Unknown Channel", 10003)
        q = request.query
        if sum(key in q for key in ("before", "after", "around")) > 1:  # "mutually exclusive" (docs)
            return error(400, "Invalid Form Body", 50035)
        limit = min(int(q.get("limit", 50)), 100)
        before = int(q["before"]) if "before" in q else None
        after = int(q["after"]) if "after" in q else None
        self.history_reads.append((cid, dict(q)))
        page = [rest_message(m) for m in self.history(cid, limit=limit, before=before, after=after)]
        await asyncio.sleep(self.history_delay)  # read now, answered later
        return jsonr(page)

    async def _get_message(self, request: web.Request) -> web.Response:
        msg = self.messages.get(int(request.match_info["mid"]))
        if msg is None or msg["channel_id"] != request.match_info["cid"]:
            return error(404, "Unknown Message", 10008)
        return jsonr(rest_message(msg))

    async def _get_member(self, request: web.Request) -> web.Response:
        gid, uid = int(request.match_info["gid"]), int(request.match_info["uid"])
        if gid not in self.guilds:
            return error(404, "Unknown Guild", 10004)
        if (gid, uid) not in self.member_roles:
            return error(404, "Unknown Member", 10007)
        member = self.member(gid, uid, with_user=True)
        member.pop("permissions", None)  # only interaction payloads carry it
        return jsonr(member)

    async def _create_thread(self, request: web.Request) -> web.Response:
        parent = self.channels.get(int(request.match_info["cid"]))
        if parent is None:
            return error(404, "Unknown Channel", 10003)
        body = await request.json()
        private = body.get("type") == PRIVATE_THREAD
        thread = self.add_thread(parent, self.bot["id"], body["name"], private=private)
        thread["thread_metadata"]["invitable"] = body.get("invitable", True)
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, guild_id=parent["guild_id"])
        return jsonr(thread, 201)

    async def _add_thread_member(self, request: web.Request) -> web.Response:
        tid = int(request.match_info["cid"])
        if tid not in self.thread_members:
            return error(404, "Unknown Channel", 10003)
        self.thread_members[tid].add(int(request.match_info["uid"]))
        return web.Response(status=204)

    # -- REST: interactions and commands -------------------------------------------------------
    async def _callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        iid = request.match_info["iid"]
        self.callbacks.append({"id": iid, "token": request.match_info["token"], **body})
        flags = (body.get("data") or {}).get("flags", 0)
        response = {"interaction": {"id": iid, "type": body["type"], "response_message_loading": body["type"] == 5,
                                    "response_message_ephemeral": bool(flags & 64)}}
        return jsonr(response)

    def _webhook_message(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        record = {"token": request.match_info["token"], "method": request.method, **body}
        self.webhook_messages.append(record)
        msg = payload("message_create")
        msg.update(id=str(self.snowflake()), author=self.public_user(self.bot["id"]),
                   content=body.get("content") or "", flags=body.get("flags", 64), webhook_id=self.app_id,
                   application_id=self.app_id, type=20)
        del msg["guild_id"], msg["member"]
        return msg

    async def _edit_original(self, request: web.Request) -> web.Response:
        return jsonr(self._webhook_message(request, await request.json()))

    async def _followup(self, request: web.Request) -> web.Response:
        return jsonr(self._webhook_message(request, await request.json()))

    async def _sync_commands(self, request: web.Request) -> web.Response:
        body = await request.json()
        scope = request.match_info.get("gid", "global")
        commands = []
        for cmd in body:
            commands.append({"id": str(self.snowflake()), "application_id": self.app_id, "version": "1",
                             "default_member_permissions": None, "dm_permission": True, "nsfw": False,
                             "description": "", "options": [], "type": 1,
                             **({"guild_id": scope} if scope != "global" else {}), **cmd})
        self.command_syncs[scope] = commands
        return jsonr(commands)

    async def wait_for(self, predicate: Any, within: float = 10.0, what: str = "condition") -> None:
        """Poll until ``predicate()`` holds (bounded): events travel over real sockets."""
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)
