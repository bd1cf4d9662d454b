"""The Bot API's flood control, strict: what https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
describes (about 30 messages a second per bot, 1 a second per chat, 20 a minute per group), enforced
to the letter so a test notices any burst: one more send in any sliding window is answered 429 with
``parameters.retry_after``, and a bot-wide flood wait refuses every send until it is over.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from tests.fakes.telegram_objects import ApiError


@dataclass
class FloodControl:
    per_second: int | None = None  # sends per bot in any 1 s window (Telegram: 30)
    per_chat_per_second: int | None = None  # sends per chat in any 1 s window (Telegram: 1)
    per_group_per_minute: int | None = None  # sends per group in any 60 s window (Telegram: 20)
    refused: int = 0  # 429s answered so far
    reasons: list[str] = field(default_factory=list)  # why each 429 was answered
    _sends: deque[float] = field(default_factory=deque)
    _chats: dict[int, deque[float]] = field(default_factory=dict)
    _bot_blocked_until: float = 0.0
    _chat_blocked_until: dict[int, float] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.per_second or self.per_chat_per_second or self.per_group_per_minute)

    def check(self, chat_id: int, now: float) -> None:
        """Raise the 429 Telegram would answer to a send to ``chat_id`` at ``now`` (monotonic seconds)."""
        if now < self._bot_blocked_until:
            self._refuse(self._bot_blocked_until - now, "during the bot's flood wait")
        if now < self._chat_blocked_until.get(chat_id, 0.0):
            self._refuse(self._chat_blocked_until[chat_id] - now, f"during chat {chat_id}'s flood wait")
        if self.per_second:
            _forget(self._sends, now - 1.0)
            if len(self._sends) >= self.per_second:
                self._bot_blocked_until = now + self._wait(self._sends[0] + 1.0 - now)
                self._refuse(self._bot_blocked_until - now,
                             f"{len(self._sends) + 1} sends in {now - self._sends[0]:.3f}s")
        times = self._chats.get(chat_id)
        if times is None:
            return
        for limit, window in ((self.per_chat_per_second, 1.0),
                              (self.per_group_per_minute if chat_id < 0 else None, 60.0)):
            if limit:
                recent = [t for t in times if t > now - window]
                if len(recent) >= limit:
                    self._chat_blocked_until[chat_id] = now + self._wait(recent[-limit] + window - now)
                    self._refuse(self._chat_blocked_until[chat_id] - now,
                                 f"{limit + 1} sends to chat {chat_id} in {now - recent[-limit]:.3f}s")

    def accepted(self, chat_id: int, now: float) -> None:
        """Count a send Telegram accepted."""
        self._sends.append(now)
        times = self._chats.setdefault(chat_id, deque())
        times.append(now)
        _forget(times, now - 60.0)

    @staticmethod
    def _wait(seconds: float) -> int:
        return max(1, math.ceil(seconds))

    def _refuse(self, seconds: float, why: str) -> None:
        self.refused += 1
        self.reasons.append(why)
        wait = self._wait(seconds)
        raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})


def _forget(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()
