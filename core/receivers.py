"""One owner per receiver across processes: Telegram polling, the Discord gateway (per shard), X polling.

Every process that may run receivers (roles ``channels`` and ``all`` on PostgreSQL) tries, once a
second, to take the advisory lock of each receiver it does not run (core/election.py); the one that
gets it starts the channel under the supervisor (core/channels.py), the others stand by and take
over within about a second of the owner's death (PostgreSQL frees a dead session's locks).

Discord with a fixed ``shard_count`` has one receiver per shard, and the shards are split: each
process runs at most its fair share, ceil(shards / live processes that run receivers), giving back
the rest when another such process appears (its client restarts with the shards it keeps). An
explicit ``shard_ids`` list limits the shards a process competes for. Without ``shard_count``
discord.py picks the count itself, so one process runs them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.channels import START_TIMEOUT, Channels
from core.election import Elector
from core.instances import DEAD_AFTER
from core.models import utcnow
from core.store import Store
from core.store.tables import Instance
from core.tasks import cancel

log = logging.getLogger(__name__)

TICK = 1.0  # seconds between looks at who runs what
RECEIVER_ROLES = ("channels", "all")


@dataclass(frozen=True)
class Receiver:
    name: str  # the lock's name: "telegram", "discord/3"
    channel: str
    shard: int | None = None


def receivers_of(adapters: Mapping[str, Any]) -> dict[str, list[Receiver]]:
    """Channel -> its receivers: one, or one per shard when the settings fix a shard count."""
    found: dict[str, list[Receiver]] = {}
    for name, adapter in adapters.items():
        settings = getattr(adapter, "settings", None)
        count = getattr(settings, "shard_count", None)
        if count and hasattr(settings, "shard_ids"):
            shards = settings.shard_ids if settings.shard_ids is not None else range(count)
            found[name] = [Receiver(f"{name}/{shard}", name, shard) for shard in sorted(shards)]
        else:
            found[name] = [Receiver(name, name)]
    return found


class Receivers:
    def __init__(self, store: Store, channels: Channels, names: list[str], *, elector: Elector | None = None,
                 tick: float = TICK) -> None:
        """``names``: the channels of ``channels`` whose receivers are elected (the others run unconditionally)."""
        self.store = store
        self.channels = channels
        self.elector = elector or Elector(store)
        self.tick = tick
        self.groups = receivers_of({name: channels.adapters[name] for name in names})
        self._settings = {name: channels.adapters[name].settings for name in names}
        self.owned: set[str] = set()
        self._running: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        channels.standby.update(self.groups)

    def owns(self, channel: str) -> bool:
        return channel in self._running

    async def start(self, wait: float = START_TIMEOUT) -> None:
        """Take what is free now and start it (waiting up to ``wait`` s for first attempts), then keep looking."""
        if not self.groups:
            return
        await self._step(wait)
        self._task = asyncio.create_task(self._loop(), name="supportbot-receivers")

    async def stop(self) -> None:
        """Stop what we run, then let go of the locks (never two runners at once, not even for a moment)."""
        await cancel(self._task)
        self._task = None
        for channel in list(self._running):
            await self.channels.end(channel, standby=False)
        self._running.clear()
        self.owned.clear()
        await self.elector.close()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # the lock session ended: act at once, not at the next tick
                await asyncio.wait_for(self.elector.lost.wait(), self.tick)
            self.elector.lost.clear()
            try:
                await self._step(wait=0.0)
            except Exception:  # the database blipped: look again next tick
                log.exception("electing receivers failed")

    async def _step(self, wait: float) -> None:
        changed: set[str] = set()
        if not await self.elector.check() or not self.owned <= self.elector.held:
            changed |= {r.channel for group in self.groups.values() for r in group if r.name in self.owned}
            self.owned &= self.elector.held
        peers: int | None = None
        for channel, group in self.groups.items():
            mine = [r for r in group if r.name in self.owned]
            if group[0].shard is None:
                if not mine and await self._take(group[0]):
                    changed.add(channel)
                continue
            peers = peers if peers is not None else await self._peers()
            fair = math.ceil(len(group) / max(1, peers))
            if len(mine) > fair:  # another process appeared: give it its share
                for receiver in mine[fair:]:
                    await self.elector.release(receiver.name)
                    self.owned.discard(receiver.name)
                changed.add(channel)
                continue
            for receiver in group:
                if len(mine) >= fair:
                    break
                if receiver.name not in self.owned and await self._take(receiver):
                    mine.append(receiver)
                    changed.add(channel)
        for channel in sorted(changed):
            await self._apply(channel, wait)

    async def _take(self, receiver: Receiver) -> bool:
        try:
            taken = await self.elector.acquire(receiver.name)
        except Exception as exc:
            log.warning("could not ask for %s: %s", receiver.name, exc)
            return False
        if taken:
            self.owned.add(receiver.name)
            log.info("this process runs %s now", receiver.name)
        return taken

    async def _peers(self) -> int:
        """Live processes that run receivers (this one included)."""
        alive = utcnow() - DEAD_AFTER
        count = await self.store.scalar(select(func.count()).select_from(Instance).where(
            Instance.role.in_(RECEIVER_ROLES), Instance.heartbeat_at >= alive))
        return max(1, int(count or 0))

    async def _apply(self, channel: str, wait: float) -> None:
        """Run ``channel`` with the receivers we own now, or stand by."""
        group = self.groups[channel]
        mine = [r for r in group if r.name in self.owned]
        sharded = group[0].shard is not None
        if channel in self._running and (sharded or not mine):
            await self.channels.end(channel, standby=not mine)
            self._running.discard(channel)
        if not mine:
            self.channels.standby.add(channel)
            return
        if channel in self._running:
            return
        if sharded:
            shards = [r.shard for r in mine]
            self.channels.adapters[channel].settings = self._settings[channel].model_copy(update={"shard_ids": shards})
            log.info("%s: running shards %s", channel, shards)
        self._running.add(channel)
        await self.channels.begin(channel, wait=wait)

    def report(self) -> dict[str, list[str]]:
        return {"runs": sorted(self.owned)}
