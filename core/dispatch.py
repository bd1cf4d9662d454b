"""Delivery is a queue: outbox rows -> adapter.send(), with retries, backoff and rate limits.

Rows for one conversation go out in order (a row waits while an older one for the same place is
undelivered). A claim is a lease (``locked_until``): two dispatchers never send the same row at
once, and a row whose dispatcher died is picked up again when its lease ends. Every failure is
written on the row, where the inbox shows it; after ``max_attempts`` a row is given up ("dead").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from aiolimiter import AsyncLimiter
from sqlalchemy import ColumnElement, Row, Update, and_, bindparam, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import RateLimited, RetryLater, Undeliverable
from core.events import EventBus
from core.models import utcnow
from core.store import Store
from core.store.records import outbound_from_row
from core.store.tables import Message, Outbox

log = logging.getLogger(__name__)

PENDING = ("queued", "failed", "sending")
LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class DispatchPolicy:
    max_attempts: int = 8
    base_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 600.0
    poll_interval_seconds: float = 1.0
    batch_size: int = 50
    concurrency: int = 8


class Dispatcher:
    def __init__(self, store: Store, adapters: Mapping[str, object], settings: object | None = None,
                 bus: EventBus | None = None, can_send: Callable[[str], bool] | None = None) -> None:
        """``can_send(channel)``: whether the channel is up now; rows of a channel that is down stay queued
        without spending attempts (the supervisor in core/channels.py says; default: always)."""
        self.store = store
        self.adapters = dict(adapters)
        self._can_send = can_send or (lambda _channel: True)
        self.policy = _policy(settings)
        self.bus = bus or EventBus()
        self._channel_limits: dict[str, AsyncLimiter] = {}
        self._conversation_limits: OrderedDict[tuple[str, str], AsyncLimiter] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._gate = asyncio.Semaphore(self.policy.concurrency)
        self._handed: set[asyncio.Task[None]] = set()  # deliveries of rows leased inside a writer's transaction
        self._behind: set[tuple[str, str]] = set()  # places with a queued row waiting behind a handed one
        self._marks: list[tuple[Row, str | None, asyncio.Future[None]]] = []
        self._marking: asyncio.Task[None] | None = None
        self._claim_due = _claim_statement(by_ids=False, postgres=store.dialect == "postgresql")
        self._claim_ids = _claim_statement(by_ids=True, postgres=store.dialect == "postgresql")

    # ---- one pass -----------------------------------------------------------------------------
    async def run_once(self) -> int:
        rows = await self._claim()
        if rows:
            await asyncio.gather(*(self._one(r) for r in rows))
        return len(rows)

    async def _one(self, row: Row) -> None:
        async with self._gate:
            delivered = await self._deliver(row)
        if delivered is not None:
            await self._sent(*delivered)

    async def _claim(self) -> list[Row]:
        """Lease the due rows in one UPDATE ... RETURNING (SKIP LOCKED on PostgreSQL, one writer on SQLite)."""
        async with self.store.connection() as conn:
            result = await conn.execute(self._claim_due, self._claim_params(limit_=self.policy.batch_size))
            rows = list(result.all())
        return sorted(rows, key=lambda r: r.id)

    # ---- rows queued by the engine or the inbox ------------------------------------------------
    async def lease(self, conn: AsyncConnection, ids: Sequence[int]) -> list[Row]:
        """Lease just-queued rows inside the writer's own transaction, so they go out without a claim pass.

        Same rules as a claim (order per conversation, our channels only); rows it cannot take yet stay
        queued for the loop. Hand the result to `deliver` once the transaction has committed.
        """
        if not ids or self._task is None or self._stopping:
            return []
        result = await conn.execute(self._claim_ids, self._claim_params(ids=list(ids)))
        rows = sorted(result.all(), key=lambda r: r.id)
        if len(rows) < len(ids):  # the rest waits behind an older row of its place: the loop takes it after that
            if len(self._behind) > 10_000:  # bounded: a forgotten place only waits for the next poll
                self._behind.clear()
            self._behind.update(await self._places(conn, set(ids) - {r.id for r in rows}))
            self._wake.set()
        return rows

    def _claim_params(self, **extra: object) -> dict[str, object]:
        """Values for either claim statement: due now, leased until now + LEASE, our channels only."""
        now = utcnow()
        channels = [name for name in self.adapters if self._can_send(name)]
        return {"now_": now, "until_": now + LEASE, "channels": channels, **extra}

    def wake(self) -> None:
        """Look at the outbox now (a channel came up: its queued replies go out without waiting a poll)."""
        self._wake.set()

    async def _places(self, conn: AsyncConnection, ids: set[int]) -> list[tuple[str, str]]:
        result = await conn.execute(select(OUTBOX.c.channel, OUTBOX.c.conversation).where(OUTBOX.c.id.in_(ids)))
        return [(channel, conversation) for channel, conversation in result.all()]

    def deliver(self, rows: Sequence[Row]) -> None:
        """Send rows leased by `lease` (after their transaction committed) without waiting for the loop."""
        for row in rows:
            task = asyncio.create_task(self._one(row), name=f"supportbot-deliver-{row.id}")
            self._handed.add(task)
            task.add_done_callback(functools.partial(self._handed_done, place=(row.channel, row.conversation)))

    def _handed_done(self, task: asyncio.Task[None], place: tuple[str, str]) -> None:
        self._handed.discard(task)
        if place in self._behind:  # a row of this place waits for this one to finish
            self._behind.discard(place)
            self._wake.set()
        if not task.cancelled() and task.exception() is not None:  # the row keeps its lease: retried when it ends
            log.error("delivering a leased outbox row failed", exc_info=task.exception())

    async def _deliver(self, row: Row) -> tuple[Row, str | None] | None:
        """Send one row; failures are written here, a success is returned with the platform's id."""
        adapter = self.adapters[row.channel]
        reply = outbound_from_row(row)
        try:
            await self._limit(row.channel, row.conversation, adapter)
            sent = await adapter.send(reply)  # type: ignore[attr-defined]
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else self._backoff(row.attempts)
            # A 429 is the platform pacing us, not a failure of this message: it does not use up attempts.
            await self._failed(row, f"rate limited: {exc}", wait, count_attempt=False)
        except RetryLater as exc:
            wait = max(exc.retry_after or 0.0, self._backoff(row.attempts))
            await self._failed(row, f"temporary failure: {exc}", wait)
        except Undeliverable as exc:
            await self._dead(row, f"undeliverable: {exc}")
        except Exception as exc:  # an adapter bug must not kill the dispatcher or lose the row
            log.exception("adapter %s raised while sending outbox row %s", row.channel, row.id)
            await self._failed(row, f"unexpected error: {type(exc).__name__}: {exc}", self._backoff(row.attempts))
        else:
            return row, (str(sent.platform_id) if sent.platform_id else None)
        return None

    async def _sent(self, row: Row, platform_id: str | None) -> None:
        """Record a delivery before anything else happens (a crash later must not resend it).

        Deliveries that finish while one is being written are written together in the next
        transaction (group commit): each still waits only for its own write, never for a batch to fill.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((row, platform_id, done))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._write_marks(), name="supportbot-mark-sent")
        await done
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="sent")

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                await self._mark_sent(batch)
            except BaseException as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _mark_sent(self, batch: list[tuple[Row, str | None, asyncio.Future[None]]]) -> None:
        """Only while each row's lease is ours: a row reclaimed by another dispatcher is not ours to write."""
        now = utcnow()
        marks = [{"oid": row.id, "lease": row.locked_until, "at": now} for row, _, _ in batch]
        ids = [{"mid": row.message_id, "pid": pid} for row, pid, _ in batch if pid]
        try:
            async with self.store.connection() as conn:
                await conn.execute(MARK_SENT, marks)
                if ids:
                    await conn.execute(SET_PLATFORM_ID, ids)
        except IntegrityError:  # a platform id already stored (a platform reusing ids): keep the deliveries
            log.warning("a platform id of outbox rows %s is already stored", [row.id for row, _, _ in batch])
            async with self.store.connection() as conn:
                await conn.execute(MARK_SENT, marks)
                for one in ids:
                    with contextlib.suppress(IntegrityError):
                        async with conn.begin_nested():
                            await conn.execute(SET_PLATFORM_ID, one)

    async def _failed(self, row: Row, error: str, wait: float, *, count_attempt: bool = True) -> None:
        attempts = row.attempts if count_attempt else row.attempts - 1
        if attempts >= self.policy.max_attempts:
            await self._dead(row, f"gave up after {attempts} attempts; last error: {error}")
            return
        async with self.store.connection() as conn:
            await conn.execute(update(OUTBOX).where(*_ours(row)).values(
                status="failed", attempts=attempts, last_error=error[:2000], locked_until=None,
                next_attempt_at=utcnow() + timedelta(seconds=wait)))
        log.info("outbox row %s (%s) will retry in %.1fs: %s", row.id, row.channel, wait, error)
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="failed")

    async def _dead(self, row: Row, error: str) -> None:
        async with self.store.connection() as conn:
            await conn.execute(update(OUTBOX).where(*_ours(row)).values(
                status="dead", last_error=error[:2000], locked_until=None))
        log.warning("outbox row %s (%s) given up: %s", row.id, row.channel, error)
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="dead")

    def _backoff(self, attempts: int) -> float:
        base = self.policy.base_backoff_seconds * (2 ** max(attempts - 1, 0))
        return min(self.policy.max_backoff_seconds, base) * random.uniform(0.8, 1.2)

    async def _limit(self, channel: str, conversation: str, adapter: object) -> None:
        settings = getattr(adapter, "settings", None)
        overall = self._channel_limits.get(channel)
        if overall is None:
            rate = float(getattr(settings, "rate_per_second", 30.0))
            overall = self._channel_limits[channel] = _limiter(rate)
        key = (channel, conversation)
        limiter = self._conversation_limits.get(key)
        if limiter is None:
            custom = getattr(adapter, "conversation_rate", None)
            rate = custom(conversation) if callable(custom) else None
            if rate is None:
                rate = float(getattr(settings, "rate_per_conversation_per_second", 1.0))
            # one token per 1/rate seconds: never a burst that a per-chat limit would reject
            limiter = AsyncLimiter(1, 1 / max(float(rate), 0.001))
            self._conversation_limits[key] = limiter
            if len(self._conversation_limits) > 10_000:
                self._conversation_limits.popitem(last=False)
        else:
            self._conversation_limits.move_to_end(key)
        await overall.acquire()
        await limiter.acquire()

    # ---- background loop ----------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="supportbot-dispatcher")

    async def _loop(self) -> None:
        async with self.bus.subscribe() as events:
            waker = asyncio.create_task(self._watch(events))
            try:
                while not self._stopping:
                    try:
                        sent = await self.run_once()
                    except Exception:  # the database may blip; keep the loop alive and try again
                        log.exception("dispatcher pass failed")
                        sent = 0
                    if sent == 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self.policy.poll_interval_seconds)
                        self._wake.clear()
            finally:
                waker.cancel()

    async def _watch(self, events: asyncio.Queue) -> None:  # type: ignore[type-arg]
        while True:
            event = await events.get()
            if event.kind == "outbox":
                self._wake.set()

    async def stop(self) -> None:
        """Finish the sends in flight; rows not yet claimed stay queued in the store for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            try:
                await asyncio.wait_for(asyncio.gather(task, *self._handed), timeout=30)
            except TimeoutError:
                task.cancel()

    async def pending(self) -> int:
        async with self.store.sessions() as session:
            return len((await session.scalars(select(Outbox.id).where(
                Outbox.status.in_(PENDING), Outbox.channel.in_(list(self.adapters))))).all())

    async def drain(self, timeout: float = 10.0) -> None:
        """Run until every row for our channels is sent or given up (waits out backoffs); for tests and shutdown."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.pending():
            if loop.time() > deadline:
                raise TimeoutError(f"outbox still has {await self.pending()} undelivered rows after {timeout}s")
            if await self.run_once() == 0:
                await asyncio.sleep(0.05)


def _ours(row: Row) -> tuple[ColumnElement[bool], ...]:
    """WHERE clauses matching the row only while our lease holds (a reclaimed row is not ours to write)."""
    return (OUTBOX.c.id == row.id, OUTBOX.c.status == "sending", OUTBOX.c.locked_until == row.locked_until)


def _claim_statement(*, by_ids: bool, postgres: bool) -> Update:
    """Built once per dispatcher: the hot path only binds values (no statement building per pass).

    Due rows (or the given ids) of our channels, oldest first, none with an older undelivered row
    for the same place; SKIP LOCKED lets several dispatchers share the queue on PostgreSQL.
    """
    o, older = OUTBOX.c, OUTBOX.alias("older").c
    now = bindparam("now_", type_=OUTBOX.c.next_attempt_at.type)
    claimable = or_(
        and_(o.status.in_(("queued", "failed")), o.next_attempt_at <= now),
        and_(o.status == "sending", o.locked_until < now),
    )
    due = select(o.id).where(
        o.channel.in_(bindparam("channels", expanding=True)),
        claimable,
        ~exists().where(older.channel == o.channel, older.conversation == o.conversation, older.id < o.id,
                        older.status.in_(PENDING)),
    ).order_by(o.id)
    due = due.where(o.id.in_(bindparam("ids", expanding=True))) if by_ids else due.limit(bindparam("limit_"))
    if postgres:
        due = due.with_for_update(skip_locked=True)
    return (update(OUTBOX).where(o.id.in_(due.scalar_subquery()), claimable)
            .values(status="sending", locked_until=bindparam("until_", type_=OUTBOX.c.locked_until.type),
                    attempts=o.attempts + 1)
            .returning(*OUTBOX.c))


OUTBOX = Outbox.__table__
MARK_SENT = (update(OUTBOX)
             .where(OUTBOX.c.id == bindparam("oid"), OUTBOX.c.status == "sending",
                    OUTBOX.c.locked_until == bindparam("lease", type_=OUTBOX.c.locked_until.type))
             .values(status="sent", sent_at=bindparam("at", type_=OUTBOX.c.sent_at.type), locked_until=None,
                     last_error=None))
SET_PLATFORM_ID = (update(Message.__table__).where(Message.__table__.c.id == bindparam("mid"))
                   .values(platform_id=bindparam("pid")))


def _limiter(rate: float) -> AsyncLimiter:
    """``rate`` messages per second; below one a second, one message per 1/rate seconds."""
    rate = max(float(rate), 0.001)
    return AsyncLimiter(rate, 1) if rate >= 1 else AsyncLimiter(1, 1 / rate)


def _policy(settings: object | None) -> DispatchPolicy:
    if settings is None:
        return DispatchPolicy()
    if isinstance(settings, DispatchPolicy):
        return settings
    fields = DispatchPolicy.__dataclass_fields__
    return DispatchPolicy(**{k: getattr(settings, k) for k in fields if hasattr(settings, k)})
