"""/customers, /dashboard and /settings over HTTP, against the real app and store (what an agent sees and does).

/knowledge has its own file (test_knowledge_pages.py).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from core import accounts, preferences
from core.assignment import AutoAssigner
from core.channels import Channels
from core.hours import BusinessHours
from core.store.tables import Ticket
from core.web.app import create_app
from tests.web.inbox_helpers import PASSWORD, customer_message, open_ticket, sign_in


async def test_customers_are_listed_with_identities_and_tickets_and_can_be_searched(client, agent, engine) -> None:
    ticket = await open_ticket(engine, "my withdrawal is late", user="u-alpha", name="Alpha Chen")
    await engine.handle_message(customer_message("hello", user="9001", name="Beta Wong", channel="telegram"))
    page = await (await client.get("/customers")).text()
    assert "Alpha Chen" in page and "Beta Wong" in page
    assert f'href="/tickets/{ticket}"' in page and "@h_u-alpha" in page and "telegram" in page
    found = await (await client.get("/customers", params={"q": "h_u-alp"})).text()  # a handle, in part
    assert "Alpha Chen" in found and "Beta Wong" not in found
    by_id = await (await client.get("/customers", params={"q": "9001"})).text()  # a platform id
    assert "Beta Wong" in by_id and "Alpha Chen" not in by_id
    none = await (await client.get("/customers", params={"q": "nobody-like-this"})).text()
    assert "No customer matches" in none


async def test_customers_page_in_pages_of_fifty(client, agent, engine) -> None:
    for n in range(52):
        await engine.handle_message(customer_message("hello", user=f"p{n}", name=f"Person {n:02d}"))
    first = await (await client.get("/customers")).text()
    assert "Person 51" in first and "Person 01" not in first
    older = re.search(r'href="/customers\?([^"]+)">Older customers', first)
    assert older, "a link to the next page"
    second = await (await client.get("/customers?" + older.group(1).replace("&amp;", "&"))).text()
    assert "Person 01" in second and "Person 51" not in second


async def test_dashboard_draws_the_api_figures(client, agent, engine) -> None:
    await engine.handle_message(customer_message("How can I contact customer support?", user="d1"))
    await engine.handle_message(customer_message("/human", user="d2", channel="telegram"))
    response = await client.get("/dashboard")
    assert response.status == 200
    page = await response.text()
    assert page.count('<svg class="chart" role="img"') == 6
    assert re.search(r'id="tile-conversations">2<', page) and re.search(r'id="tile-deflection">50 %<', page)
    assert "asked_for_human" in page and "goal 24 h" in page
    assert "<script" not in page.split("</head>")[1]  # charts are drawn on the server
    only = await (await client.get("/dashboard", params={"channel": "telegram"})).text()
    assert re.search(r'id="tile-conversations">1<', only) and re.search(r'id="tile-deflection">0 %<', only)
    bad = await client.get("/dashboard", params={"from": "2025-05-01", "to": "2025-04-01"})
    assert bad.status == 422 and "must not be after" in await bad.text()


async def test_settings_are_admin_only(client, store) -> None:
    await accounts.create_agent(store, "bob", PASSWORD, role="agent")
    csrf = await sign_in(client, "bob")
    assert (await client.get("/settings")).status == 403
    assert (await client.get("/knowledge")).status == 403
    response = await client.post("/settings/tickets", data={"csrf": csrf, "first_response_hours": "1",
                                                            "max_open_per_agent": "5"}, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/dashboard")).status == 200 and (await client.get("/customers")).status == 200


async def test_business_hours_are_saved_and_applied_at_once(client, agent, ctx, store) -> None:
    page = await (await client.get("/settings")).text()
    assert 'data-channel="webchat"' in page and "not running" in page
    response = await agent.post("/settings/hours", {"always": "no", "timezone": "Asia/Shanghai", "day-mon": "on",
                                                    "day-tue": "on", "opens": "10:00", "closes": "19:30"})
    assert response.status == 303 and response.headers["Location"] == "/settings?done=hours"
    assert ctx.engine.hours == BusinessHours(always=False, timezone="Asia/Shanghai", days=["mon", "tue"],
                                             opens="10:00", closes="19:30")
    assert (await preferences.load(store, ctx.settings)).business_hours.timezone == "Asia/Shanghai"
    shown = await (await client.get("/settings?done=hours")).text()
    assert 'value="10:00"' in shown and 'value="19:30"' in shown and "Business hours saved" in shown
    bad = await agent.post("/settings/hours", {"always": "no", "timezone": "Asia/Shanghai", "day-mon": "on",
                                               "opens": "18:00", "closes": "09:00"})
    assert bad.status == 422 and "later than opens" in await bad.text()
    assert ctx.engine.hours.opens.hour == 10  # unchanged


async def test_sla_and_auto_assignment_apply_to_the_next_ticket(client, agent, ctx, store, engine) -> None:
    response = await agent.post("/settings/tickets", {"first_response_hours": "4", "auto_assign": "on",
                                                      "max_open_per_agent": "3"})
    assert response.status == 303
    assert engine.first_response_hours == 4 and engine.assigner == AutoAssigner(max_open=3)
    await client.get("/")  # the admin is online (seen) for auto-assignment
    ticket_id = await open_ticket(engine, "please help", user="sla")
    ticket = (await store.all(select(Ticket).where(Ticket.id == ticket_id)))[0]
    hours = (ticket.first_response_due - ticket.created_at).total_seconds() / 3600
    assert abs(hours - 4) < 0.01 and ticket.assignee_id == agent.id
    for value in ("0", "-3", "abc", "nan"):
        bad = await agent.post("/settings/tickets", {"first_response_hours": value, "max_open_per_agent": "3"})
        assert bad.status == 422, value
    off = await agent.post("/settings/tickets", {"first_response_hours": "24", "max_open_per_agent": "3"})
    assert off.status == 303 and engine.assigner is None


async def test_saved_settings_win_over_the_file_after_a_restart(aiohttp_client, ctx, store, engine) -> None:
    await preferences.save(store, preferences.TICKETS_KEY, preferences.TicketPreferences(first_response_hours=2))
    assert engine.first_response_hours == 24
    await aiohttp_client(create_app(ctx))  # a new process on the same database
    assert engine.first_response_hours == 2 and engine.assigner is None


async def test_channel_states_are_shown(aiohttp_client, ctx, store) -> None:
    ctx.channels = Channels({}, ctx.engine, failed={"telegram": "the token was revoked"})
    client = await aiohttp_client(create_app(ctx))
    await accounts.create_agent(store, "root", PASSWORD, role="admin")
    await sign_in(client, "root")
    page = await (await client.get("/settings")).text()
    row = re.search(r'<tr data-channel="telegram">(.*?)</tr>', page, re.S)
    assert row and "stopped" in row.group(1) and "the token was revoked" in row.group(1)
