"""Outbound pacing as each platform defines it: a steady rate per channel, a gap per conversation, and
pauses the platform orders (Telegram's flood wait and Discord's global limit stop the whole bot).

Sends on a channel are spaced evenly (a leaky bucket of one, from aiolimiter) a little wider than
``1/rate``, so no one-second window ever holds more than ``rate`` sends, at start, after a restart or
after a pause, even with some network jitter. A conversation's own gap is kept apart from the
channel's: a row whose conversation must wait long is given back to the outbox instead of holding a
sending slot, so one slow group never holds up another customer's reply.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from aiolimiter import AsyncLimiter

MARGIN = 1.03  # sends spaced 3 % wider than 1/rate: a strict platform counting any 1 s window never sees rate + 1
# The bucket holds a little more than one send (at most 1.1): a wake-up that much late (3 ms at 30/s) is made
# up by the next send instead of pushing every later one back (a bucket of one lost ~3 % of the rate that way).
# Any 1 s window holds at most size + rate / MARGIN sends; the extra is kept to half the margin's room, < rate + 1.
SLACK = 0.1
BURSTY_RATE = 100.0  # above this (our own website chat) a 20 ms burst is allowed: 1 ms spacing costs more than it saves
CONVERSATIONS = 20_000  # remembered gaps; an older conversation's gap has long passed anyway


class Pacing:
    """Per-process pacing state. ``loop time`` (monotonic) throughout."""

    def __init__(self) -> None:
        self._limiters: dict[str, AsyncLimiter] = {}
        self._paused_until: dict[str, float] = {}
        self._next: OrderedDict[tuple[str, str], float] = OrderedDict()

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # ---- the whole channel --------------------------------------------------------------------
    def pause(self, channel: str, seconds: float) -> None:
        """The platform said stop everything for ``seconds`` (a flood wait / global 429)."""
        until = self._now() + max(0.0, seconds)
        self._paused_until[channel] = max(self._paused_until.get(channel, 0.0), until)

    def paused_for(self, channel: str) -> float:
        """Seconds left of a pause on ``channel`` (0 when it may send)."""
        return max(0.0, self._paused_until.get(channel, 0.0) - self._now())

    async def channel_turn(self, channel: str, rate: float) -> None:
        """Wait for any pause to end, then for this channel's next evenly spaced slot."""
        limiter = self._limiters.get(channel)
        if limiter is None:
            limiter = self._limiters[channel] = _limiter(rate)
        while True:
            wait = self.paused_for(channel)
            if wait > 0:
                await asyncio.sleep(wait)
            await limiter.acquire()
            if self.paused_for(channel) == 0:  # a pause ordered while we queued for the slot: wait again
                return

    # ---- one conversation ---------------------------------------------------------------------
    def conversation_wait(self, channel: str, conversation: str) -> float:
        """Seconds until ``conversation`` may get its next message."""
        at = self._next.get((channel, conversation))
        return 0.0 if at is None else max(0.0, at - self._now())

    def hold(self, channel: str, conversation: str, seconds: float) -> None:
        """Nothing more to ``conversation`` for ``seconds`` (its own gap, or a 429 for that chat only)."""
        key = (channel, conversation)
        at = self._now() + max(0.0, seconds)
        self._next[key] = max(self._next.get(key, 0.0), at)
        self._next.move_to_end(key)
        while len(self._next) > CONVERSATIONS:
            self._next.popitem(last=False)


def _limiter(rate: float) -> AsyncLimiter:
    rate = max(float(rate), 0.001)
    if rate > BURSTY_RATE:
        return AsyncLimiter(rate / 50, 1 / 50)  # 20 ms worth at once
    size = 1 + min(SLACK, (rate - rate / MARGIN) / 2)
    return AsyncLimiter(size, size * MARGIN / rate)
