"""Typing both ways between the ticket page and the website chat, as the agent and the visitor notice it: the real
app (inbox, API, live stream and the chat's socket on one server, as `supportbot run` serves them), the real
engine, dispatcher and typing indicators (core/typing_indicators.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bots.webchat.adapter import WebchatAdapter, WebchatSettings
from core import accounts
from core.store.tables import Message, Outbox, Ticket
from core.typing_indicators import TypingIndicators
from core.web.app import create_app
from tests.bots.webchat_helpers import Visitor
from tests.fakes.telegram_world import wait_until
from tests.web.inbox_helpers import open_ticket
from tests.web.test_inbox_features import next_event

TYPING = {"type": "typing", "from": "agent"}


@pytest.fixture
def chat() -> WebchatAdapter:
    return WebchatAdapter(WebchatSettings(visitor_messages_per_minute=3))


@pytest_asyncio.fixture
async def client(aiohttp_client, ctx, chat):  # type: ignore[no-untyped-def]
    """The inbox app with the website chat's routes, as `supportbot run` serves them (used by the agent fixture)."""
    return await aiohttp_client(create_app(ctx, extra_routes=chat.web_routes()))


@pytest_asyncio.fixture
async def live(client, engine, store, bus, chat, make_dispatcher) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    typing = TypingIndicators(store, bus, {"webchat": chat})
    typing.attach({"webchat": chat})
    await typing.start()
    await chat.start(engine)
    dispatcher = make_dispatcher({"webchat": chat})
    await dispatcher.start()
    visitors: list[Visitor] = []

    async def visitor() -> Visitor:
        found = Visitor(client.server.make_url(""))
        visitors.append(found)
        await found.load_page()
        await found.connect()
        return found

    typing.visitor = visitor
    try:
        yield typing
    finally:
        for found in visitors:
            await found.close()
        await dispatcher.stop()
        await chat.stop()
        await typing.stop()


async def _ticket_for(store, visitor: Visitor) -> int:  # type: ignore[no-untyped-def]
    await visitor.say("/human")
    await visitor.next(lambda f: f["type"] == "ack")

    async def found() -> int | None:
        rows = await store.all(select(Ticket.id).join(Message, Message.ticket_id == Ticket.id)
                               .where(Message.platform_id.like(visitor.conversation.removeprefix("web:") + ":%")))
        return rows[0] if rows else None

    return int(await wait_until(found, what="the visitor's ticket"))


async def _stored(store) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    return (await store.scalar(select(func.count()).select_from(Message)),
            await store.scalar(select(func.count()).select_from(Outbox)))


async def test_an_agent_writing_shows_typing_in_the_visitors_chat_once_per_four_seconds(live, agent, store) -> None:
    visitor = await live.visitor()
    tid = await _ticket_for(store, visitor)
    await visitor.reply()  # the handoff notice
    before = await _stored(store)

    first = await agent.client.post(f"/tickets/{tid}/typing", headers={"X-CSRF-Token": agent.csrf})
    assert first.status == 204
    assert await visitor.next(lambda f: f["type"] == "typing") == TYPING
    again = await agent.client.post(f"/tickets/{tid}/typing", headers={"X-CSRF-Token": agent.csrf})
    assert again.status == 204  # accepted, and dropped: the chat shows "typing…" already
    await live.settled()
    assert await _stored(store) == before  # typing is never stored nor queued

    await agent.post(f"/tickets/{tid}/reply", {"text": "Here is what happened to your withdrawal."})
    follows = await visitor.next(lambda f: f["type"] == "typing" or (f["type"], f.get("from")) in (
        ("message", "bot"), ("message", "agent")))
    assert follows["type"] == "message"  # the reply (after the "agent joined" notice), no second "typing…"


async def test_typing_needs_the_pages_csrf_token(live, agent, engine) -> None:
    tid = await open_ticket(engine)
    refused = await agent.client.post(f"/tickets/{tid}/typing")
    assert refused.status == 403


async def test_the_api_announces_typing_for_open_tickets_only(live, client, store, engine, inbox) -> None:
    agent_id = await accounts.create_agent(store, "api-agent", "password123")
    auth = {"Authorization": f"Bearer {await accounts.create_api_token(store, 'tests', agent_id=agent_id)}"}
    tid = await open_ticket(engine)
    assert (await client.post(f"/api/v1/tickets/{tid}/typing", headers=auth)).status == 204
    assert (await client.post(f"/api/v1/tickets/{tid}/typing")).status == 401
    missing = await client.post(f"/api/v1/tickets/{tid + 1000}/typing", headers=auth)
    assert missing.status == 404 and (await missing.json())["error"]["status"] == 404
    await inbox.set_status(tid, "solved")
    assert (await client.post(f"/api/v1/tickets/{tid}/typing", headers=auth)).status == 204  # a reply may follow
    await inbox.set_status(tid, "closed")
    closed = await client.post(f"/api/v1/tickets/{tid}/typing", headers=auth)
    assert closed.status == 409 and "closed" in (await closed.json())["error"]["message"]


async def test_a_visitor_typing_shows_on_the_ticket_page_and_costs_no_message_allowance(live, agent, store) -> None:
    stream = await agent.client.get("/events")
    await next_event(stream, lambda kind, _: kind == "ready")
    stranger = await live.visitor()  # no ticket: nothing to show anyone
    visitor = await live.visitor()
    tid = await _ticket_for(store, visitor)  # one of the visitor's three messages a minute

    await stranger.send({"type": "typing"})
    for _ in range(10):
        await visitor.send({"type": "typing"})
    _, shown = await next_event(stream, lambda kind, _: kind == "typing")
    assert shown == {"ticket_id": tid, "seconds": 6}

    for text in ("my withdrawal is stuck", "it was 500 USD"):  # the typing frames took none of the allowance
        client_id = await visitor.say(text)
        answer = await visitor.next(lambda f, cid=client_id: f.get("id") == cid and f["type"] in ("ack", "error"))
        assert answer["type"] == "ack", answer
    await live.settled()
    visitor.frames.clear()
    await visitor.send({"type": "typing"})
    await asyncio.sleep(0.2)  # a typing frame gets no answer at all (not even an error)
    assert not [f for f in visitor.frames if f["type"] == "error"]
    stream.close()
