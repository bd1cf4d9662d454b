"""Group commit: what arrives while a transaction is being written is written together in the next one.

Each caller waits for the commit of the batch that holds its item, so "returned" still means
"committed" (a platform is acknowledged only after that). No caller waits for a batch to fill: an item
arriving when nothing is being written starts a batch at once; the batch grows only with what arrived
while the previous one was written. If a batch fails, its items are tried again one by one, so one
bad item fails alone and the others are stored.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
MAX_BATCH = 64  # bounds one transaction's size and the time the first caller of a batch waits for the last


class GroupCommit(Generic[T, R]):
    def __init__(self, batch: Callable[[Sequence[T]], Awaitable[Sequence[R]]], alone: Callable[[T], Awaitable[R]],
                 *, max_batch: int = MAX_BATCH, name: str = "supportbot-group-commit") -> None:
        """``batch`` writes several items in one transaction (results in the same order); ``alone`` writes one."""
        self._batch = batch
        self._alone = alone
        self._max = max_batch
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; returns (or raises) once its batch committed (or failed)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            # A fresh context: the writer must not inherit the first caller's context variables (a caller inside
            # a transaction would otherwise pass its "lock held" marker to every later batch).
            self._writer = asyncio.create_task(self._write(), name=self._name, context=contextvars.Context())
        return await future

    async def _write(self) -> None:
        while self._waiting:
            taken, self._waiting = self._waiting[:self._max], self._waiting[self._max:]
            try:
                await self._one_batch(taken)
            except BaseException as exc:  # cancelled (a shutdown): nobody may wait forever
                for _, future in [*taken, *self._waiting]:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
                self._waiting = []
                raise

    async def _one_batch(self, taken: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._batch([item for item, _ in taken])
        except Exception as exc:
            if len(taken) == 1:
                _settle(taken[0][1], exc=exc)
                return
            log.warning("a batch of %d failed (%s); writing each alone", len(taken), exc)
            for item, future in taken:
                try:
                    _settle(future, await self._alone(item))
                except Exception as one:
                    _settle(future, exc=one)
            return
        for (_, future), result in zip(taken, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[R], result: R | None = None, *, exc: BaseException | None = None) -> None:
    if future.done():  # the caller went away (cancelled): what was written stays written
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
