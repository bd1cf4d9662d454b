"""Telegram harness: the fake Bot API (tests/fakes/telegram_api.py) and the real PTB-based adapter.

Runs in webhook mode, so ``redeliver_last`` is what Telegram really does: the same update POSTed
again (a webhook retry). Polling is covered by tests/bots/test_telegram_polling.py and
test_telegram_private.py.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import AsyncExitStack
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bots.base import Inbound
from bots.telegram.adapter import TelegramAdapter
from tests.contract.harness import Delivered
from tests.fakes.telegram_api import JSON, FakeTelegram
from tests.fakes.telegram_world import telegram_world, wait_until


class Tap:
    """Passes every event to the real inbound side and notes which platform ids came back from it."""

    def __init__(self, inner: Inbound) -> None:
        self.inner = inner
        self.handled: list[str] = []

    async def handle_message(self, message: Any) -> object:
        outcome = await self.inner.handle_message(message)
        self.handled.append(message.platform_id)
        return outcome

    async def handle_escalation(self, escalation: Any) -> object:
        outcome = await self.inner.handle_escalation(escalation)
        self.handled.append(escalation.platform_id)
        return outcome

    async def handle_edit(self, edit: Any) -> object:
        outcome = await self.inner.handle_edit(edit)
        self.handled.append(edit.platform_id)
        return outcome

    async def handle_member_joined(self, event: Any) -> object:
        return await self.inner.handle_member_joined(event)


class TelegramHarness:
    channel = "telegram"

    def __init__(self, inbound: Inbound) -> None:
        self.tap = Tap(inbound)
        self.fake = FakeTelegram()
        self.adapter: TelegramAdapter
        self._stack = AsyncExitStack()
        self._last: JSON | None = None

    async def __aenter__(self) -> TelegramHarness:
        folder = Path(self._stack.enter_context(TemporaryDirectory(prefix="tg-harness-")))
        await self._stack.enter_async_context(self.fake)
        world = await self._stack.enter_async_context(
            telegram_world(self.tap, folder, fake=self.fake, mode="webhook"))
        self.adapter = world.adapter
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def customer_dm(self, text: str, *, user_id: str = "5001") -> str:
        user = self.fake.user(int(user_id), "Customer")
        body = self.fake.message(self.fake.private_chat(user), user, text)
        self._last = await self.fake.deliver("message", body)
        platform_id = f"{body['chat']['id']}:{body['message_id']}"
        await wait_until(lambda: platform_id in self.tap.handled, 10, f"{platform_id} handed over")
        return str(body["chat"]["id"])

    async def redeliver_last(self) -> None:
        assert self._last is not None
        before = len(self.tap.handled)
        await self.fake.redeliver(self._last)
        await wait_until(lambda: len(self.tap.handled) > before, 10, "the redelivered update handed over")
        await asyncio.sleep(0)

    def delivered(self) -> list[Delivered]:
        found = []
        for m in self.fake.sent:
            conversation = str(m["chat"]["id"])
            if m.get("message_thread_id"):
                conversation += f":{m['message_thread_id']}"
            found.append(Delivered(conversation, m.get("text", ""), f"{m['chat']['id']}:{m['message_id']}"))
        return found

    def fail_next_sends(self, status: int, *, count: int = 1, retry_after: float | None = None) -> None:
        seconds = math.ceil(retry_after) if retry_after is not None and status == 429 else None
        self.fake.fail_next(None, status, count=count, retry_after=seconds)


def make_harness(inbound: Inbound) -> TelegramHarness:
    return TelegramHarness(inbound)
