"""The Telegram side of benchmarks/load_bench.py: the fake Bot API and its customers, in a process of their own.

Telegram is remote: its work (accepting sends, posting updates) must not take CPU from the measured
event loops, so the fake (tests/fakes/telegram_api.FakeTelegram, non-strict) runs here, in a spawned
process, together with the Telegram customers who write to the bot. Each customer posts an update to
the product's webhook (the secret header, as ``FakeTelegram.deliver`` does; the benchmark spreads the
customers over the web processes, so it posts to a given URL instead of the one last set), then waits
for the bot's reply to that chat before writing the next question. Both clocks are ``time.monotonic()``,
which is system-wide on Linux, so the client process can merge these times with its own.

Commands over the pipe: ``("round", plan)`` -> samples; ``("tally",)`` -> per chat (asked, replies,
texts of extra replies); ``("stop",)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_objects import JSON


@dataclass
class BenchTelegram(FakeTelegram):
    """The fake Bot API, plus a wake-up for whoever waits for a reply to a chat."""

    replies: dict[int, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    _arrived: dict[int, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))

    def _bot_message(self, params: JSON, chat_id: int, content: JSON) -> JSON:  # type: ignore[override]
        message = super()._bot_message(params, chat_id, content)
        self.replies[chat_id].append((time.monotonic(), str(content.get("text", ""))))
        self._arrived[chat_id].set()
        return message

    async def wait_replies(self, chat_id: int, count: int, timeout: float) -> float | None:
        """When the chat's ``count``-th reply arrived; None if it did not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.replies[chat_id]) < count:
            event = self._arrived[chat_id]
            event.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)
        return self.replies[chat_id][count - 1][0]


class Customers:
    """The Telegram customers: who asked how many questions, and the webhook POSTs that carried them."""

    def __init__(self, fake: BenchTelegram, secret: str) -> None:
        self.fake = fake
        self.secret = secret
        self.asked: dict[int, int] = defaultdict(int)
        self.stopped: set[int] = set()  # a question went unanswered: the order no longer matches replies
        self.webhook_retries = 0
        self.session = ClientSession(timeout=ClientTimeout(total=30))

    async def post(self, url: str, user: JSON, text: str) -> None:
        """One update to the webhook, again after a non-2xx answer (Telegram retries until it gets a 2xx)."""
        update = {"update_id": self.fake._next_update + 1,
                  "message": self.fake.message(self.fake.private_chat(user), user, text)}
        self.fake._next_update += 1
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        for attempt in range(20):
            try:
                async with self.session.post(url, json=update, headers=headers) as response:
                    if 200 <= response.status < 300:
                        return
            except (ClientError, OSError, TimeoutError):
                pass
            self.webhook_retries += 1
            await asyncio.sleep(min(0.1 * 2 ** attempt, 2.0))
        raise RuntimeError(f"the webhook {url} refused update {update['update_id']} 20 times")

    async def run_round(self, plan: dict[str, Any]) -> list[tuple[int, int, float, float | None]]:
        """Each user of the plan asks its questions in turn, each after the previous reply; at most
        ``in_flight`` questions wait for a reply at once. Samples: (chat, question number, in, out or None)."""
        slots = asyncio.Semaphore(plan["in_flight"])
        samples: list[tuple[int, int, float, float | None]] = []
        targets: list[str] = plan["targets"]

        async def customer(index: int, user_id: int, texts: list[str]) -> None:
            user = self.fake.user(user_id, f"Customer {user_id}", language_code=plan["languages"][index])
            for text in texts:
                if user_id in self.stopped:
                    return
                async with slots:
                    self.asked[user_id] += 1
                    number = self.asked[user_id]
                    began = time.monotonic()
                    await self.post(targets[index % len(targets)], user, text)
                    out = await self.fake.wait_replies(user_id, number, plan["reply_timeout"])
                samples.append((user_id, number, began, out))
                if out is None:
                    self.stopped.add(user_id)

        await asyncio.gather(*(customer(i, u, t) for i, (u, t) in enumerate(zip(plan["users"], plan["texts"],
                                                                                 strict=True))))
        return samples

    def tally(self) -> dict[int, tuple[int, int, list[str]]]:
        """Per chat: questions asked, replies received, and the texts of replies beyond one per question."""
        chats = set(self.asked) | set(self.fake.replies)
        return {chat: (self.asked[chat], len(self.fake.replies[chat]),
                       [text for _, text in self.fake.replies[chat][self.asked[chat]:]]) for chat in chats}


def serve(port: int, secret: str, pipe: Connection) -> None:
    """The process's body: serve the fake Bot API and run what the pipe asks, until ``stop``."""

    async def main() -> None:
        async with BenchTelegram(port=port) as fake:
            customers = Customers(fake, secret)
            pipe.send("ready")
            loop = asyncio.get_running_loop()
            try:
                while True:
                    command = await loop.run_in_executor(None, pipe.recv)
                    if command[0] == "round":
                        pipe.send(await customers.run_round(command[1]))
                    elif command[0] == "tally":
                        pipe.send({"chats": customers.tally(), "webhook_retries": customers.webhook_retries,
                                   "kinds": Counter(t[:40] for rs in fake.replies.values() for _, t in rs)})
                    else:
                        break
            finally:
                await customers.session.close()

    asyncio.run(main())
