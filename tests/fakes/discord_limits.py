"""The fake Discord's rate limits and message idempotency, as the API documentation defines them.

- Global limit ("Rate Limits"): a 429 with ``"global": true``, ``X-RateLimit-Global: true`` and
  ``X-RateLimit-Scope: global``; until ``retry_after`` has passed every request bound by it is refused
  the same way. Interaction endpoints are not bound by it. ``strict_global_rate`` refuses, as Discord
  does, a request over that many per second (50 for a bot). Every request is logged with its time, so
  a test can count what arrived during a block.
- Per-route buckets (``X-RateLimit-Scope: user``) and per-resource limits (``shared``) refuse one
  request without touching anything else.
- Message create with ``nonce`` + ``enforce_nonce: true``: a nonce the bot used within
  ``nonce_window`` seconds (Discord: "the past few minutes") returns the message already created.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

API = "/api/v10"


def bound_by_global_limit(path: str) -> bool:
    return path.startswith(API) and "/interactions/" not in path and "/webhooks/" not in path


class Limits:
    def _init_limits(self: FakeDiscord) -> None:
        self.request_log: list[tuple[float, str, str]] = []  # (monotonic time, method, path)
        self.global_blocks: list[tuple[float, float]] = []  # (start, end) of each global block, monotonic
        self.strict_global_rate: float | None = None
        self.global_signal = "both"  # how a global 429 says so: "both", "body" (global: true), "headers"
        self._window: deque[float] = deque()
        self.nonce_window = 300.0
        self._nonces: dict[str, tuple[float, dict[str, Any]]] = {}
        self.nonce_hits = 0  # creations answered with the message a nonce already made
        self.nonce_hit_at: list[float] = []  # monotonic times of those

    # -- global ----------------------------------------------------------------------------------
    def block_globally(self: FakeDiscord, seconds: float) -> None:
        now = time.monotonic()
        self.global_blocks.append((now, now + seconds))

    def global_left(self: FakeDiscord) -> float:
        now = time.monotonic()
        return max([end - now for start, end in self.global_blocks if start <= now] + [0.0])

    def global_429(self: FakeDiscord, retry_after: float) -> web.Response:
        """As documented; ``global_signal`` "body" or "headers" keeps only that half of the signal."""
        from tests.fakes.discord_api import jsonr

        body = {"message": "You are being rate limited.", "retry_after": round(retry_after, 3),
                "global": self.global_signal != "headers"}
        headers = {"Via": "1.1 google", "Retry-After": str(math.ceil(retry_after))}
        if self.global_signal != "body":
            headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
        return jsonr(body, 429, headers)

    def check_global(self: FakeDiscord, request: web.Request) -> web.Response | None:
        """Before any handler: the request's own time in the log, and the global limit."""
        now = time.monotonic()
        self.request_log.append((now, request.method, request.path))
        if not bound_by_global_limit(request.path):
            return None
        left = self.global_left()
        if left > 0:
            self.rejected_at_global.append(now)
            return self.global_429(left)
        if self.strict_global_rate:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.strict_global_rate:
                wait = self._window[0] + 1.0 - now
                self.block_globally(wait)
                self.rejected_at_global.append(now)
                return self.global_429(wait)
            self._window.append(now)
        return None

    def requests_during_blocks(self: FakeDiscord, grace: float = 0.0) -> list[tuple[float, str, str]]:
        """Requests bound by the global limit that arrived while a block ran (``grace`` seconds after its
        start: a request already on the wire when the 429 went out cannot be taken back)."""
        return [(t, method, path) for t, method, path in self.request_log if bound_by_global_limit(path)
                and any(start + grace < t < end for start, end in self.global_blocks)]

    # -- one refusal for a send ----------------------------------------------------------------------
    def refuse_send(self: FakeDiscord, retry_after: float, scope: str) -> web.Response:
        """A 429 for one message creation: ``user`` (its bucket), ``shared`` (the channel) or ``global``."""
        if scope == "global":
            self.block_globally(retry_after)
            self.rejected_at_global.append(time.monotonic())
            return self.global_429(retry_after)
        headers = {"X-RateLimit-Scope": scope}
        if scope == "shared":
            headers["X-RateLimit-Remaining"] = "4"  # a shared limit is not the bot's bucket running out
        response = self.too_many(retry_after, headers)
        if scope == "shared":
            response.body = response.body.replace(b"You are being rate limited.",
                                                  b"The resource is being rate limited.")
        return response

    # -- nonces ----------------------------------------------------------------------------------
    def created_for(self: FakeDiscord, body: dict[str, Any]) -> dict[str, Any] | None:
        nonce = body.get("nonce")
        if not nonce or not body.get("enforce_nonce"):
            return None
        found = self._nonces.get(str(nonce))
        if found is None or time.monotonic() - found[0] > self.nonce_window:
            return None
        self.nonce_hits += 1
        self.nonce_hit_at.append(time.monotonic())
        return found[1]

    def remember_nonce(self: FakeDiscord, body: dict[str, Any], message: dict[str, Any]) -> None:
        if body.get("nonce") and body.get("enforce_nonce"):
            self._nonces[str(body["nonce"])] = (time.monotonic(), message)
