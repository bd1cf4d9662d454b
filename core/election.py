"""Who runs a receiver: PostgreSQL session advisory locks, held on one dedicated connection per process.

A lock is held for as long as the connection lives, so a process that dies (SIGKILL, OOM, a lost
machine) frees its receivers when PostgreSQL ends its session: at once when the kernel closes the
socket, within ~11 s through TCP keepalives when the machine vanished. The holder checks its
connection every second and gives up everything it runs as soon as the check fails, since another
process may take over from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib

import asyncpg

from core.events_pg import KEEPALIVE, raw_dsn
from core.store import Store

log = logging.getLogger(__name__)

NAMESPACE = 0x5B07  # first key of every receiver lock ("supportbot"); housekeeping uses the one-key form
CHECK_TIMEOUT = 3.0


class Elector:
    def __init__(self, store: Store) -> None:
        self._dsn = raw_dsn(store)
        self._scope = store.schema or ""
        self._conn: asyncpg.Connection | None = None
        self.held: set[str] = set()
        self.lost = asyncio.Event()  # set when the session ends under us: look again at once

    def key(self, name: str) -> int:
        """A stable 32-bit key for ``name`` within this deployment (its schema)."""
        value = zlib.crc32(f"{self._scope}:{name}".encode())
        return value - (1 << 32) if value >= 1 << 31 else value

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self.held.clear()  # a new session holds nothing
            self._conn = await asyncpg.connect(self._dsn, timeout=10, server_settings=KEEPALIVE)
            self._conn.add_termination_listener(self._ended)
        return self._conn

    def _ended(self, conn: object) -> None:
        if conn is self._conn and self.held:
            self.lost.set()

    async def acquire(self, name: str) -> bool:
        """Take ``name`` if nobody holds it; True while we hold it."""
        if name in self.held:
            return True
        conn = await self._connection()
        got = await asyncio.wait_for(conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", NAMESPACE,
                                                   self.key(name)), CHECK_TIMEOUT)
        if got:
            self.held.add(name)
        return bool(got)

    async def release(self, name: str) -> None:
        if name not in self.held:
            return
        self.held.discard(name)
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.fetchval("SELECT pg_advisory_unlock($1, $2)", NAMESPACE,
                                                           self.key(name)), CHECK_TIMEOUT)

    async def check(self) -> bool:
        """Whether the locks we hold are still ours (the session lives). False: we hold nothing now."""
        if self._conn is None:
            return not self.held
        try:
            if self._conn.is_closed():
                raise ConnectionError("closed")
            await asyncio.wait_for(self._conn.fetchval("SELECT 1"), CHECK_TIMEOUT)
            return True
        except Exception as exc:
            if self.held:
                log.warning("lost the connection that holds %s (%s): giving them up", sorted(self.held), exc)
            self._drop()
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self.held.clear()
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        """Release everything (closing the session does)."""
        conn, self._conn = self._conn, None
        self.held.clear()
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), CHECK_TIMEOUT)
            except Exception:
                conn.terminate()
