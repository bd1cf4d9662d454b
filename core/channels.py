"""Channel supervision: every enabled channel runs for as long as the process does, or says why not.

A channel that cannot start (an outage at start, a refused token) or whose receiving ends for good
(a fatal gateway close, a revoked token, a loop that died) is stopped and started again with
exponential backoff, forever. Its state lives on the adapter's `ChannelHealth`, which `/readyz`,
`/metrics` and the log read; the dispatcher only sends through channels that are up, so replies
wait in the outbox (without spending attempts) while their channel is down.

With several processes (core/receivers.py) a channel runs where its receiver was elected: `begin`
and `end` start and stop one channel, and a channel another process runs is on ``standby`` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from prometheus_client import Counter, Gauge

from bots.base import ChannelHealth, Inbound
from core.models import utcnow

log = logging.getLogger(__name__)

UP = Gauge("supportbot_channel_up", "1 while the channel receives, else 0", ["channel"])
STATE = Gauge("supportbot_channel_state", "1 for the channel's current state", ["channel", "state"])
RESTARTS = Counter("supportbot_channel_restarts_total", "Times a channel was started again after a failure",
                   ["channel"])

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
STABLE_AFTER = 60.0  # seconds up after which the backoff starts again from the first step
START_TIMEOUT = 60.0  # a start that hangs longer counts as failed
SENDING_STATES = frozenset({"receiving", "trouble"})  # started; trouble is the adapter riding out a blip


def reason(exc: BaseException) -> str:
    """One line for the operator: the error's own words, without a traceback or a class name when it has words."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


def backoff(attempt: int, first: float = FIRST_BACKOFF, most: float = MAX_BACKOFF) -> float:
    """1 s, 2 s, 4 s, ... up to a minute, with jitter so several processes do not retry in step. The jitter stays
    under the cap, and the exponent is bounded: a channel down for days has failed thousands of times."""
    return min(most, first * 2 ** min(attempt, 32) * random.uniform(0.8, 1.2))


class Channels:
    """Starts, watches and restarts the channel adapters of this process."""

    def __init__(self, adapters: Mapping[str, Any], inbound: Inbound, *, failed: Mapping[str, str] | None = None,
                 first_backoff: float = FIRST_BACKOFF, max_backoff: float = MAX_BACKOFF) -> None:
        self.adapters = dict(adapters)
        self.first_backoff, self.max_backoff = first_backoff, max_backoff
        self.inbound = inbound
        self.health: dict[str, ChannelHealth] = {}
        for name, adapter in self.adapters.items():
            health = getattr(adapter, "health", None)
            if not isinstance(health, ChannelHealth):
                health = ChannelHealth(name)
                adapter.health = health
            self.health[name] = health
        for name, why in (failed or {}).items():  # could not even be built (a configuration problem)
            health = ChannelHealth(name)
            health.error = why
            health.stopped()
            self.health[name] = health
        self._on_change: list[Callable[[ChannelHealth], None]] = [_export]
        self._last: dict[str, str] = {}
        for health in self.health.values():
            health.listen(self._changed)
            _export(health)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._first: dict[str, asyncio.Future[None]] = {}
        self._stopping = asyncio.Event()
        self._ending: dict[str, asyncio.Event] = {}  # per channel: stop this one (set by `end` or `stop`)
        self.standby: set[str] = set()  # channels another process runs (their receivers were elected there)

    def on_change(self, callback: Callable[[ChannelHealth], None]) -> None:
        """Call ``callback(health)`` on every state change (the dispatcher wakes up when a channel comes up)."""
        self._on_change.append(callback)

    def _changed(self, health: ChannelHealth) -> None:
        before = self._last.get(health.name)
        self._last[health.name] = health.state
        if before != health.state:
            if health.state == "receiving" and before in ("trouble", "retrying", "starting") and health.error:
                log.info("channel %s receives again", health.name)
            elif health.state == "trouble":
                log.warning("channel %s: %s (it keeps retrying by itself)", health.name, health.error)
        for callback in self._on_change:
            try:
                callback(health)
            except Exception:
                log.exception("channel state listener failed")

    # ---- queries ----------------------------------------------------------------------------------
    def can_send(self, name: str) -> bool:
        health = self.health.get(name)
        return health is not None and name not in self.standby and health.state in SENDING_STATES

    @property
    def ready(self) -> bool:
        return all(h.receiving for name, h in self.health.items() if name not in self.standby)

    def report(self) -> dict[str, dict[str, object]]:
        return {name: ({"state": "standby", "note": "another process runs it; this one takes over if it stops"}
                       if name in self.standby else health.as_dict()) for name, health in self.health.items()}

    # ---- lifecycle --------------------------------------------------------------------------------
    async def start(self, wait: float = START_TIMEOUT) -> dict[str, str]:
        """Start supervising every channel; wait (at most ``wait`` s) for each one's first attempt.

        Returns the channels whose first attempt failed, with why; they keep being retried.
        """
        self._stopping.clear()
        for name in self.adapters:
            if name not in self.standby:  # elected elsewhere for now (core/receivers.py starts it when it is ours)
                self._launch(name)
        if self._first:
            await asyncio.wait(list(self._first.values()), timeout=wait)
        return {name: self.health[name].error or "not started yet"
                for name in self.health if not self.can_send(name) and name not in self.standby}

    def _launch(self, name: str) -> None:
        self._stopping.clear()
        self._first[name] = asyncio.get_running_loop().create_future()
        ending = self._ending[name] = asyncio.Event()
        self._tasks[name] = asyncio.create_task(self._supervise(name, self.adapters[name], ending),
                                                name=f"supportbot-channel-{name}")

    async def begin(self, name: str, wait: float = START_TIMEOUT) -> None:
        """Run one channel (its receiver was elected here); returns after its first attempt (or ``wait`` s)."""
        self.standby.discard(name)
        if name in self._tasks and not self._tasks[name].done():
            return
        self._launch(name)
        await asyncio.wait([self._first[name]], timeout=wait)

    async def end(self, name: str, *, standby: bool = True) -> None:
        """Stop one channel (its receiver is run elsewhere now, or is being restarted with other shards)."""
        if standby:
            self.standby.add(name)
        ending = self._ending.pop(name, None)
        if ending is not None:
            ending.set()
        try:
            await self.adapters[name].stop()
        except Exception:
            log.exception("channel %s did not stop cleanly", name)
        task = self._tasks.pop(name, None)
        if task is not None:
            _, pending = await asyncio.wait([task], timeout=10)
            for late in pending:
                late.cancel()
                await asyncio.gather(late, return_exceptions=True)
        health = self.health.get(name)
        if health is not None and health.state != "stopped":
            health.stopped()

    async def stop(self) -> None:
        """Stop every channel (idempotent); a channel waiting to retry stops waiting."""
        self._stopping.set()
        for ending in self._ending.values():
            ending.set()
        for name, adapter in self.adapters.items():
            try:
                await adapter.stop()
            except Exception:
                log.exception("channel %s did not stop cleanly", name)
        tasks = list(self._tasks.values())
        self._tasks.clear()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for health in self.health.values():
            if health.state != "stopped":
                health.stopped()

    async def _supervise(self, name: str, adapter: Any, stopping: asyncio.Event) -> None:
        health: ChannelHealth = self.health[name]
        attempt = 0
        while not stopping.is_set():
            health.starting()
            began = asyncio.get_running_loop().time()
            try:
                await asyncio.wait_for(adapter.start(self.inbound), timeout=START_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                why = reason(exc)
            else:
                if health.state == "starting":
                    health.up()
                self._settle(name)
                why = await self._watch(adapter, stopping)
                if why is None:  # stopped on purpose
                    return
                if asyncio.get_running_loop().time() - began > STABLE_AFTER:
                    attempt = 0
            if stopping.is_set():
                return
            with contextlib.suppress(Exception):
                await adapter.stop()
            delay = backoff(attempt, self.first_backoff, self.max_backoff)
            attempt += 1
            health.retrying(why, utcnow() + timedelta(seconds=delay))
            RESTARTS.labels(name).inc()
            log.warning("channel %s is not receiving: %s; starting it again in %.0f s (and for as long as "
                        "supportbot runs); its replies wait in the outbox", name, why, delay)
            self._settle(name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)

    async def _watch(self, adapter: Any, stopping: asyncio.Event) -> str | None:
        """Wait while the channel receives; why it ended, or None when we stopped it."""
        try:
            await adapter.wait_closed()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return None if stopping.is_set() else reason(exc)
        return None if stopping.is_set() else "receiving ended"

    def _settle(self, name: str) -> None:
        first = self._first.get(name)
        if first is not None and not first.done():
            first.set_result(None)


def _export(health: ChannelHealth) -> None:
    UP.labels(health.name).set(1 if health.receiving else 0)
    for state in ChannelHealth.STATES:
        STATE.labels(health.name, state).set(1 if health.state == state else 0)
