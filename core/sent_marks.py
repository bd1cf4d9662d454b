"""Recording deliveries: "sent" is written before anything else happens to a delivered row, group-committed.

Deliveries that finish while one write is under way are written together in the next transaction; each
waits only for its own write, never for a batch to fill. A writer that is about to lease replies (the
engine, core/pipeline.py) may carry the waiting marks in its own transaction (`write_in`): one transaction
fewer, and a reply whose older sibling in the same conversation just went out is free to be leased in
that same transaction (a row waits while an older one of its conversation is undelivered).

Every mark matches its row only while the lease is this instance's (core/outbox_sql.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import Sent, utcnow
from core.outbox_sql import MARK_SENT, SET_PLATFORM_ID, SET_PLATFORM_ID_IF_FREE
from core.store import Store

log = logging.getLogger(__name__)

Mark = tuple[Row[Any], Sent, "asyncio.Future[None]"]


class SentMarks:
    def __init__(self, store: Store, owner: Callable[[], str], idempotent: Callable[[Row[Any]], bool],
                 persist: Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]) -> None:
        """``owner``: this instance's id (the lease the rows must still carry); ``idempotent(row)``: a repeat of
        this send cannot reach the customer twice; ``persist``: retries a write while the database is away."""
        self.store = store
        self._owner = owner
        self._idempotent = idempotent
        self._persist = persist
        self._waiting: list[Mark] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, row: Row[Any], sent: Sent) -> None:
        """Returns once the row is marked sent (with its platform id) in the store."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, sent, done))
        self._kick()
        await done

    async def write_in(self, conn: AsyncConnection) -> Callable[[bool], None] | None:
        """Write the waiting marks in the caller's transaction; call the result with whether it committed (if it
        did not, they are written as usual). None when nothing waits."""
        if not self._waiting:
            return None
        batch, self._waiting = self._waiting, []
        try:
            marks, ids = self._values(batch)
            await conn.execute(MARK_SENT, marks)
            if ids:  # never a unique violation: that would undo the caller's whole transaction
                await conn.execute(SET_PLATFORM_ID_IF_FREE, ids)
        except BaseException:
            self._put_back(batch)
            raise
        return functools.partial(self._settled, batch)

    def _settled(self, batch: list[Mark], committed: bool) -> None:
        if not committed:
            self._put_back(batch)
            return
        for _, _, done in batch:
            if not done.done():
                done.set_result(None)

    def _put_back(self, batch: list[Mark]) -> None:
        self._waiting[:0] = batch
        self._kick()

    def _kick(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="supportbot-mark-sent")

    async def _write(self) -> None:
        while self._waiting:
            taken: list[Mark] = []
            try:
                await self._persist(functools.partial(self._write_waiting, taken))
            except BaseException as exc:
                for _, _, done in taken:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                if not isinstance(exc, Exception):
                    raise
            else:
                self._settled(taken, True)

    async def _write_waiting(self, taken: list[Mark]) -> None:
        """In a transaction of its own; the marks are taken once it began (on SQLite: once it holds the write
        lock), so a writer that got the lock first carries them instead (`write_in`)."""
        try:
            async with self.store.connection(hot=True) as conn:
                if not taken:  # (a retry after the database was away keeps what it took)
                    taken[:], self._waiting = self._waiting, []
                marks, ids = self._values(taken)
                if marks:
                    await conn.execute(MARK_SENT, marks)
                    if ids:
                        await conn.execute(SET_PLATFORM_ID, ids)
        except IntegrityError:  # a platform id already stored (a platform reusing ids): keep the deliveries
            log.warning("a platform id of outbox rows %s is already stored", [row.id for row, _, _ in taken])
            marks, ids = self._values(taken)
            async with self.store.connection(hot=True) as conn:
                await conn.execute(MARK_SENT, marks)
                for one in ids:
                    with contextlib.suppress(IntegrityError):
                        async with conn.begin_nested():
                            await conn.execute(SET_PLATFORM_ID, one)

    def _values(self, batch: list[Mark]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A public note's id is not the reply's: the reply is still owed, so its message keeps no platform id."""
        now, me = utcnow(), self._owner()
        marks = [{"oid": row.id, "me_": me, "at": now, "sure": self._idempotent(row), "noted": sent.public_note}
                 for row, sent, _ in batch]
        ids = [{"mid": row.message_id, "pid": str(sent.platform_id)} for row, sent, _ in batch
               if sent.platform_id and not sent.public_note]
        return marks, ids
