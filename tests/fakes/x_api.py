"""A fake X API v2 on 127.0.0.1, written from the X API reference, for tweepy's AsyncClient.

Endpoints: GET /2/users/me, GET /2/users/:id/mentions (since_id, pagination, expansions), GET /2/users/:id/tweets,
GET /2/dm_events (newest first, pagination), POST /2/dm_conversations/with/:participant_id/messages,
POST /2/dm_conversations/:id/messages, POST /2/tweets (reply), GET /2/tweets/:id.
Like X it returns only default fields plus the ones asked for, puts ``x-rate-limit-*`` headers on
every response, answers 429 when a window is used up, uses JSON problem bodies for errors,
refuses duplicate posts and posts over 280 weighted characters, and checks OAuth 1.0a signatures
against the URL it was really called on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from oauthlib.oauth1.rfc5849 import signature as oauth_sig
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from bots.x.text import weighted_length

TWITTER_EPOCH_MS = 1288834974657
BOT_ID = "1000"
BOT_HANDLE = "OKPaySupport"
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_USER_FIELDS = ("id", "name", "username")
DEFAULT_DM_FIELDS = ("id", "event_type", "text")
SEND_FAMILIES = ("tweets", "dm_send")
_MENTION = re.compile(r"(?<!\w)@(\w{1,15})")


@dataclass
class Window:
    limit: int
    remaining: int
    reset: int
    length: int = 900  # seconds

    def headers(self) -> dict[str, str]:
        return {"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": str(self.remaining),
                "x-rate-limit-reset": str(self.reset)}


@dataclass
class Credentials:
    consumer_key: str = "fake-consumer-key"
    consumer_secret: str = "fake-consumer-secret"
    access_token: str = f"{BOT_ID}-fake-access-token"
    access_token_secret: str = "fake-access-secret"


def problem(status: int, title: str, detail: str, kind: str = "about:blank",
            headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"title": title, "detail": detail, "type": kind, "status": status},
                             status=status, headers=headers, content_type="application/json")


@dataclass
class FakeX:
    creds: Credentials = field(default_factory=Credentials)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    dm_events: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    dm_closed: set[str] = field(default_factory=set)  # users who do not accept DMs from the bot
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    windows: dict[str, Window] = field(default_factory=dict)
    _failures: dict[str, list[tuple[int, float | None] | None]] = field(default_factory=dict)
    _down: tuple[float, int] = (0.0, 503)  # (monotonic deadline, status) of an outage
    _lost: dict[str, list[bool]] = field(default_factory=dict)  # per family: lose this call's answer?
    _served: dict[str, list[bytes]] = field(default_factory=dict)  # per family: bodies to answer as they are
    _last_id: int = 0
    send_latency: float = 0.0  # seconds X takes to carry out a post or a DM (it finishes even if the caller died)
    too_many: dict[str, int] = field(default_factory=dict)  # 429 answers given, per family
    accepted_at: list[float] = field(default_factory=list)  # time.monotonic() of each post or DM carried out
    _odd_headers: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # per family: headers to put on

    def __post_init__(self) -> None:
        self.add_user(BOT_ID, BOT_HANDLE, "OKPay Support")

    # --- test controls ------------------------------------------------------------------------

    def next_id(self) -> str:
        """Ids like X's: (milliseconds since X's epoch) << 22, plus a sequence; they grow with time."""
        self._last_id = max(self._last_id + 1, (int(time.time() * 1000) - TWITTER_EPOCH_MS) << 22)
        return str(self._last_id)

    def add_user(self, user_id: str, username: str, name: str | None = None) -> None:
        self.users[user_id] = {"id": user_id, "name": name or username, "username": username}

    def set_limit(self, family: str, limit: int, *, remaining: int | None = None, window: int = 900) -> None:
        self.windows[family] = Window(limit, limit if remaining is None else remaining,
                                      int(time.time()) + window, window)

    def lose_answer(self, family: str, *, after: int = 0) -> None:
        """The call of ``family`` after ``after`` more is carried out, but its answer is lost: the client
        gets a 503 (the connection dropped after X accepted the post)."""
        self._lost.setdefault(family, []).extend([False] * after + [True])

    def serve_next(self, family: str, body: bytes) -> None:
        """The next call of ``family`` is answered 200 with ``body`` exactly as given (any JSON, or not JSON):
        what a normaliser must survive when X's answer is not what its documents promise."""
        self._served.setdefault(family, []).append(body)

    def odd_headers(self, family: str, headers: dict[str, str], *, count: int = 1) -> None:
        """The next ``count`` answers of ``family`` (of any status) carry ``headers`` over their own: a rate-limit
        header X should never send ("inf", a reset decades away) must not stop a loop."""
        self._odd_headers.setdefault(family, []).extend([headers] * count)

    def fail_next(self, family: str, status: int, *, count: int = 1, retry_after: float | None = None,
                  after: int = 0) -> None:
        """The next ``count`` calls of ``family`` (after ``after`` more that succeed) get ``status``: "tweets",
        "dm_send", "mentions", "dm_events", "tweet_lookup", or "send" (any post or DM the bot sends)."""
        self._failures.setdefault(family, []).extend([None] * after + [(status, retry_after)] * count)

    def post(self, author_id: str, text: str, *, in_reply_to: str | None = None, lang: str = "en",
             media_keys: Iterable[str] = ()) -> str:
        """A post appears on X (a customer's, a moderator's, or the bot's own)."""
        tid = self.next_id()
        parent = self.tweets.get(in_reply_to) if in_reply_to else None
        handles = {u["username"].lower(): u["id"] for u in self.users.values()}
        mentions = []
        for m in _MENTION.finditer(text):
            uid = handles.get(m.group(1).lower())
            if uid:
                mentions.append({"start": m.start(), "end": m.end(), "username": m.group(1), "id": uid})
        tweet: dict[str, Any] = {
            "id": tid, "text": text, "edit_history_tweet_ids": [tid], "author_id": author_id,
            "created_at": _now(), "lang": lang,
            "conversation_id": parent["conversation_id"] if parent else tid,
        }
        if mentions:
            tweet["entities"] = {"mentions": mentions}
        if parent:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
            tweet["in_reply_to_user_id"] = parent["author_id"]
        keys = list(media_keys)
        if keys:
            tweet["attachments"] = {"media_keys": keys}
        self.tweets[tid] = tweet
        return tid

    def dm(self, sender_id: str, text: str, *, recipient_id: str = BOT_ID, photo: str | None = None,
           video: str | None = None) -> str:
        """A direct message between the bot and a user (either direction), optionally with a photo url or a
        video (given by its file url; X adds a preview image)."""
        eid = self.next_id()
        low, high = sorted((sender_id, recipient_id), key=int)
        event: dict[str, Any] = {
            "id": eid, "event_type": "MessageCreate", "text": text, "sender_id": sender_id,
            "dm_conversation_id": f"{low}-{high}", "participant_ids": [low, high], "created_at": _now(),
        }
        if photo:
            key = f"3_{self.next_id()}"
            self.media[key] = {"media_key": key, "type": "photo", "url": photo, "width": 1200, "height": 900}
            event["attachments"] = {"media_keys": [key]}
        elif video:
            key = f"7_{self.next_id()}"
            self.media[key] = {"media_key": key, "type": "video", "width": 1280, "height": 720, "duration_ms": 8000,
                               "preview_image_url": video.rsplit(".", 1)[0] + ".jpg",
                               "variants": [{"bit_rate": 2176000, "content_type": "video/mp4", "url": video}]}
            event["attachments"] = {"media_keys": [key]}
        self.dm_events.append(event)
        return eid

    def outage(self, seconds: float, status: int = 503) -> None:
        """Every call gets ``status`` for the next ``seconds`` (X down or refusing for a while)."""
        self._down = (time.monotonic() + seconds, status)

    def bot_posts(self) -> list[dict[str, Any]]:
        return [t for t in self.tweets.values() if t["author_id"] == BOT_ID]

    def bot_dms(self) -> list[dict[str, Any]]:
        return [e for e in self.dm_events if e["sender_id"] == BOT_ID]

    def count(self, family: str) -> int:
        return sum(1 for fam, _, _ in self.calls if fam == family)

    # --- HTTP ---------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/2/users/me", self._wrap("users_me", self._me))
        app.router.add_get("/2/users/{id}/mentions", self._wrap("mentions", self._mentions))
        app.router.add_get("/2/users/{id}/tweets", self._wrap("user_tweets", self._user_tweets))
        app.router.add_get("/2/dm_events", self._wrap("dm_events", self._dm_events))
        app.router.add_post("/2/dm_conversations/with/{pid}/messages", self._wrap("dm_send", self._dm_with))
        app.router.add_post("/2/dm_conversations/{cid}/messages", self._wrap("dm_send", self._dm_conv))
        app.router.add_post("/2/tweets", self._wrap("tweets", self._create_tweet))
        app.router.add_get("/2/tweets/{id}", self._wrap("tweet_lookup", self._tweet))
        return app

    def _wrap(self, family: str, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            response = await answer(request)
            odd = self._odd_headers.get(family)
            if odd:
                response.headers.update(odd.pop(0))
            return response

        async def answer(request: web.Request) -> web.StreamResponse:
            self.calls.append((family, request.path, dict(request.query)))
            window = self.windows.setdefault(family, Window(100_000, 100_000, int(time.time()) + 900))
            if window.reset <= time.time():
                window.remaining, window.reset = window.limit, int(time.time()) + window.length
            until, status = self._down
            if time.monotonic() < until:
                if status == 429:  # X's own answer: the window is used up until the outage ends
                    self.too_many[family] = self.too_many.get(family, 0) + 1
                    reset = {"x-rate-limit-remaining": "0",
                             "x-rate-limit-reset": str(int(time.time() + until - time.monotonic()) + 1)}
                    return problem(429, "Too Many Requests", "Too Many Requests", headers=reset)
                return problem(status, _TITLES.get(status, "Error"), "Service is down (outage)")
            denied = self._authenticate(request)
            if denied is not None:
                return denied
            served = self._served.get(family)
            if served:
                return web.Response(body=served.pop(0), content_type="application/json", headers=window.headers())
            queued = self._failures.get(family)
            if not queued and family in SEND_FAMILIES:
                queued = self._failures.get("send")
            failure = queued.pop(0) if queued else None
            if failure is not None:
                status, retry_after = failure
                headers = window.headers()
                if status == 429:
                    self.too_many[family] = self.too_many.get(family, 0) + 1
                    wait = 1 if retry_after is None else retry_after
                    headers.update({"x-rate-limit-remaining": "0",
                                    "x-rate-limit-reset": str(int(time.time() + wait))})
                    return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
                return problem(status, _TITLES.get(status, "Error"), f"Injected failure {status}",
                               headers=headers)
            if window.remaining <= 0:
                self.too_many[family] = self.too_many.get(family, 0) + 1
                return problem(429, "Too Many Requests", "Too Many Requests", headers=window.headers())
            window.remaining -= 1
            if family in SEND_FAMILIES:  # like X, a send is carried out even when the caller is gone meanwhile
                response = await asyncio.shield(asyncio.ensure_future(self._carry_out(family, handler, request)))
            else:
                response = await handler(request)
            response.headers.update(window.headers())
            lost = self._lost.get(family)
            if lost and lost.pop(0):
                return problem(503, _TITLES[503], "Service Unavailable (the answer was lost)")
            return response
        return wrapped

    async def _carry_out(self, family: str, handler: Any, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # what was written; X keeps going with it whatever happens to the caller
        if self.send_latency:
            await asyncio.sleep(self.send_latency)
        response = await handler(request, body)
        if response.status < 300:
            self.accepted_at.append(time.monotonic())
        return response

    def _authenticate(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("OAuth "):
            return problem(401, "Unauthorized", "Unauthorized")
        params = dict(oauth_utils.parse_authorization_header(auth))
        if (params.get("oauth_consumer_key") != self.creds.consumer_key
                or params.get("oauth_token") != self.creds.access_token):
            return problem(401, "Unauthorized", "Unauthorized")
        collected = oauth_sig.collect_parameters(uri_query=request.rel_url.raw_query_string,
                                                 headers={"Authorization": auth}, exclude_oauth_signature=True)
        base = oauth_sig.signature_base_string(
            request.method, oauth_sig.base_string_uri(str(request.url.with_query(None))),
            oauth_sig.normalize_parameters(collected))
        key = f"{oauth_utils.escape(self.creds.consumer_secret)}&{oauth_utils.escape(self.creds.access_token_secret)}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
        if expected != unquote(params.get("oauth_signature", "")):
            return problem(401, "Unauthorized", "Unauthorized (bad OAuth signature)")
        return None

    async def _me(self, request: web.Request) -> web.Response:
        return _json({"data": _pick(self.users[BOT_ID], _fields(request, "user.fields", DEFAULT_USER_FIELDS))})

    async def _mentions(self, request: web.Request) -> web.Response:
        user = self.users.get(request.match_info["id"])
        if user is None:
            return problem(404, "Not Found Error", "Could not find user", _NOT_FOUND)
        size = int(request.query.get("max_results", "10"))
        if not 5 <= size <= 100:
            return _invalid("max_results", "The `max_results` query parameter value is not between 5 and 100")
        since = int(request.query.get("since_id", "0"))
        found = [t for t in self.tweets.values()
                 if int(t["id"]) > since and any(m["id"] == user["id"]
                                                  for m in t.get("entities", {}).get("mentions", ()))]
        found.sort(key=lambda t: int(t["id"]), reverse=True)
        page, meta = _page(found, request, size)
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        return _json(self._tweets_body(page, request, meta))

    async def _user_tweets(self, request: web.Request) -> web.Response:
        """A user's own posts, newest first (GET /2/users/:id/tweets)."""
        user = self.users.get(request.match_info["id"])
        if user is None:
            return problem(404, "Not Found Error", "Could not find user", _NOT_FOUND)
        size = int(request.query.get("max_results", "10"))
        if not 5 <= size <= 100:
            return _invalid("max_results", "The `max_results` query parameter value is not between 5 and 100")
        found = sorted((t for t in self.tweets.values() if t["author_id"] == user["id"]),
                       key=lambda t: int(t["id"]), reverse=True)
        page, meta = _page(found, request, size)
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        return _json(self._tweets_body(page, request, meta))

    async def _tweet(self, request: web.Request) -> web.Response:
        tid = request.match_info["id"]
        if tid not in self.tweets:
            return _json({"errors": [{
                "value": tid, "detail": f"Could not find tweet with id: [{tid}].", "title": "Not Found Error",
                "resource_type": "tweet", "parameter": "id", "resource_id": tid, "type": _NOT_FOUND}]})
        body = self._tweets_body([self.tweets[tid]], request, None)
        body["data"] = body["data"][0]
        return _json(body)

    def _tweets_body(self, tweets: list[dict[str, Any]], request: web.Request,
                     meta: dict[str, Any] | None) -> dict[str, Any]:
        fields = _fields(request, "tweet.fields", DEFAULT_TWEET_FIELDS)
        expansions = set(filter(None, request.query.get("expansions", "").split(",")))
        users: dict[str, dict[str, Any]] = {}
        refs: dict[str, dict[str, Any]] = {}
        media: dict[str, dict[str, Any]] = {}
        for t in tweets:
            if "author_id" in expansions:
                users[t["author_id"]] = self.users[t["author_id"]]
            for ref in t.get("referenced_tweets", ()):
                parent = self.tweets.get(ref["id"])
                if parent and "referenced_tweets.id" in expansions:
                    refs[parent["id"]] = parent
                    if "referenced_tweets.id.author_id" in expansions:
                        users[parent["author_id"]] = self.users[parent["author_id"]]
            if "attachments.media_keys" in expansions:
                for key in t.get("attachments", {}).get("media_keys", ()):
                    media[key] = self.media.get(key, {"media_key": key, "type": "photo"})
        body: dict[str, Any] = {"data": [_pick(t, fields) for t in tweets]}
        includes = _includes(request, users, media)
        if refs:
            includes["tweets"] = [_pick(t, fields) for t in refs.values()]
        if includes:
            body["includes"] = includes
        if meta is not None:
            body["meta"] = meta
            if not tweets:
                del body["data"]
        return body

    async def _dm_events(self, request: web.Request) -> web.Response:
        size = int(request.query.get("max_results", "100"))
        if not 1 <= size <= 100:
            return _invalid("max_results", "The `max_results` query parameter value is not between 1 and 100")
        types = set(request.query.get("event_types", "MessageCreate,ParticipantsJoin,ParticipantsLeave").split(","))
        events = sorted((e for e in self.dm_events if e["event_type"] in types),
                        key=lambda e: int(e["id"]), reverse=True)
        page, meta = _page(events, request, size)
        fields = _fields(request, "dm_event.fields", DEFAULT_DM_FIELDS)
        expansions = set(filter(None, request.query.get("expansions", "").split(",")))
        users = {e["sender_id"]: self.users[e["sender_id"]] for e in page if "sender_id" in expansions}
        media = {k: self.media.get(k, {"media_key": k, "type": "photo"}) for e in page
                 for k in e.get("attachments", {}).get("media_keys", ()) if "attachments.media_keys" in expansions}
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [_pick(e, fields) for e in page]
        includes = _includes(request, users, media)
        if includes:
            body["includes"] = includes
        return _json(body)

    async def _dm_with(self, request: web.Request, raw: bytes) -> web.Response:
        return await self._send_dm(raw, request.match_info["pid"])

    async def _dm_conv(self, request: web.Request, raw: bytes) -> web.Response:
        ids = request.match_info["cid"].split("-")
        if len(ids) != 2 or BOT_ID not in ids:
            return problem(403, "Forbidden", "You are not a participant of this conversation.")
        return await self._send_dm(raw, ids[0] if ids[1] == BOT_ID else ids[1])

    async def _send_dm(self, raw: bytes, recipient: str) -> web.Response:
        body = json.loads(raw)
        if recipient not in self.users:
            return problem(404, "Not Found Error", "Could not find user", _NOT_FOUND)
        if recipient in self.dm_closed:
            return problem(403, "Forbidden", "You cannot send messages to this user.",
                           "https://api.twitter.com/2/problems/not-authorized-for-resource")
        if not body.get("text") or len(body["text"]) > 10_000:
            return _invalid("text", "text must be 1 to 10000 characters")
        eid = self.dm(BOT_ID, body["text"], recipient_id=recipient)
        conv = next(e["dm_conversation_id"] for e in self.dm_events if e["id"] == eid)
        return _json({"data": {"dm_conversation_id": conv, "dm_event_id": eid}}, status=201)

    async def _create_tweet(self, request: web.Request, raw: bytes) -> web.Response:
        body = json.loads(raw)
        text = body.get("text", "")
        if not text:
            return _invalid("text", "text is required")
        if weighted_length(text) > 280:
            return problem(403, "Forbidden", "Your Tweet text is too long.")
        if any(t["author_id"] == BOT_ID and t["text"] == text for t in self.tweets.values()):
            return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if parent is not None and parent not in self.tweets:
            return problem(403, "Forbidden",
                           "You attempted to reply to a Tweet that is deleted or not visible to you.")
        tid = self.post(BOT_ID, text, in_reply_to=parent)
        return _json({"data": {"id": tid, "text": text, "edit_history_tweet_ids": [tid]}}, status=201)


_NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
_TITLES = {400: "Invalid Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found Error",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status, content_type="application/json")


def _invalid(parameter: str, message: str) -> web.Response:
    return web.json_response({
        "errors": [{"parameters": {parameter: []}, "message": message}],
        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request"}, status=400, content_type="application/json")


def _fields(request: web.Request, name: str, default: Iterable[str]) -> set[str]:
    return set(default) | set(filter(None, request.query.get(name, "").split(",")))


def _pick(obj: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k in fields}


def _includes(request: web.Request, users: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if users:
        ufields = _fields(request, "user.fields", DEFAULT_USER_FIELDS)
        out["users"] = [_pick(u, ufields) for u in users.values()]
    if media:
        mfields = _fields(request, "media.fields", ("media_key", "type"))
        out["media"] = [_pick(m, mfields) for m in media.values()]
    return out


def _page(items: list[dict[str, Any]], request: web.Request, size: int) -> tuple[list[dict[str, Any]], dict]:
    token = request.query.get("pagination_token")
    start = int(token.removeprefix("7140dibdnow9c7btw4")) if token else 0
    page = items[start:start + size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if start + size < len(items):
        meta["next_token"] = f"7140dibdnow9c7btw4{start + size}"
    return page, meta
