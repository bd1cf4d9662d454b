"""An in-memory channel for core tests: the adapter boundary itself, recording what would be sent.

Core behaviour (engine, outbox, dispatcher) is tested through it; the real platform adapters have
their own fake servers. It can be told to fail the next sends the way platforms do.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import ClassVar

from bots.base import ChannelHealth, ChannelSettings, Inbound
from core.errors import RateLimited, RetryLater, Undeliverable
from core.models import OutboundMessage, Sent


class MemorySettings(ChannelSettings):
    enabled: bool = True
    rate_per_second: float = 1000.0
    rate_per_conversation_per_second: float = 1000.0


@dataclass
class MemoryChannel:
    name: ClassVar[str] = "memory"
    max_text_length: ClassVar[int] = 4096
    settings_model: ClassVar[type[ChannelSettings]] = MemorySettings
    settings: MemorySettings = field(default_factory=MemorySettings)
    sent: list[OutboundMessage] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    attempts: int = 0
    health: ChannelHealth = field(default_factory=lambda: ChannelHealth("memory"))
    start_failures: list[Exception] = field(default_factory=list)  # the next starts raise these
    closed: asyncio.Queue[Exception | None] = field(default_factory=asyncio.Queue)  # put(e): receiving ends with e
    starts: int = 0
    send_delay: float = 0.0  # seconds each send takes at the "platform"
    sent_at: list[float] = field(default_factory=list)  # loop time of each accepted send
    idempotent_sends: bool = False

    async def start(self, inbound: Inbound) -> None:
        self.starts += 1
        if self.start_failures:
            raise self.start_failures.pop(0)
        while not self.closed.empty():  # what ended the previous run is over
            self.closed.get_nowait()
        self.inbound = inbound

    async def wait_closed(self) -> None:
        why = await self.closed.get()
        if why is not None:
            raise why

    async def send(self, reply: OutboundMessage) -> Sent:
        self.attempts += 1
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(reply)
        self.sent_at.append(asyncio.get_running_loop().time())
        return Sent(platform_id=f"out-{len(self.sent)}")

    async def stop(self) -> None:
        self.closed.put_nowait(None)

    def fail_next(self, status: int, *, count: int = 1, retry_after: float | None = None,
                  scope: str = "channel") -> None:
        for _ in range(count):
            if status == 429:
                self.failures.append(RateLimited("429 Too Many Requests", retry_after=retry_after, scope=scope))
            elif status >= 500:
                self.failures.append(RetryLater(f"{status} server error"))
            else:
                self.failures.append(Undeliverable(f"{status} refused"))

    def texts(self, conversation: str | None = None) -> list[str]:
        return [r.text for r in self.sent if conversation is None or r.conversation == conversation]


def public_answer(kb: object, faq_id: str, lang: str) -> str:
    """An FAQ answer as posted in a public place: it ends with the reminder that staff never DM first."""
    return f"{kb.answer(faq_id, lang)}\n\n{kb.message('public_safety', lang)}"  # type: ignore[attr-defined]
