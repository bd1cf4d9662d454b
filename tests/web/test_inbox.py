"""Inbox pages against the real app and store: sign-in, list, ticket view, replies, CSRF, escaping."""

from __future__ import annotations

import re
from typing import Any

import pytest
from yarl import URL

from core import accounts
from core.config import Settings
from core.store.tables import Message
from core.web.app import create_app
from core.web.auth import SESSION_COOKIE
from tests.fakes.memory_channel import MemoryChannel
from tests.web.inbox_helpers import PASSWORD, agent, client, ctx, customer_message, open_ticket, sign_in, web_context

__all__ = ["agent", "client", "ctx"]  # fixtures


async def test_pages_need_sign_in_and_api_needs_a_token(client) -> None:
    page = await client.get("/tickets/1", allow_redirects=False)
    assert page.status == 303
    location = URL(page.headers["Location"])
    assert (location.path, location.query["next"]) == ("/login", "/tickets/1")
    api = await client.get("/api/v1/tickets")
    assert api.status == 401
    assert (await api.json())["error"]["status"] == 401
    events = await client.get("/events", allow_redirects=False)
    assert events.status == 303
    login = await client.get("/login")
    assert login.status == 200
    assert "Content-Security-Policy" in login.headers
    assert "default-src 'self'" in login.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in login.headers["Content-Security-Policy"]


async def test_sign_in_sets_a_hardened_cookie_and_sign_out_ends_the_session(client, store) -> None:
    await accounts.create_agent(store, "bob", PASSWORD)
    response = await client.post("/login", data={"name": "bob", "password": PASSWORD, "next": "/?status=all"},
                                 allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/?status=all"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    csrf = await sign_in(client, "bob")
    assert (await client.get("/", allow_redirects=False)).status == 200
    out = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_sign_in_refuses_open_redirects_and_wrong_passwords(client, store) -> None:
    await accounts.create_agent(store, "carol", PASSWORD)
    response = await client.post("/login", data={"name": "carol", "password": PASSWORD,
                                                 "next": "//evil.example/"}, allow_redirects=False)
    assert response.headers["Location"] == "/"
    wrong = await client.post("/login", data={"name": "carol", "password": "nope-nope"})
    assert wrong.status == 401
    assert "Wrong name or password" in await wrong.text()


async def test_repeated_failures_lock_the_name_from_that_address_only(aiohttp_client, ctx, store,
                                                                       monkeypatch) -> None:
    """Ten wrong passwords from one address lock that address out of the name; the agent, signing in from
    an address that has not failed, still gets in (nobody can lock an agent out from elsewhere)."""
    from aiohttp import web

    from core.web import auth
    from core.web.app import create_app

    @web.middleware
    async def from_address(request, handler):  # type: ignore[no-untyped-def]
        """Requests "from" the address in a test header (every test request comes from 127.0.0.1)."""
        return await handler(request.clone(remote=request.headers.get("X-Test-Remote", request.remote)))

    app = create_app(ctx)
    app.middlewares.insert(0, from_address)
    client = await aiohttp_client(app)

    monkeypatch.setattr(auth, "SLOW_AFTER", 1000)  # keep the test fast; the lock itself is what is tested
    monkeypatch.setattr(auth, "NAME_SLOW_AFTER", 1000)
    await accounts.create_agent(store, "dave", PASSWORD)
    attacker = {"X-Test-Remote": "203.0.113.9"}
    for _ in range(auth.LOCK_AFTER):
        assert (await client.post("/login", data={"name": "dave", "password": "wrong-pass"},
                                  headers=attacker)).status == 401
    locked = await client.post("/login", data={"name": "dave", "password": PASSWORD}, allow_redirects=False,
                               headers=attacker)
    assert locked.status == 429
    assert "Too many failed attempts" in await locked.text()
    dave = await client.post("/login", data={"name": "dave", "password": PASSWORD}, allow_redirects=False,
                             headers={"X-Test-Remote": "198.51.100.7"})
    assert dave.status == 303
    # the same name padded with whitespace is the same name to the throttle, or it is no name at all
    for padding in (" " * 60 + "x", "\t" * 30 + "\u3000" * 29 + "y", "\u2003" * 70, " "):
        padded = await client.post("/login", data={"name": "dave" + padding, "password": PASSWORD},
                                   allow_redirects=False, headers=attacker)
        assert padded.status in (401, 429), repr(padding)


def test_guesses_from_many_addresses_slow_the_name_down() -> None:
    from core.web.auth import NAME_SLOW_AFTER, LoginThrottle

    throttle = LoginThrottle()
    for i in range(NAME_SLOW_AFTER + 3):
        throttle.fail(*throttle.keys("dave", f"10.0.{i}.1"))
    fresh = throttle.keys("dave", "198.51.100.7")
    assert not throttle.locked(*fresh) and throttle.delay(*fresh) >= 0.75


async def test_parallel_guesses_cannot_slip_past_the_lock(client, store, monkeypatch) -> None:
    import asyncio

    from core.web import auth

    monkeypatch.setattr(auth, "SLOW_AFTER", 1000)
    await accounts.create_agent(store, "erin", PASSWORD)
    answers = await asyncio.gather(*(client.post("/login", data={"name": "erin", "password": f"guess-{i}"})
                                     for i in range(3 * auth.LOCK_AFTER)))
    statuses = [a.status for a in answers]
    assert statuses.count(401) <= auth.LOCK_AFTER and statuses.count(429) >= 2 * auth.LOCK_AFTER


async def test_an_office_signing_in_at_once_from_one_address_is_not_locked_out(client, store) -> None:
    """Correct sign-ins still being checked are not failures: 3x the name limit from one address all get in."""
    import asyncio

    from core.web import auth

    names = [f"agent{i}" for i in range(3 * auth.LOCK_AFTER)]
    for name in names:
        await accounts.create_agent(store, name, PASSWORD)
    answers = await asyncio.gather(*(client.post("/login", data={"name": n, "password": PASSWORD},
                                                 allow_redirects=False) for n in names))
    assert [a.status for a in answers] == [303] * len(names)


@pytest.mark.parametrize(("web_settings", "headers", "secure"), [
    # an https public_url is enough: forgetting secure_cookies must not send the session over plain HTTP
    ({"public_url": "https://support.example.com"}, {}, True),
    ({"secure_cookies": True}, {}, True),
    # TLS ended at our own proxy, which says so (Caddy sends both headers)
    ({"trusted_proxies": ["127.0.0.1"]}, {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}, True),
    # anyone but our proxy saying so is not believed
    ({"trusted_proxies": ["10.0.0.1"]}, {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}, False),
    # a load balancer ending TLS may send only the scheme: believed from it, from no one else
    ({"trusted_proxies": ["127.0.0.1"]}, {"X-Forwarded-Proto": "https"}, True),
    ({"trusted_proxies": ["10.0.0.1"]}, {"X-Forwarded-Proto": "https"}, False),
    # plain HTTP and nothing set: a Secure cookie would never come back, so the agent could not stay signed in
    ({}, {}, False),
])
async def test_the_session_cookie_is_secure_when_the_inbox_is_served_over_https(
        aiohttp_client, store, engine, inbox, bus, kb, web_settings: dict[str, Any], headers: dict[str, str],
        secure: bool) -> None:
    """Secure when web.public_url is https, the request came over TLS, or web.secure_cookies is set."""
    settings = Settings.model_validate({"web": web_settings})
    client = await aiohttp_client(create_app(web_context(store, engine, inbox, bus, kb, settings)))
    await accounts.create_agent(store, "hank", PASSWORD)
    response = await client.post("/login", data={"name": "hank", "password": PASSWORD}, headers=headers,
                                 allow_redirects=False)
    assert response.status == 303
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and bool(cookie["secure"]) is secure


async def test_customer_text_is_escaped_in_list_and_thread(agent, engine) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    tid = await open_ticket(engine, evil)
    listing = await (await agent.client.get("/?status=all")).text()
    thread = await (await agent.client.get(f"/tickets/{tid}")).text()
    for page in (listing, thread):
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in thread
    assert '<script src="/static/inbox.js" defer></script>' in thread  # the only script: our file


async def test_reply_from_the_page_is_queued_then_shown_sent(agent, engine, store, make_dispatcher) -> None:
    tid = await open_ticket(engine, "where is my money")
    response = await agent.post(f"/tickets/{tid}/reply", {"text": "We are checking, one moment."})
    assert response.status == 303
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "We are checking, one moment." in page
    assert 'class="delivery state-queued"' in page
    channel = MemoryChannel()
    await make_dispatcher({"webchat": channel}).drain(timeout=5)
    assert "We are checking, one moment." in channel.texts()
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert 'class="delivery state-sent"' in page


async def test_failed_and_given_up_deliveries_show_the_error(agent, engine, make_dispatcher) -> None:
    tid = await open_ticket(engine, "help please")
    channel = MemoryChannel()
    await make_dispatcher({"webchat": channel}).run_once()  # the bot's acknowledgement goes out
    await agent.post(f"/tickets/{tid}/reply", {"text": "first try"})
    channel.fail_next(503)
    await make_dispatcher({"webchat": channel}).run_once()
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "failed - retrying (attempt 1): temporary failure: 503 server error" in page
    await agent.post(f"/tickets/{tid}/reply", {"text": "second try"})
    channel.failures.clear()
    channel.fail_next(403)
    dispatcher = make_dispatcher({"webchat": channel})
    await dispatcher.drain(timeout=5)
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "given up: undeliverable: 403 refused" in page


async def test_internal_note_is_marked_and_never_queued(agent, engine, store) -> None:
    tid = await open_ticket(engine, "card declined")
    await agent.post(f"/tickets/{tid}/reply", {"text": "checked the ledger", "internal": "1"})
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "checked the ledger" in page
    assert "internal - never sent" in page
    rows = await store.outbox_rows()
    assert all(r.payload["text"] != "checked the ledger" for r in rows)


async def test_form_posts_without_the_csrf_token_are_refused(agent, engine, store) -> None:
    tid = await open_ticket(engine, "csrf please")
    missing = await agent.client.post(f"/tickets/{tid}/reply", data={"text": "forged"}, allow_redirects=False)
    assert missing.status == 403
    wrong = await agent.client.post(f"/tickets/{tid}/reply", data={"text": "forged", "csrf": "0" * 64},
                                    allow_redirects=False)
    assert wrong.status == 403
    cross = await agent.post(f"/tickets/{tid}/reply", {"text": "forged"}, headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    texts = await store.all(Message.__table__.select().with_only_columns(Message.text))
    assert "forged" not in texts


# State-changing routes that a session cookie does not authorise, so a CSRF token would protect nothing there.
# Every other POST/PUT/PATCH/DELETE route, including one added later, must refuse a request without the token.
NOT_COOKIE_AUTHENTICATED = {
    ("POST", "/login"): "no session yet; it refuses a cross-site Origin itself (asserted below)",
}
BEARER_ONLY_PREFIX = "/api/"  # the REST API reads Authorization: Bearer, never the cookie (asserted below)
# The website chat's and platforms' extra routes are not mounted here: they are public and check their own
# signatures (test_extra_routes_are_public_and_inbox_routes_stay_private).


async def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(agent) -> None:
    """README: CSRF tokens on every form. Walks the app's router, so a new route is covered without editing this."""
    checked: list[tuple[str, str]] = []
    for route in agent.client.server.app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if route.method in ("GET", "HEAD", "OPTIONS") or (route.method, canonical) in NOT_COOKIE_AUTHENTICATED:
            continue
        path = re.sub(r"\{[^}]+\}", "1", canonical)
        for form in ({}, {"csrf": "0" * 64}):  # no token, and a token that is not this session's
            response = await agent.client.request(route.method, path, data=form, allow_redirects=False)
            text = await response.text()
            if canonical.startswith(BEARER_ONLY_PREFIX):
                assert response.status == 401, (route.method, canonical, form, text)
            else:
                assert response.status == 403 and "CSRF" in text, (route.method, canonical, form, response.status)
        checked.append((route.method, canonical))
    assert ("POST", "/tickets/{ticket_id}/reply") in checked and len(checked) >= 20  # the walk saw the app
    assert (await agent.client.get("/", allow_redirects=False)).status == 200  # still signed in: refused for CSRF
    cross = await agent.client.post("/login", data={"name": "alice", "password": PASSWORD},
                                    headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert cross.status == 403


async def test_ticket_controls_change_status_priority_assignee_and_tags(agent, engine, store) -> None:
    tid = await open_ticket(engine, "please check")
    await agent.post(f"/tickets/{tid}/update", {"action": "claim"})
    await agent.post(f"/tickets/{tid}/update", {"action": "priority", "priority": "high"})
    await agent.post(f"/tickets/{tid}/update", {"action": "tags", "tags": "Refund, kyc"})
    await agent.post(f"/tickets/{tid}/update", {"action": "status", "status": "pending"})
    record = await store.ticket(tid)
    assert (record.ticket.assignee_id, record.ticket.priority, record.ticket.status) == (agent.id, "high", "pending")
    assert record.ticket.tags == ["kyc", "refund"]
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "Alice set the ticket to pending" in page and "Alice changed the priority from normal to high" in page
    bad = await agent.post(f"/tickets/{tid}/update", {"action": "status", "status": "closed"})
    assert bad.status == 303
    closed = await agent.post(f"/tickets/{tid}/update", {"action": "status", "status": "open"})
    assert closed.status == 303
    assert closed.headers["Location"] == f"/tickets/{tid}"  # the error is not in the URL...
    shown = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert 'role="alert"' in shown and "closed" in shown  # ...but shown once, from a cookie only we set
    again = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert 'role="alert"' not in again


async def test_solving_tells_the_customer_in_their_channel(agent, engine, store, make_dispatcher) -> None:
    tid = await open_ticket(engine, "is it done?")
    channel = MemoryChannel()
    await make_dispatcher({"webchat": channel}).run_once()
    await agent.post(f"/tickets/{tid}/update", {"action": "status", "status": "solved"})
    await make_dispatcher({"webchat": channel}).run_once()
    assert any(f"#{tid}" in text for text in channel.texts("conv-u1")[-1:])


async def test_canned_replies_in_the_ticket_language(agent, engine, kb) -> None:
    """The reply box's ``/`` picker offers the knowledge base's answers in the customer's language."""
    outcome = await engine.handle_message(customer_message("我要人工客服", user="zh"))
    tid = outcome.ticket_id
    found = await (await agent.client.get(f"/canned-responses/search?ticket={tid}&q=")).json()
    entry = kb.entries[0]
    titles = [c["title"] for c in found["choices"]]
    assert found["language"] == "zh-Hans" and entry.title["zh-Hans"] in titles
    assert any(c["text"] == kb.answer(entry.id, "zh-Hans") and c["source"] == "knowledge" for c in found["choices"])
    assert entry.title["en"] not in titles


async def test_attachments_are_listed_and_only_http_links_are_links(agent, engine) -> None:
    from core.models import Attachment, AttachmentKind

    files = (Attachment(AttachmentKind.IMAGE, "f1", name="receipt.png", size=2048, url="https://cdn.example/r.png"),
             Attachment(AttachmentKind.DOCUMENT, "f2", name="evil.pdf", size=10, url="javascript:alert(1)"))
    tid = await open_ticket(engine, "see attached", attachments=files)
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert 'href="https://cdn.example/r.png"' in page and "receipt.png" in page and "2.0 KB" in page
    assert "evil.pdf" in page and "javascript:alert" not in page


async def test_edited_and_deleted_messages_are_marked(agent, engine) -> None:
    from core.models import MessageEdit

    tid = await open_ticket(engine, "typo here", pid="edit-me")
    await engine.handle_edit(MessageEdit("webchat", "edit-me", "typo fixed"))
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "typo fixed" in page and '<span class="mark">edited</span>' in page
    await engine.handle_edit(MessageEdit("webchat", "edit-me", None, deleted=True))
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "deleted by the customer" in page


async def test_admin_adds_an_agent_who_can_sign_in(agent, client, store) -> None:
    response = await agent.post("/agents", {"name": "erin", "password": "long enough pw", "display_name": "Erin"})
    assert response.status == 201
    assert "Agent erin added." in await response.text()
    assert await accounts.verify_password(store, "erin", "long enough pw") is not None
    duplicate = await agent.post("/agents", {"name": "erin", "password": "long enough pw"})
    assert duplicate.status == 409


async def test_plain_agents_cannot_add_agents(client, store) -> None:
    await accounts.create_agent(store, "frank", PASSWORD)
    csrf = await sign_in(client, "frank")
    response = await client.post("/agents", data={"csrf": csrf, "name": "x", "password": "whatever123"})
    assert response.status == 403
    assert await accounts.agent_count(store) == 1


async def test_first_response_countdown_turns_red_when_overdue(agent, engine, store) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from core.models import utcnow
    from core.store.tables import Ticket

    tid = await open_ticket(engine, "slow answer")
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert "first response due in 23 h" in page
    async with store.transaction() as session:
        await session.execute(update(Ticket).where(Ticket.id == tid)
                              .values(first_response_due=utcnow() - timedelta(hours=2)))
    page = await (await agent.client.get(f"/tickets/{tid}")).text()
    assert 'class="due late"' in page and "overdue by 2 h" in page
    listing = await (await agent.client.get("/?overdue=1")).text()
    assert f'data-ticket="{tid}"' in listing


async def test_healthz_is_public_and_metrics_need_a_token(client, store) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/metrics")).status == 401
    token = await accounts.create_api_token(store, "prometheus")
    metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert metrics.status == 200 and "supportbot_http_requests_total" in await metrics.text()


async def test_static_script_is_served_with_the_same_policy(client) -> None:
    response = await client.get("/static/inbox.js")
    assert response.status == 200
    assert "EventSource" in await response.text()
    assert "Content-Security-Policy" in response.headers


async def test_moderator_escalation_note_is_shown_as_internal(agent, engine) -> None:
    from core.models import Author, Escalation

    target = customer_message("my funds are gone", user="victim", public=True)
    escalation = Escalation(channel="webchat", platform_id="esc-1",
                            moderator=Author("mod1", "Mod Mia", is_moderator=True), target=target,
                            note="<i>looks like a scam victim</i>")
    outcome = await engine.handle_escalation(escalation)
    page = await (await agent.client.get(f"/tickets/{outcome.ticket_id}")).text()
    assert "moderator escalation note - internal, never sent" in page
    assert "&lt;i&gt;looks like a scam victim&lt;/i&gt;" in page
    assert "Mod Mia, a moderator, escalated it" in page


async def test_extra_routes_are_public_and_inbox_routes_stay_private(aiohttp_client, ctx) -> None:
    from aiohttp import web

    from core.web.app import create_app

    async def hook(request: web.Request) -> web.Response:
        return web.Response(text=f"hook {request.match_info['channel']}")

    client = await aiohttp_client(create_app(ctx, extra_routes=[web.post("/webhooks/{channel}", hook)]))
    response = await client.post("/webhooks/telegram")
    assert response.status == 200 and await response.text() == "hook telegram"
    assert "Content-Security-Policy" in response.headers
    assert (await client.get("/", allow_redirects=False)).status == 303
    assert (await client.post("/tickets/1/reply", allow_redirects=False)).status == 401


@pytest.mark.parametrize("target", ["//evil.example", "/\t/evil.example", "/\n/evil.example", "https://evil.example",
                                    "/%0a/evil"])
def test_sign_in_never_redirects_off_site(target: str) -> None:
    from core.web.auth import _safe_next

    assert _safe_next(target) in ("/", "/%0a/evil")  # only local paths survive
    assert not _safe_next(target).startswith("//")


async def test_absurd_ids_are_not_found_not_a_crash(agent) -> None:
    huge = "9" * 25
    assert (await agent.client.get(f"/tickets/{huge}")).status == 404
    assert (await agent.client.get(f"/customers/{huge}")).status == 404
    assert (await agent.client.get(f"/?assignee={huge}")).status == 200


async def test_a_dispatcher_or_channels_process_serves_its_own_metrics_behind_a_token(aiohttp_client, ctx,
                                                                                     store) -> None:
    """Deliveries are counted where the dispatcher runs and channel states where the receivers run: each role's
    process is scraped on its own, with the same API token as the web's /metrics."""
    from core.dispatch import DELIVERIES
    from core.web.app import create_status_app

    DELIVERIES.labels("webchat", "sent").inc()
    client = await aiohttp_client(create_status_app(ctx))
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer not-a-token"})).status == 401
    token = await accounts.create_api_token(store, "prometheus")
    metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    text = await metrics.text()
    assert metrics.status == 200
    assert 'supportbot_outbox_deliveries_total{channel="webchat",outcome="sent"}' in text
    assert "supportbot_channel_up" in text
