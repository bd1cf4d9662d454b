"""Telegram channel throughput on 127.0.0.1: the real PTB adapter against the fake Bot API.

Run:  python benchmarks/telegram_bench.py [--messages 300] [--mode polling|webhook]
Prints (1) inbound: messages/s from the fake's queue until every message is stored and triaged by
the real engine on SQLite, with p50/p99 hand-over latency; (2) outbound: replies/s through the
dispatcher with the rate limits lifted (Telegram itself allows ~30/s per bot, 1/s per chat).
Bounded: everything runs on loopback and stops after the given number of messages.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from core.dispatch import Dispatcher, DispatchPolicy
from core.knowledge import load_knowledge_base
from core.pipeline import Engine
from core.store import Store
from core.triage import Triage
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import telegram_world

QUESTIONS = ["How do I reset my password?", "忘记密码了怎么办", "my withdrawal is stuck", "是否安全？",
             "how long does verification take?", "转账失败了"]


class Timed:
    """Notes when each message left the engine, to measure hand-over latency."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.done: dict[str, float] = {}

    async def handle_message(self, message):  # type: ignore[no-untyped-def]
        outcome = await self.engine.handle_message(message)
        self.done[message.platform_id] = time.perf_counter()
        return outcome

    async def handle_escalation(self, escalation):  # type: ignore[no-untyped-def]
        return await self.engine.handle_escalation(escalation)

    async def handle_edit(self, edit):  # type: ignore[no-untyped-def]
        return await self.engine.handle_edit(edit)


async def run(messages: int, mode: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{folder}/bench.db")
        kb = load_knowledge_base()
        triage = Triage(kb)
        triage.decide("warm up the tokenizer 预热")  # jieba loads its dictionary on first use
        engine = Engine(store, triage, kb)
        timed = Timed(engine)
        async with FakeTelegram() as fake, telegram_world(
            timed, Path(folder), fake=fake, mode=mode, rate_per_second=10_000.0,
            rate_per_conversation_per_second=10_000.0,
        ) as world:
            started: dict[str, float] = {}
            begin = time.perf_counter()
            for i in range(messages):
                user = fake.user(10_000 + i % 100, f"user{i % 100}")
                body = fake.message(fake.private_chat(user), user, QUESTIONS[i % len(QUESTIONS)])
                started[f"{user['id']}:{body['message_id']}"] = time.perf_counter()
                await fake.deliver("message", body)
            while len(timed.done) < messages:  # noqa: ASYNC110 - a bounded benchmark poll
                await asyncio.sleep(0.01)
            inbound_s = time.perf_counter() - begin
            latencies = sorted((timed.done[k] - started[k]) * 1000 for k in started)
            print(f"inbound  ({mode}): {messages} messages in {inbound_s:.2f}s = {messages / inbound_s:.0f} msg/s; "
                  f"hand-over p50 {statistics.median(latencies):.1f} ms, "
                  f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms")

            single = []
            for i in range(30):  # one at a time: the latency a customer sees when the bot is idle
                user = fake.user(20_000 + i, f"solo{i}")
                body = fake.message(fake.private_chat(user), user, QUESTIONS[i % len(QUESTIONS)])
                key = f"{user['id']}:{body['message_id']}"
                t0 = time.perf_counter()
                await fake.deliver("message", body)
                while key not in timed.done:  # noqa: ASYNC110 - a bounded benchmark poll
                    await asyncio.sleep(0.001)
                single.append((timed.done[key] - t0) * 1000)
            single.sort()
            print(f"idle hand-over ({mode}): p50 {statistics.median(single):.1f} ms, max {single[-1]:.1f} ms")

            dispatcher = Dispatcher(store, {"telegram": world.adapter},
                                    DispatchPolicy(poll_interval_seconds=0.01, concurrency=8))
            begin = time.perf_counter()
            await dispatcher.drain(timeout=120)
            outbound_s = time.perf_counter() - begin
            print(f"outbound: {len(fake.sent)} replies in {outbound_s:.2f}s = {len(fake.sent) / outbound_s:.0f} msg/s "
                  f"(limits lifted; production runs at the configured {30:.0f}/s)")
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--mode", choices=("polling", "webhook"), default="polling")
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.mode))


if __name__ == "__main__":
    main()
