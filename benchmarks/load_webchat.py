"""The website-chat side of benchmarks/load_bench.py: many visitors, each with its cookie and its socket.

Each visitor loads /chat (its cookie), opens /chat/ws on one of the web processes (round robin) and keeps
reading every frame in the background, so a reply that comes twice, or late, is seen. A visitor asks its
next question once the reply to the previous one arrived; replies match questions by visitor and order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter

import aiohttp


class Visitor:
    def __init__(self, base: str, lang: str) -> None:
        self.base = base
        self.lang = lang
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.asked = 0
        self.replies: list[tuple[float, str, str]] = []  # (arrival, frame id, text) of the bot's messages
        self.errors: list[str] = []
        self.stopped = False  # a question went unanswered: the order no longer matches replies
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        async with self.session.get(self.base + "/chat") as page:
            if page.status != 200:
                raise RuntimeError(f"GET /chat answered {page.status}")
        self.ws = await self.session.ws_connect(self.base + "/chat/ws", heartbeat=None)
        first = await self.ws.receive_json(timeout=30)
        if first.get("type") != "history":
            raise RuntimeError(f"first frame was {first!r}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            if data.get("type") == "error":
                self.errors.append(str(data.get("error")))
            elif data.get("type") == "message" and data.get("from") != "customer":
                self.replies.append((time.monotonic(), str(data.get("id")), str(data.get("text", ""))))
                self._arrived.set()

    async def ask(self, text: str, timeout: float) -> tuple[float, float | None]:
        """(question in, reply out or None) by the monotonic clock."""
        assert self.ws is not None
        self.asked += 1
        number = self.asked
        began = time.monotonic()
        await self.ws.send_str(json.dumps({"type": "message", "text": text, "id": uuid.uuid4().hex},
                                          ensure_ascii=False))
        deadline = began + timeout
        while len(self.replies) < number:
            self._arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                self.stopped = True
                return began, None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)
        return began, self.replies[number - 1][0]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.session.close()


class Crowd:
    """``count`` visitors spread over the web processes' URLs, half asking in English, half in Chinese."""

    def __init__(self, bases: list[str], count: int, questions: dict[str, list[str]]) -> None:
        self.visitors = [Visitor(bases[n % len(bases)], "zh" if n % 2 else "en") for n in range(count)]
        self.questions = questions
        self.lost: list[str] = []  # questions with no reply within the timeout, described

    async def open(self) -> None:
        slots = asyncio.Semaphore(50)

        async def one(visitor: Visitor) -> None:
            async with slots:
                await visitor.open()

        await asyncio.gather(*(one(v) for v in self.visitors))

    async def run_round(self, count: int, in_flight: int, timeout: float) -> list[tuple[float, float | None]]:
        """``count`` questions spread over the visitors; each visitor asks its share in turn."""
        shares = [count // len(self.visitors) + (1 if n < count % len(self.visitors) else 0)
                  for n in range(len(self.visitors))]
        slots = asyncio.Semaphore(in_flight)
        samples: list[tuple[float, float | None]] = []

        async def one(n: int, visitor: Visitor, share: int) -> None:
            pool = self.questions[visitor.lang]
            for _ in range(share):
                if visitor.stopped:
                    return
                text = pool[(visitor.asked + n) % len(pool)]
                async with slots:
                    sample = await visitor.ask(text, timeout)
                samples.append(sample)
                if sample[1] is None:
                    self.lost.append(f"webchat visitor {n} on {visitor.base}: question {visitor.asked} {text!r} "
                                     f"unanswered after {timeout:g} s")

        await asyncio.gather(*(one(n, v, s) for n, (v, s) in enumerate(zip(self.visitors, shares, strict=True))))
        return samples

    def take_lost(self) -> list[str]:
        """The unanswered questions described since the last call."""
        lost, self.lost = self.lost, []
        return lost

    def waiting(self) -> int:
        """Questions sent and not answered yet."""
        return sum(max(0, v.asked - len(v.replies)) for v in self.visitors)

    def duplicated(self, problems: list[str]) -> int:
        """Replies beyond one per question, and frame ids pushed twice; each one described in ``problems``."""
        extra = 0
        for n, visitor in enumerate(self.visitors):
            ids = [frame_id for _, frame_id, _ in visitor.replies]
            twice = len(ids) - len(set(ids))
            beyond = max(0, len(visitor.replies) - visitor.asked)
            if twice or beyond:
                extra += max(twice, beyond)
                late = [t[:40] for _, _, t in visitor.replies[visitor.asked:]][:2]
                problems.append(f"webchat visitor {n}: {visitor.asked} questions, {len(visitor.replies)} replies, "
                                f"{twice} frame ids twice; extra {late}")
            for error in visitor.errors[:1]:
                problems.append(f"webchat visitor {n}: error frame {error!r}")
        return extra

    def kinds(self) -> Counter[str]:
        """How often each reply (its first 40 characters) came: FAQ answers, or something else."""
        return Counter(t[:40] for v in self.visitors for _, _, t in v.replies)

    async def close(self) -> None:
        await asyncio.gather(*(v.close() for v in self.visitors), return_exceptions=True)
