"""Typing both ways in real browsers (Debian's Chromium driven by Playwright) against the real `supportbot run`:
the visitor typing in /chat shows "Customer is typing…" on the agent's ticket page until the message arrives; the
agent writing a reply (not an internal note) shows "Support agent is typing…" in the chat until the reply
arrives. Both are polite live regions without serious accessibility problems (axe-core)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from core.runner import Running
from tests.web.browser import AXE, BLOCKING, TIMEOUT, admin_password, browser, running, sign_in

__all__ = ["browser", "running"]  # fixtures

pytestmark = pytest.mark.browser


async def problems_in(page: Page, selector: str) -> list[str]:
    """axe-core's serious and critical findings inside ``selector`` (the indicator, not the rest of the page)."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate("""(selector) => axe.run(selector, {resultTypes: ['violations'], runOnly: {
        type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""",
                                 selector)
    return [v["id"] for v in result["violations"] if v["impact"] in BLOCKING]


async def test_typing_shows_both_ways_and_goes_when_the_message_arrives(running: Running, browser: Browser) -> None:
    base = running.url
    agent = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    customer = await (await browser.new_context(viewport={"width": 390, "height": 780}, locale="en-US")).new_page()
    errors: list[str] = []
    typing_posts: list[str] = []
    for page in (agent, customer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    agent.on("request", lambda r: typing_posts.append(r.url) if r.url.endswith("/typing") else None)

    await customer.goto(base + "/chat")
    await expect(customer.locator("#chat-status")).to_have_attribute("data-state", "online", timeout=TIMEOUT)
    box = customer.get_by_label("Type your question…")
    await box.fill("I want to talk to a human about a missing transfer")
    await box.press("Enter")
    ack = customer.locator(".msg.from-bot .msg-text").filter(has_text=re.compile(r"ticket #\d+"))
    await expect(ack).to_have_count(1, timeout=TIMEOUT)
    ticket_id = re.search(r"#(\d+)", await ack.inner_text()).group(1)  # type: ignore[union-attr]

    await sign_in(agent, base, admin_password(running))
    await agent.goto(f"{base}/tickets/{ticket_id}")
    await expect(agent.locator("body[data-live-ready='1']")).to_have_count(1, timeout=TIMEOUT)

    # The visitor starts writing: the agent sees it, politely announced; their message replaces it.
    customer_typing = agent.locator("#customer-typing")
    await expect(customer_typing).to_have_attribute("aria-live", "polite")
    await box.press_sequentially("It was 500 USD", delay=250)  # ~3.5 s of typing: the page tells every 3 s
    await expect(customer_typing).to_have_text("Customer is typing…", timeout=TIMEOUT)
    assert await problems_in(agent, "#customer-typing") == []
    await box.press("Enter")
    await expect(agent.locator("#thread")).to_contain_text("It was 500 USD", timeout=TIMEOUT)
    await expect(customer_typing).to_have_text("", timeout=TIMEOUT)

    # An internal note tells the customer nothing; a reply being written does, until it arrives.
    reply = agent.locator("#reply-text")
    await agent.locator("#mode-note").check()
    await reply.fill("checking with finance")
    await reply.fill("")
    assert typing_posts == []
    await agent.locator("#mode-reply").check()
    await reply.fill("Thanks, I found your transfer:")
    agent_typing = customer.locator("#chat-typing")
    await expect(agent_typing).to_have_text("Support agent is typing…", timeout=TIMEOUT)
    assert len(typing_posts) == 1
    assert await problems_in(customer, "#chat-typing") == []
    await expect(agent_typing).to_have_attribute("aria-live", "polite")
    await reply.press("Enter")
    await expect(customer.locator(".msg.from-agent .msg-text").filter(
        has_text="Thanks, I found your transfer:")).to_have_count(1, timeout=TIMEOUT)
    await expect(agent_typing).to_have_text("")
    assert errors == []
