"""Housekeeping: keep the database the size of its live data under steady traffic.

Once per interval, in any process of any role (one at a time on PostgreSQL, by an advisory lock; the
time of the last run is kept in the store, so N processes still prune once per interval), prune what has
done its job: outbox rows delivered longer ago than the retention (the messages themselves stay, with
their platform ids), cursor rows past their ``expires_at`` (delivery state such as a thread's progress
or a button's payload; read positions never expire), and records of instances that stopped long ago.
Then conversation history past ``keep_unticketed_messages_days`` (core/retention.py: messages without a
ticket, their figures kept for the statistics, and the rows that leaves empty), in batches of its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Column, MetaData, String, Table, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core import retention
from core.models import utcnow
from core.store import Store
from core.store.tables import Conversation, Cursor, Customer, Instance, Message, Outbox, UTCDateTime
from core.tasks import cancel

log = logging.getLogger(__name__)

LOCK_KEY = 0x5B0_7E5  # pg advisory lock id of this job ("supportbot housekeeping")
JOB = "housekeeping"
# When a periodic job last ran in any process (migration 0006); only the job itself reads and writes it.
JOB_RUNS = Table("job_runs", MetaData(), Column("name", String(64), primary_key=True),
                 Column("ran_at", UTCDateTime(), nullable=False))
BATCH = 5_000  # rows deleted per statement, so no transaction holds the tables long


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    cursors: int = 0
    instances: int = 0
    history: retention.Kept | None = None  # None: retention is off (or another process held the lock)


async def owns_job(conn: AsyncConnection) -> bool:
    """Take the job for this transaction: on PostgreSQL one process at a time (advisory lock), SQLite has one."""
    if conn.dialect.name != "postgresql":
        return True
    return bool((await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY})).scalar())


class Housekeeping:
    def __init__(self, store: Store, settings: object | None = None) -> None:
        self.store = store
        self.interval = float(getattr(settings, "interval_minutes", 10.0)) * 60
        self.keep_sent = timedelta(days=float(getattr(settings, "keep_sent_replies_days", 30.0)))
        history = getattr(settings, "keep_unticketed_messages_days", 90.0)
        self.keep_history = timedelta(days=float(history)) if history is not None else None
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, *, due_only: bool = False) -> Pruned | None:
        """Prune once; None when another process holds the job right now (PostgreSQL), or, with ``due_only``,
        when any process pruned less than an interval ago."""
        now = utcnow()
        async with self.store.connection() as conn:
            if not await owns_job(conn):
                return None
            last = (await conn.execute(select(JOB_RUNS.c.ran_at).where(JOB_RUNS.c.name == JOB))).scalar()
            if due_only and last is not None and last > now - timedelta(seconds=self.interval * 0.9):
                return None
            if last is None:
                await conn.execute(insert(JOB_RUNS).values(name=JOB, ran_at=now))
            else:
                await conn.execute(update(JOB_RUNS).where(JOB_RUNS.c.name == JOB).values(ran_at=now))
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
        history = None
        if self.keep_history is not None:
            history = await retention.prune(self.store, now - self.keep_history, BATCH, owns_job)
        pruned = Pruned(outbox, cursors, instances, history)
        if outbox or cursors or instances:
            log.info("housekeeping pruned %d delivered outbox rows, %d expired cursors, %d old instances",
                     outbox, cursors, instances)
        if history and (history.messages or history.conversations or history.customers):
            log.info("housekeeping pruned %d messages without a ticket, %d empty conversations, %d visitors",
                     history.messages, history.conversations, history.customers)
        return pruned

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="supportbot-housekeeping")

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once(due_only=True)
            except Exception:  # the database may be away for a moment: next interval
                log.exception("housekeeping failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None


async def table_sizes(store: Store) -> dict[str, int]:
    """Row counts of the tables housekeeping keeps flat (for benchmarks and the operator)."""
    sizes: dict[str, int] = {}
    for table in (Outbox, Cursor, Instance, Message, Conversation, Customer):
        sizes[table.__tablename__] = int(await store.scalar(select(func.count()).select_from(table)) or 0)
    return sizes
