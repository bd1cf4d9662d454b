"""Flood control: a customer who writes faster than any person reads gets one ticket and one notice.

Every message is still stored (nothing a customer sends is lost); past the limit the bot stops
answering each one. The first message over the limit opens (or joins) a ticket and gets a notice,
the rest join that ticket quietly until the customer slows down. Limits are per channel
(``customer_messages_per_minute`` in each ``channels.yaml`` block), counted per customer identity
in a moving one-minute window (the ``limits`` library) in this process.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

DEFAULT_PER_MINUTE = 20


class Flood(Enum):
    OK = "ok"  # answer as usual
    FIRST = "first"  # just went over: one notice, and a ticket
    MORE = "more"  # still over: store it on the ticket, say nothing


class FloodGate:
    def __init__(self, per_minute: Mapping[str, int] | None = None, *, default: int = DEFAULT_PER_MINUTE) -> None:
        self._limits = {channel: RateLimitItemPerMinute(n) for channel, n in (per_minute or {}).items()}
        self._default = RateLimitItemPerMinute(default)
        self._noticed = RateLimitItemPerMinute(1, 10)  # one notice per customer per 10 minutes of flooding
        self._window = MovingWindowRateLimiter(MemoryStorage())

    def check(self, channel: str, user: str) -> Flood:
        """Count one message from ``user`` on ``channel`` and say what the engine should do with it."""
        item = self._limits.get(channel, self._default)
        if self._window.hit(item, channel, user):
            return Flood.OK
        return Flood.FIRST if self._window.hit(self._noticed, "notice", channel, user) else Flood.MORE
