"""What every channel's test harness provides, so one contract suite runs against every adapter.

A harness owns a fake platform server on 127.0.0.1 and the real adapter (real client library)
pointed at it. Each channel supplies ``tests/contract/harness_<channel>.py`` with
``make_harness(inbound) -> Harness``; ``tests/contract/test_adapter_contract.py`` drives them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bots.base import ChannelAdapter


@dataclass(frozen=True)
class Delivered:
    """One message the fake platform received from the bot."""

    conversation: str  # the same string the adapter puts in InboundMessage.conversation
    text: str
    platform_id: str


class Harness(Protocol):
    channel: str
    adapter: ChannelAdapter

    async def __aenter__(self) -> Harness:
        """Start the fake server and the adapter (``adapter.start(inbound)``)."""
        ...

    async def __aexit__(self, *exc: object) -> None:
        """Stop the adapter and the fake server."""
        ...

    async def customer_dm(self, text: str, *, user_id: str = "5001") -> str:
        """Make the fake platform deliver a private message from a customer to the bot.

        Returns once the adapter has handed it to ``inbound`` (poll the inbound side, bounded by a
        timeout). Returns the conversation string the adapter used."""
        ...

    async def redeliver_last(self) -> None:
        """Deliver the last customer event again, exactly as before (webhook retry, replayed event)."""
        ...

    def delivered(self) -> list[Delivered]:
        """Everything the bot sent to the fake platform, oldest first."""
        ...

    def fail_next_sends(self, status: int, *, count: int = 1, retry_after: float | None = None) -> None:
        """The next ``count`` send calls get this HTTP status (429 with retry_after, 500, 403 ...)."""
        ...
