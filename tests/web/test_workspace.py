"""The agents' workspace over HTTP: list rows (order, preview, unread, waiting), controls that save on change,
sentences in the activity log, snooze, bulk actions, availability, canned responses, notifications."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from core import accounts
from core.assignment import AutoAssigner
from core.models import utcnow
from core.store.tables import Agent, Ticket
from tests.web.inbox_helpers import PASSWORD, customer_message, open_ticket, sign_in
from tests.web.inbox_helpers import Agent as SignedIn

JSON = {"Accept": "application/json"}


def row_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-row="(\d+)"', page)]


def row_of(page: str, tid: int) -> str:
    found = re.search(rf'<li class="ticket[^"]*" data-row="{tid}".*?</li>', page, re.S)
    assert found, f"no row for #{tid}"
    return found.group(0)


async def test_rows_follow_last_activity_with_preview_unread_and_waiting(agent, engine, inbox) -> None:
    older = await open_ticket(engine, "my card was declined", user="u-old")
    newer = await open_ticket(engine, "where is my withdrawal", user="u-new")
    page = await (await agent.client.get("/")).text()
    assert row_ids(page) == [newer, older]  # default: last activity first
    await engine.handle_message(customer_message("still declined, please help", user="u-old"))
    page = await (await agent.client.get("/")).text()
    assert row_ids(page) == [older, newer]  # the customer's new message moved it up
    row = row_of(page, older)
    assert "still declined, please help" in row and 'alt="Website chat"' in row and "waiting 0 min" in row
    assert "is-unread" in row and '<span class="unread" data-unread' in row and "hidden>" not in row.split(
        "data-unread")[1][:20]
    await agent.client.get(f"/tickets/{older}")  # opened: read
    page = await (await agent.client.get("/")).text()
    assert "is-unread" not in row_of(page, older) and "is-unread" in row_of(page, newer)
    await inbox.reply(older, "We are on it.", agent_id=agent.id)
    row = row_of(await (await agent.client.get("/")).text(), older)
    assert "Agent: We are on it." in row and "waiting" not in row  # answered: nobody waits
    assert row_ids(await (await agent.client.get("/?sort=newest")).text()) == [newer, older]


async def test_the_ticket_page_shows_the_list_beside_it_with_the_same_filters(agent, engine, inbox) -> None:
    mine = await open_ticket(engine, "assigned to me", user="p1")
    other = await open_ticket(engine, "nobody's", user="p2")
    await inbox.assign(mine, agent.id)
    page = await (await agent.client.get(f"/tickets/{mine}?assignee=mine")).text()
    assert row_ids(page) == [mine] and f'data-row="{mine}" aria-current="true"' in page
    assert f'href="/tickets/{mine}?assignee=mine"' in page  # rows keep the filters
    assert 'id="conversation"' in page and 'id="details"' in page and other not in row_ids(page)


async def test_controls_save_one_at_a_time_and_the_activity_reads_as_sentences(agent, engine, store) -> None:
    bob = await accounts.create_agent(store, "bob", PASSWORD, display_name="Bob")
    tid = await open_ticket(engine, "please check")
    ok = await agent.post(f"/tickets/{tid}/update", {"action": "assign", "assignee": str(bob)}, headers=JSON)
    assert ok.status == 200 and (await ok.json())["ok"] is True
    await agent.post(f"/tickets/{tid}/update", {"action": "tags", "tags": "vip, bank"}, headers=JSON)
    await agent.post(f"/tickets/{tid}/update", {"action": "tags", "tags": "vip"}, headers=JSON)
    refused = await agent.post(f"/tickets/{tid}/update", {"action": "priority", "priority": "huge"}, headers=JSON)
    assert refused.status == 409 and "unknown priority" in (await refused.json())["error"]
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    for line in ("Alice assigned the ticket to Bob", "Alice changed tags: +bank +vip", "Alice changed tags: −bank",
                 "The customer opened the ticket (asked for a person)"):
        assert line in page, line
    assert "agent:alice" not in page and "assignee: None" not in page
    # Without the page script the controls post together and the page comes back.
    back = await agent.post(f"/tickets/{tid}/update", {"action": "controls", "assignee": "", "priority": "high",
                                                        "tags": "vip", "status": "pending"})
    assert back.status == 303
    record = await store.ticket(tid)
    assert (record.ticket.assignee_id, record.ticket.priority, record.ticket.status) == (None, "high", "pending")


async def test_a_reply_without_the_page_script_lands_on_the_new_message(agent, engine) -> None:
    tid = await open_ticket(engine, "hello")
    response = await agent.post(f"/tickets/{tid}/reply", {"text": "Hi there", "list": "assignee=mine"})
    assert response.status == 303
    location = response.headers["Location"]
    assert re.fullmatch(rf"/tickets/{tid}\?assignee=mine#m\d+", location)
    page = await (await agent.client.get(location.split("#")[0])).text()
    assert f'id="{location.split("#")[1]}"' in page
    answer = await agent.post(f"/tickets/{tid}/reply", {"text": "   "}, headers=JSON)
    assert answer.status == 409 and "needs text" in (await answer.json())["error"]


async def test_snooze_keeps_a_ticket_pending_until_its_time_then_it_is_back(agent, engine, inbox, store) -> None:
    tid = await open_ticket(engine, "call me tomorrow")
    response = await agent.post(f"/tickets/{tid}/update", {"action": "snooze", "preset": "tomorrow",
                                                           "tz": "Asia/Shanghai"}, headers=JSON)
    assert response.status == 200
    ticket = (await store.ticket(tid)).ticket
    local = ticket.snoozed_until.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert ticket.status == "pending" and (local.hour, local.minute) == (9, 0)
    assert tid not in row_ids(await (await agent.client.get("/")).text())
    assert tid in row_ids(await (await agent.client.get("/?status=snoozed")).text())
    past = await agent.post(f"/tickets/{tid}/update", {"action": "snooze", "preset": "custom",
                                                       "until": "2001-01-01T09:00"}, headers=JSON)
    assert past.status == 409 and "future" in (await past.json())["error"]
    assert await inbox.wake_snoozed(utcnow() + timedelta(days=3)) == [tid]
    assert await inbox.wake_snoozed(utcnow() + timedelta(days=3)) == []  # once
    record = await store.ticket(tid)
    assert record.ticket.status == "open" and record.ticket.snoozed_until is None
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "Alice snoozed the ticket until" in page and "The snooze ended: the ticket is open again" in page


async def test_the_running_app_wakes_snoozed_tickets_by_itself(aiohttp_client, ctx, engine, inbox, store,
                                                               monkeypatch) -> None:
    from core.web import live
    from core.web.app import create_app

    monkeypatch.setattr(live, "SNOOZE_CHECK_SECONDS", 0.05)
    tid = await open_ticket(engine, "wake me")
    await inbox.snooze(tid, utcnow() + timedelta(hours=1))
    await aiohttp_client(create_app(ctx))
    async with store.transaction() as session:  # the hour has passed
        await session.execute(update(Ticket).where(Ticket.id == tid).values(snoozed_until=utcnow()))
    for _ in range(100):
        if (await store.ticket(tid)).ticket.status == "open":
            break
        await asyncio.sleep(0.05)
    assert (await store.ticket(tid)).ticket.status == "open"


async def test_a_customer_message_ends_a_snooze_early(agent, engine, inbox, store) -> None:
    tid = await open_ticket(engine, "later", user="early")
    await inbox.snooze(tid, utcnow() + timedelta(hours=5))
    await engine.handle_message(customer_message("actually now please", user="early"))
    assert (await store.ticket(tid)).ticket.status == "open"
    assert await inbox.wake_snoozed(utcnow() + timedelta(hours=6)) == []  # nothing left to wake
    assert (await store.ticket(tid)).ticket.snoozed_until is None


async def test_bulk_actions_report_each_ticket(agent, engine, inbox, store) -> None:
    a = await open_ticket(engine, "one", user="b1")
    b = await open_ticket(engine, "two", user="b2")
    c = await open_ticket(engine, "three", user="b3")
    await inbox.set_status(c, "closed")
    response = await agent.client.post("/tickets/bulk", data=[("csrf", agent.csrf), ("action", "solve"),
                                                               ("ids", str(a)), ("ids", str(b)), ("ids", str(c)),
                                                               ("list", "status=all")], allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/?status=all"
    page = await (await agent.client.get("/?status=all")).text()
    assert f"2 tickets solved; #{c}: ticket #{c} is closed: cannot solve" in page
    assert [(await store.ticket(t)).ticket.status for t in (a, b)] == ["solved", "solved"]
    tagged = await agent.client.post("/tickets/bulk", data=[("csrf", agent.csrf), ("action", "tag"), ("tag", "vip"),
                                                             ("ids", str(a)), ("ids", str(b))], headers=JSON)
    assert (await tagged.json())["ok"] and (await store.ticket(b)).ticket.tags == ["vip"]
    mine = await agent.client.post("/tickets/bulk", data=[("csrf", agent.csrf), ("action", "assign"),
                                                           ("assignee", "me"), ("ids", str(a))], headers=JSON)
    assert (await mine.json())["message"] == "1 ticket assigned"
    assert (await store.ticket(a)).ticket.assignee_id == agent.id
    same = await open_ticket(engine, "again", user="b1", conversation="other-place")
    merged = await agent.client.post("/tickets/bulk", data=[("csrf", agent.csrf), ("action", "merge"),
                                                             ("ids", str(a)), ("ids", str(same))], headers=JSON)
    assert (await merged.json())["ok"] and (await store.ticket(same)).ticket.merged_into_id == a
    empty = await agent.client.post("/tickets/bulk", data={"csrf": agent.csrf, "action": "solve"}, headers=JSON)
    assert empty.status == 409 and "select at least one" in (await empty.json())["message"]


async def test_availability_is_shown_and_busy_agents_get_no_new_tickets(agent, client, engine, store) -> None:
    async with store.transaction() as session:
        await session.execute(update(Agent).values(seen_at=utcnow()))
    engine.assigner = AutoAssigner()
    response = await agent.post("/me/availability", {"availability": "busy"}, headers=JSON)
    assert (await response.json()) == {"ok": True, "availability": "busy"}
    await asyncio.sleep(0.05)  # the cached agent list follows the event
    page = await (await agent.client.get("/")).text()
    assert '<option value="busy" selected>busy</option>' in page
    busy_case = await open_ticket(engine, "while busy", user="av1")
    assert (await store.ticket(busy_case)).ticket.assignee_id is None
    await agent.post("/me/availability", {"availability": "online"}, headers=JSON)
    online_case = await open_ticket(engine, "while online", user="av2")
    assert (await store.ticket(online_case)).ticket.assignee_id == agent.id
    bad = await agent.post("/me/availability", {"availability": "sleeping"}, headers=JSON)
    assert bad.status == 409
    plain = await agent.post("/me/availability", {"availability": "away", "back": "/\\evil.example"})
    assert plain.status == 303 and plain.headers["Location"] == "/"  # back to a local page only
    assert "online" in await (await agent.client.get("/agents")).text()


async def test_canned_responses_personal_and_shared(agent, client, engine, store, aiohttp_client, ctx) -> None:
    from core.web.app import create_app

    await agent.post("/canned-responses", {"title": "Refund times", "shortcut": "refund", "shared": "1",
                                           "text": "Refunds take 3-5 working days."})
    await agent.post("/canned-responses", {"title": "My sign-off", "shortcut": "bye", "text": "Best, Alice"})
    listing = await (await agent.client.get("/canned-responses")).text()
    assert "Refund times" in listing and "My sign-off" in listing and "only me" in listing
    tid = await open_ticket(engine, "refund?")
    found = await (await agent.client.get(f"/canned-responses/search?ticket={tid}&q=ref")).json()
    assert found["choices"][0]["title"] == "Refund times" and found["choices"][0]["source"] == "shared"
    # Another agent sees the shared one, not Alice's own, and may not change the shared one.
    await accounts.create_agent(store, "carl", PASSWORD)
    other_client = await aiohttp_client(create_app(ctx))
    carl = SignedIn(0, "carl", other_client, await sign_in(other_client, "carl"))
    titles = [c["title"] for c in (await (await other_client.get("/canned-responses/search?q=")).json())["choices"]]
    assert "Refund times" in titles and "My sign-off" not in titles
    shared_id = int(re.search(r'href="/canned-responses/(\d+)">Edit<span class="visually-hidden"> Refund',
                              listing).group(1))
    assert (await carl.post(f"/canned-responses/{shared_id}", {"title": "x", "text": "y", "shared": "1"})).status == 403
    saved = await agent.post(f"/canned-responses/{shared_id}", {"title": "Refunds", "text": "3-5 days.",
                                                                "shortcut": "refund", "shared": "1"})
    assert saved.status == 303
    assert (await agent.post(f"/canned-responses/{shared_id}", {"delete": "1"})).status == 303
    assert "Refunds" not in await (await agent.client.get("/canned-responses")).text()
    blank = await agent.post("/canned-responses", {"title": "", "text": "x"})
    assert blank.status == 422 and "needs a title" in await blank.text()


async def test_notifications_new_ticket_reply_on_my_ticket_and_overdue(agent, engine, inbox, store) -> None:
    first = await (await agent.client.get("/notifications")).json()
    assert first["notices"] == []  # what was there before the page opened is not announced
    cursor = first["cursor"]
    tid = await open_ticket(engine, "new one", user="n1")
    found = await (await agent.client.get(f"/notifications?cursor={cursor}")).json()
    assert [(n["kind"], n["ticket_id"]) for n in found["notices"]] == [("new_ticket", tid)]
    cursor = found["cursor"]
    await inbox.assign(tid, agent.id)
    await engine.handle_message(customer_message("any news?", user="n1"))
    found = await (await agent.client.get(f"/notifications?cursor={cursor}")).json()
    assert [(n["kind"], n["body"]) for n in found["notices"]] == [("customer_reply", "any news?")]
    cursor = found["cursor"]
    async with store.transaction() as session:
        await session.execute(update(Ticket).where(Ticket.id == tid).values(first_response_due=utcnow()))
    found = await (await agent.client.get(f"/notifications?cursor={cursor}")).json()
    assert [n["kind"] for n in found["notices"]] == ["overdue"] and found["notices"][0]["url"] == f"/tickets/{tid}"
    again = await (await agent.client.get(f"/notifications?cursor={found['cursor']}")).json()
    assert again["notices"] == []


@pytest.mark.parametrize("path", ["/", "/canned-responses", "/agents"])
async def test_workspace_pages_have_one_script_per_purpose_and_no_inline_script(agent, path) -> None:
    page = await (await agent.client.get(path)).text()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/static/' in attrs and body == "" for attrs, body in scripts)
