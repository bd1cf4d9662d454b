"""X harness: the fake X API v2 (tests/fakes/x_api.py) and the real tweepy-based adapter, polling.

tweepy's host is hard-coded; the adapter's ``api_base_url`` (its production switch for proxies)
points it at the fake. "Handed over" is observed at the adapter's own edge: the polling cursor
only moves past an event after the event was handed to ``inbound``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestServer

from bots.base import Inbound
from bots.x.adapter import DM_CURSOR, MENTIONS_CURSOR, XAdapter, XSettings
from core.errors import StorageError
from tests.contract.harness import Delivered
from tests.fakes.x_api import BOT_HANDLE, BOT_ID, FakeX


class MemoryCursors:
    """The cursor-store interface of the Store, in memory (for harness runs without a store)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    async def get_cursor(self, channel: str, key: str) -> str | None:
        return self.values.get((channel, key))

    async def set_cursor(self, channel: str, key: str, value: str, *, keep_days: float | None = None) -> None:
        self.values[(channel, key)] = value


class FlakyInbound:
    """The engine, whose database fails once while storing each of ``fail_once`` (platform ids); every
    handover is recorded. Everything else goes to the real engine, which stores and commits it."""

    def __init__(self, engine: Inbound, fail_once: set[str] | None = None) -> None:
        self.engine = engine
        self.fail_once = set(fail_once or ())
        self.handed: list[str] = []

    async def handle_message(self, message: Any) -> object:
        self.handed.append(message.platform_id)
        if message.platform_id in self.fail_once:
            self.fail_once.discard(message.platform_id)
            raise StorageError("database is unavailable (injected)")
        return await self.engine.handle_message(message)

    async def handle_escalation(self, escalation: Any) -> object:
        return await self.engine.handle_escalation(escalation)

    async def handle_edit(self, edit: Any) -> object:
        return await self.engine.handle_edit(edit)


class XHarness:
    channel = "x"

    def __init__(self, inbound: Inbound, *, settings: dict[str, Any] | None = None,
                 cursor_store: Any = None, fake: FakeX | None = None) -> None:
        self.inbound = inbound
        self.fake = fake or FakeX()
        self.cursors = cursor_store if cursor_store is not None else MemoryCursors()
        self.overrides = {"poll_interval": 0.05, **(settings or {})}
        self.server: TestServer | None = None
        self.adapter: XAdapter = None  # type: ignore[assignment]  # built in __aenter__ (needs the port)
        self._last: tuple[str, str, str | None] | None = None  # (cursor key, event id, cursor before)

    def settings(self) -> XSettings:
        assert self.server is not None
        c = self.fake.creds
        return XSettings(enabled=True, consumer_key=c.consumer_key, consumer_secret=c.consumer_secret,
                         access_token=c.access_token, access_token_secret=c.access_token_secret,
                         api_base_url=str(self.server.make_url("")), **self.overrides)

    async def __aenter__(self) -> XHarness:
        self.server = TestServer(self.fake.app(), host="127.0.0.1")
        await self.server.start_server()
        self.adapter = XAdapter(self.settings(), cursor_store=self.cursors)
        try:
            await self.adapter.start(self.inbound)
            if self.adapter.settings.mode == "polling" and not self.adapter.settings.backfill:
                for key in (MENTIONS_CURSOR, DM_CURSOR):  # first start: the baseline is taken (backfill takes none)
                    await self._until(lambda k=key: self._cursor_at_least(k, "0"), f"baseline {key}")
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.adapter is not None:
            await self.adapter.stop()
        if self.server is not None:
            await self.server.close()
            self.server = None

    # --- customers -----------------------------------------------------------------------------

    def customer(self, user_id: str = "5001", handle: str | None = None) -> str:
        if user_id not in self.fake.users:
            self.fake.add_user(user_id, handle or f"customer{user_id}", handle or f"Customer {user_id}")
        return user_id

    async def customer_dm(self, text: str, *, user_id: str = "5001") -> str:
        self.customer(user_id)
        before = await self.cursors.get_cursor("x", DM_CURSOR)
        event_id = self.fake.dm(user_id, text)
        self._last = (DM_CURSOR, event_id, before)
        await self.until_handed(DM_CURSOR, event_id)
        return f"dm:{user_id}"

    async def mention(self, text: str, *, user_id: str = "5001", in_reply_to: str | None = None,
                      lang: str = "en") -> str:
        """A public post mentioning the bot; returns its tweet id once it was handed over."""
        self.customer(user_id)
        if f"@{BOT_HANDLE}".lower() not in text.lower():
            text = f"@{BOT_HANDLE} {text}"
        before = await self.cursors.get_cursor("x", MENTIONS_CURSOR)
        tweet_id = self.fake.post(user_id, text, in_reply_to=in_reply_to, lang=lang)
        self._last = (MENTIONS_CURSOR, tweet_id, before)
        await self.until_handed(MENTIONS_CURSOR, tweet_id)
        return tweet_id

    async def until_handed(self, key: str, event_id: str, timeout: float = 10.0) -> None:
        await self._until(lambda: self._cursor_at_least(key, event_id), f"event {event_id}", timeout)

    async def _cursor_at_least(self, key: str, event_id: str) -> bool:
        value = await self.cursors.get_cursor("x", key)
        return value is not None and int(value) >= int(event_id)

    async def _until(self, probe: Any, what: str, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await probe():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{what} never reached the inbound side")
            await asyncio.sleep(0.02)

    async def redeliver_last(self) -> None:
        """A replay: the cursor goes back to before the last event, so the next poll hands it over again."""
        assert self._last is not None
        key, event_id, before = self._last
        polls = self.fake.count("dm_events" if key == DM_CURSOR else "mentions")
        await self.cursors.set_cursor("x", key, before or "0")
        await self.until_handed(key, event_id)
        await self._until(self._polled_since(key, polls), "a poll after the replay")

    def _polled_since(self, key: str, polls: int) -> Any:
        async def probe() -> bool:
            return self.fake.count("dm_events" if key == DM_CURSOR else "mentions") > polls
        return probe

    # --- what the bot sent ---------------------------------------------------------------------

    def delivered(self) -> list[Delivered]:
        out: list[tuple[int, Delivered]] = []
        for event in self.fake.bot_dms():
            low, high = event["dm_conversation_id"].split("-")
            other = low if high == BOT_ID else high
            out.append((int(event["id"]), Delivered(f"dm:{other}", event["text"], event["id"])))
        for post in self.fake.bot_posts():
            out.append((int(post["id"]), Delivered(f"tweet:{self.thread_root(post['id'])}", post["text"], post["id"])))
        return [d for _, d in sorted(out, key=lambda pair: pair[0])]

    def thread_root(self, tweet_id: str) -> str:
        """The customer post a bot reply (or a part of a bot thread) answers."""
        post = self.fake.tweets[tweet_id]
        while post["author_id"] == BOT_ID and post.get("referenced_tweets"):
            post = self.fake.tweets[post["referenced_tweets"][0]["id"]]
        return post["id"]

    def fail_next_sends(self, status: int, *, count: int = 1, retry_after: float | None = None) -> None:
        self.fake.fail_next("send", status, count=count, retry_after=retry_after)


def make_harness(inbound: Inbound) -> XHarness:
    return XHarness(inbound)
