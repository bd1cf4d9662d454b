"""/dashboard, /customers, /settings and /knowledge in a real browser (Debian's Chromium via Playwright) against
the real `supportbot run`, each page checked with axe-core (no serious or critical violation).

Screenshots go to test-artifacts/pages/. The knowledge flow ends where a customer notices it: a question the
bot handed to a person before is answered in the website chat right after the admin publishes, no restart.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from core.models import Author, InboundMessage
from core.runner import Running
from tests.web.browser import REPO, TIMEOUT, admin_password, assert_accessible, browser, running, sign_in

pytestmark = pytest.mark.browser
__all__ = ["browser", "running"]  # fixtures

ARTIFACTS = REPO / "test-artifacts" / "pages"
DARK = "How do I turn on dark mode?"


async def _seed(app: Running) -> None:
    """A small working day: FAQ answers, handoffs on three channels, one agent reply."""
    engine = app.ctx.engine
    rows = [("webchat", "w1", "Wendy", "How can I contact customer support?"),
            ("telegram", "7001", "Li Wei", "我的账户被冻结了，转人工"),
            ("discord", "8801", "Dana", "Someone logged into my account and I did not do it, I need a human now"),
            ("telegram", "7002", "Chen", "How can I contact customer support?"),
            ("x", "9901", "Xu", "請幫我轉人工客服，提現一直沒到帳")]
    first_ticket = None
    for n, (channel, user, name, text) in enumerate(rows):
        outcome = await engine.handle_message(InboundMessage(channel, f"{channel}-seed-{n}", user,
                                                             Author(user, name, handle=f"{name.lower()}_{user}"), text))
        first_ticket = first_ticket or outcome.ticket_id
    assert first_ticket is not None
    await app.ctx.inbox.reply(first_ticket, "We are looking into it.", agent_id=1)


async def _page(browser: Browser, running: Running, errors: list[str], **options: object) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", **options)
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)  # a CSP refusal or a bad pattern attribute shows here
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await sign_in(page, running.url, admin_password(running))
    return page


async def test_dashboard_customers_and_settings(running: Running, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await _seed(running)
    errors: list[str] = []
    page = await _page(browser, running, errors)
    base = running.url

    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(6)
    await expect(page.locator("#tile-conversations")).to_have_text("5")
    await expect(page.get_by_role("img", name="Handoffs by reason")).to_be_visible()
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    await assert_accessible(page, "/dashboard")
    await page.get_by_label("Channel", exact=True).select_option("telegram")
    await page.get_by_role("button", name="Show").click()
    await page.wait_for_url(re.compile(r"channel=telegram"), timeout=TIMEOUT)
    await expect(page.locator("#tile-conversations")).to_have_text("2")
    await expect(page.locator("#tile-deflection")).to_have_text("50 %")

    await page.get_by_role("link", name="Customers").click()
    await page.get_by_label("Find a customer").fill("dana_8801")
    await page.get_by_role("button", name="Search").click()
    rows = page.locator("#customers tbody tr")
    await expect(rows).to_have_count(1, timeout=TIMEOUT)
    await expect(rows.first).to_contain_text("discord")
    await expect(rows.first.get_by_role("link", name=re.compile(r"Someone logged into my account"))).to_be_visible()
    await page.goto(base + "/customers")
    await expect(page.locator("#customers tbody tr")).to_have_count(5)
    await page.screenshot(path=str(ARTIFACTS / "customers.png"), full_page=True)
    await assert_accessible(page, "/customers")

    await page.get_by_role("link", name="Settings").click()
    await expect(page.locator('#channels tr[data-channel="webchat"]')).to_contain_text("receiving")
    await page.get_by_label("on these days and hours").check()
    await page.get_by_label("Saturday").check()
    await page.get_by_label("Opens").fill("08:30")
    await page.get_by_label("Time zone").select_option("Asia/Shanghai")
    await page.get_by_role("button", name="Save business hours").click()
    await expect(page.get_by_role("status")).to_contain_text("Business hours saved")
    hours = running.ctx.engine.hours
    assert (hours.always, hours.timezone, hours.opens.strftime("%H:%M"), "sat" in hours.days) == (
        False, "Asia/Shanghai", "08:30", True)
    await page.get_by_label("First response within (hours, the SLA)").fill("8")
    await page.get_by_label("Assign new tickets automatically").check()
    await page.get_by_role("button", name="Save SLA and assignment").click()
    await expect(page.get_by_role("status")).to_contain_text("SLA and assignment saved")
    assert running.ctx.engine.first_response_hours == 8 and running.ctx.engine.assigner is not None
    await page.reload()
    await expect(page.get_by_label("Opens")).to_have_value("08:30")
    await expect(page.get_by_label("First response within (hours, the SLA)")).to_have_value("8.0")
    await page.screenshot(path=str(ARTIFACTS / "settings.png"), full_page=True)
    await assert_accessible(page, "/settings")

    phone = await browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    small = await phone.new_page()
    await sign_in(small, base, admin_password(running))
    for path in ("/dashboard", "/customers", "/settings"):
        await small.goto(base + path)
        width = await small.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at phone width ({width} px)"
    await small.goto(base + "/dashboard")
    await small.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    await phone.close()
    assert errors == [], errors


async def test_knowledge_edited_tried_and_published_live(running: Running, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    page = await _page(browser, running, errors)
    await page.get_by_role("link", name="Knowledge").click()
    await page.get_by_label("Question", exact=True).fill(DARK)
    await page.get_by_role("button", name="Try").click()
    await expect(page.locator("#trial-decision")).to_contain_text("hand off to a person")
    await assert_accessible(page, "/knowledge")

    await page.get_by_role("link", name="New entry").click()
    await page.get_by_label("Id (lower-case letters, digits and -)").fill("dark-mode")
    simplified, english = page.locator('fieldset[lang="zh-Hans"]'), page.locator('fieldset[lang="en"]')
    await simplified.get_by_label("Title").fill("深色模式")
    await simplified.get_by_label("Sample questions, one per line").fill("怎么打开深色模式\n夜间模式在哪里")
    await simplified.get_by_label("Answer").fill("打开 {brand} > 设置 > 外观，选择深色。")
    await english.get_by_label("Title").fill("Dark mode")
    await english.get_by_label("Sample questions, one per line").fill(
        "how do I turn on dark mode\nswitch the app to the dark theme\nnight mode please")
    await english.get_by_label("Answer").fill("Open {brand} > Settings > Appearance and choose Dark.")
    await assert_accessible(page, "/knowledge/entries/new")
    await page.get_by_role("button", name="Save to the draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Saved to the draft")
    await expect(page.locator('#entries tr[data-entry="dark-mode"]')).to_contain_text("new")

    await page.get_by_label("Question", exact=True).fill(DARK)
    await page.get_by_label("Knowledge base").select_option("draft")
    await page.get_by_role("button", name="Try").click()
    await expect(page.locator("#trial-decision")).to_contain_text("dark-mode")
    await page.screenshot(path=str(ARTIFACTS / "knowledge-try.png"), full_page=True)

    await page.get_by_role("link", name="Review and publish").click()
    await expect(page.locator("#no-drop")).to_be_visible(timeout=TIMEOUT)
    await page.get_by_label("What changed").fill("dark mode")
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Published")

    # A customer in the website chat gets the new answer at once.
    chat = await (await browser.new_context(locale="en-US")).new_page()
    await chat.goto(running.url + "/chat")
    await expect(chat.locator("#chat-status")).to_have_attribute("data-state", "online", timeout=TIMEOUT)
    await chat.get_by_label("Type your question…").fill(DARK)
    await chat.keyboard.press("Enter")
    await expect(chat.locator(".msg.from-bot .msg-text").filter(has_text="Appearance and choose Dark")).to_have_count(
        1, timeout=TIMEOUT)

    # A change that lowers the scores is marked before it is published.
    await page.goto(running.url + "/knowledge/entries/login")
    await page.get_by_role("button", name="Delete this entry in the draft").click()
    await page.get_by_role("link", name="Review and publish").click()
    await expect(page.locator("#lowers")).to_contain_text("This change lowers the scores", timeout=TIMEOUT)
    await expect(page.locator('tr[data-figure="answered_or_clarified"]')).to_contain_text("▼ lower")
    await page.screenshot(path=str(ARTIFACTS / "knowledge-review-lower.png"), full_page=True)
    await assert_accessible(page, "/knowledge/draft")
    await page.get_by_role("link", name="← Knowledge base").click()
    await page.get_by_role("button", name="Discard the draft").click()
    await expect(page.get_by_role("status")).to_contain_text("discarded")
    await page.screenshot(path=str(ARTIFACTS / "knowledge.png"), full_page=True)
    assert "login" in {e.id for e in running.ctx.kb.entries}
    assert errors == [], errors
