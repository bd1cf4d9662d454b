"""Migration 0009 on PostgreSQL: the retention index is built without stopping customers' messages from being
stored, an upgrade interrupted during the build is finished by the next start, and processes starting together
during the build all come up (SQLite: tests/core/test_store)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from core.errors import StorageError
from core.store import Store
from core.store.db import upgrade_schema
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(PG_URL.lower() == "off", reason="SUPPORTBOT_TEST_PG_URL=off leaves PostgreSQL out")

RAW_URL = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
INDEX = "ix_messages_unticketed_created"
STORE_A_MESSAGE = """INSERT INTO messages (conversation_id, channel, platform_id, direction, author_kind, author_name,
    text, attachments, public, addressed, raw, created_at) VALUES (1, 'webchat', $1, 'in', 'customer', 'Ann',
    'where is my withdrawal?', '[]', false, true, '{}', now())"""


@pytest_asyncio.fixture
async def at_0008() -> AsyncIterator[Store]:
    """A store on a fresh schema migrated to 0008, with one customer's conversation in it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(RAW_URL)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    store = Store(PG_URL, schema=schema)
    try:
        async with store.engine.connect() as conn:
            await conn.run_sync(upgrade_schema, "0008")
        db = await _connect(store)
        await db.execute("""
            INSERT INTO customers (id, display_name, created_at) VALUES (1, 'Ann', now());
            INSERT INTO conversations (id, customer_id, channel, address, public, state, created_at, last_message_at)
                VALUES (1, 1, 'webchat', 'c1', false, '{}', now(), now())""")
        await db.close()
        yield store
    finally:
        await store.close()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


async def _connect(store: Store) -> asyncpg.Connection:
    """Another process's connection to the same schema."""
    return await asyncpg.connect(RAW_URL, server_settings={"search_path": str(store.schema)})


async def _blocked_by(db: asyncpg.Connection, holder: asyncpg.Connection) -> int:
    """The backend (the migration) that waits for ``holder``'s transaction, once it does (10 s at most)."""
    for _ in range(200):
        pid = await db.fetchval("SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                                holder.get_server_pid())
        if pid:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the migration never waited for the open transaction")


async def _index_valid(db: asyncpg.Connection) -> bool | None:
    return await db.fetchval("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", INDEX)


async def test_customers_messages_are_stored_while_the_retention_index_is_built(at_0008: Store) -> None:
    """A plain CREATE INDEX waits for an open transaction on ``messages`` and every insert queues behind it."""
    slow, other = await _connect(at_0008), await _connect(at_0008)
    slow_tx = slow.transaction()
    await slow_tx.start()
    await slow.execute(STORE_A_MESSAGE, "slow-1")  # a request still in its transaction when the upgrade starts
    upgrade = asyncio.create_task(at_0008.migrate())
    try:
        await _blocked_by(other, slow)
        await asyncio.wait_for(other.execute(STORE_A_MESSAGE, "meanwhile-1"), timeout=5)  # not held up
        await slow_tx.commit()
        await asyncio.wait_for(upgrade, timeout=30)
        assert await _index_valid(other) is True
        assert await other.fetchval("SELECT count(*) FROM messages") == 2
    finally:
        await slow.close()  # ends its transaction if the test stopped with it open, so the upgrade ends too
        await asyncio.gather(asyncio.wait_for(upgrade, timeout=30), return_exceptions=True)
        await other.close()


async def test_an_upgrade_interrupted_while_building_the_index_is_finished_by_the_next_start(at_0008: Store) -> None:
    slow, db = await _connect(at_0008), await _connect(at_0008)
    try:
        slow_tx = slow.transaction()
        await slow_tx.start()
        await slow.execute(STORE_A_MESSAGE, "slow-1")
        upgrade = asyncio.create_task(at_0008.migrate())
        await db.execute("SELECT pg_cancel_backend($1)", await _blocked_by(db, slow))  # the process stopped
        with pytest.raises(StorageError):
            await asyncio.wait_for(upgrade, timeout=30)
        assert await _index_valid(db) is False  # what an interrupted concurrent build leaves
        await slow_tx.rollback()
        await asyncio.wait_for(at_0008.migrate(), timeout=30)  # the next start
        assert await _index_valid(db) is True
        assert await db.fetchval("SELECT count(*) FROM stats_days") == 0  # and the rest of 0009 is there
    finally:
        await slow.close()
        await db.close()


async def test_two_processes_starting_together_during_the_build_both_come_up(at_0008: Store) -> None:
    """The second one waits for the first one's upgrade without taking part in CREATE INDEX CONCURRENTLY's wait
    for older transactions (a statement waiting for the migration lock would be one: a deadlock, one start fails)."""
    slow, db = await _connect(at_0008), await _connect(at_0008)
    second = Store(at_0008.url, schema=at_0008.schema)
    try:
        slow_tx = slow.transaction()
        await slow_tx.start()
        await slow.execute(STORE_A_MESSAGE, "slow-1")
        first_start = asyncio.create_task(at_0008.migrate())
        await _blocked_by(db, slow)
        second_start = asyncio.create_task(second.migrate())
        await asyncio.sleep(2)  # past PostgreSQL's deadlock_timeout (1 s): a deadlock would be found by now
        await slow_tx.commit()
        await asyncio.wait_for(asyncio.gather(first_start, second_start), timeout=30)
        assert await _index_valid(db) is True
    finally:
        await slow.close()
        await db.close()
        await second.close()
