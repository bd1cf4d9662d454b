"""Discord's REST rate limits as Discord defines them (API docs, "Rate Limits"), for every request the
client makes: the dispatcher's sends and discord.py's own calls (backfill reads, escalation
transcripts, command sync, thread set-up).

- **Global** (a 429 with ``"global": true``, ``X-RateLimit-Global: true`` or ``X-RateLimit-Scope:
  global``, and Cloudflare's non-JSON 429, which bans the whole address): the bot must send nothing
  for ``retry_after``. ``GlobalLimit`` closes a gate that every request passes on its way out (an
  aiohttp trace hook, so nothing discord.py does can go around it): a send the dispatcher asked for
  fails at once with ``Limited(scope="channel")`` and the dispatcher pauses the whole channel;
  anything else waits at the gate. discord.py's own lock is not enough: it knows only the body's
  ``global`` flag, only for 429s it handles itself (not the ones raised here for the dispatcher), and
  a request already past its check goes out anyway.
- **Per route** (``X-RateLimit-Scope: user``, a bucket) and **per resource** (``shared``: a busy
  channel's own limit, which Discord does not count as an invalid request): only that place waits,
  ``Limited(scope="conversation")``.
- Interaction endpoints (``/interactions/...``, ``/webhooks/{app}/{token}``) are not bound to the
  global limit (the same page), so a moderator's "thinking..." is answered within Discord's 3 s.

The global limit is 50 requests/s per bot, all routes together. The dispatcher paces sends
(``rate_per_second``), but a backfill after a new session reads hundreds of channels at once; so
every request bound by the global limit also takes an evenly spaced turn at ``requests_per_second``
(45 by default): the bot stays under the limit instead of meeting it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

import aiohttp
import discord
from aiolimiter import AsyncLimiter

log = logging.getLogger(__name__)

# Set while the dispatcher's send runs: its failures go back to the dispatcher at once (it owns retries).
SENDING: contextvars.ContextVar[bool] = contextvars.ContextVar("discord_sending", default=False)
CLOUDFLARE_WAIT = 10.0  # a 429 that is not Discord's JSON and names no wait: Cloudflare's ban of the address


class Limited(discord.RateLimited):
    """A 429 (or a closed global gate) for the dispatcher: ``retry_after`` is Discord's own figure."""

    def __init__(self, retry_after: float, *, is_global: bool, shared: bool = False, route: str = "") -> None:
        super().__init__(retry_after)
        self.is_global = is_global
        self.shared = shared
        self.route = route

    @property
    def scope(self) -> str:
        """What must wait: the whole channel (global) or the one conversation (a bucket or a resource)."""
        return "channel" if self.is_global else "conversation"


class GlobalLimit:
    """The bot's global gate and request pacing (per process; each process learns of a global 429 from
    its own requests, so several processes of one bot should split ``requests_per_second``)."""

    def __init__(self, requests_per_second: float | None = None) -> None:
        self.rate = requests_per_second
        self._limiter: AsyncLimiter | None = None
        self._until = 0.0  # loop time
        self.blocks = 0  # global 429s seen
        self.held = 0  # requests that waited at the gate

    async def turn(self) -> None:
        """The next evenly spaced slot (1/rate apart: no 1 s window sees more than ``rate`` + 1)."""
        if not self.rate:
            return
        if self._limiter is None:
            self._limiter = AsyncLimiter(1, 1 / self.rate)
        await self._limiter.acquire()

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def block(self, seconds: float) -> None:
        until = self._now() + max(seconds, 0.0)
        if until > self._until:
            self._until = until
        self.blocks += 1

    def left(self) -> float:
        return max(0.0, self._until - self._now())

    async def wait(self) -> None:
        """Until the block ends (it may be extended meanwhile by another global 429)."""
        if self.left() > 0:
            self.held += 1
        while True:
            left = self.left()
            if left <= 0:
                return
            await asyncio.sleep(left)


def bound_by_global_limit(path: str) -> bool:
    """Interaction responses and follow-ups are not (Discord's docs); everything else with the bot token is."""
    return "/interactions/" not in path and "/webhooks/" not in path


def is_global(response: Any, body: Any) -> bool:
    headers = getattr(response, "headers", {}) or {}
    if not isinstance(body, dict):
        return True  # Cloudflare's HTML: the address is banned, not one route
    return (body.get("global") is True or str(headers.get("X-RateLimit-Global", "")).lower() == "true"
            or str(headers.get("X-RateLimit-Scope", "")).lower() == "global")


def retry_after(response: Any, body: Any = None) -> float:
    """The body's float ``retry_after`` (Discord's own figure, to the millisecond), else the headers."""
    if isinstance(body, dict):
        try:
            return max(float(body["retry_after"]), 0.0)
        except (KeyError, TypeError, ValueError):
            pass
    headers = getattr(response, "headers", {}) or {}
    for key in ("Retry-After", "X-RateLimit-Reset-After"):
        try:
            return max(float(headers[key]), 0.0)
        except (KeyError, TypeError, ValueError):
            continue
    return CLOUDFLARE_WAIT if not isinstance(body, dict) else 1.0


async def _body(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)  # read once; discord.py reads the cached body again
    except Exception:  # Cloudflare's HTML ban page, an empty body
        return None


async def _through(gate: GlobalLimit, route: str) -> None:
    """Past a closed gate: the dispatcher's send is refused at once (it pauses the channel), anything
    else waits until the block ends."""
    left = gate.left()
    if left > 0:
        if SENDING.get():
            raise Limited(left, is_global=True, route=route)
        await gate.wait()


def trace(api_base_url: str, gate: GlobalLimit) -> aiohttp.TraceConfig:
    """The hooks discord.py's session runs for every request.

    Before a request: the global gate (see the module docstring). After it, for the dispatcher's sends
    and for every write: a 429 or a 5xx is raised at once instead of being slept on inside the send
    (discord.py would wait out ``retry_after`` up to max_ratelimit_timeout and retry 500/502/504/524
    five times, sleeping 1+3+5+7 s); the dispatcher honours ``retry_after`` and the nonce makes its
    retry safe. Reads made outside a send (backfill, transcripts) keep discord.py's own retries, and a
    global 429 on one of them closes the gate all the same. (Pre-emptive waits from X-RateLimit-*
    headers stay with discord.py: they avoid the 429.) A failing ``GET /gateway/bot`` is raised at once
    too: the start fails fast and the supervisor retries it with its own backoff."""

    def ours(url: Any) -> bool:
        return str(url).startswith(api_base_url)

    async def on_request_start(session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        if not ours(params.url) or not bound_by_global_limit(params.url.path):
            return
        route = f"{params.method} {params.url.path}"
        await _through(gate, route)
        await gate.turn()
        await _through(gate, route)  # a block may have begun while this request waited for its turn

    async def on_request_end(session: Any, context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        if not ours(params.url):
            return
        response = params.response
        path = params.url.path
        if params.method == "GET" and path.endswith("/gateway/bot") and response.status >= 500:
            raise discord.DiscordServerError(response, f"{response.status} {response.reason}")
        if response.status == 429:
            body = await _body(response)
            wait = retry_after(response, body)
            global_ = is_global(response, body) and bound_by_global_limit(path)
            if global_:
                gate.block(wait)
                log.warning("discord: global rate limit: nothing is sent for %.2f s", wait)
            if params.method != "GET" or SENDING.get():
                shared = str(response.headers.get("X-RateLimit-Scope", "")).lower() == "shared"
                raise Limited(wait, is_global=global_, shared=shared, route=f"{params.method} {path}")
            return  # a read outside a send: discord.py waits and retries it (through the gate)
        if response.status >= 500 and (params.method != "GET" or SENDING.get()):
            raise discord.DiscordServerError(response, f"{response.status} {response.reason}")

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_request_start)
    config.on_request_end.append(on_request_end)
    return config
