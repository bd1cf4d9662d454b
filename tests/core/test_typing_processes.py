"""Typing in the scaled topology (PostgreSQL; each "process" here has its own store, event bus over
LISTEN/NOTIFY and adapters, in one test): the web process that takes the agent's POST is neither the one that
calls Telegram nor the one holding the visitor's chat socket, and two dispatchers that could both call Telegram
call it once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bots.telegram.adapter import TelegramAdapter
from bots.webchat.adapter import WebchatAdapter, WebchatSettings
from core.events_pg import PostgresEventBus
from core.inbox import Inbox
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Ticket
from core.typing_indicators import TypingIndicators
from tests.bots.webchat_helpers import Visitor
from tests.conftest import PG_URL, _open_store
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import settings_for, wait_until
from tests.web.inbox_helpers import customer_message

pytestmark = pytest.mark.skipif(PG_URL.lower() == "off", reason="SUPPORTBOT_TEST_PG_URL=off leaves PostgreSQL out")


@dataclass
class Process:
    store: Store
    bus: PostgresEventBus


@pytest_asyncio.fixture
async def processes(tmp_path) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    first, cleanup = await _open_store("postgresql", tmp_path)
    made: list[Process] = []

    async def process() -> Process:
        store = await Store.open(PG_URL, schema=first.schema)
        bus = PostgresEventBus(store)
        await bus.start()
        made.append(Process(store, bus))
        return made[-1]

    try:
        yield process
    finally:
        for found in made:
            await found.bus.close()
            await found.store.close()
        await cleanup()  # type: ignore[misc]


async def test_two_dispatchers_call_telegram_once_for_an_agent_typing_on_a_web_process(
        processes, triage, kb, tmp_path) -> None:
    web_side = await processes()
    engine = Engine(web_side.store, triage, kb, bus=web_side.bus)
    outcome = await engine.handle_message(customer_message("/human", user="5001", channel="telegram",
                                                           conversation="5001"))
    inbox = Inbox(web_side.store, kb, bus=web_side.bus)
    async with FakeTelegram() as fake:
        fake.started.add(5001)
        dispatchers, adapters = [], []
        for n in range(2):
            side = await processes()
            adapter = TelegramAdapter(settings_for(fake), data_dir=tmp_path / f"d{n}", cursor_store=side.store)
            adapters.append(adapter)
            typing = TypingIndicators(side.store, side.bus, {"telegram": adapter}, shared=True)
            await typing.start()
            dispatchers.append(typing)
        try:
            await inbox.typing(outcome.ticket_id)
            await wait_until(lambda: fake.chat_actions, what="typing in the customer's chat")
            for typing in dispatchers:  # both heard it; one took the turn
                await wait_until(lambda typing=typing: typing._recent.get(("telegram", "5001")), what="heard")
                await typing.settled()
            assert [(chat, action) for chat, action, _, _ in fake.chat_actions] == [(5001, "typing")]
            assert sum(t.calls for t in dispatchers) == 1
        finally:
            for typing in dispatchers:
                await typing.stop()
            for adapter in adapters:
                await adapter.stop()


async def test_the_web_process_holding_the_visitors_socket_shows_an_agent_typing_posted_elsewhere(
        processes, triage, kb) -> None:
    holder, other = await processes(), await processes()
    chat = WebchatAdapter(WebchatSettings())
    app = web.Application()
    app.add_routes(chat.web_routes())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    engine = Engine(holder.store, triage, kb, bus=holder.bus)
    await chat.start(engine)
    typing = TypingIndicators(holder.store, holder.bus, {"webchat": chat}, shared=True)
    await typing.start()
    visitor = Visitor(server.make_url(""))
    try:
        await visitor.load_page()
        await visitor.connect()
        await visitor.say("/human")
        await visitor.next(lambda f: f["type"] == "ack")
        ticket_id = await holder.store.scalar(select(Ticket.id))  # stored before the ack
        await Inbox(other.store, kb, bus=other.bus).typing(ticket_id)  # the agent's POST, on the other process
        assert await visitor.next(lambda f: f["type"] == "typing") == {"type": "typing", "from": "agent"}
    finally:
        await visitor.close()
        await typing.stop()
        await chat.stop()
        await server.close()
