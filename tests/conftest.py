"""Shared fixtures: a migrated store (SQLite, and PostgreSQL for the storage suite), the engine, the inbox.

PostgreSQL: ``SUPPORTBOT_TEST_PG_URL`` (default the local server at 127.0.0.1:5432, database
``test``). Each test gets its own schema, dropped afterwards. Setting the variable to ``off``
removes the PostgreSQL parameter explicitly; an unreachable server is an error, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
import pytest_asyncio

from core.dispatch import Dispatcher, DispatchPolicy
from core.events import EventBus
from core.flood import FloodGate
from core.inbox import Inbox
from core.knowledge import KnowledgeBase, load_knowledge_base
from core.pipeline import Engine
from core.store import Store
from core.triage import Triage

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

PG_URL = os.environ.get("SUPPORTBOT_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] + ([] if PG_URL.lower() == "off" else ["postgresql"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on PostgreSQL were selected but the server is not there: one clear stop, not an error per test."""
    if not any("postgresql" in getattr(getattr(item, "callspec", None), "id", "") for item in items):
        return
    import asyncio

    import asyncpg

    async def reach() -> None:
        conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
        await conn.close()

    try:
        asyncio.run(reach())
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.exit(f"PostgreSQL at {PG_URL} is not reachable ({exc}). The storage tests run on SQLite and "
                    "PostgreSQL alike: start PostgreSQL, point SUPPORTBOT_TEST_PG_URL at a reachable server, or set "
                    "SUPPORTBOT_TEST_PG_URL=off to run without PostgreSQL.", returncode=3)


async def _open_store(backend: str, tmp_path: object) -> tuple[Store, Callable[[], object]]:
    if backend == "sqlite":
        store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/supportbot.db")
        return store, store.close
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw_url = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    store = await Store.open(PG_URL, schema=schema)

    async def cleanup() -> None:
        await store.close()
        conn = await asyncpg.connect(raw_url)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()

    return store, cleanup


@pytest_asyncio.fixture
async def store(tmp_path) -> AsyncIterator[Store]:  # type: ignore[no-untyped-def]
    """A fresh, migrated SQLite store (the embedded default)."""
    s, cleanup = await _open_store("sqlite", tmp_path)
    yield s
    await cleanup()  # type: ignore[misc]


@pytest_asyncio.fixture(params=BACKENDS)
async def any_store(request, tmp_path) -> AsyncIterator[Store]:  # type: ignore[no-untyped-def]
    """The same test against SQLite and PostgreSQL."""
    s, cleanup = await _open_store(request.param, tmp_path)
    yield s
    await cleanup()  # type: ignore[misc]


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def triage(kb: KnowledgeBase) -> Triage:
    return Triage(kb)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def engine(store: Store, triage: Triage, kb: KnowledgeBase, bus: EventBus) -> Engine:
    """Flood control off (tests send many messages as one customer on purpose); tests/core/test_flood.py
    covers it with the real default."""
    return Engine(store, triage, kb, bus=bus, flood=FloodGate(default=1_000_000))


@pytest.fixture
def inbox(store: Store, kb: KnowledgeBase, bus: EventBus) -> Inbox:
    return Inbox(store, kb, bus=bus)


FAST = DispatchPolicy(base_backoff_seconds=0.05, max_backoff_seconds=0.5, poll_interval_seconds=0.05)


@pytest.fixture
def make_dispatcher(store: Store, bus: EventBus) -> Callable[[Mapping[str, object]], Dispatcher]:
    """A dispatcher over the given adapters with test-sized backoffs (429 retry_after is still honoured)."""

    def make(adapters: Mapping[str, object], policy: DispatchPolicy = FAST, **options: Any) -> Dispatcher:
        return Dispatcher(store, adapters, policy, bus=bus, **options)

    return make
