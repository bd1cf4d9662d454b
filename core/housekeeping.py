"""Housekeeping: keep the database the size of its live data under steady traffic.

Once per interval, in any process (one at a time on PostgreSQL, by an advisory lock), prune what has
done its job: outbox rows delivered longer ago than the retention (the messages themselves stay, with
their platform ids), cursor rows past their ``expires_at`` (delivery state such as a thread's progress
or a button's payload; read positions never expire), and records of instances that stopped long ago.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text

from core.models import utcnow
from core.store import Store
from core.store.tables import Cursor, Instance, Outbox

log = logging.getLogger(__name__)

LOCK_KEY = 0x5B0_7E5  # pg advisory lock id of this job ("supportbot housekeeping")
BATCH = 5_000  # rows deleted per statement, so no transaction holds the tables long


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    cursors: int = 0
    instances: int = 0


class Housekeeping:
    def __init__(self, store: Store, settings: object | None = None) -> None:
        self.store = store
        self.interval = float(getattr(settings, "interval_minutes", 10.0)) * 60
        self.keep_sent = timedelta(days=float(getattr(settings, "keep_sent_replies_days", 30.0)))
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> Pruned | None:
        """Prune once; None when another process holds the job right now (PostgreSQL)."""
        now = utcnow()
        async with self.store.connection() as conn:
            if conn.dialect.name == "postgresql":
                if not (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY})).scalar():
                    return None
            outbox = 0
            old = select(Outbox.id).where(Outbox.status == "sent", Outbox.sent_at < now - self.keep_sent).limit(BATCH)
            while True:  # delivered replies past the retention; dead ones stay for the agent to see
                ids = old
                done = (await conn.execute(delete(Outbox).where(Outbox.id.in_(ids.scalar_subquery())))).rowcount
                outbox += done
                if done < BATCH:
                    break
            cursors = (await conn.execute(delete(Cursor).where(Cursor.expires_at < now))).rowcount
            instances = (await conn.execute(delete(Instance).where(
                Instance.heartbeat_at < now - timedelta(days=1)))).rowcount
        pruned = Pruned(outbox, cursors, instances)
        if outbox or cursors or instances:
            log.info("housekeeping pruned %d delivered outbox rows, %d expired cursors, %d old instances",
                     outbox, cursors, instances)
        return pruned

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="supportbot-housekeeping")

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the database may be away for a moment: next interval
                log.exception("housekeeping failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def table_sizes(store: Store) -> dict[str, int]:
    """Row counts of the tables housekeeping keeps flat (for benchmarks and the operator)."""
    sizes: dict[str, int] = {}
    for table in (Outbox, Cursor, Instance):
        sizes[table.__tablename__] = int(await store.scalar(select(func.count()).select_from(table)) or 0)
    return sizes
