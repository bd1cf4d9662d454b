"""This process as the outbox knows it: leases name their owner, and a heartbeat says the owner lives.

A reply leased by an instance whose heartbeat stopped (a crash, a kill -9, a lost machine) is taken
over by any other instance within seconds instead of waiting out the lease. On start an instance also
removes the records of its dead predecessors on the same host (their process id no longer runs), so a
restarted process resumes their replies at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from core.models import utcnow
from core.store import Store
from core.store.tables import Instance as InstanceRow
from core.tasks import cancel

log = logging.getLogger(__name__)

HEARTBEAT = 1.0  # seconds between heartbeats
DEAD_AFTER = timedelta(seconds=4)  # an instance silent this long is dead: its leases are taken over
INSTANCES = InstanceRow.__table__


class Instance:
    def __init__(self, store: Store, role: str = "all") -> None:
        self.store = store
        self.id = uuid.uuid4().hex
        self.role = role
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self._task: asyncio.Task[None] | None = None
        self._touched = -HEARTBEAT

    async def ensure(self) -> None:
        """Without the heartbeat task (a dispatcher driven by hand: tests, tools), say we live before claiming."""
        if self._task is not None:
            return
        now = asyncio.get_running_loop().time()
        if now - self._touched < HEARTBEAT:
            return
        self._touched = now
        async with self.store.connection() as conn:
            found = await conn.execute(update(INSTANCES).where(INSTANCES.c.id == self.id).values(heartbeat_at=utcnow()))
            if found.rowcount == 0:
                await conn.execute(insert(INSTANCES).values(id=self.id, host=self.host, pid=self.pid, role=self.role,
                                                            started_at=utcnow(), heartbeat_at=utcnow()))

    async def register(self) -> None:
        """Record this instance, forget dead predecessors on this host, start the heartbeat."""
        now = utcnow()
        async with self.store.connection() as conn:
            same_host = (await conn.execute(select(INSTANCES.c.id, INSTANCES.c.pid)
                                            .where(INSTANCES.c.host == self.host))).all()
            dead = [row.id for row in same_host if row.pid != self.pid and not _alive(row.pid)]
            if dead:
                await conn.execute(delete(INSTANCES).where(INSTANCES.c.id.in_(dead)))
            await conn.execute(insert(INSTANCES).values(id=self.id, host=self.host, pid=self.pid, role=self.role,
                                                        started_at=now, heartbeat_at=now))
        if dead:
            log.info("took over from %d stopped instance(s) on this host", len(dead))
        self._task = asyncio.create_task(self._beat(), name="supportbot-heartbeat")

    async def _beat(self) -> None:
        stmt = update(INSTANCES).where(INSTANCES.c.id == self.id)
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                async with self.store.connection() as conn:
                    found = await conn.execute(stmt.values(heartbeat_at=utcnow()))
                    if found.rowcount == 0:  # reaped while the database was away: be known again
                        now = utcnow()
                        await conn.execute(insert(INSTANCES).values(
                            id=self.id, host=self.host, pid=self.pid, role=self.role, started_at=now, heartbeat_at=now))
            except Exception as exc:  # the database may be restarting: keep beating
                log.warning("heartbeat not written: %s", exc)

    async def close(self) -> None:
        """A clean stop: leases still ours become free for the next instance at once."""
        await cancel(self._task)
        self._task = None
        try:
            async with self.store.connection() as conn:
                await conn.execute(delete(INSTANCES).where(INSTANCES.c.id == self.id))
        except Exception as exc:
            log.warning("instance record not removed: %s", exc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
