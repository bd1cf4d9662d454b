"""The workspace over the REST API, on SQLite and PostgreSQL: activity order (kept by database triggers),
snooze, bulk actions, canned responses."""

from __future__ import annotations

from datetime import timedelta

import pytest_asyncio

from core import accounts
from core.events import EventBus
from core.inbox import Inbox
from core.models import utcnow
from core.pipeline import Engine
from core.web.app import create_app
from tests.web.inbox_helpers import customer_message, open_ticket, web_context


@pytest_asyncio.fixture
async def api(aiohttp_client, any_store, triage, kb):  # type: ignore[no-untyped-def]
    bus = EventBus()
    engine = Engine(any_store, triage, kb, bus=bus)
    inbox = Inbox(any_store, kb, bus=bus)
    client = await aiohttp_client(create_app(web_context(any_store, engine, inbox, bus, kb)))
    agent_id = await accounts.create_agent(any_store, "api-agent", "password123", display_name="Ann")
    token = await accounts.create_api_token(any_store, "tests", agent_id=agent_id)
    shared_token = await accounts.create_api_token(any_store, "robot")
    client.engine, client.inbox, client.store, client.agent_id = engine, inbox, any_store, agent_id
    client.auth = {"Authorization": f"Bearer {token}"}
    client.robot = {"Authorization": f"Bearer {shared_token}"}
    return client


async def test_activity_order_preview_and_waiting_follow_every_message(api) -> None:
    first = await open_ticket(api.engine, "first case", user="a1")
    second = await open_ticket(api.engine, "second case", user="a2")
    listing = await (await api.get("/api/v1/tickets?sort=activity", headers=api.auth)).json()
    assert [t["id"] for t in listing["tickets"]] == [second, first]
    await api.engine.handle_message(customer_message("first again", user="a1"))
    listing = await (await api.get("/api/v1/tickets?sort=activity&limit=1", headers=api.auth)).json()
    top = listing["tickets"][0]
    assert top["id"] == first and top["preview"] == "first again" and top["waiting_since"] is not None
    following = await (await api.get(f"/api/v1/tickets?sort=activity&limit=1&cursor={listing['next']}",
                                      headers=api.auth)).json()
    assert [t["id"] for t in following["tickets"]] == [second] and following["next"] is None
    await api.post(f"/api/v1/tickets/{first}/replies", json={"text": "answered"}, headers=api.auth)
    top = (await (await api.get(f"/api/v1/tickets/{first}", headers=api.auth)).json())
    assert top["preview"] == "answered" and top["waiting_since"] is None
    # A merge moves the messages: the target's activity follows them.
    moved = await open_ticket(api.engine, "newest words", user="a2", conversation="elsewhere")
    await api.inbox.merge(moved, second)
    target = (await (await api.get(f"/api/v1/tickets/{second}", headers=api.auth)).json())
    assert target["preview"] == "newest words"


async def test_snooze_and_unsnooze_through_patch(api) -> None:
    tid = await open_ticket(api.engine, "later please", user="s1")
    until = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    response = await api.patch(f"/api/v1/tickets/{tid}", json={"snoozed_until": until.isoformat()}, headers=api.auth)
    body = await response.json()
    assert response.status == 200 and body["status"] == "pending" and body["snoozed_until"] == until.isoformat()
    listed = await (await api.get("/api/v1/tickets?status=snoozed", headers=api.auth)).json()
    assert [t["id"] for t in listed["tickets"]] == [tid]
    past = await api.patch(f"/api/v1/tickets/{tid}", json={"snoozed_until": "2001-01-01T00:00:00Z"},
                           headers=api.auth)
    assert past.status == 409
    naive = await api.patch(f"/api/v1/tickets/{tid}", json={"snoozed_until": "2031-01-01T00:00:00"},
                            headers=api.auth)
    assert naive.status == 422
    ended = await (await api.patch(f"/api/v1/tickets/{tid}", json={"snoozed_until": None}, headers=api.auth)).json()
    assert ended["status"] == "open" and ended["snoozed_until"] is None


async def test_bulk_reports_each_ticket(api) -> None:
    a = await open_ticket(api.engine, "one", user="b1")
    b = await open_ticket(api.engine, "two", user="b2")
    await api.inbox.set_status(b, "closed")
    response = await api.post("/api/v1/tickets/bulk", json={"ids": [a, b], "action": "solve"}, headers=api.auth)
    body = await response.json()
    assert response.status == 200 and body["summary"].startswith("1 ticket solved")
    assert body["results"] == [{"id": a, "ok": True, "error": None},
                               {"id": b, "ok": False, "error": f"ticket #{b} is closed: cannot solve"}]
    nobody = await api.post("/api/v1/tickets/bulk", json={"ids": [a], "action": "assign", "assignee": 999},
                            headers=api.auth)
    assert nobody.status == 409
    missing = await api.post("/api/v1/tickets/bulk", json={"ids": [a], "action": "tag"}, headers=api.auth)
    assert missing.status == 409 and "tag" in (await missing.json())["error"]["message"]


async def test_canned_responses_crud_personal_and_shared(api) -> None:
    made = await api.post("/api/v1/canned-responses", json={"title": "Hello", "text": "Hi, how can I help?",
                                                            "shortcut": "hi"}, headers=api.auth)
    mine = await made.json()
    assert made.status == 201 and mine["shared"] is False
    robot = await (await api.post("/api/v1/canned-responses", json={"title": "Hours", "text": "9-18 weekdays"},
                                  headers=api.robot)).json()
    assert robot["shared"] is True  # a token without an agent only has shared ones
    seen = await (await api.get("/api/v1/canned-responses", headers=api.robot)).json()
    assert [r["title"] for r in seen["canned_responses"]] == ["Hours"]
    assert (await api.get(f"/api/v1/canned-responses/{mine['id']}", headers=api.robot)).status == 404
    changed = await api.patch(f"/api/v1/canned-responses/{robot['id']}", json={"text": "9-18"}, headers=api.auth)
    assert changed.status == 403  # created by the robot token, not by this agent (not an admin)
    renamed = await (await api.patch(f"/api/v1/canned-responses/{mine['id']}", json={"shared": True},
                                     headers=api.auth)).json()
    assert renamed["shared"] is True
    nulled = await api.patch(f"/api/v1/canned-responses/{mine['id']}", json={"title": None}, headers=api.auth)
    assert nulled.status == 422 and "leave the field out" in await nulled.text()
    assert (await api.delete(f"/api/v1/canned-responses/{mine['id']}", headers=api.auth)).status == 204
    assert (await api.get(f"/api/v1/canned-responses/{mine['id']}", headers=api.auth)).status == 404
