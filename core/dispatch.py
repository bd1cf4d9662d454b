"""Delivery is a queue: outbox rows -> adapter.send(), with retries, backoff and rate limits.

Rows for one conversation go out in order (a row waits while an older one for the same place is
undelivered). A claim is a lease (``locked_until``): two dispatchers never send the same row at
once, and a row whose dispatcher died is picked up again when its lease ends. Every failure is
written on the row, where the inbox shows it; after ``max_attempts`` a row is given up ("dead").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from aiolimiter import AsyncLimiter
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

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
                 bus: EventBus | None = None) -> None:
        self.store = store
        self.adapters = dict(adapters)
        self.policy = _policy(settings)
        self.bus = bus or EventBus()
        self._channel_limits: dict[str, AsyncLimiter] = {}
        self._conversation_limits: OrderedDict[tuple[str, str], AsyncLimiter] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    # ---- one pass -----------------------------------------------------------------------------
    async def run_once(self) -> int:
        rows = await self._claim()
        if not rows:
            return 0
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def one(row: Outbox) -> None:
            async with gate:
                delivered = await self._deliver(row)
                if delivered is not None:
                    await self._sent(*delivered)

        await asyncio.gather(*(one(r) for r in rows))
        return len(rows)

    async def _claim(self) -> list[Outbox]:
        """Lease the due rows in one UPDATE ... RETURNING (SKIP LOCKED on PostgreSQL, one writer on SQLite)."""
        now = utcnow()
        older = aliased(Outbox)
        claimable = or_(
            and_(Outbox.status.in_(("queued", "failed")), Outbox.next_attempt_at <= now),
            and_(Outbox.status == "sending", Outbox.locked_until < now),
        )
        due = (
            select(Outbox.id)
            .where(
                Outbox.channel.in_(list(self.adapters)),
                claimable,
                ~exists().where(older.channel == Outbox.channel, older.conversation == Outbox.conversation,
                                older.id < Outbox.id, older.status.in_(PENDING)),
            )
            .order_by(Outbox.id)
            .limit(self.policy.batch_size)
        )
        if self.store.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (
            update(Outbox)
            .where(Outbox.id.in_(due.scalar_subquery()), claimable)
            .values(status="sending", locked_until=now + LEASE, attempts=Outbox.attempts + 1)
            .returning(Outbox)
            .execution_options(synchronize_session=False)
        )
        async with self.store.transaction() as session:
            rows = list((await session.scalars(claim)).all())
            session.expunge_all()
        return sorted(rows, key=lambda r: r.id)

    async def _deliver(self, row: Outbox) -> tuple[Outbox, str | None] | None:
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

    async def _sent(self, row: Outbox, platform_id: str | None) -> None:
        """Record one delivery at once (a crash later in the pass must not resend it), while the lease is ours."""
        mark_sent = update(Outbox).where(*_ours(row)).values(
            status="sent", sent_at=utcnow(), locked_until=None, last_error=None)
        try:
            async with self.store.transaction() as session:
                await session.execute(mark_sent)
                if platform_id:
                    await session.execute(update(Message).where(Message.id == row.message_id)
                                          .values(platform_id=platform_id))
        except IntegrityError:  # that platform id is already stored (a platform reusing ids): keep the delivery
            log.warning("platform id %s of outbox row %s is already stored", platform_id, row.id)
            async with self.store.transaction() as session:
                await session.execute(mark_sent)
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="sent")

    async def _failed(self, row: Outbox, error: str, wait: float, *, count_attempt: bool = True) -> None:
        attempts = row.attempts if count_attempt else row.attempts - 1
        if attempts >= self.policy.max_attempts:
            await self._dead(row, f"gave up after {attempts} attempts; last error: {error}")
            return
        async with self.store.transaction() as session:
            await session.execute(update(Outbox).where(*_ours(row)).values(
                status="failed", attempts=attempts, last_error=error[:2000], locked_until=None,
                next_attempt_at=utcnow() + timedelta(seconds=wait)))
        log.info("outbox row %s (%s) will retry in %.1fs: %s", row.id, row.channel, wait, error)
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="failed")

    async def _dead(self, row: Outbox, error: str) -> None:
        async with self.store.transaction() as session:
            await session.execute(update(Outbox).where(*_ours(row)).values(
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
                await asyncio.wait_for(task, timeout=30)
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


def _ours(row: Outbox) -> tuple[object, ...]:
    """WHERE clauses matching the row only while our lease holds (a reclaimed row is not ours to write)."""
    return (Outbox.id == row.id, Outbox.status == "sending", Outbox.locked_until == row.locked_until)


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
