"""The new user's loop in a real browser (Debian's Chromium driven by Playwright), against the real `supportbot run`.

A customer asks an FAQ in /chat and gets the answer, asks for a human; the ticket appears live in the
signed-in agent's inbox (a second browser context); the agent replies; the reply appears in the
customer's chat. Screenshots go to test-artifacts/e2e/ (printed); the README's docs/inbox.png is
written when missing or with SUPPORTBOT_UPDATE_SCREENSHOTS=1 (so a test run leaves tracked files alone).
Never downloads a browser: /usr/bin/chromium is installed by apt.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.async_api import Browser, WebSocketRoute, expect

from core.models import Author, InboundMessage
from core.runner import Running
from tests.web.browser import REPO, TIMEOUT, admin_password, assert_accessible, browser, running, sign_in

__all__ = ["browser", "running"]  # fixtures

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts" / "e2e"
async def _seed_other_channels(app: Running) -> None:
    """Tickets from the other doors, so the inbox looks like a working day (their replies wait in the outbox)."""
    for channel, user, text in [
        ("telegram", "7001", "我的账户被冻结了，转人工"),
        ("discord", "8801", "Someone logged into my account and I did not do it, I need a human now"),
        ("x", "9901", "請幫我轉人工客服，提現一直沒到帳"),
    ]:
        await app.ctx.engine.handle_message(InboundMessage(channel, f"{channel}-seed-1", user,
                                                           Author(user, f"{channel} customer {user}"), text))


async def test_customer_and_agent_loop_in_a_real_browser(running: Running, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {ARTIFACTS}")
    base = running.url
    kb = running.ctx.kb
    assert running.admin_password, "a first start writes the admin password to a file"
    password = admin_password(running)
    await _seed_other_channels(running)

    agent_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    customer_context = await browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True,
                                                 has_touch=True, locale="en-US")
    agent = await agent_context.new_page()
    customer = await customer_context.new_page()
    page_errors: list[str] = []
    for page in (agent, customer):
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.on("response", lambda r: page_errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    await sign_in(agent, base, password)
    await expect(agent.locator("body[data-live-ready='1']")).to_have_count(1, timeout=TIMEOUT)

    # The customer asks an FAQ and gets the knowledge base's answer.
    await customer.goto(base + "/chat")
    await expect(customer.locator("#chat-status")).to_have_attribute("data-state", "online", timeout=TIMEOUT)
    await customer.get_by_label("Type your question…").fill("How can I contact customer support?")
    await customer.keyboard.press("Enter")
    answer = kb.answer("contact", "en").splitlines()[0]
    await expect(customer.locator(".msg.from-bot .msg-text").filter(has_text=answer)).to_have_count(1,
                                                                                                    timeout=TIMEOUT)
    await customer.screenshot(path=str(ARTIFACTS / "1-chat-faq-answer.png"), full_page=True)

    # ... then asks for a human: the bot confirms with the ticket number.
    await customer.get_by_label("Type your question…").fill("I want to talk to a human about a missing transfer")
    await customer.get_by_role("button", name="Send").click()
    ack = customer.locator(".msg.from-bot .msg-text").filter(has_text=re.compile(r"ticket #\d+"))
    await expect(ack).to_have_count(1, timeout=TIMEOUT)
    ticket_id = re.search(r"#(\d+)", await ack.inner_text()).group(1)  # type: ignore[union-attr]

    # The ticket appears in the agent's inbox without a reload.
    row = agent.locator(f"li.ticket[data-ticket='{ticket_id}']")
    await expect(row).to_contain_text("I want to talk to a human about a missing transfer", timeout=TIMEOUT)
    await expect(row.locator("img.ch")).to_have_attribute("alt", "Website chat")  # the channel icon
    await agent.screenshot(path=str(ARTIFACTS / "2-inbox.png"))
    readme_picture = REPO / "docs" / "inbox.png"
    if not readme_picture.exists() or os.environ.get("SUPPORTBOT_UPDATE_SCREENSHOTS") == "1":
        readme_picture.parent.mkdir(exist_ok=True)
        await agent.screenshot(path=str(readme_picture))

    # The agent opens it and replies.
    await row.get_by_role("link").click()
    await agent.wait_for_url(f"{base}/tickets/{ticket_id}", timeout=TIMEOUT)
    await expect(agent.locator("#thread")).to_contain_text("I want to talk to a human about a missing transfer")
    reply = "Hi, this is the OKPay team. Please send us the transaction number and we will trace the transfer."
    await agent.locator("#reply-text").fill(reply)
    await agent.locator("#reply-button").click()
    await expect(agent.locator("#thread")).to_contain_text(reply, timeout=TIMEOUT)

    # The reply reaches the customer's open chat, marked as from a support agent.
    agent_message = customer.locator(".msg.from-agent")
    await expect(agent_message.locator(".msg-text")).to_have_text(reply, timeout=TIMEOUT)
    await expect(agent_message.locator(".msg-who")).to_have_text("Support agent")
    await customer.screenshot(path=str(ARTIFACTS / "3-chat-agent-reply.png"), full_page=True)
    await assert_accessible(customer, "the chat with customer, bot and agent messages")  # axe-core, as every page

    # The agent sees it delivered, live (no reload).
    await expect(agent.locator("#thread .delivery").last).to_contain_text("sent", timeout=TIMEOUT)
    await agent.screenshot(path=str(ARTIFACTS / "4-ticket.png"), full_page=True)

    # A reload keeps the whole conversation (cookie), each message once.
    await customer.reload()
    await expect(customer.locator("#chat-status")).to_have_attribute("data-state", "online", timeout=TIMEOUT)
    await expect(customer.locator(".msg.from-agent .msg-text")).to_have_text(reply, timeout=TIMEOUT)
    await expect(customer.locator(".msg.from-customer")).to_have_count(2)

    assert page_errors == [], page_errors
    await agent_context.close()
    await customer_context.close()


async def test_a_reply_that_reaches_the_page_twice_is_shown_once(running: Running, browser: Browser) -> None:
    """README, Scaling: a tab may get a reply live and again in the history sent after a reconnect (two web processes);
    the page shows each reply once by its id. Here every frame from the server reaches the page twice."""
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    doubled: list[str] = []

    async def network(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_page(frame: str | bytes) -> None:
            doubled.append(str(frame))
            ws.send(frame)
            ws.send(frame)

        server.on_message(to_page)
        ws.on_message(server.send)

    await page.route_web_socket("**/chat/ws", network)
    await page.goto(running.url + "/chat")
    await page.get_by_label("Type your question…").fill("How can I contact customer support?")
    await page.keyboard.press("Enter")
    answer = running.ctx.kb.answer("contact", "en").splitlines()[0]
    bot = page.locator(".msg.from-bot .msg-text").filter(has_text=answer)
    await expect(bot).to_have_count(1, timeout=TIMEOUT)
    await expect(page.get_by_role("button", name=running.ctx.kb.message("button_solved", "en"))).to_have_count(1)
    await expect(page.locator(".msg.from-customer")).to_have_count(1)
    assert any(answer in frame for frame in doubled)  # the answer did come twice
    await page.reload()  # the history, every frame of it twice again
    await expect(bot).to_have_count(1, timeout=TIMEOUT)
    await expect(page.locator(".msg.from-customer")).to_have_count(1)
    await context.close()


async def test_a_message_typed_while_the_chat_is_cut_off_is_kept_and_sent_once_after_reconnecting(
        running: Running, browser: Browser) -> None:
    """The page keeps an unacknowledged message (across a reload too) and sends it again, with the same id."""
    from sqlalchemy import select

    from core.store.tables import Message

    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    cut: list[WebSocketRoute] = []  # sockets the "network" swallows: no history, no ack

    async def network(ws: WebSocketRoute) -> None:
        if len(cut) < 2:
            cut.append(ws)  # not connected to the server: what the page sends goes nowhere
        else:
            ws.connect_to_server()

    await page.route_web_socket("**/chat/ws", network)
    await page.goto(running.url + "/chat")
    question = "How can I contact customer support?"
    await page.get_by_label("Type your question…").fill(question)
    await page.keyboard.press("Enter")
    mine = page.locator(".msg.from-customer")
    await expect(mine.locator(".msg-note")).to_have_text("Not sent yet", timeout=TIMEOUT)
    await page.reload()  # still cut off: the message is kept and shown as not sent
    await expect(mine.locator(".msg-note")).to_have_text("Not sent yet", timeout=TIMEOUT)
    await cut[1].close()  # the connection drops; the page reconnects, now to the server, and resends
    answer = running.ctx.kb.answer("contact", "en").splitlines()[0]
    await expect(page.locator(".msg.from-bot .msg-text").filter(has_text=answer)).to_have_count(1, timeout=TIMEOUT)
    await expect(mine).to_have_count(1)
    await expect(mine.locator(".msg-note")).to_have_text("")  # acknowledged
    rows = await running.ctx.store.all(select(Message.text).where(Message.channel == "webchat",
                                                                  Message.direction == "in"))
    assert rows == [question]
    await page.reload()  # nothing is left to send: still stored once, answered once
    await expect(page.locator(".msg.from-bot .msg-text").filter(has_text=answer)).to_have_count(1, timeout=TIMEOUT)
    await expect(mine).to_have_count(1)
    assert len(await running.ctx.store.all(select(Message.id).where(Message.channel == "webchat"))) == 2
    await context.close()
