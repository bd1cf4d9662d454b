"""Receiving on X: mentions and DM events in, handed to the engine; cursors kept after handover.

Cursors (in the cursor store, channel "x"): ``mentions_since_id`` and ``dm_last_event_id``. Each
is written only after the events up to it were handed over (and so stored by the engine), so a
restart neither misses nor repeats events; a crash between handover and cursor write repeats at
most the last events, which the engine drops as duplicates. On the very first start (no cursor)
the newest ids become the baseline and history is not answered, unless ``backfill`` is set.

Moderator escalation: a moderator replies to a customer's post with the keyword and a mention of
the bot. The replied-to post (fetched with its author) becomes the target, the posts above it the
context. A keyword reply from anyone else (a customer writing "#escalate" under their own post)
is an ordinary mention: the engine's escalation path refuses non-moderators without storing, and
nothing a customer sends may be lost. A moderator's confirmation notice goes to them by DM, never
publicly.

Public replies start with the customer's @handle (``author``): X refuses a post identical to an
earlier one, and fixed texts (the public handoff note, an FAQ answer) repeat across customers. Who
wrote each post handed over is kept (``state.Memory``, with keep_days), so replies after a restart
are addressed without reading each post again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bots.base import CursorStore, Inbound
from bots.x import shapes
from bots.x.client import XClient
from bots.x.state import KEEP_DAYS, Memory
from bots.x.translate import (
    CHANNEL,
    Includes,
    author_of,
    dm_to_inbound,
    has_keyword,
    is_retweet,
    mentions_me,
    parse_time,
    replied_to,
    tweet_to_inbound,
    without_keyword,
)
from core.errors import AdapterError, RetryLater
from core.models import Escalation, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)

MENTIONS_CURSOR = "mentions_since_id"
DM_CURSOR = "dm_last_event_id"
NOTHING_SEEN = "0"  # baseline taken, no event existed yet
MAX_PAGES = 10
CHOICES_PREFIX = "choices:"
CURSOR_VALUE_MAX = 256  # the store's cursor column


async def remember_choices(cursors: CursorStore, reply: OutboundMessage) -> None:
    """Keep the payloads of the numbered menu just sent to a DM (an empty menu clears the last one)."""
    payloads: list[str] = []
    for q in reply.quick_replies:
        if not q.url and len(json.dumps([*payloads, q.payload])) <= CURSOR_VALUE_MAX:
            payloads.append(q.payload)
    key = CHOICES_PREFIX + reply.conversation
    if payloads or await cursors.get_cursor(CHANNEL, key):
        await cursors.set_cursor(CHANNEL, key, json.dumps(payloads), keep_days=KEEP_DAYS)


class XReceiver:
    def __init__(self, client: XClient, inbound: Inbound, settings: Any, cursors: CursorStore,
                 me: str, handle: str | None, memory: Memory | None = None) -> None:
        self.client = client
        self.inbound = inbound
        self.settings = settings
        self.cursors = cursors
        self.me = me
        self.handle = handle
        self.memory = memory or Memory(cursors)
        # DM events fetched (newest first) by earlier rounds that did not reach the cursor yet, and the next page
        self._dm_backlog: tuple[list[Mapping[str, Any]], Includes, str] | None = None

    # --- polling ------------------------------------------------------------------------------

    async def baseline(self) -> None:
        """First start: the newest ids become the cursors, so history is not answered (unless ``backfill``)."""
        if self.settings.backfill:
            return
        if await self.cursors.get_cursor(CHANNEL, MENTIONS_CURSOR) is None:
            body = await self.client.mentions(self.me, since_id=None, max_results=5)
            newest = shapes.meta(body, "newest_id")
            await self.cursors.set_cursor(CHANNEL, MENTIONS_CURSOR, newest if newest and newest.isdecimal()
                                          and newest.isascii() else NOTHING_SEEN)
        if await self.cursors.get_cursor(CHANNEL, DM_CURSOR) is None:
            body = await self.client.dm_events(max_results=1)
            data = shapes.usable(shapes.data(body), shapes.dm_event, "DM event")
            await self.cursors.set_cursor(CHANNEL, DM_CURSOR, data[0]["id"] if data else NOTHING_SEEN)

    async def poll_mentions(self) -> int:
        """One round of GET /2/users/:id/mentions since the cursor; returns how many were handed over.

        X serves at most the 800 newest mentions, so ``MAX_PAGES`` pages always reach the cursor."""
        cursor = await self.cursors.get_cursor(CHANNEL, MENTIONS_CURSOR)
        if cursor is None and not self.settings.backfill:
            await self.baseline()
            return 0
        since = cursor if cursor not in (None, NOTHING_SEEN) else None
        tweets: list[Mapping[str, Any]] = []
        includes = Includes()
        token = None
        for _ in range(MAX_PAGES):
            body = await self.client.mentions(self.me, since_id=since, token=token)
            tweets.extend(shapes.usable(shapes.data(body), shapes.tweet, "post"))
            includes = includes.merged(Includes.of(body))
            token = shapes.meta(body, "next_token")
            if not token:
                break
        return await self._hand_over(tweets, MENTIONS_CURSOR, lambda t: self.on_tweet(t, includes))

    async def poll_dms(self) -> int:
        """One round of GET /2/dm_events, newest first, paged back to the last event already handed over.

        A backlog deeper than ``MAX_PAGES`` pages (or a page refused midway, e.g. by a 429) is paged on in
        the next round from where this one stopped; nothing is handed over before the cursor is reached,
        because the events are handed over oldest first and the cursor may only move past stored ones.
        """
        cursor = await self.cursors.get_cursor(CHANNEL, DM_CURSOR)
        if cursor is None and not self.settings.backfill:
            await self.baseline()
            return 0
        last = int(cursor) if cursor not in (None, NOTHING_SEEN) else None
        carried, self._dm_backlog = self._dm_backlog, None
        events, includes, token = carried or ([], Includes(), None)
        for _ in range(MAX_PAGES):
            try:
                body = await self.client.dm_events(token=token)
            except RetryLater:
                if token is not None:
                    self._dm_backlog = (events, includes, token)
                raise
            includes = includes.merged(Includes.of(body))
            page = shapes.data(body)
            fresh = [e for e in shapes.usable(page, shapes.dm_event, "DM event") if last is None or int(e["id"]) > last]
            events.extend(fresh)
            token = shapes.meta(body, "next_token")
            if not token or len(fresh) < len(page):
                break
        else:
            assert token is not None
            self._dm_backlog = (events, includes, token)
            log.info("x: %d new DM events fetched so far; paging on to the last one handed over", len(events))
            return 0
        return await self._hand_over(events, DM_CURSOR, lambda e: self.on_dm(e, includes))

    async def _hand_over(self, items: list[Mapping[str, Any]], key: str, handle: Any) -> int:
        """Oldest first; the cursor moves to the last item handed over, even when a later one fails."""
        items = sorted({str(i["id"]): i for i in items}.values(), key=lambda i: int(i["id"]))
        done = 0
        last: str | None = None
        try:
            for item in items:
                await handle(item)
                last = str(item["id"])
                done += 1
        finally:
            if last is not None:
                await self.cursors.set_cursor(CHANNEL, key, last)
        return done

    # --- translation + handover ---------------------------------------------------------------

    async def on_dm(self, event: Mapping[str, Any], includes: Includes) -> None:
        if event.get("event_type", "MessageCreate") != "MessageCreate":
            return
        if str(event.get("sender_id")) == self.me:
            return  # our own reply (echo guard)
        message = dm_to_inbound(event, includes, me=self.me, moderators=self.settings.moderators)
        await self.memory.accepts_dms(message.author.platform_user_id)
        await self.inbound.handle_message(await self._as_choice(message))

    async def _as_choice(self, message: InboundMessage) -> InboundMessage:
        """A bare number answering the last numbered menu is that button's press."""
        number = message.text.strip().rstrip(".")
        if not number.isdigit() or len(number) > 2:
            return message
        saved = await self.cursors.get_cursor(CHANNEL, CHOICES_PREFIX + message.conversation)
        payloads = json.loads(saved) if saved else []
        if not 1 <= int(number) <= len(payloads):
            return message
        raw = {**message.raw, "button": True, "choice": int(number)}
        return replace(message, text=payloads[int(number) - 1], raw=raw)

    async def on_tweet(self, tweet: Mapping[str, Any], includes: Includes) -> None:
        if str(tweet.get("author_id")) == self.me or is_retweet(tweet):
            return
        keyword = self.settings.escalate_keyword
        target_id = replied_to(tweet)
        if keyword and target_id and has_keyword(tweet.get("text", ""), keyword) \
                and author_of(str(tweet["author_id"]), includes, self.settings.moderators).is_moderator:
            await self._escalate(tweet, target_id, includes)
            return
        message = self._tweet(tweet, includes)
        await self._remember(message)
        await self.inbound.handle_message(message)

    def _tweet(self, tweet: Mapping[str, Any], includes: Includes, addressed: bool = True) -> InboundMessage:
        message = tweet_to_inbound(tweet, includes, moderators=self.settings.moderators,
                                   addressed=addressed, me=self.me)
        if message.author.handle and not message.author.is_bot:
            self.memory.saw(message.platform_id, message.author.platform_user_id, message.author.handle)
        return message

    async def _remember(self, message: InboundMessage) -> None:
        """Before the handover: the reply to it may be sent after a restart, by a process that never saw it."""
        if message.author.handle and not message.author.is_bot:
            await self.memory.handed_over(message.platform_id, message.author.platform_user_id,
                                          message.author.handle)

    async def author(self, tweet_id: str) -> tuple[str, str] | None:
        """(user id, @handle) of a customer's post, to address a public reply: remembered from the
        handover, else read from X (a post from before the memory, or from another channel's history)."""
        known = await self.memory.author(tweet_id)
        if known is not None:
            return known
        tweet, includes = await self._lookup(tweet_id)
        if tweet is None or str(tweet.get("author_id")) == self.me:
            return None
        self._tweet(tweet, includes)
        return await self.memory.author(tweet_id)

    async def _lookup(self, tweet_id: str) -> tuple[Mapping[str, Any] | None, Includes]:
        try:
            body = await self.client.tweet(tweet_id)
        except RetryLater:
            raise
        except AdapterError as exc:  # deleted, protected, suspended
            log.info("x: post %s is not visible: %s", tweet_id, exc)
            return None, Includes()
        try:
            post = shapes.tweet(body.get("data")) if isinstance(body, Mapping) and body.get("data") else None
        except shapes.Malformed as exc:
            log.warning("x: post %s as X served it cannot be read: %s", tweet_id, exc)
            post = None
        return post, Includes.of(body)

    async def _escalate(self, tweet: Mapping[str, Any], target_id: str, includes: Includes) -> None:
        moderator = author_of(str(tweet["author_id"]), includes, self.settings.moderators)
        target, found = await self._lookup(target_id)
        for _ in range(3):  # a moderator answering the bot's reply means the customer's post above it
            parent = replied_to(target) if target and str(target.get("author_id")) == self.me else None
            if parent is None:
                break
            target, more = await self._lookup(parent)
            found = found.merged(more)
        if target is None:
            log.warning("x: escalation %s points at post %s, which is gone", tweet["id"], target_id)
            return
        found = includes.merged(found)
        context = await self._thread_above(target, found)
        customer_post = self._tweet(target, found, addressed=mentions_me(target, self.me, self.handle))
        await self._remember(customer_post)
        escalation = Escalation(
            channel=CHANNEL,
            platform_id=str(tweet["id"]),
            moderator=moderator,
            target=customer_post,
            note=without_keyword(tweet.get("text", ""), self.settings.escalate_keyword),
            context=tuple(context),
            received_at=parse_time(tweet.get("created_at")),
            raw={"kind": "escalation", "tweet": dict(tweet)},
        )
        outcome = await self.inbound.handle_escalation(escalation)
        notice = getattr(outcome, "notice", None)
        if moderator.is_moderator and notice and getattr(outcome, "action", None) != "duplicate":
            try:
                await self.client.send_dm(notice, participant_id=moderator.platform_user_id)
            except AdapterError as exc:
                log.warning("x: could not DM the escalation notice to moderator %s: %s",
                            moderator.platform_user_id, exc)

    async def _thread_above(self, target: Mapping[str, Any], includes: Includes) -> list[InboundMessage]:
        """The posts the target replies to, oldest first, up to ``escalation_context`` of them."""
        out: list[InboundMessage] = []
        parent = replied_to(target)
        seen = {str(target["id"])}
        while parent and parent not in seen and len(out) < self.settings.escalation_context:
            seen.add(parent)
            post = includes.tweets.get(parent)
            if post is None or "author_id" not in post:
                post, more = await self._lookup(parent)
                if post is None:
                    break
                includes = includes.merged(more)
            out.append(self._tweet(post, includes, addressed=False))
            parent = replied_to(post)
        out.reverse()
        return out

    # --- webhook ------------------------------------------------------------------------------

    async def on_activity(self, tweets_body: Mapping[str, Any], dm_body: Mapping[str, Any]) -> None:
        """Hand over one Account Activity delivery (already reshaped to v2)."""
        t_inc, d_inc = Includes.of(tweets_body), Includes.of(dm_body)
        for tweet in sorted(shapes.data(tweets_body), key=lambda t: int(t["id"])):
            if mentions_me(tweet, self.me, self.handle):
                await self.on_tweet(tweet, t_inc)
        for event in sorted(shapes.data(dm_body), key=lambda e: int(e["id"])):
            if self._mine(event):
                await self.on_dm(event, d_inc)

    def _mine(self, event: Mapping[str, Any]) -> bool:
        """A one-to-one DM the bot is part of (a subscription of several accounts is told of theirs too)."""
        pair = str(event.get("dm_conversation_id") or "").split("-")
        return len(pair) != 2 or self.me in pair
