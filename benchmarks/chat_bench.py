"""Website chat round trip: question sent over the WebSocket -> the bot's FAQ answer received.

Starts the real `supportbot run` as a subprocess on 127.0.0.1 (store, engine, dispatcher, web app;
SQLite in a temporary folder by default, PostgreSQL with --postgres), then N visitors, each with its
own cookie and socket, ask FAQ questions in English and Chinese. Every answer goes the product's
whole way: engine (store, triage, outbox) -> dispatcher (claim, send, mark sent) -> socket.

Two runs: "paced" visitors wait --think-ms (randomised +-50%) between messages, like people typing;
"saturated" visitors send the next question the moment the answer arrives (the throughput limit).
Prints p50/p95/p99/max of the round trip in milliseconds and the throughput. Bounded: --messages
per run (default 500) and a 120 s timeout per answer batch. Touches nothing but 127.0.0.1.

    python benchmarks/chat_bench.py [--visitors 20] [--messages 500] [--think-ms 500]
    python benchmarks/chat_bench.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "How can I contact customer support?",
    "I forgot my password, how do I log in?",
    "转账失败了怎么办",
    "How do I verify my identity?",
    "怎么联系客服？",
    "Can I cancel a transaction?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def create_database(url: str) -> tuple[str, str]:
    """A fresh PostgreSQL database for this run (dropped afterwards): (async url, its name)."""
    import asyncpg

    name = f"supportbot_bench_{uuid.uuid4().hex[:8]}"
    raw = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}", name


async def drop_database(url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def start_server(folder: Path, db_url: str, port: int) -> subprocess.Popen[str]:
    config = folder / "channels.yaml"
    config.write_text(f"database_url: {db_url}\n"
                      "channels:\n  webchat:\n    enabled: true\n    visitor_messages_per_minute: 100000\n"
                      "    customer_messages_per_minute: 1000000\n"
                      "    new_visitors_per_address_per_minute: 100000\n    sockets_per_address: 100000\n")  # a benchmark, not a flood
    env = {k: v for k, v in os.environ.items() if k != "SUPPORTBOT_DB_URL"}
    env["PYTHONPATH"] = str(REPO)
    process = subprocess.Popen([sys.executable, "-m", "core.cli", "run", "--config", str(config), "--port", str(port)],
                               cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"supportbot run exited with {process.wait()}")
        if line.startswith("Press Ctrl+C"):
            return process
    process.kill()
    raise SystemExit("supportbot run did not start within 60 s")


class Visitor:
    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self) -> None:
        async with self.session.get(self.base + "/chat") as page:
            assert page.status == 200
        self.ws = await self.session.ws_connect(self.base + "/chat/ws")
        assert (await self.ws.receive_json(timeout=30))["type"] == "history"

    async def ask(self, text: str) -> float:
        """Seconds from sending the question to receiving the bot's answer."""
        assert self.ws is not None
        started = time.perf_counter()
        await self.ws.send_str(json.dumps({"type": "message", "text": text, "id": uuid.uuid4().hex}))
        while True:
            frame = await self.ws.receive_json(timeout=120)
            if frame.get("type") == "error":
                raise RuntimeError(frame["error"])
            if frame.get("type") == "message" and frame.get("from") == "bot":
                return time.perf_counter() - started

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()


async def run(base: str, visitors: int, messages: int, think_ms: float) -> tuple[list[float], float]:
    crowd = [Visitor(base) for _ in range(visitors)]
    await asyncio.gather(*(v.open() for v in crowd))
    share = [messages // visitors + (1 if i < messages % visitors else 0) for i in range(visitors)]
    latencies: list[float] = []
    rng = random.Random(7)

    async def one(visitor: Visitor, count: int, offset: int) -> None:
        for n in range(count):
            if think_ms:
                await asyncio.sleep(think_ms / 1000 * rng.uniform(0.5, 1.5))
            latencies.append(await visitor.ask(QUESTIONS[(offset + n) % len(QUESTIONS)]))

    began = time.perf_counter()
    try:
        await asyncio.gather(*(one(v, c, i) for i, (v, c) in enumerate(zip(crowd, share, strict=True))))
    finally:
        await asyncio.gather(*(v.close() for v in crowd))
    return latencies, time.perf_counter() - began


def report(name: str, latencies: list[float], elapsed: float) -> None:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"{name:<10} n={len(ms):<4} p50={q[49]:7.1f}  p95={q[94]:7.1f}  p99={q[98]:7.1f}  max={ms[-1]:7.1f} ms"
          f"   {len(ms) / elapsed:6.1f} answers/s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--messages", type=int, default=500, help="per run")
    parser.add_argument("--think-ms", type=float, default=500, help="mean pause between a visitor's messages")
    parser.add_argument("--postgres", metavar="URL", help="use a fresh database on this PostgreSQL server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        created: tuple[str, str] | None = None
        if args.postgres:
            created = await create_database(args.postgres)
            db_url = created[0]
        else:
            db_url = f"sqlite+aiosqlite:///{folder}/supportbot.db"
        port = free_port()
        server = start_server(folder, db_url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            print(f"supportbot run on {base}, database {db_url.split('://')[0]}, {args.visitors} visitors, "
                  f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
            await run(base, args.visitors, min(60, args.messages), 0)  # warm-up: imports, caches, first rows
            latencies, elapsed = await run(base, args.visitors, args.messages, args.think_ms)
            report(f"paced ({args.think_ms:.0f} ms think)", latencies, elapsed)
            latencies, elapsed = await run(base, args.visitors, args.messages, 0)
            report("saturated", latencies, elapsed)
        finally:
            server.terminate()
            server.wait(timeout=60)
            if created:
                await drop_database(args.postgres, created[1])


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    asyncio.run(main())
