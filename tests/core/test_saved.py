"""What an admin publishes on /knowledge or saves on /settings is what every process uses: from a restart on
(before the messages a crash left behind are decided) and, on PostgreSQL, in the other processes at once."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select

from core import knowledge_store, preferences, saved
from core.config import load_settings
from core.events_pg import PostgresEventBus
from core.hours import BusinessHours
from core.models import Author, InboundMessage
from core.pipeline import Engine
from core.runner import start, stop
from core.store import Store
from core.store.records import ensure_conversation, ensure_customer, insert_inbound
from core.store.tables import Message
from tests.conftest import PG_URL

DARK = "how do I turn on dark mode"
ENTRY = {"id": "dark-mode", "title": {"en": "Dark mode", "zh-Hans": "深色模式"},
         "questions": {"en": [DARK, "switch the app to the dark theme", "night mode please"],
                       "zh-Hans": ["怎么打开深色模式", "夜间模式在哪里"]},
         "answer": {"en": "Open {brand} > Settings > Appearance and choose Dark.",
                    "zh-Hans": "打开 {brand} > 设置 > 外观，选择深色。"}}


def _with_dark_mode(settings: Any) -> dict[str, Any]:
    content = knowledge_store.seed_content(settings)
    content["entries"] = [*content["entries"], ENTRY]
    return content


async def test_a_message_left_by_a_crash_is_decided_with_the_published_knowledge_base(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPPORTBOT_DB_URL", raising=False)
    config = tmp_path / "channels.yaml"
    url = f"sqlite+aiosqlite:///{tmp_path}/supportbot.db"
    config.write_text(f"database_url: {url}\n")
    settings = load_settings(config)
    store = await Store.open(url)
    try:
        await knowledge_store.publish(store, settings, agent_id=None, note="dark mode", scores=None,
                                      content=_with_dark_mode(settings))
        message = InboundMessage("webchat", "crash:1", "web:crashed", Author("crashed"), DARK)
        async with store.transaction() as session:  # stored, never decided: what a crash in between leaves
            customer = await ensure_customer(session, "webchat", message.author)
            conversation = await ensure_conversation(session, "webchat", "web:crashed", customer, public=False)
            row = await insert_inbound(session, conversation, message)
            assert row is not None
            message_id = row.id
    finally:
        await store.close()

    running = await start(settings, host="127.0.0.1", port=0, out=io.StringIO(), data_dir=tmp_path)
    try:
        decided = await running.ctx.store.scalar(select(Message.decision).where(Message.id == message_id))
        assert decided["action"] == "answer" and decided["faq_id"] == "dark-mode"
        assert "dark-mode" in {e.id for e in running.ctx.engine.kb.entries}
    finally:
        await stop(running)


@pytest.mark.postgres
@pytest.mark.skipif(PG_URL.lower() == "off", reason="needs PostgreSQL (SUPPORTBOT_TEST_PG_URL)")
async def test_what_one_process_publishes_the_others_use_at_once(kb, triage) -> None:
    """Two processes (two stores, two event buses, one database): an admin publishes on A, and B's engine
    answers with the new entry without a restart; business hours saved on A are B's too."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    settings = SimpleNamespace(knowledge_base_path=None, brand="OKPay", triage=None, business_hours=None,
                               tickets=None)
    processes = []
    try:
        for _ in range(2):
            store = await Store.open(PG_URL, schema=schema)
            bus = PostgresEventBus(store)
            await bus.start()
            engine = Engine(store, triage, kb, bus=bus)
            processes.append(SimpleNamespace(store=store, bus=bus, engine=engine, kb=kb, inbox=None,
                                             settings=settings, saved_version=None, saved_loaded=False))
        a, b = processes
        follower = saved.Follower(b)
        await follower.start()
        try:
            assert b.engine.triage.decide(DARK).action != "answer"
            made = await knowledge_store.publish(a.store, settings, agent_id=None, note="dark mode", scores=None,
                                                 content=_with_dark_mode(settings))
            knowledge_store.apply(a, knowledge_store.build(_with_dark_mode(settings), settings))
            await saved.announce(a, "knowledge")
            for _ in range(100):
                if b.saved_version == made.id:
                    break
                await asyncio.sleep(0.1)
            decision = b.engine.triage.decide(DARK)
            assert decision.action == "answer" and decision.faq_id == "dark-mode"

            closed = BusinessHours(always=False, timezone="Europe/Berlin", days=["sat"], opens="10:00",
                                   closes="12:00")
            await preferences.save(a.store, preferences.HOURS_KEY, closed)
            await saved.announce(a, "preferences")
            for _ in range(100):
                if b.engine.hours == closed:
                    break
                await asyncio.sleep(0.1)
            assert b.engine.hours == closed
        finally:
            await follower.stop()
    finally:
        for p in processes:
            await p.bus.close()
            await p.store.close()
        conn = await asyncpg.connect(raw)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
