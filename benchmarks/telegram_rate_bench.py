"""Telegram sending at the platform's rate: the real dispatcher and adapter (PTB) against a strict fake Bot API.

Run:  python benchmarks/telegram_rate_bench.py [--replies 3000] [--chats 300] [--rate 30] [--no-per-chat]
Queues ``--replies`` bot replies spread over ``--chats`` private chats in a SQLite store (a temporary
folder), then lets the real dispatcher (default policy: 16 rows leased at once) send them through the
real Telegram adapter to the fake Bot API on 127.0.0.1, which refuses with 429 any send beyond
``--rate`` in a sliding 1 s window (and, unless ``--no-per-chat``, a second message to one chat within
1 s). The fake runs in a process of its own, as Telegram is remote: its clock stamps each arrival,
and its work does not stall the bot's event loop.

Prints the drain time, the achieved rate as a share of the configured one (goal >= 95 %; the pacing
spaces sends 3 % wider than 1/rate, so about 97 % is the ceiling), the tightest window of rate + 1
sends, and the number of 429s (goal 0) with the reason the fake gave for each. Bounded: stops when
every reply is sent, or after ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from aiohttp.test_utils import unused_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Bot API lives in tests/fakes
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from bots.telegram.adapter import TelegramAdapter
from core.dispatch import Dispatcher
from core.models import Author
from core.store import Store
from core.store.records import ensure_conversation, ensure_customer
from core.store.replies import queue_reply
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import settings_for

FIRST_CHAT = 100_000


def serve_fake(port: int, rate: int, per_chat: bool, chats: int, pipe: Connection) -> None:
    """The fake Bot API in its own process: serves until told to stop, then reports what it accepted.

    It stands in for Telegram's servers, whose clock does not stall: no garbage collection pauses here
    (the run is bounded), and a higher scheduling priority where allowed, so its arrival times are the
    bot's own pacing and not the fake's hiccups on a busy machine."""
    gc.disable()
    with contextlib.suppress(OSError):
        os.nice(-5)

    async def serve() -> None:
        async with FakeTelegram(port=port, strict_rate_per_second=rate, strict_per_chat=per_chat) as fake:
            fake.started.update(range(FIRST_CHAT, FIRST_CHAT + chats))
            pipe.send("ready")
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
            pipe.send({"sent_at": fake.sent_at, "refused": fake.flood.refused, "reasons": fake.flood.reasons,
                       "unique": len({(m["chat"]["id"], m["text"]) for m in fake.sent})})

    asyncio.run(serve())


async def queue(store: Store, replies: int, chats: int) -> None:
    """Reply ``i`` goes to chat ``i % chats``: every chat gets its share, interleaved as a busy hour would."""
    places = []
    async with store.transaction() as session:
        for n in range(chats):
            author = Author(platform_user_id=str(FIRST_CHAT + n), display_name=f"Customer {n}")
            customer = await ensure_customer(session, "telegram", author)
            places.append(await ensure_conversation(session, "telegram", str(FIRST_CHAT + n), customer, public=False))
    for start in range(0, replies, 500):
        async with store.transaction() as session:
            for i in range(start, min(start + 500, replies)):
                await queue_reply(session, places[i % chats], f"Answer {i // chats + 1} for you (reply #{i}).",
                                  author_kind="bot")


async def run(replies: int, chats: int, rate: int, per_chat: bool, timeout: float) -> None:
    port = unused_port()
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve_fake, args=(port, rate, per_chat, chats, theirs))
    server.start()
    try:
        if not ours.poll(30) or ours.recv() != "ready":
            raise RuntimeError("the fake Bot API did not start")
        with tempfile.TemporaryDirectory() as folder:
            store = await Store.open(f"sqlite+aiosqlite:///{folder}/bench.db")
            await queue(store, replies, chats)
            fake = FakeTelegram(port=port)  # only for its address and token: the server runs in the other process
            adapter = TelegramAdapter(settings_for(fake, rate_per_second=float(rate)), data_dir=Path(folder),
                                      cursor_store=store)
            dispatcher = Dispatcher(store, {"telegram": adapter})
            load = os.getloadavg()[0]
            began = time.monotonic()
            await dispatcher.start()
            try:
                while await dispatcher.pending():
                    if time.monotonic() - began > timeout:
                        print(f"stopped after {timeout:.0f}s with {await dispatcher.pending()} replies not sent")
                        break
                    await asyncio.sleep(0.5)
            finally:
                drained = time.monotonic() - began
                await dispatcher.stop()
                await adapter.stop()
                await store.close()
        ours.send("stop")
        report(ours.recv(), replies, chats, rate, per_chat, drained, began, load)
    finally:
        server.join(10)
        if server.is_alive():
            server.kill()


def report(seen: dict, replies: int, chats: int, rate: int, per_chat: bool, drained: float, began: float,
           load: float) -> None:
    times: list[float] = seen["sent_at"]
    sent = len(times)
    span = times[-1] - times[0] if sent > 1 else float("nan")
    achieved = (sent - 1) / span if sent > 1 else 0.0
    windows = [b - a for a, b in zip(times, times[rate:], strict=False)]
    gaps = sorted((b - a) * 1000 for a, b in itertools.pairwise(times))
    twice = sent - seen["unique"]
    print(f"{replies} replies to {chats} chats; strict fake: {rate}/s per bot"
          f"{', 1/s per chat' if per_chat else ''}; load average at start {load:.2f}")
    print(f"drain time {drained:.1f}s (first send {times[0] - began:.2f}s after start); {sent} accepted, "
          f"{twice} twice")
    print(f"achieved {achieved:.2f}/s = {achieved / rate * 100:.1f} % of the configured {rate}/s "
          f"(whole run incl. start: {sent / drained / rate * 100:.1f} %)")
    print(f"429s: {seen['refused']}; tightest {rate + 1} sends took {min(windows):.3f}s (> 1 s means none over); "
          f"gap between sends p50 {statistics.median(gaps):.1f} ms, p1 {gaps[len(gaps) // 100]:.1f} ms, "
          f"max {gaps[-1]:.1f} ms")
    for why in seen["reasons"]:
        print(f"  429: {why}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--no-per-chat", dest="per_chat", action="store_false")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    asyncio.run(run(args.replies, args.chats, args.rate, args.per_chat, args.timeout))


if __name__ == "__main__":
    main()
