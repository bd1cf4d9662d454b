"""PostgreSQL restarted under load: the real `supportbot run` recovers by itself and loses nothing.

The database sits behind a TCP proxy that plays the restart (every connection reset, new ones refused
for a few seconds), so the test needs no rights over the server and no other test loses its database.
Website-chat visitors keep typing through it; each message must be stored once and answered once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.knowledge import KnowledgeBase
from core.store import Store
from core.store.tables import Message, Outbox
from tests.conftest import PG_URL
from tests.contract.harness_webchat import ChatPage
from tests.faults import deployments
from tests.faults.questions import asking
from tests.faults.tcp_proxy import TcpProxy
from tests.process import SupportbotProcess, eventually

pytestmark = pytest.mark.skipif(PG_URL.lower() == "off", reason="SUPPORTBOT_TEST_PG_URL=off leaves PostgreSQL out")

QUESTIONS = asking("login", "contact", "security", "about")
VISITORS, MESSAGES = 10, 12


@pytest_asyncio.fixture
async def database() -> AsyncIterator[tuple[str, TcpProxy]]:
    """A fresh database on the test server, reached through a proxy: (the URL via the proxy, the proxy)."""
    url = make_url(PG_URL)
    name = f"sb_restart_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = url.set(host="127.0.0.1", port=proxy.port, database=name).render_as_string(hide_password=False)
    try:
        yield through, proxy
    finally:
        await proxy.close()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def _type(page: ChatPage, asked: list[str]) -> None:
    questions = list(QUESTIONS)
    for n in range(MESSAGES):
        asked.append(await page.say(questions[n % len(questions)]))
        await asyncio.sleep(0.25)


async def test_the_service_rides_out_a_database_restart_under_load(
        supportbot: Callable[..., SupportbotProcess], database: tuple[str, TcpProxy], kb: KnowledgeBase) -> None:
    url, proxy = database
    process = supportbot(deployments.config(database_url=url, max_backoff=1))
    await process.astart()
    await process.wait_ready()
    pages = [ChatPage(process.url) for _ in range(VISITORS)]
    asked: dict[ChatPage, list[str]] = {page: [] for page in pages}
    try:
        for page in pages:
            await page.open()
        typing = asyncio.gather(*(_type(page, asked[page]) for page in pages))
        await eventually(lambda: sum(len(p.acks) for p in pages) >= 30, timeout=15, what="the first acks")
        restart = asyncio.ensure_future(proxy.restart(down_for=4.0))
        await asyncio.sleep(1.0)
        status, body = await process.readyz()
        assert status == 503 and body["database"] == "unavailable"  # honest while the database is away
        # README (REST API): /healthz is 200 while the database answers, 503 otherwise
        assert (await process.healthz()) == (503, {"status": "database unavailable"})
        await restart
        await asyncio.wait_for(typing, 30)

        def done() -> bool:
            return all(not p.pending and len(p.replies) >= MESSAGES for p in pages)

        await eventually(done, timeout=40, interval=0.25, what="every message acked and answered after the restart")
        await asyncio.sleep(0.5)
        assert process.running  # it recovered by itself: nobody restarted it
        assert (await process.readyz())[0] == 200
        assert (await process.healthz()) == (200, {"status": "ok"})
        for page in pages:
            assert page.confirmed == set(asked[page])  # each shown as sent: acked, or stored per the history
            expected = Counter(kb.answer(QUESTIONS[q], "en") for q in list(QUESTIONS) * (MESSAGES // len(QUESTIONS)))
            assert Counter(r["text"] for r in page.replies.values()) == expected  # each answered once
        errors = sum(len(p.errors) for p in pages)
    finally:
        for page in pages:
            await page.close()

    store = await Store.open(url, migrate=False)
    try:
        rows = await store.all(select(Message).where(Message.channel == "webchat", Message.direction == "in"))
        replies = await store.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "webchat", Message.direction == "out"))
        statuses = Counter(await store.all(select(Outbox.status)))
    finally:
        await store.close()
    stored = Counter(r.platform_id.split(":")[1] for r in rows)
    assert stored == Counter(i for ids in asked.values() for i in ids)  # each stored exactly once
    assert replies == VISITORS * MESSAGES and set(statuses) == {"sent"}, statuses
    print(f"\npostgres restart: {VISITORS * MESSAGES} messages, {errors} 'unavailable' answers during the outage, "
          f"all stored once and answered once")
