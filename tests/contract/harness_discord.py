"""Discord harness: the fake Discord (tests/fakes/discord_api.py) and the real discord.py adapter.

The adapter is pointed at the fake the way a deployment points it at a proxy: ``api_base_url``
only (the gateway is what the fake's ``GET /gateway/bot`` answers). The adapter restores
discord.py's URL constants when it stops.
"""

from __future__ import annotations

from typing import Any

from bots.base import Inbound
from bots.discord.adapter import DiscordAdapter, DiscordSettings
from tests.contract.harness import Delivered
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_world import DM

TOKEN = "test-token.discord"


class Tap:
    """Passes every event to the real inbound side and notes, once it returned, what was handed over."""

    def __init__(self, inner: Inbound) -> None:
        self.inner = inner
        self.handled: list[str] = []
        self.outcomes: dict[str, object] = {}
        self.items: dict[str, Any] = {}  # the last item handed over per platform id

    async def _pass(self, call: Any, item: Any, key: str | None = None) -> object:
        outcome = await call(item)
        key = key or item.platform_id
        self.handled.append(key)
        self.items[key] = item
        self.outcomes[key] = outcome
        return outcome

    async def handle_message(self, message: Any) -> object:
        return await self._pass(self.inner.handle_message, message)

    async def handle_escalation(self, escalation: Any) -> object:
        return await self._pass(self.inner.handle_escalation, escalation)

    async def handle_edit(self, edit: Any) -> object:
        return await self._pass(self.inner.handle_edit, edit)

    async def handle_member_joined(self, event: Any) -> object:
        """Noted as ``join:<user id>``."""
        return await self._pass(self.inner.handle_member_joined, event, f"join:{event.author.platform_user_id}")


class DiscordHarness:
    channel = "discord"

    def __init__(self, inbound: Inbound, *, settings: dict[str, Any] | None = None,
                 fake: FakeDiscord | None = None, cursor_store: Any = None) -> None:
        """``fake`` may come with guilds and users already built (their ids go into ``settings``)."""
        self.tap = Tap(inbound)
        self.fake = fake or FakeDiscord(token=TOKEN)
        self.fake.token = TOKEN
        self.options = {"guild_ready_timeout": 0.2, "max_ratelimit_wait": 2.0, "send_timeout": 10,
                        "ready_timeout": 15, **(settings or {})}
        self.cursor_store = cursor_store
        self.adapter: DiscordAdapter | None = None
        self.customers: dict[str, dict[str, Any]] = {}
        self._last: dict[str, Any] | None = None

    async def __aenter__(self) -> DiscordHarness:
        await self.fake.start()
        self.settings = DiscordSettings(enabled=True, token=TOKEN, api_base_url=self.fake.rest_base, **self.options)
        self.adapter = DiscordAdapter(self.settings, cursor_store=self.cursor_store)
        try:
            await self.adapter.start(self.tap)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.adapter is not None:
            await self.adapter.stop()
        await self.fake.close()

    def customer(self, user_id: str = "5001") -> dict[str, Any]:
        """A fake user per contract user id (Discord ids are snowflakes the fake assigns)."""
        if user_id not in self.customers:
            self.customers[user_id] = self.fake.add_user(f"customer{user_id}")
        return self.customers[user_id]

    async def customer_dm(self, text: str, *, user_id: str = "5001") -> str:
        user = self.customer(user_id)
        msg = await self.fake.user_dm(user, text)
        self._last = msg
        await self.handled(msg["id"])
        return f"dm:{user['id']}"

    async def handled(self, platform_id: str, count: int = 1, within: float = 10.0) -> object:
        """Wait (bounded) until the adapter handed ``platform_id`` over ``count`` times; its outcome."""
        await self.fake.wait_for(lambda: self.tap.handled.count(platform_id) >= count, within,
                                 what=f"{platform_id} handed over")
        return self.tap.outcomes[platform_id]

    async def redeliver_last(self) -> None:
        """Replay the last event on the gateway: drop the socket, let discord.py RESUME, resend it."""
        assert self._last is not None
        before = self.tap.handled.count(self._last["id"])
        self.fake.replay_on_resume = [self.fake.frame_of("MESSAGE_CREATE", self._last["id"])]
        resumes = len(self.fake.resumes)
        await self.fake.drop()
        await self.fake.wait_for(lambda: len(self.fake.resumes) > resumes and self.fake.connected(),
                                 what="RESUME after the drop")
        await self.handled(self._last["id"], count=before + 1)

    def conversation_of(self, channel_id: str) -> str:
        channel = self.fake.channels[int(channel_id)]
        if channel["type"] == DM:
            return f"dm:{channel['recipients'][0]['id']}"
        return channel_id

    def delivered(self) -> list[Delivered]:
        return [Delivered(conversation=self.conversation_of(m["channel_id"]), text=m["content"],
                          platform_id=m["id"]) for m in self.fake.sent]

    def fail_next_sends(self, status: int, *, count: int = 1, retry_after: float | None = None) -> None:
        self.fake.fail_next_sends(status, count=count, retry_after=retry_after)


def make_harness(inbound: Inbound) -> DiscordHarness:
    return DiscordHarness(inbound)
