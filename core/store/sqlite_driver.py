"""aiosqlite for SQLAlchemy with one thread hop per statement instead of four.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes it as four separate
calls onto aiosqlite's worker thread; each call is a queue put, a thread wake-up and a callback
into the event loop. On the hot path (a customer's message: about ten statements in one
transaction) those hand-offs cost more than SQLite itself. Here the whole statement runs as one
call on the worker thread; results, description, rowcount and lastrowid come back together.
Everything else (connections, transactions, errors, the worker thread) stays SQLAlchemy's and
aiosqlite's. Selected with ``create_async_engine(..., module=dbapi())`` for ``sqlite+aiosqlite`` URLs.

Inside `inline()` (the hot path's write transactions: index lookups and small batched writes, microseconds
each while this process holds the write lock) statements run on the event loop's own thread, with no hand-off
at all: the hand-off cost more CPU than SQLite's work. BEGIN (which may wait for another process's lock),
COMMIT and ROLLBACK (which may checkpoint the WAL) and every statement outside `inline()` still go to the
worker thread, so the loop never waits on a lock or a disk.
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

_NO_ROWS: list[Any] = []
_INLINE: ContextVar[bool] = ContextVar("supportbot_sqlite_inline", default=False)


@contextlib.contextmanager
def inline() -> Iterator[None]:
    """Statements of this block (other than BEGIN) run on the loop's thread: for short hot-path transactions."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> tuple[Any, int, Any, list[Any]]:
    """On the worker thread: the statement from start to finish, so the loop waits for one hand-off."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else _NO_ROWS
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:  # no aiosqlite cursor is made
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            if _INLINE.get() and not operation.startswith("BEGIN"):
                result = _run(connection._conn, operation, parameters, many)
            else:
                result = await connection._execute(_run, connection._conn, operation, parameters, many)
        self._description, self._rowcount, self._lastrowid, rows = result
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._call(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._call(operation, seq_of_parameters, True)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection must not block exit
        return OneHopConnection(self, await_(connection))


def supported() -> bool:
    """The internals this relies on (SQLAlchemy 2.1's adapter, aiosqlite 0.22's worker queue) are present."""
    slots = {name for cls in AsyncAdapt_aiosqlite_cursor.__mro__ for name in getattr(cls, "__slots__", ())}
    return (hasattr(AsyncAdapt_aiosqlite_cursor, "_execute_async") and hasattr(aiosqlite.Connection, "_execute")
            and {"_adapt_connection", "_connection", "_rows"} <= slots)


def dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
