"""The two X poll loops (mentions, DM events): pacing, backoff, and what they tell the channel's health.

Each loop rides out what passes by itself (5xx, network errors, 429, a handover the engine refused
because its database was down): it backs off, and the channel shows ``trouble`` until every feed
polled successfully again. What cannot pass by waiting ends polling for good: X refusing the
credentials (401), or a loop that died. ``wait_closed`` then raises it, and the supervisor restarts
the channel with its own backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bots.base import ChannelHealth
from bots.x.client import XClient
from bots.x.http import CredentialsRefused
from core.errors import RateLimited, RetryLater

log = logging.getLogger(__name__)

MAX_BACKOFF = 900.0  # seconds; X's rate windows are 15 minutes (bots.x.http.WINDOW_SECONDS clamps X's own resets)
# seconds a loop may take to finish its round on stop; then it is cancelled, which is safe: a handover
# not committed is rolled back and the cursor did not move past it, so the next start reads it again
STOP_GRACE = 2.0


class PollLoops:
    """Runs one loop per feed until `stop`, or until polling cannot go on."""

    def __init__(self, client: XClient, polls: dict[str, Callable[[], Awaitable[int]]], interval: float,
                 health: ChannelHealth) -> None:
        self.client = client
        self.polls = polls  # family (rate-limit window name) -> one polling round
        self.interval = interval
        self.health = health
        self._ok: set[str] = set()  # feeds whose last round succeeded
        self._stopping = asyncio.Event()
        self._closed = asyncio.Event()
        self._error: BaseException | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for family, poll in self.polls.items():
            task = asyncio.create_task(self._loop(family, poll), name=f"x-poll-{family}")
            task.add_done_callback(self._ended)
            self._tasks.append(task)

    async def stop(self) -> None:
        self._stopping.set()
        tasks, self._tasks = self._tasks, []
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._closed.set()

    async def wait_closed(self) -> None:
        """Return after `stop`; raise why polling ended when it ended on its own."""
        await self._closed.wait()
        if self._error is not None:
            raise self._error

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._stopping.is_set() or self._closed.is_set():
            return
        if task.cancelled():
            error: BaseException = RetryLater(f"X polling ({task.get_name()}) was cancelled")
        else:
            error = task.exception() or RetryLater(f"X polling ({task.get_name()}) ended")
        log.error("x: polling cannot go on: %s", error)
        self._error = error
        self._closed.set()

    async def _loop(self, family: str, poll: Callable[[], Awaitable[int]]) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await poll()
            except CredentialsRefused as exc:
                self._trouble(family, f"{family}: {exc}")
                raise  # ends this loop: _ended makes wait_closed raise it
            except RateLimited as exc:
                delay = exc.retry_after or self.interval
                self._trouble(family, f"{family}: rate limited by X; next poll in {delay:.0f}s")
                log.info("x: %s rate limited; next poll in %.0fs", family, delay)
            except RetryLater as exc:
                failures += 1
                delay = exc.retry_after or min(self.interval * 2**failures, MAX_BACKOFF)
                self._trouble(family, f"{family}: {exc}; retry in {delay:.0f}s")
                log.warning("x: polling %s failed (%s); retry in %.0fs", family, exc, delay)
            except Exception as exc:  # the engine refused a handover, X said 403, a bug: back off, keep trying
                failures += 1
                delay = min(self.interval * 2**failures, MAX_BACKOFF)
                self._trouble(family, f"{family}: {type(exc).__name__}: {exc}; retry in {delay:.0f}s")
                log.exception("x: polling %s failed; retry in %.0fs", family, delay)
            else:
                failures = 0
                window = self.client.window(family)
                delay = window.next_delay(self.interval)
                claimed = window.overlong()
                if claimed is not None:  # X's headers claim a wait past its own window: waited out, but shown
                    self._trouble(family, f"{family}: X asked to wait {claimed:.0f}s, beyond its "
                                          f"{window.longest:.0f}s window; next poll in {delay:.0f}s")
                    log.warning("x: %s rate reset %.0fs away, past the window; next poll in %.0fs",
                                family, claimed, delay)
                else:
                    self._ok.add(family)
                    if self._ok == set(self.polls) and not self.health.receiving:
                        self.health.up()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    def _trouble(self, family: str, why: str) -> None:
        self._ok.discard(family)
        self.health.trouble(why)
