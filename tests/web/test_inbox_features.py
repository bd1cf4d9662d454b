"""Inbox features: list filters and search pages, merge, one customer across channels, transcripts,
live updates over server-sent events, auto-assignment."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import accounts
from core.assignment import AutoAssigner
from core.models import utcnow
from core.store.tables import Agent, Identity
from tests.fakes.memory_channel import MemoryChannel
from tests.web.inbox_helpers import PASSWORD, agent, client, ctx, customer_message, open_ticket, sign_in

__all__ = ["agent", "client", "ctx"]


def ticket_ids(page: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'data-ticket="(\d+)"', page)]


async def test_list_page_filters_and_search(agent, engine, inbox) -> None:
    a = await open_ticket(engine, "withdrawal stuck 提现失败", user="a")
    b = await open_ticket(engine, "card declined", user="b", channel="telegram")
    await inbox.assign(b, agent.id)
    await inbox.set_tags(a, ["kyc"])

    async def page(query: str) -> list[int]:
        response = await agent.client.get("/?" + query)
        assert response.status == 200
        return ticket_ids(await response.text())

    assert await page("") == [b, a]  # default: open tickets, newest first
    assert await page("assignee=mine") == [b]
    assert await page("assignee=unassigned") == [a]
    assert await page("channel=telegram") == [b]
    assert await page("tag=kyc") == [a]
    assert await page("q=提现失败") == [a]
    assert await page("q=DECLINED") == [b]
    assert await page("status=solved") == []
    assert await page("sort=due") == [a, b]
    bad = await agent.client.get("/?status=bogus")
    assert bad.status == 422
    fragment = await (await agent.client.get("/?fragment=rows")).text()
    assert "<html" not in fragment and f'data-ticket="{a}"' in fragment


async def test_merge_moves_the_thread_and_closes_the_source(agent, engine, store) -> None:
    first = await open_ticket(engine, "my withdrawal", user="m", conversation="dm-1")
    second = await open_ticket(engine, "still waiting on the withdrawal", user="m", conversation="dm-2")
    assert second != first
    response = await agent.post(f"/tickets/{first}/update", {"action": "merge", "target": f"#{second}"})
    assert response.status == 303 and response.headers["Location"] == f"/tickets/{second}"
    source, target = await store.ticket(first), await store.ticket(second)
    assert source.ticket.status == "closed" and source.ticket.merged_into_id == second
    assert source.messages == []
    assert "my withdrawal" in target.texts and "still waiting on the withdrawal" in target.texts
    page = await (await agent.client.get(f"/tickets/{first}")).text()
    assert f"merged into #{second}" in page
    other = await open_ticket(engine, "someone else", user="n")
    refused = await agent.post(f"/tickets/{other}/update", {"action": "merge", "target": str(second)})
    assert refused.headers["Location"] == f"/tickets/{other}"
    assert 'role="alert"' in await (await agent.client.get(f"/tickets/{other}")).text()
    assert (await store.ticket(other)).ticket.status == "open"


async def test_one_customer_across_channels(agent, engine, store) -> None:
    web_ticket = await open_ticket(engine, "from the website", user="w1", name="Wei Zhang", channel="webchat")
    tg_ticket = await open_ticket(engine, "from telegram", user="t1", name="wz", channel="telegram")
    web_customer = (await store.ticket(web_ticket)).ticket.customer_id
    tg_identity = await store.scalar(select(Identity).where(Identity.channel == "telegram"))
    page = await (await agent.client.get(f"/customers/{web_customer}?q=h_t1")).text()
    assert "Wei Zhang" in page and "Link to this customer" in page
    response = await agent.post(f"/customers/{web_customer}/link", {"identity_id": str(tg_identity.id)})
    assert response.status == 303
    page = await (await agent.client.get(f"/customers/{web_customer}")).text()
    assert "telegram" in page and "webchat" in page
    assert f"#{tg_ticket} " in page and f"#{web_ticket} " in page
    ticket_page = await (await agent.client.get(f"/tickets/{web_ticket}")).text()
    assert f'href="/tickets/{tg_ticket}"' in ticket_page  # listed among the customer's other tickets


async def test_transcript_downloads(agent, engine, inbox) -> None:
    tid = await open_ticket(engine, "<b>bold</b> question")
    await inbox.reply(tid, "secret internal", internal=True, agent_id=agent.id)
    await inbox.reply(tid, "public answer", agent_id=agent.id)
    text = await agent.client.get(f"/tickets/{tid}/transcript.txt")
    assert text.status == 200
    assert text.headers["Content-Disposition"] == f'attachment; filename="ticket-{tid}.txt"'
    body = await text.text()
    assert "<b>bold</b> question" in body and "public answer" in body
    assert "secret internal" in body and "[internal - never sent]" in body
    html = await agent.client.get(f"/tickets/{tid}/transcript.html")
    page = await html.text()
    assert "&lt;b&gt;bold&lt;/b&gt; question" in page and "internal, never sent" in page


async def next_event(response, wanted, timeout: float = 5.0) -> tuple[str, dict]:
    """Read the stream until an event satisfies ``wanted(kind, data)``."""
    kind = None

    async def run() -> tuple[str, dict]:
        nonlocal kind
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                data = json.loads(line[6:])
                if wanted(kind, data):
                    return kind, data
        raise AssertionError("stream ended")

    return await asyncio.wait_for(run(), timeout)


async def test_live_events_after_a_customer_message_and_a_delivery(agent, engine, make_dispatcher) -> None:
    tid = await open_ticket(engine, "first")
    stream = await agent.client.get("/events")
    assert stream.headers["Content-Type"] == "text/event-stream"
    await next_event(stream, lambda kind, _: kind == "ready")
    await engine.handle_message(customer_message("a new message arrives"))
    await next_event(stream, lambda kind, data: kind == "message" and data.get("ticket_id") == tid)
    await next_event(stream, lambda kind, data: kind == "ticket" and data.get("ticket_id") == tid)
    await agent.post(f"/tickets/{tid}/reply", {"text": "on it"})
    await next_event(stream, lambda kind, data: kind == "ticket" and data.get("ticket_id") == tid)
    await make_dispatcher({"webchat": MemoryChannel()}).run_once()
    _, delivered = await next_event(stream, lambda kind, _: kind == "delivery")
    assert delivered["status"] == "sent" and isinstance(delivered["message_id"], int)
    stream.close()
    fragment = await (await agent.client.get(f"/tickets/{tid}?fragment=thread")).text()
    assert "a new message arrives" in fragment and "<html" not in fragment
    assert f'data-message="{delivered["message_id"]}"' in fragment


async def test_live_events_need_a_session(client) -> None:
    response = await client.get("/events", allow_redirects=False)
    assert response.status == 303


async def test_auto_assignment_round_robin_over_online_agents_with_a_cap(client, engine, store) -> None:
    ids = [await accounts.create_agent(store, name, PASSWORD) for name in ("ann", "ben", "cat")]
    async with store.transaction() as session:  # cat has not been seen for an hour: offline
        await session.execute(update(Agent).where(Agent.id.in_(ids[:2])).values(seen_at=utcnow()))
        await session.execute(update(Agent).where(Agent.id == ids[2]).values(seen_at=utcnow() - timedelta(hours=1)))
    engine.assigner = AutoAssigner(max_open=2)
    tickets = [await open_ticket(engine, f"case {n}", user=f"auto{n}") for n in range(5)]
    assignees = [(await store.ticket(t)).ticket.assignee_id for t in tickets]
    assert assignees == [ids[0], ids[1], ids[0], ids[1], None]  # alternate, then both at the cap of 2
    record = await store.ticket(tickets[0])
    assert any(e.kind == "assignee" and e.actor == "auto-assign" for e in record.events)


async def test_create_app_turns_auto_assignment_on_from_settings(store, engine, inbox, bus, kb) -> None:
    from core.config import Settings
    from core.web.app import create_app
    from tests.web.inbox_helpers import web_context

    settings = Settings.model_validate({"tickets": {"auto_assign": True, "max_open_per_agent": 3}})
    create_app(web_context(store, engine, inbox, bus, kb, settings))
    assert engine.assigner == AutoAssigner(max_open=3)


async def test_signing_in_marks_the_agent_online(client, store) -> None:
    agent_id = await accounts.create_agent(store, "gina", PASSWORD)
    await sign_in(client, "gina")
    async with store.sessions() as session:
        seen = (await session.get(Agent, agent_id)).seen_at
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)


async def test_live_list_fragment_follows_every_event(agent, engine, inbox) -> None:
    """The shared fragment cache must never hide a change: each inbox event starts a new generation."""
    first = await open_ticket(engine, "first case", user="f1")
    assert ticket_ids(await (await agent.client.get("/?fragment=rows")).text()) == [first]
    second = await open_ticket(engine, "second case", user="f2")
    await asyncio.sleep(0.05)  # the cache watcher runs as its own task
    assert ticket_ids(await (await agent.client.get("/?fragment=rows")).text()) == [second, first]
    await inbox.set_status(first, "pending")
    await asyncio.sleep(0.05)
    assert ticket_ids(await (await agent.client.get("/?fragment=rows")).text()) == [second]


async def test_a_burst_of_refreshes_after_an_event_costs_one_list_query(agent, engine, store) -> None:
    """Fifty agents refreshing at once after an event: the first reads the list, the others wait for its rows."""
    from sqlalchemy import event

    first = await open_ticket(engine, "first case", user="b1")
    await asyncio.sleep(0.05)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "FROM tickets" in statement and "JOIN customers" in statement:
            statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    try:
        pages = await asyncio.gather(*(agent.client.get("/?fragment=rows") for _ in range(50)),
                                     *(agent.client.get("/") for _ in range(10)))
        texts = [await p.text() for p in pages]
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)
    assert all(ticket_ids(t) == [first] for t in texts)  # the full pages carry the same rows
    assert len(statements) == 1


async def test_an_agent_watching_the_live_inbox_stays_online(agent, store, monkeypatch) -> None:
    from core.web import live

    monkeypatch.setattr(live, "SESSION_CHECK_SECONDS", 0.1)
    monkeypatch.setattr(accounts, "SEEN_EVERY", timedelta(seconds=0.2))
    async with store.transaction() as session:  # last request long ago
        await session.execute(update(Agent).where(Agent.id == agent.id).values(seen_at=utcnow() - timedelta(hours=1)))
    stream = await agent.client.get("/events")
    await next_event(stream, lambda kind, _: kind == "ready")
    await asyncio.sleep(0.8)  # only keepalives flow: no request from this agent
    stream.close()
    seen = await store.scalar(select(Agent.seen_at).where(Agent.id == agent.id))
    assert utcnow() - seen < timedelta(seconds=5)


async def _end_by_signing_out(agent, store) -> None:
    assert (await agent.post("/logout", {})).status == 303


async def _end_by_disabling(agent, store) -> None:
    assert await accounts.set_agent_active(store, agent.name, False)  # what `supportbot user disable` runs


async def _end_by_new_password(agent, store) -> None:
    assert await accounts.reset_password(store, agent.name, "another-pass-999")  # `supportbot user reset-password`


@pytest.mark.parametrize("end_session", [_end_by_signing_out, _end_by_disabling, _end_by_new_password])
async def test_an_open_live_stream_ends_with_its_session(agent, engine, store, monkeypatch, end_session) -> None:
    from core.web import live

    monkeypatch.setattr(live, "SESSION_CHECK_SECONDS", 0.2)
    monkeypatch.setattr(accounts, "SEEN_EVERY", timedelta(seconds=0.1))
    stream = await agent.client.get("/events")
    await next_event(stream, lambda kind, _: kind == "ready")
    await end_session(agent, store)
    long_ago = utcnow() - timedelta(hours=1)
    async with store.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == agent.id).values(seen_at=long_ago))
    await asyncio.sleep(0.6)  # past the check interval
    await open_ticket(engine, "published after the session ended")
    body = await asyncio.wait_for(stream.content.read(), 3)  # the stream ends by itself, within the bound
    assert b"event: message" not in body and b"event: ticket" not in body
    seen = await store.scalar(select(Agent.seen_at).where(Agent.id == agent.id))
    assert seen == long_ago.replace(tzinfo=seen.tzinfo)  # a watcher whose session ended is not kept online
