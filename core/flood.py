"""Flood control: a customer who writes faster than any person reads gets one ticket and one notice.

Every message is still stored (nothing a customer sends is lost); past the limit the bot stops
answering each one. The first message over the limit opens (or joins) a ticket and gets a notice,
the rest join that ticket quietly until the customer slows down. Limits are per channel
(``customer_messages_per_minute`` in each ``channels.yaml`` block), counted per customer identity
in a moving one-minute window (the ``limits`` library) in this process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from enum import Enum
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

DEFAULT_PER_MINUTE = 20
EXPIRE_EVERY = 1.0  # seconds between sweeps of the counts that left their window (memory only: counting ignores them)


class Flood(Enum):
    OK = "ok"  # answer as usual
    FIRST = "first"  # just went over: one notice, and a ticket
    MORE = "more"  # still over: store it on the ticket, say nothing


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process storage, its expired entries swept by the counting call itself once a second.

    `MemoryStorage` starts a new timer thread to sweep 10 ms after any count once the last one ended: on a busy
    server a thread start (the caller waits for the thread to run) every 10 ms, on the event loop's thread, and a
    sweep of every key each time. Whether a count is within its window never depends on the sweep (the window is
    checked against each entry's time), so sweeping less often changes only how long old entries use memory.
    """

    _swept_at = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer thread of the parent's private hook
        now = time.monotonic()
        if now - self._swept_at >= EXPIRE_EVERY:
            self._swept_at = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def _storage() -> MemoryStorage:
    """The swept storage where this release of limits has the hooks it replaces, else limits' own."""
    hooks = ("_MemoryStorage__schedule_expiry", "_MemoryStorage__expire_events")
    return SweptMemoryStorage() if all(hasattr(MemoryStorage, name) for name in hooks) else MemoryStorage()


class FloodGate:
    def __init__(self, per_minute: Mapping[str, int] | None = None, *, default: int = DEFAULT_PER_MINUTE) -> None:
        self._limits = {channel: RateLimitItemPerMinute(n) for channel, n in (per_minute or {}).items()}
        self._default = RateLimitItemPerMinute(default)
        self._noticed = RateLimitItemPerMinute(1, 10)  # one notice per customer per 10 minutes of flooding
        self._window = MovingWindowRateLimiter(_storage())

    @classmethod
    def for_channels(cls, channels: Mapping[str, Any]) -> FloodGate:
        """Each ``channels.yaml`` block's own ``customer_messages_per_minute`` (its default where it gives none)."""
        return cls({name: block.customer_messages_per_minute for name, block in channels.items()})

    def check(self, channel: str, user: str) -> Flood:
        """Count one message from ``user`` on ``channel`` and say what the engine should do with it."""
        item = self._limits.get(channel, self._default)
        if self._window.hit(item, channel, user):
            return Flood.OK
        return Flood.FIRST if self._window.hit(self._noticed, "notice", channel, user) else Flood.MORE
