"""X (Twitter) through tweepy's AsyncClient: polling by default, the activity webhook optionally.

Addresses (``InboundMessage.conversation`` / ``OutboundMessage.conversation``):
``dm:<user id>`` one-to-one DM, sent with POST /2/dm_conversations/with/:participant_id/messages
(the participant id, not the conversation id, so a private follow-up of a public post reaches the
same conversation as the customer's own DMs); ``dm_group:<dm_conversation_id>`` a group DM;
``tweet:<tweet id>`` a public post, answered by replies threaded under it.

Public answers are split into a numbered thread when they exceed ``max_post_length`` (weighted
as X counts it), each part replying to the previous one; progress is kept per outbox row in the
cursor store, so a retry after a 429 on part 2 does not post part 1 again.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from aiohttp import web

from bots.base import ChannelHealth, ChannelSettings, CursorStore, Inbound, split_text
from bots.x.client import XClient
from bots.x.http import CredentialsRefused, DuplicatePost, FileCursors
from bots.x.polling import PollLoops
from bots.x.receive import DM_CURSOR, MENTIONS_CURSOR, XReceiver, remember_choices
from bots.x.settings import XSettings
from bots.x.text import same_post, split_post, weighted_length, with_invite
from bots.x.translate import CHANNEL, activity_to_v2, replied_to
from core.errors import AdapterError, ConfigError, RetryLater, Undeliverable
from core.models import OutboundMessage, Sent

log = logging.getLogger(__name__)

DM_MAX_LENGTH = 10_000


CRC_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{1,128}")


def webhook_signature(consumer_secret: str, payload: bytes) -> str:
    """X's CRC response token and POST signature: ``sha256=`` + base64(HMAC-SHA256)."""
    digest = hmac.new(consumer_secret.encode(), payload, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


class XAdapter:
    name: ClassVar[str] = CHANNEL
    max_text_length: ClassVar[int] = DM_MAX_LENGTH
    settings_model: ClassVar[type[ChannelSettings]] = XSettings

    def __init__(self, settings: XSettings, *, public_url: str | None = None,
                 data_dir: str | Path = "data", cursor_store: CursorStore | None = None) -> None:
        self.settings = settings
        self.public_url = public_url
        self.cursors: CursorStore = cursor_store or FileCursors(Path(data_dir) / "x_cursors.json")
        self.health = ChannelHealth(self.name)
        self.client: XClient | None = None
        self.receiver: XReceiver | None = None
        self.me: str | None = None
        self._polling: PollLoops | None = None
        self._stopped = asyncio.Event()

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, inbound: Inbound) -> None:
        """Polling: on a first start the baseline is taken here (so "started" means later events are
        answered), then the loops run. Webhook: X delivers to `web_routes`. Refused credentials or X
        unreachable for the baseline fail the start; the supervisor tries again."""
        self._stopped.clear()
        self.client = XClient(self.settings)
        try:
            me = await self.client.me()
            self.me, handle = str(me["id"]), me.get("username")
        except CredentialsRefused:
            raise
        except AdapterError as exc:  # e.g. the small daily allowance of /2/users/me is used up
            self.me, handle = self._user_id_from_token(exc), None
        self.receiver = XReceiver(self.client, inbound, self.settings, self.cursors, self.me, handle)
        if self.settings.mode == "polling":
            await self.receiver.baseline()
            polls = {"mentions": self.receiver.poll_mentions, "dm_events": self.receiver.poll_dms}
            self._polling = PollLoops(self.client, polls, self.settings.poll_interval, self.health)
            self._polling.start()
        else:
            self.health.up()

    def _user_id_from_token(self, exc: AdapterError) -> str:
        token = self.settings.access_token.get_secret_value() if self.settings.access_token else ""
        uid = token.split("-", 1)[0]
        if not uid.isdigit():
            raise ConfigError(f"X: cannot identify the bot account ({exc})") from exc
        log.warning("x: GET /2/users/me failed (%s); using the id in the access token", exc)
        return uid

    async def stop(self) -> None:
        polling, self._polling = self._polling, None
        if polling is not None:
            await polling.stop()
        if self.client is not None:
            client, self.client = self.client, None
            await client.close()
        self._stopped.set()

    async def wait_closed(self) -> None:
        """Return after `stop`; raise when polling ended on its own (credentials refused, a loop died)."""
        polling = self._polling
        if polling is not None:
            await polling.wait_closed()
        else:
            await self._stopped.wait()

    async def poll_once(self) -> int:
        """One polling round of both feeds (what the loops do; also for operators and tests)."""
        if self.receiver is None:
            raise RetryLater("X adapter not started")
        return await self.receiver.poll_mentions() + await self.receiver.poll_dms()

    # --- sending ------------------------------------------------------------------------------

    async def send(self, reply: OutboundMessage) -> Sent:
        if self.client is None:
            raise RetryLater("X adapter not started")
        kind, _, target = reply.conversation.partition(":")
        if not target:
            raise Undeliverable(f"not an X address: {reply.conversation!r}")
        text = _render(reply, public=kind == "tweet")
        client = self.client
        if kind == "tweet":
            if reply.invite_private:
                text = with_invite(text, reply.meta.get("language"))
            root = reply.reply_to if reply.reply_to and reply.reply_to.isdigit() else target
            parts = await self._addressed_parts(text, root)

            async def post(part: str, previous: str | None) -> str:
                try:
                    return await client.post_tweet(part, previous or root)
                except DuplicatePost as refused:
                    return await self._posted_before(part, previous or root, refused)
        elif kind in ("dm", "dm_group"):
            parts = split_text(text, DM_MAX_LENGTH)
            key = "participant_id" if kind == "dm" else "conversation_id"

            async def post(part: str, previous: str | None) -> str:
                return await client.send_dm(part, **{key: target})
        else:
            raise Undeliverable(f"not an X address: {reply.conversation!r}")
        sent = await self._send_parts(reply, parts, post)
        if kind != "tweet":
            try:
                await remember_choices(self.cursors, reply)
            except Exception:  # delivered already: a lost menu must not make the dispatcher send again
                log.exception("x: could not remember the choices sent to %s", reply.conversation)
        return sent

    async def _posted_before(self, part: str, parent: str, refused: DuplicatePost) -> str:
        """The id of this very part, already posted under ``parent`` by an attempt whose answer was lost
        (a crash, a timeout): X refused it as a duplicate. Raises the refusal when it is not there."""
        assert self.client is not None and self.me is not None
        try:
            posts = await self.client.own_posts(self.me)
        except AdapterError as exc:
            log.warning("x: could not look for an earlier copy of a refused duplicate post: %s", exc)
            posts = []
        for post in posts:
            if replied_to(post) == parent and same_post(part, post.get("text", "")):
                log.info("x: post %s under %s was already made by an earlier attempt", post["id"], parent)
                return str(post["id"])
        raise refused

    async def _addressed_parts(self, text: str, root: str) -> list[str]:
        """Thread parts, each starting with the customer's @handle (counted in the weighted length).

        X refuses a post identical to an earlier one; the public handoff note and FAQ answers repeat
        across customers, so addressing each part makes it unique (and is how X replies look).
        """
        assert self.receiver is not None
        handle = await self.receiver.author_handle(root)
        if not handle:
            return split_post(text, self.settings.max_post_length)
        prefix = f"@{handle} "
        return [prefix + part for part in
                split_post(text, self.settings.max_post_length - weighted_length(prefix))]

    async def _send_parts(self, reply: OutboundMessage, parts: list[str],
                          post: Callable[[str, str | None], Awaitable[str]]) -> Sent:
        """Post parts in order; remember which went out so a retry continues, never repeats.

        Progress ("<parts sent>:<first id>:<last id>") lives in the cursor store under the outbox
        id, so it survives a restart and is seen by whichever dispatcher retries the row.
        """
        key = f"sent:{reply.outbox_id}" if reply.outbox_id is not None and len(parts) > 1 else None
        count, first, last = 0, "", ""
        if key and (saved := await self.cursors.get_cursor(CHANNEL, key)):
            count_text, first, last = saved.split(":")
            count = int(count_text)
        for part in parts[count:]:
            sent_id = await post(part, last or None)
            count, first, last = count + 1, first or sent_id, sent_id
            if key:
                await self.cursors.set_cursor(CHANNEL, key, f"{count}:{first}:{last}")
        return Sent(platform_id=first)

    # --- webhook ------------------------------------------------------------------------------

    def web_routes(self) -> list[web.RouteDef]:
        if self.settings.mode != "webhook":
            return []
        path = self.settings.webhook_path
        return [web.get(path, self._crc), web.post(path, self._activity)]

    def _secret(self) -> str | None:
        s = self.settings.consumer_secret
        return s.get_secret_value() if s is not None else None

    async def _crc(self, request: web.Request) -> web.Response:
        """X signs the challenge with the same key it signs deliveries with, so answering any token would
        sign any body an attacker chose. X's tokens are short base64 text; a delivery is a JSON object,
        which can never be written in that alphabet, so only such tokens are answered."""
        token, secret = request.query.get("crc_token"), self._secret()
        if not secret:
            return web.json_response({"error": "crc_token required"}, status=400)
        if not token or not CRC_TOKEN.fullmatch(token):
            return web.json_response({"error": "crc_token must be 1-128 characters of base64"}, status=400)
        return web.json_response({"response_token": webhook_signature(secret, token.encode())})

    async def _activity(self, request: web.Request) -> web.Response:
        body, secret = await request.read(), self._secret()
        given = request.headers.get("x-twitter-webhooks-signature", "")
        if not secret or not given.isascii() or not hmac.compare_digest(
                given.encode(), webhook_signature(secret, body).encode()):
            return web.json_response({"error": "bad signature"}, status=403)
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
            tweets, dms = activity_to_v2(payload)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"malformed event: {exc}"}, status=400)
        if self.receiver is None:
            return web.json_response({"error": "not ready"}, status=503)
        if str(payload.get("for_user_id") or self.me) != self.me:
            return web.json_response({"ignored": "other account"})
        try:
            await self.receiver.on_activity(tweets, dms)
        except Exception:
            # Not acknowledged: X delivers again, and the engine drops what it already stored.
            log.exception("x: webhook delivery not handed over")
            return web.json_response({"error": "try again"}, status=503)
        return web.json_response({"ok": True})


def _render(reply: OutboundMessage, *, public: bool) -> str:
    """X has no buttons (v2 DMs and posts): choices become a numbered list in a DM (a reply with the
    number comes back as the button's payload, see ``remember_choices``), links stay links.

    A public thread gets no choice lines: nobody can press them, and they would crowd the answer.
    """
    lines = [reply.text.rstrip()]
    choices = [] if public else [q.label for q in reply.quick_replies if not q.url]
    links = [f"{q.label}: {q.url}" for q in reply.quick_replies if q.url]
    if choices or links:
        lines.append("\n".join([f"{i}. {label}" for i, label in enumerate(choices, 1)] + links))
    files = [a.url for a in reply.attachments if a.url]
    if files:
        lines.append("\n".join(files))
    return "\n\n".join(line for line in lines if line)


__all__ = ["DM_CURSOR", "MENTIONS_CURSOR", "XAdapter", "XSettings", "webhook_signature"]
