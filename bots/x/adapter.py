"""X (Twitter) through tweepy's AsyncClient: polling by default, the activity webhook optionally.

Addresses (``InboundMessage.conversation`` / ``OutboundMessage.conversation``):
``dm:<user id>`` one-to-one DM, sent with POST /2/dm_conversations/with/:participant_id/messages
(the participant id, not the conversation id, so a private follow-up of a public post reaches the
same conversation as the customer's own DMs); ``dm_group:<dm_conversation_id>`` a group DM;
``tweet:<tweet id>`` a public post, answered by replies threaded under it.

Sending (``send.py``): public answers become numbered threads when longer than ``max_post_length``
(X's weighted length), a retry continues a thread and never repeats a part (progress per outbox row
in the cursor store), a DM whose outcome is unknown is looked for before it is sent again, and a
customer who does not accept DMs is told in public where to write.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
from pathlib import Path
from typing import ClassVar

from aiohttp import web

from bots.base import ChannelHealth, ChannelSettings, CursorStore, Inbound
from bots.x import moderation
from bots.x.client import XClient
from bots.x.http import CredentialsRefused, FileCursors
from bots.x.polling import PollLoops
from bots.x.receive import DM_CURSOR, MENTIONS_CURSOR, XReceiver, remember_choices
from bots.x.send import DM_MAX_LENGTH, XSender
from bots.x.settings import XSettings
from bots.x.state import Memory
from bots.x.translate import CHANNEL, activity_to_v2
from core.errors import AdapterError, ConfigError, RetryLater
from core.models import OutboundMessage, Sent

log = logging.getLogger(__name__)


CRC_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{1,128}")


def webhook_signature(consumer_secret: str, payload: bytes) -> str:
    """X's CRC response token and POST signature: ``sha256=`` + base64(HMAC-SHA256)."""
    digest = hmac.new(consumer_secret.encode(), payload, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


class XAdapter:
    name: ClassVar[str] = CHANNEL
    max_text_length: ClassVar[int] = DM_MAX_LENGTH
    settings_model: ClassVar[type[ChannelSettings]] = XSettings

    @staticmethod
    def idempotent_conversation(conversation: str) -> bool:
        """A public post sent again is refused as a duplicate and found (the thread goes on from it); a DM is not."""
        return conversation.startswith("tweet:")

    def __init__(self, settings: XSettings, *, public_url: str | None = None,
                 data_dir: str | Path = "data", cursor_store: CursorStore | None = None) -> None:
        self.settings = settings
        self.public_url = public_url
        self.cursors: CursorStore = cursor_store or FileCursors(Path(data_dir) / "x_cursors.json")
        self.health = ChannelHealth(self.name)
        self.memory = Memory(self.cursors)  # outlives restarts of the channel: what went out stays known
        self.client: XClient | None = None
        self.receiver: XReceiver | None = None
        self.sender: XSender | None = None
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
        self.receiver = XReceiver(self.client, inbound, self.settings, self.cursors, self.me, handle, self.memory)
        self.sender = XSender(self.client, self.receiver, self.memory, me=self.me,
                              max_post_length=self.settings.max_post_length, chat_url=self._chat_url())
        if self.settings.mode == "polling":
            await self.receiver.baseline()
            polls = {"mentions": self.receiver.poll_mentions, "dm_events": self.receiver.poll_dms}
            self._polling = PollLoops(self.client, polls, self.settings.poll_interval, self.health)
            self._polling.start()
        else:
            self.health.up()

    def _chat_url(self) -> str | None:
        """Where a customer who does not accept our DMs can write instead."""
        if self.settings.contact_url:
            return self.settings.contact_url
        return f"{self.public_url.rstrip('/')}/chat" if self.public_url else None

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
        if reply.action:  # a moderation step: X lets the bot do none of them (moderation.py)
            moderation.refuse(reply)
        sender = self.sender
        if sender is None or self.client is None:
            raise RetryLater("X adapter not started")
        sent = await sender.send(reply)
        if reply.conversation.startswith(("dm:", "dm_group:")):
            try:
                await remember_choices(self.cursors, reply)
            except Exception:  # delivered already: a lost menu must not make the dispatcher send again
                log.exception("x: could not remember the choices sent to %s", reply.conversation)
        return sent

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
        """A signed Account Activity delivery. Everything in it is read and checked before anything is handed
        over, so a delivery is refused whole (4xx, nothing stored) or handed over whole; only a failure to
        store (503) makes X deliver it again. Kinds of events the channel does not read are acknowledged."""
        body, secret = await request.read(), self._secret()  # the app caps the body (413 beyond MAX_BODY)
        given = request.headers.get("x-twitter-webhooks-signature", "")
        if not secret or not given.isascii() or not hmac.compare_digest(
                given.encode(), webhook_signature(secret, body).encode()):
            return web.json_response({"error": "bad signature"}, status=403)
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError(f"a JSON {type(payload).__name__}, not an object")
            tweets, dms = activity_to_v2(payload)
        except RecursionError:
            return web.json_response({"error": "malformed event: nested too deeply"}, status=400)
        except ValueError as exc:  # JSON that does not parse or is not UTF-8, a post or DM without id or author
            return web.json_response({"error": f"malformed event: {exc}"}, status=400)
        account = payload.get("for_user_id")
        if isinstance(account, bool) or not isinstance(account, (str, int)):
            return web.json_response({"error": "malformed event: for_user_id (the subscribed account) missing"},
                                     status=400)
        if self.receiver is None:
            return web.json_response({"error": "not ready"}, status=503)
        if str(account) != self.me:
            return web.json_response({"ignored": "another account's event"})
        if not tweets["data"] and not dms["data"]:
            return web.json_response({"ignored": "no post or message for the channel"})
        try:
            await self.receiver.on_activity(tweets, dms)
        except Exception:
            # Not acknowledged: X delivers again, and the engine drops what it already stored.
            log.exception("x: webhook delivery not handed over")
            return web.json_response({"error": "try again"}, status=503)
        return web.json_response({"ok": True})


__all__ = ["DM_CURSOR", "MENTIONS_CURSOR", "XAdapter", "XSettings", "webhook_signature"]
