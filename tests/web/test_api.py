"""REST API v1 against the running app and a real store (SQLite, and PostgreSQL for list and search)."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio

from core import accounts
from core.events import EventBus
from core.inbox import Inbox
from core.pipeline import Engine
from core.web.app import create_app
from tests.fakes.memory_channel import MemoryChannel
from tests.web.inbox_helpers import customer_message, open_ticket, web_context


@pytest_asyncio.fixture
async def api(aiohttp_client, any_store, triage, kb):  # type: ignore[no-untyped-def]
    """(client, headers, engine, agent id) over SQLite and PostgreSQL."""
    bus = EventBus()
    engine = Engine(any_store, triage, kb, bus=bus)
    inbox = Inbox(any_store, kb, bus=bus)
    client = await aiohttp_client(create_app(web_context(any_store, engine, inbox, bus, kb)))
    agent_id = await accounts.create_agent(any_store, "api-agent", "password123", display_name="Ann")
    token = await accounts.create_api_token(any_store, "tests", agent_id=agent_id)
    client.engine, client.store, client.agent_id = engine, any_store, agent_id
    client.auth = {"Authorization": f"Bearer {token}"}
    return client


async def test_tokens_are_required_and_checked(api) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await api.get("/api/v1/tickets", headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["status"] == 401
    assert (await api.get("/api/v1/tickets", headers=api.auth)).status == 200


async def test_list_filters_search_and_pages(api) -> None:
    engine, store = api.engine, api.store
    withdraw = await open_ticket(engine, "提现一直没有到账，订单号 TX-998877", user="a", channel="webchat")
    card = await open_ticket(engine, "My card payment FAILED twice", user="b", channel="telegram")
    third = await open_ticket(engine, "refund please", user="c", channel="webchat")
    inbox = Inbox(store, None)
    await inbox.set_priority(card, "urgent")
    await inbox.assign(third, api.agent_id)
    await inbox.set_tags(third, ["refund", "vip"])
    await inbox.set_status(withdraw, "pending")

    async def ids(query: str) -> list[int]:
        response = await api.get(f"/api/v1/tickets?{query}", headers=api.auth)
        assert response.status == 200, await response.text()
        return [t["id"] for t in (await response.json())["tickets"]]

    assert await ids("") == [third, card, withdraw]
    assert await ids("status=pending") == [withdraw]
    assert await ids("status=active") == [third, card, withdraw]
    assert await ids("channel=telegram") == [card]
    assert await ids("priority=urgent") == [card]
    assert await ids("assignee=mine") == [third]
    assert await ids("assignee=unassigned") == [card, withdraw]
    assert await ids(f"assignee={api.agent_id}") == [third]
    assert await ids("tag=vip") == [third]
    assert await ids("tag=vi") == []
    assert await ids("q=tx-9988") == [withdraw]  # message text, case-insensitive substring
    assert await ids("q=没有到账") == [withdraw]  # Chinese, no word boundaries
    assert await ids("q=到账") == [withdraw]  # shorter than a trigram: the scan path
    assert await ids("q=card payment failed") == [card]
    assert await ids("q=100%25") == []  # LIKE wildcards are literal
    assert await ids("overdue=true") == []
    first = await api.get("/api/v1/tickets?limit=2", headers=api.auth)
    page = await first.json()
    assert [t["id"] for t in page["tickets"]] == [third, card]
    rest = await api.get(f"/api/v1/tickets?limit=2&cursor={page['next']}", headers=api.auth)
    rest_page = await rest.json()
    assert [t["id"] for t in rest_page["tickets"]] == [withdraw]
    assert rest_page["next"] is None
    due = await ids("sort=due&limit=1")
    assert due == [withdraw]
    listed = page["tickets"][0]
    assert listed["customer"]["name"] == "Customer One"
    assert listed["assignee"] == {"id": api.agent_id, "name": "Ann"}
    assert listed["first_response_due"] is not None


async def test_bad_filters_are_422(api) -> None:
    for query in ("status=nope", "limit=0", "limit=abc", "cursor=%%%", "overdue=maybe", "priority=x", "sort=up"):
        response = await api.get(f"/api/v1/tickets?{query}", headers=api.auth)
        assert response.status == 422, query
        assert (await response.json())["error"]["status"] == 422


@pytest.mark.parametrize(("query", "said"), [
    ("limit=-1", "greater than or equal to 1"),  # the range, not "must be an integer"
    ("limit=50&limit=60", "given more than once: limit"),  # not one of them taken silently
    ("status=open&q=a&status=solved", "given more than once: status"),
])
async def test_a_bad_filter_is_explained(api, query: str, said: str) -> None:
    response = await api.get(f"/api/v1/tickets?{query}", headers=api.auth)
    assert response.status == 422
    assert said in json.dumps(await response.json())


async def test_ticket_detail_maps_authors_and_delivery(api) -> None:
    tid = await open_ticket(api.engine, "where is my money?")
    inbox = Inbox(api.store, None)
    await inbox.reply(tid, "internal check", internal=True)
    await inbox.reply(tid, "We are on it")
    response = await api.get(f"/api/v1/tickets/{tid}", headers=api.auth)
    assert response.status == 200
    ticket = await response.json()
    authors = [(m["author"], m["delivery"]) for m in ticket["messages"]]
    assert authors == [("customer", None), ("bot", "queued"), ("customer", None), ("note", None),
                       ("agent", "queued")]
    missing = await api.get("/api/v1/tickets/999999", headers=api.auth)
    assert missing.status == 404
    assert (await missing.json())["error"]["message"] == "ticket #999999 does not exist"


async def test_reply_is_201_queued_and_delivered(api, make_dispatcher) -> None:
    tid = await open_ticket(api.engine, "hello?")
    response = await api.post(f"/api/v1/tickets/{tid}/replies", json={"text": "Hi, checking now"}, headers=api.auth)
    assert response.status == 201
    message = await response.json()
    assert (message["author"], message["delivery"], message["text"]) == ("agent", "queued", "Hi, checking now")
    note = await api.post(f"/api/v1/tickets/{tid}/replies", json={"text": "VIP", "internal": True}, headers=api.auth)
    assert (await note.json())["author"] == "note"
    assert (await note.json())["delivery"] is None


async def test_reply_validation_and_errors(api) -> None:
    tid = await open_ticket(api.engine, "hello?")
    url = f"/api/v1/tickets/{tid}/replies"
    malformed = await api.post(url, data="{not json", headers={**api.auth, "Content-Type": "application/json"})
    assert malformed.status == 400
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": "x", "extra": 1}, {"text": 5}, ["text"]):
        response = await api.post(url, json=body, headers=api.auth)
        assert response.status == 422, body
    huge = await api.post(url, data=b"x" * (2 * 1024 * 1024), headers={**api.auth, "Content-Type": "application/json"})
    assert huge.status == 413
    assert (await huge.json())["error"]["status"] == 413
    assert (await api.post("/api/v1/tickets/424242/replies", json={"text": "x"}, headers=api.auth)).status == 404


async def test_patch_changes_and_illegal_transitions(api) -> None:
    tid = await open_ticket(api.engine, "please")
    url = f"/api/v1/tickets/{tid}"
    response = await api.patch(url, json={"status": "pending", "priority": "high", "assignee": api.agent_id,
                                          "tags": ["KYC", "kyc", "late"]}, headers=api.auth)
    assert response.status == 200, await response.text()
    ticket = await response.json()
    assert (ticket["status"], ticket["priority"], ticket["tags"]) == ("pending", "high", ["kyc", "late"])
    assert ticket["assignee"]["id"] == api.agent_id
    unassigned = await (await api.patch(url, json={"assignee": None}, headers=api.auth)).json()
    assert unassigned["assignee"] is None
    assert (await api.patch(url, json={"status": "closed"}, headers=api.auth)).status == 200
    conflict = await api.patch(url, json={"status": "open"}, headers=api.auth)
    assert conflict.status == 409
    assert "closed" in (await conflict.json())["error"]["message"]
    assert (await api.patch(url, json={"status": "weird"}, headers=api.auth)).status == 422
    nulled = await api.patch(url, json={"status": None, "tags": None}, headers=api.auth)  # not "no change"
    assert nulled.status == 422 and "leave the field out" in await nulled.text()
    assert (await api.patch(url, json={"assignee": 987654}, headers=api.auth)).status == 409
    closed_reply = await api.post(f"{url}/replies", json={"text": "late"}, headers=api.auth)
    assert closed_reply.status == 409


async def test_replies_reach_the_customer_channel(api, make_dispatcher) -> None:
    tid = await open_ticket(api.engine, "hi", user="z")
    await api.post(f"/api/v1/tickets/{tid}/replies", json={"text": "Answer from the API"}, headers=api.auth)
    channel = MemoryChannel()
    from core.dispatch import Dispatcher
    from tests.conftest import FAST

    await Dispatcher(api.store, {"webchat": channel}, FAST).drain(timeout=5)
    assert "Answer from the API" in channel.texts("conv-z")
    detail = await (await api.get(f"/api/v1/tickets/{tid}", headers=api.auth)).json()
    assert detail["messages"][-1]["delivery"] == "sent"
    assert customer_message("x").text == "x"


async def test_search_pages_agree_whichever_path_answers(api, monkeypatch) -> None:
    """A search scans recent tickets first and falls back to the index; pages must not depend on which."""
    from core.store import queries

    engine = api.engine
    made = [await open_ticket(engine, "needle in ticket" if n % 2 else "hay only", user=f"p{n}") for n in range(7)]
    matching = sorted((t for n, t in enumerate(made) if n % 2), reverse=True)
    for window in (1, 2, 3, 100):
        monkeypatch.setattr(queries, "SCAN_WINDOW", window)
        seen, cursor = [], None
        while True:
            query = "q=needle&limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = await (await api.get(f"/api/v1/tickets?{query}", headers=api.auth)).json()
            seen += [t["id"] for t in page["tickets"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert seen == matching, window


async def test_nul_characters_never_reach_the_database(api) -> None:
    """PostgreSQL refuses NUL in text: the API drops it from replies and searches."""
    tid = await open_ticket(api.engine, "hello")
    response = await api.post(f"/api/v1/tickets/{tid}/replies", json={"text": "on\u0000 it"}, headers=api.auth)
    assert response.status == 201
    assert (await response.json())["text"] == "on it"
    search = await api.get("/api/v1/tickets?q=hel%00lo", headers=api.auth)
    assert [t["id"] for t in (await search.json())["tickets"]] == [tid]
    before = (await (await api.get(f"/api/v1/tickets/{tid}", headers=api.auth)).json())["status"]
    refused = await api.patch(f"/api/v1/tickets/{tid}", json={"status": "pending", "assignee": 999999},
                              headers=api.auth)
    assert refused.status == 409
    after = (await (await api.get(f"/api/v1/tickets/{tid}", headers=api.auth)).json())["status"]
    assert before == after == "open"  # nothing applied when one part is refused


async def test_search_finds_a_message_once_it_belongs_to_a_ticket(api, monkeypatch) -> None:
    """Search finds tickets through their messages: a message joins the index when it is given a ticket (a
    moderator's escalation attaches what was said before), follows an edit, and an answered FAQ question with
    no ticket never shows up (migration 0008 indexes just the messages with a ticket)."""
    from core.models import MessageEdit
    from core.store import queries
    from core.store.tables import Message

    monkeypatch.setattr(queries, "SCAN_WINDOW", 0)  # the index answers, not the scan of recent tickets
    engine, store = api.engine, api.store

    async def found(q: str) -> list[int]:
        page = await (await api.get(f"/api/v1/tickets?q={q}", headers=api.auth)).json()
        return [t["id"] for t in page["tickets"]]

    asked = await engine.handle_message(customer_message("How do I verify my identity?", user="s1", pid="s1-q"))
    assert asked.ticket_id is None and asked.message_id is not None
    ticket = await open_ticket(engine, "the quokka-7 order never arrived", user="s2")
    assert await found("verify my identity") == []
    assert await found("quokka-7") == [ticket]
    async with store.transaction() as session:  # attached to a ticket after it was stored
        (await session.get(Message, asked.message_id)).ticket_id = ticket
    assert await found("verify my identity") == [ticket]
    await engine.handle_edit(MessageEdit("webchat", "s1-q", "How do I prove who I am, walrus-3?"))
    assert await found("walrus-3") == [ticket]
    assert await found("verify my identity") == []
    async with store.transaction() as session:  # and taken off it again
        (await session.get(Message, asked.message_id)).ticket_id = None
    assert await found("walrus-3") == []
