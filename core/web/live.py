"""Live inbox updates over server-sent events (GET /events).

Events say *what* changed (a ticket id, a message id, a delivery state), never its content: the page
script then fetches the changed region as server-rendered, escaped HTML, which also checks that the
agent may see it. The source of events is one function, `inbox_events`: the event bus, which on
PostgreSQL carries every process's events (core/events_pg.py); when its link to the other processes
was re-established (``resync``) the page is told ``ready`` again and re-reads, as after its own reconnect.
A customer typing (core/typing_indicators.py) goes out as ``typing`` with the ticket id and how long to show it;
it changes nothing stored, so it refreshes nothing.
A stream outlives the request that checked its session: it re-reads the session from the store every
``SESSION_CHECK_SECONDS`` (not from the per-process cache, which would hide a `user disable` run elsewhere) and
ends when the agent signed out, was disabled or had the password reset; that re-read is also what keeps a
watching agent online, so a disabled agent is never marked seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from prometheus_client import Gauge

from core import accounts
from core.events import RESYNC, Event
from core.typing_indicators import TYPING
from core.web.auth import SESSION_COOKIE, SESSIONS
from core.web.context import CONTEXT, AppContext

log = logging.getLogger(__name__)
KINDS = frozenset({"message", "ticket", "delivery"})
KEEPALIVE_SECONDS = 15.0
SESSION_CHECK_SECONDS = 10.0  # how late a stream notices its session ended (sign-out, disable, new password)
SNOOZE_CHECK_SECONDS = 30.0  # how late a snoozed ticket may come back to the list
LISTENERS = Gauge("supportbot_inbox_live_listeners", "Open live-update streams")
STREAMS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("live_streams", set)


class FragmentCache:
    """Rendered list rows (and the agent list), shared by the agents of this process until the next inbox event.

    A hundred agents refreshing the same list after one event cost one query and one rendering
    instead of a hundred: concurrent misses for one key wait for the first one's result. Any event
    clears it (each process clears its own: nothing to share), and entries expire after ``ttl``
    seconds anyway (overdue marks move with time). The generation guards against storing a value
    made from data older than an event that arrived meanwhile.
    """

    def __init__(self, ttl: float = 5.0, size: int = 256) -> None:
        self.ttl, self.size = ttl, size
        self.generation = 0
        self._entries: dict[Any, tuple[float, int, Any]] = {}
        self._making: dict[Any, tuple[int, asyncio.Future[Any]]] = {}

    def get(self, key: Any) -> Any:
        found = self._entries.get(key)
        if found is None or found[1] != self.generation or time.monotonic() - found[0] > self.ttl:
            return None
        return found[2]

    def put(self, key: Any, generation: int, value: Any) -> None:
        if generation != self.generation:
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), generation, value)

    async def get_or_make(self, key: Any, make: Callable[[], Awaitable[Any]]) -> Any:
        found = self.get(key)
        if found is not None:
            return found
        making = self._making.get(key)
        if making is not None and making[0] == self.generation:
            return await asyncio.shield(making[1])  # one requester giving up must not cancel the others' result
        generation = self.generation
        future = asyncio.ensure_future(make())
        self._making[key] = (generation, future)
        try:
            value = await asyncio.shield(future)
        finally:
            if self._making.get(key, (0, None))[1] is future:
                del self._making[key]
        self.put(key, generation, value)
        return value

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


FRAGMENTS: web.AppKey[FragmentCache] = web.AppKey("fragments", FragmentCache)


async def _watch(app: web.Application) -> Any:
    """Clear the fragment cache on every inbox event, for the app's lifetime (a cleanup context)."""
    cache = app[FRAGMENTS]

    async def run() -> None:
        async with inbox_events(app[CONTEXT]) as queue:
            while True:
                if (await queue.get()).kind != TYPING:  # typing changes nothing a fragment shows
                    cache.clear()

    task = asyncio.create_task(run())
    yield
    task.cancel()


async def _snooze_waker(app: web.Application) -> Any:
    """Snoozed tickets whose time came open again (each web process checks; the inbox makes it idempotent)."""
    inbox = app[CONTEXT].inbox

    async def run() -> None:
        while True:
            await asyncio.sleep(SNOOZE_CHECK_SECONDS)
            try:
                await inbox.wake_snoozed()
            except Exception:  # the database is away for a moment: the next round tries again
                log.warning("waking snoozed tickets failed; trying again in %.0f s", SNOOZE_CHECK_SECONDS,
                            exc_info=True)

    task = asyncio.create_task(run())
    yield
    task.cancel()


@asynccontextmanager
async def inbox_events(ctx: AppContext) -> AsyncIterator[asyncio.Queue[Event]]:
    """The one place live updates come from (every process's, on PostgreSQL)."""
    async with ctx.bus.subscribe() as queue:
        yield queue


def encode(event: Event) -> bytes:
    data = {k: v for k, v in event.data.items() if isinstance(v, int | str | None | list)}
    return f"event: {event.kind}\ndata: {json.dumps(data)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    task = asyncio.current_task()
    streams = request.app[STREAMS]
    if task is not None:
        streams.add(task)
    LISTENERS.inc()
    try:
        token = request.cookies.get(SESSION_COOKIE, "")
        loop = asyncio.get_running_loop()
        checked = wrote = loop.time()
        async with inbox_events(request.app[CONTEXT]) as queue:
            await response.write(b"retry: 2000\nevent: ready\ndata: {}\n\n")
            while True:
                try:
                    event: Event | None = await asyncio.wait_for(queue.get(), min(KEEPALIVE_SECONDS,
                                                                                  SESSION_CHECK_SECONDS))
                except TimeoutError:
                    event = None
                now = loop.time()
                if now - checked >= SESSION_CHECK_SECONDS:
                    if not await _still_signed_in(request, token):
                        break
                    checked = now
                if event is None:
                    if now - wrote >= KEEPALIVE_SECONDS:
                        await response.write(b": keepalive\n\n")
                        wrote = now
                    continue
                if event.kind in KINDS:
                    await response.write(encode(event))
                elif event.kind == TYPING and event.data.get("who") == "customer":
                    await response.write(encode(Event(TYPING, {"ticket_id": event.data.get("ticket_id"),
                                                               "seconds": _seconds(event.data)})))
                elif event.kind == RESYNC:  # events of other processes may have been missed: the page re-reads
                    await response.write(b"event: ready\ndata: {}\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        LISTENERS.dec()
        if task is not None:
            streams.discard(task)
    return response


def _seconds(data: dict[str, object]) -> int:
    """How long the page shows "Customer is typing…" (the channel's own indicator time, within reason)."""
    try:
        return max(3, min(15, round(float(data.get("seconds") or 6))))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 6


async def _still_signed_in(request: web.Request, token: str) -> bool:
    """Re-read the stream's session from the store (which also marks a watching agent seen, if still active).

    The cache entry goes too, so this process's pages stop accepting the ended session at once.
    """
    if token and await accounts.session_agent(request.app[CONTEXT].store, token) is not None:
        return True
    request.app[SESSIONS].drop(token)
    return False


async def _close_streams(app: web.Application) -> None:
    """Streams never end on their own: cancel them so shutdown does not wait for the timeout."""
    for task in list(app[STREAMS]):
        task.cancel()


def setup(app: web.Application) -> None:
    app[STREAMS] = set()
    app[FRAGMENTS] = FragmentCache()
    app.cleanup_ctx.append(_watch)
    app.cleanup_ctx.append(_snooze_waker)
    app.on_shutdown.append(_close_streams)
    app.router.add_get("/events", events, name="events")
