"""Delivery is a queue: outbox rows -> adapter.send(), at least once, with retries, backoff and pacing.

Rows for one place go out in order (a row waits while an older one for the same conversation is
undelivered). A claim is a lease naming this process's instance (core/instances.py): two dispatchers
never send the same row at once, and the rows of an instance whose heartbeat stopped are taken over
within seconds; a row taken over mid-send on a channel without idempotent sends is marked
``uncertain`` ("may have been sent twice"). At most ``concurrency`` rows are leased at a time, so
that set stays small. Every failure is written on the row, where the inbox shows it; after
``max_attempts`` a row is given up ("dead").

Sending never waits for a batch: each leased row is its own task, a finished one frees its slot
for the next due row at once, a row whose conversation must wait goes back to the outbox instead
of holding a slot, and a platform's "stop everything" (Telegram's flood wait) pauses only that channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.errors import RateLimited, RetryLater, Uncertain, Undeliverable
from core.events import RESYNC, EventBus
from core.instances import DEAD_AFTER, Instance
from core.models import Sent, utcnow
from core.outbox_sql import DUE, GIVE_BACK, OUTBOX, claim_statement, settle
from core.pacing import Pacing
from core.sent_marks import SentMarks
from core.store import Store
from core.store.replies import outbound_from_row
from core.store.tables import Outbox

log = logging.getLogger(__name__)

# outcome: sent, retry (a failure tried again later), rate_limited (the platform asked us to wait), dead (given up)
DELIVERIES = Counter("supportbot_outbox_deliveries_total", "Outbox rows the dispatcher sent, will retry or gave up",
                     ["channel", "outcome"])

PENDING = ("queued", "failed", "sending")
LEASE = timedelta(seconds=120)  # the last resort when an instance lives but a send hangs
HARMLESS_ROOM = 8  # times `concurrency`: rows of channels where a repeat is harmless may be leased at once
HOLD_AT_MOST = 0.25  # seconds a leased row may wait for its conversation's turn before it is given back
STOP_GRACE = 3.0  # seconds a clean stop lets the sends at the platform finish


@dataclass(frozen=True)
class DispatchPolicy:
    max_attempts: int = 8
    base_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 600.0
    poll_interval_seconds: float = 1.0
    # Rows leased at once by this process: the most that can be "in flight" at a crash. Channels whose repeats are
    # harmless (idempotent sends: a resent row is never seen twice) may hold HARMLESS_ROOM times as many.
    concurrency: int = 16


class Dispatcher:
    def __init__(self, store: Store, adapters: Mapping[str, object], settings: object | None = None,
                 bus: EventBus | None = None, can_send: Callable[[str], bool] | None = None,
                 instance: Instance | None = None, pacing: Pacing | None = None) -> None:
        """``can_send(channel)``: whether the channel is up now; rows of a channel that is down stay queued
        without spending attempts (the supervisor in core/channels.py says; default: always).
        ``pacing``: shared by every dispatcher process on PostgreSQL (core/pacing_pg.py); default: this process."""
        self.store = store
        self.adapters = dict(adapters)
        self.policy = _policy(settings)
        self.bus = bus or EventBus()
        self.instance = instance or Instance(store)
        self._own_instance = instance is None
        self._can_send = can_send or (lambda _channel: True)
        self.pacing = pacing or Pacing()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._look = True  # a full claim pass is wanted (else, woken by a finished send: only if a row is due)
        self._stopping = False
        self._active: dict[int, asyncio.Task[None]] = {}  # row id -> its delivery
        self._risky_active: set[int] = set()  # those of channels whose repeats are not harmless
        self._at_platform: set[int] = set()  # rows whose send has begun (cannot be given back)
        self.marks = SentMarks(store, lambda: self.instance.id, self._idempotent, self._persist)
        # rows taken over mid-send are uncertain unless the channel's sends are idempotent (Discord nonce, web ids)
        self._risky = [name for name, a in self.adapters.items() if not getattr(a, "idempotent_sends", False)]
        postgres = store.dialect == "postgresql"
        self._claim_due = claim_statement(by_ids=False, postgres=postgres)
        self._claim_ids = claim_statement(by_ids=True, postgres=postgres)
        # SQLite: a claim takes the one write lock, so a cheap read first whether any row waits. PostgreSQL: the
        # claim (row locks, SKIP LOCKED) costs one transaction like that read, so it is the check itself.
        self._read_before_claim = not postgres

    # ---- claiming -------------------------------------------------------------------------------
    @property
    def free_slots(self) -> int:
        return sum(room for _, room in self._rooms())

    def _rooms(self) -> list[tuple[list[str], int]]:
        """The channels that may send now, split into those whose repeats are harmless and the others, each
        with how many more rows of theirs may be leased (a row in flight at a crash is sent again)."""
        sendable = [name for name in self.adapters if self._can_send(name) and not self.pacing.paused_for(name)]
        risky = [name for name in sendable if name in self._risky]
        harmless = [name for name in sendable if name not in self._risky]
        concurrency = self.policy.concurrency
        rooms = [(harmless, concurrency * HARMLESS_ROOM - (len(self._active) - len(self._risky_active))),
                 (risky, concurrency - len(self._risky_active))]
        return [(names, room) for names, room in rooms if names and room > 0]

    def _claim_params(self, channels: list[str] | None = None, **extra: object) -> dict[str, object]:
        """Values for either claim statement: due now, leased to us until now + LEASE, channels that may send."""
        now = utcnow()
        if channels is None:
            channels = [name for name in self.adapters if self._can_send(name) and not self.pacing.paused_for(name)]
        return {"now_": now, "until_": now + LEASE, "alive_": now - DEAD_AFTER, "me_": self.instance.id,
                "channels": channels, "risky": self._risky, **extra}

    async def _due(self) -> bool:
        """Whether a row of ours is queued and due (read without the write lock)."""
        async with self.store.engine.connect() as conn:
            found = (await conn.execute(DUE, self._claim_params())).first()
        return found is not None

    async def _claim(self, limit: int | None = None) -> list[Row]:
        """Lease due rows (up to the free room, or ``limit``) with UPDATE ... RETURNING (SKIP LOCKED on PostgreSQL)."""
        await self.instance.ensure()
        rows: list[Row] = []
        async with self.store.connection(hot=True) as conn:
            for channels, room in self._rooms() if limit is None else [(None, limit)]:
                result = await conn.execute(self._claim_due, self._claim_params(channels, limit_=room))
                rows += result.all()
        return sorted(rows, key=lambda r: r.id)

    async def lease(self, conn: AsyncConnection, ids: Sequence[int]) -> list[Row]:
        """Lease just-queued rows inside the writer's own transaction, so they go out without a claim pass.

        Same rules as a claim (order per conversation, channels that may send, free room); rows it cannot
        take now stay queued for the loop. Hand the result to `deliver` once the transaction has committed.
        """
        if not ids or self._task is None or self._stopping:
            return []
        rows: list[Row] = []
        for channels, room in self._rooms():
            if len(rows) < len(ids):
                result = await conn.execute(self._claim_ids, self._claim_params(channels, ids=list(ids), limit_=room))
                rows += result.all()
        if len(rows) < len(ids):
            self.wake()  # the rest waits behind an older row, a pause or a slot: the loop looks again
        return sorted(rows, key=lambda r: r.id)

    def deliver(self, rows: Sequence[Row]) -> None:
        """Send rows leased by `lease` (after their transaction committed) without waiting for the loop."""
        for row in rows:
            self._launch(row)

    def _launch(self, row: Row) -> None:
        task = asyncio.create_task(self._one(row), name=f"supportbot-deliver-{row.id}")
        self._active[row.id] = task
        if row.channel in self._risky:
            self._risky_active.add(row.id)
        task.add_done_callback(functools.partial(self._done, row_id=row.id))

    def _done(self, task: asyncio.Task[None], row_id: int) -> None:
        self._active.pop(row_id, None)
        self._risky_active.discard(row_id)
        self._at_platform.discard(row_id)
        self._wake.set()  # a slot is free, and a row of the same place may be due now
        if not task.cancelled() and task.exception() is not None:  # the row keeps its lease: retried when it ends
            log.error("delivering outbox row %s failed", row_id, exc_info=task.exception())

    # ---- one row --------------------------------------------------------------------------------
    async def _one(self, row: Row) -> None:
        adapter = self.adapters[row.channel]
        wait = self.pacing.conversation_wait(row.channel, row.conversation)
        if wait > HOLD_AT_MOST:  # not this conversation's turn yet: free the slot for someone else's reply
            await self._write(GIVE_BACK, [{"oid": row.id, "me_": self.instance.id, "at": utcnow() + timedelta(
                seconds=wait)}])
            asyncio.get_running_loop().call_later(wait, self.wake)
            return
        if wait:
            await asyncio.sleep(wait)
        settings = getattr(adapter, "settings", None)
        await self.pacing.channel_turn(row.channel, float(getattr(settings, "rate_per_second", 30.0)))
        self.pacing.hold(row.channel, row.conversation, 1 / self._conversation_rate(adapter, row.conversation))
        self._at_platform.add(row.id)
        try:
            sent = await adapter.send(outbound_from_row(row))  # type: ignore[attr-defined]
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else self._backoff(row.attempts)
            if exc.scope == "channel":  # the platform stops the whole bot, not one message
                self.pacing.pause(row.channel, wait)
            else:
                self.pacing.hold(row.channel, row.conversation, wait)
            # A 429 is the platform pacing us, not a failure of this message: it does not use up attempts.
            await self._failed(row, f"rate limited: {exc}", wait, count_attempt=False)
        except Uncertain as exc:
            await self._failed(row, f"may have been sent: {exc}", self._backoff(row.attempts), uncertain=True)
        except RetryLater as exc:
            await self._failed(row, f"temporary failure: {exc}", max(exc.retry_after or 0.0,
                                                                      self._backoff(row.attempts)))
        except Undeliverable as exc:
            await self._dead(row, f"undeliverable: {exc}")
        except Exception as exc:  # an adapter bug must not kill the dispatcher or lose the row
            log.exception("adapter %s raised while sending outbox row %s", row.channel, row.id)
            await self._failed(row, f"unexpected error: {type(exc).__name__}: {exc}", self._backoff(row.attempts))
        else:
            await self._sent(row, sent)

    def _conversation_rate(self, adapter: object, conversation: str) -> float:
        custom = getattr(adapter, "conversation_rate", None)
        rate = custom(conversation) if callable(custom) else None
        if rate is None:
            rate = float(getattr(getattr(adapter, "settings", None), "rate_per_conversation_per_second", 1.0))
        return max(float(rate), 0.001)

    # ---- outcomes -------------------------------------------------------------------------------
    async def _sent(self, row: Row, sent: Sent) -> None:
        """Record a delivery before anything else happens (a crash later must not resend it); deliveries that
        finish together are written together (core/sent_marks.py)."""
        await self.marks.record(row, sent)
        DELIVERIES.labels(row.channel, "sent").inc()
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="sent")

    def _idempotent(self, row: Row) -> bool:
        """Whether a repeat of this send cannot reach the customer twice (per conversation, when the adapter
        can tell: on X a public post is refused as a duplicate, a DM is not)."""
        adapter = self.adapters.get(row.channel)
        check = getattr(adapter, "idempotent_conversation", None)
        return bool(check(row.conversation)) if callable(check) else bool(getattr(adapter, "idempotent_sends", False))

    async def _failed(self, row: Row, error: str, wait: float, *, count_attempt: bool = True,
                      uncertain: bool = False) -> None:
        attempts = row.attempts if count_attempt else row.attempts - 1
        if attempts >= self.policy.max_attempts:
            await self._dead(row, f"gave up after {attempts} attempts; last error: {error}", uncertain=uncertain)
            return
        values = {"status": "failed", "attempts": attempts, "last_error": error[:2000],
                  "next_attempt_at": utcnow() + timedelta(seconds=wait)}
        await self._write(settle(values, uncertain), [{"oid": row.id, "me_": self.instance.id}])
        DELIVERIES.labels(row.channel, "retry" if count_attempt else "rate_limited").inc()
        log.info("outbox row %s (%s) will retry in %.1fs: %s", row.id, row.channel, wait, error)
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="failed")

    async def _dead(self, row: Row, error: str, *, uncertain: bool = False) -> None:
        await self._write(settle({"status": "dead", "last_error": error[:2000]}, uncertain),
                          [{"oid": row.id, "me_": self.instance.id}])
        DELIVERIES.labels(row.channel, "dead").inc()
        log.warning("outbox row %s (%s) given up: %s", row.id, row.channel, error)
        self.bus.publish("delivery", outbox_id=row.id, message_id=row.message_id, status="dead")

    async def _write(self, statement: object, params: list[dict[str, object]]) -> None:
        async def run() -> None:
            async with self.store.connection() as conn:
                await conn.execute(statement, params)  # type: ignore[call-overload]

        await self._persist(run)

    async def _persist(self, write: Callable[[], object]) -> None:
        """An outcome must be recorded: while the database is away (a restart), keep trying for a while."""
        delay = 0.2
        for attempt in range(12):  # about a minute and a half
            try:
                await write()  # type: ignore[misc]
                return
            except (IntegrityError, asyncio.CancelledError):
                raise
            except Exception as exc:
                if attempt == 11:
                    raise
                log.warning("recording a delivery outcome failed (%s); trying again in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _backoff(self, attempts: int) -> float:
        base = self.policy.base_backoff_seconds * (2 ** max(attempts - 1, 0))
        return min(self.policy.max_backoff_seconds, base) * random.uniform(0.8, 1.2)

    # ---- background loop ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            if self._own_instance:
                await self.instance.register()
            self._task = asyncio.create_task(self._loop(), name="supportbot-dispatcher")

    def wake(self) -> None:
        """Look at the outbox now (a channel came up: its queued replies go out without waiting a poll)."""
        self._look = True
        self._wake.set()

    async def _loop(self) -> None:
        async with self.bus.subscribe() as events:
            waker = asyncio.create_task(self._watch(events))
            try:
                while not self._stopping:
                    self._wake.clear()
                    if self.free_slots:
                        look, self._look = self._look, False
                        try:
                            # Woken only because a send finished (a slot is free): on SQLite first a cheap read
                            # whether any row waits. Events, pauses and polls always claim.
                            if look or not self._read_before_claim or await self._due():
                                for row in await self._claim():
                                    self._launch(row)
                        except Exception:  # the database may blip; keep the loop alive and try again
                            self._look = True
                            log.exception("dispatcher pass failed")
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.policy.poll_interval_seconds)
                    except TimeoutError:
                        self._look = True  # the poll: retries that came due, rows of a stopped instance
            finally:
                waker.cancel()

    async def _watch(self, events: asyncio.Queue) -> None:  # type: ignore[type-arg]
        while True:
            event = await events.get()
            if event.kind in ("outbox", RESYNC):  # resync: outbox events may have been missed
                self.wake()

    async def stop(self) -> None:
        """Stop claiming, give back the rows not yet at the platform, let the sends under way finish for
        a few seconds, then stop. What is still at the platform after that stays leased to this instance,
        which a later instance takes over as "may have been sent twice"."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task
        waiting = [(rid, t) for rid, t in self._active.items() if rid not in self._at_platform]
        for _, task in waiting:
            task.cancel()
        await asyncio.gather(*(t for _, t in waiting), return_exceptions=True)
        if waiting:
            now = utcnow()
            with contextlib.suppress(Exception):
                await self._write(GIVE_BACK, [{"oid": rid, "me_": self.instance.id, "at": now} for rid, _ in waiting])
        busy = list(self._active.values())
        if busy:
            _, late = await asyncio.wait(busy, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._own_instance:
            await self.instance.close()

    # ---- for tests and tools --------------------------------------------------------------------
    async def run_once(self) -> int:
        """One pass without the loop: lease what is due (up to the free slots) and deliver it all."""
        rows = await self._claim(None if self.free_slots else 1)
        for row in rows:
            self._launch(row)
        if rows:
            await asyncio.gather(*(self._active[r.id] for r in rows if r.id in self._active), return_exceptions=True)
        return len(rows)

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


def _policy(settings: object | None) -> DispatchPolicy:
    if settings is None:
        return DispatchPolicy()
    if isinstance(settings, DispatchPolicy):
        return settings
    fields = DispatchPolicy.__dataclass_fields__
    return DispatchPolicy(**{k: getattr(settings, k) for k in fields if hasattr(settings, k)})


__all__ = ["OUTBOX", "DispatchPolicy", "Dispatcher"]
