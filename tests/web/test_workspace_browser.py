"""The agents' workspace in a real browser (Debian's Chromium via Playwright) against the real `supportbot run`:
three panes and the keyboard, the reply box (Enter sends, "/" canned responses, a file delivered, the thread
kept in place), controls that save on change, snooze, bulk actions, availability, notifications, and the phone
layout. Every page is checked with axe-core (no serious or critical violation). Screenshots go to
test-artifacts/workspace/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from core import canned
from core.models import Author, InboundMessage
from core.runner import Running
from tests.web.browser import REPO, TIMEOUT, admin_password, assert_accessible, browser, running, sign_in

pytestmark = pytest.mark.browser
__all__ = ["browser", "running"]  # fixtures

ARTIFACTS = REPO / "test-artifacts" / "workspace"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


async def _seed(app: Running) -> list[int]:
    """Three customers on three channels asking for a person; the webchat one wrote a long thread."""
    engine, ids = app.ctx.engine, []
    for channel, user, name, text in [("telegram", "7001", "Li Wei", "我的账户被冻结了，转人工"),
                                      ("discord", "8801", "Dana", "I need a human about a refund"),
                                      ("webchat", "w1", "Wendy", "Talk to a human please, my transfer is missing")]:
        outcome = await engine.handle_message(InboundMessage(channel, f"{channel}-1", user, Author(user, name), text))
        assert outcome.ticket_id is not None
        ids.append(outcome.ticket_id)
    for n in range(25):  # a long thread: sending must not jump to the top
        await engine.handle_message(InboundMessage("webchat", f"webchat-more-{n}", "w1", Author("w1", "Wendy"),
                                                   f"More detail number {n}: " + "the transfer went nowhere. " * 4))
    await canned.create(app.ctx.store, title="Refund times", shortcut="refund", shared=True, agent_id=None,
                        text="Refunds reach your account within 3-5 working days.")
    return ids


async def _page(browser: Browser, running: Running, errors: list[str], **options: object) -> Page:
    context = await browser.new_context(locale="en-US", **{"viewport": {"width": 1366, "height": 860}, **options})
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await sign_in(page, running.url, admin_password(running))
    return page


async def test_three_panes_keyboard_reply_box_and_controls(running: Running, browser: Browser,
                                                           tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _, discord_id, web_id = await _seed(running)
    errors: list[str] = []
    page = await _page(browser, running, errors)
    await expect(page.locator("body[data-live-ready='1']")).to_have_count(1, timeout=TIMEOUT)

    # The list: newest activity first, channel icons, previews, unread marks.
    rows = page.locator("#ticket-rows li.ticket")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_have_attribute("data-row", str(web_id))
    await expect(rows.first.locator("img.ch")).to_have_attribute("alt", "Website chat")
    await expect(rows.first.locator(".preview")).to_contain_text("More detail number 24")
    await expect(rows.first).to_have_class(re.compile("is-unread"))
    await assert_accessible(page, "the ticket list")
    await page.screenshot(path=str(ARTIFACTS / "1-list.png"))

    # Keyboard: ? shows the keys; j/j/k select, Enter opens the ticket beside the list.
    await page.keyboard.press("?")
    await expect(page.locator("#keys-dialog")).to_be_visible()
    await assert_accessible(page, "the keys dialog")
    await page.keyboard.press("Escape")
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await page.keyboard.press("k")
    await expect(rows.first.locator("a.row-link")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{running.url}/tickets/{web_id}", timeout=TIMEOUT)
    for pane in ("#ticket-rows", "#conversation", "#details"):
        await expect(page.locator(pane)).to_be_visible()
    await expect(page.locator(f"li.ticket[data-row='{web_id}']")).to_have_attribute("aria-current", "true")
    await expect(page.locator(f"li.ticket[data-row='{web_id}']")).not_to_have_class(re.compile("is-unread"))
    await assert_accessible(page, "a ticket in three panes")

    # r: the reply box; "/ref" offers the shared canned response, Enter inserts it, Shift+Enter is a new line,
    # a file goes along, Enter sends. The page does not reload and the thread shows the new reply at once.
    await page.evaluate("window.__sameDocument = true")
    await page.keyboard.press("r")
    box = page.locator("#reply-text")
    await expect(box).to_be_focused()
    await box.press_sequentially("Hello Wendy. /ref")
    await expect(page.locator("#canned-list [role=option]").first).to_contain_text("Refund times")
    await page.screenshot(path=str(ARTIFACTS / "2-canned-picker.png"))
    await page.keyboard.press("Enter")
    await expect(box).to_have_value("Hello Wendy. Refunds reach your account within 3-5 working days.")
    await page.keyboard.press("Shift+Enter")
    await box.press_sequentially("A screenshot of the form is attached.")
    receipt = tmp_path / "form.png"
    receipt.write_bytes(PNG)
    await page.locator("#reply-files").set_input_files(str(receipt))
    await box.focus()
    await page.keyboard.press("Enter")
    sent = page.locator("#thread li.msg.from-agent").last
    await expect(sent).to_contain_text("A screenshot of the form is attached.", timeout=TIMEOUT)
    await expect(sent.locator("img.thumb")).to_have_attribute("alt", "form.png")
    await expect(sent).to_be_in_viewport()
    await expect(sent.locator(".delivery")).to_contain_text("sent", timeout=TIMEOUT)  # live, as it changes
    assert await page.evaluate("window.__sameDocument === true"), "sending reloaded the page"
    await expect(box).to_have_value("")
    await page.screenshot(path=str(ARTIFACTS / "3-ticket-after-sending.png"))
    delivered = [r for r in await running.ctx.store.outbox_rows() if r.payload["attachments"]]
    assert delivered and delivered[-1].payload["attachments"][0]["name"] == "form.png"

    # Controls save on change; the activity log reads as sentences.
    await page.get_by_label("Priority", exact=True).select_option("high")
    await expect(page.locator("#controls-status")).to_have_text("Priority saved")
    await page.get_by_label("Assignee", exact=True).select_option(label="Administrator (online)")
    await expect(page.locator("#activity")).to_contain_text("Administrator took the ticket", timeout=TIMEOUT)
    await expect(page.locator("#activity")).to_contain_text("Administrator changed the priority from normal to high")

    # Snooze: pending for an hour, shown as such.
    await page.locator("details.snooze summary").click()
    await page.get_by_role("radio", name="for 1 hour").check()
    await page.locator(".snooze-form button[type=submit]").click()
    await expect(page.locator("#ticket-meta")).to_contain_text("snoozed", timeout=TIMEOUT)
    await expect(page.locator("#activity")).to_contain_text("Administrator snoozed the ticket until")

    # e solves the open ticket, a assigns it to me (from another ticket).
    await page.goto(f"{running.url}/tickets/{discord_id}")
    await page.keyboard.press("a")
    await expect(page.locator("#activity")).to_contain_text("Administrator took the ticket", timeout=TIMEOUT)
    await page.keyboard.press("e")
    await expect(page.locator("#activity")).to_contain_text("Administrator solved the ticket", timeout=TIMEOUT)
    await page.keyboard.press("/")
    await expect(page.locator("#search")).to_be_focused()
    await page.screenshot(path=str(ARTIFACTS / "4-controls-and-activity.png"))
    assert errors == [], errors


async def test_bulk_availability_notifications_and_canned_page(running: Running, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    telegram_id, discord_id, _ = await _seed(running)
    errors: list[str] = []
    page = await _page(browser, running, errors)
    await page.context.grant_permissions(["notifications"], origin=running.url)
    await page.add_init_script("""(() => {  // record what the page shows; the browser's own API does the rest
        const Real = window.Notification; window.__shown = [];
        window.Notification = function (title, options) {
            window.__shown.push(title); return new Real(title, options); };
        window.Notification.permission = Real.permission;
        window.Notification.requestPermission = () => Real.requestPermission();
    })();""")
    await page.reload()
    await expect(page.locator("body[data-live-ready='1']")).to_have_count(1, timeout=TIMEOUT)

    # Bulk: tick two tickets, tag them; the selection survives a live refresh meanwhile.
    await page.get_by_label(f"Select ticket #{telegram_id}").check()
    await running.ctx.engine.handle_message(InboundMessage("telegram", "telegram-2", "7001", Author("7001", "Li Wei"),
                                                           "还在吗？"))
    await expect(page.locator(f"li.ticket[data-row='{telegram_id}'] .preview")).to_contain_text("还在吗",
                                                                                               timeout=TIMEOUT)
    await expect(page.get_by_label(f"Select ticket #{telegram_id}")).to_be_checked()
    await page.get_by_label(f"Select ticket #{discord_id}").check()
    await expect(page.locator("#bulk-count")).to_have_text("2 selected")
    await page.get_by_label("With the selected").select_option("tag")
    await page.locator("#bulk input[name=tag]").fill("vip")
    await page.screenshot(path=str(ARTIFACTS / "5-bulk.png"))
    await page.locator("#bulk-apply").click()
    await expect(page.locator("#bulk-count")).to_have_text("2 tickets tagged", timeout=TIMEOUT)
    await expect(page.locator("#ticket-rows .tag", has_text="vip")).to_have_count(2, timeout=TIMEOUT)

    # Availability: saved on change, shown, kept.
    await page.locator("#availability").select_option("busy")
    await expect(page.locator(".me .dot")).to_have_class(re.compile("busy"), timeout=TIMEOUT)
    await page.reload()
    await expect(page.locator("#availability")).to_have_value("busy")

    # Notifications: turned on once, then a new ticket shows one.
    await page.get_by_role("button", name="Notifications off").click()
    await expect(page.get_by_role("button", name="Notifications on")).to_be_visible()
    await page.get_by_label("sound").check()
    outcome = await running.ctx.engine.handle_message(
        InboundMessage("x", "x-1", "9901", Author("9901", "Xu"), "請幫我轉人工客服"))
    await page.wait_for_function("title => window.__shown.includes(title)",
                                 arg=f"New ticket #{outcome.ticket_id} (x)", timeout=TIMEOUT)

    # The canned responses page and the agents page.
    await page.goto(running.url + "/canned-responses")
    await page.get_by_label("Title").fill("Greeting")
    await page.get_by_role("textbox", name="Shortcut").fill("hi")
    await page.get_by_label("Text", exact=True).fill("Hello, thanks for writing to us.")
    await page.get_by_role("button", name="Add").click()
    await expect(page.locator("table.list-table")).to_contain_text("Greeting")
    await assert_accessible(page, "canned responses")
    await page.screenshot(path=str(ARTIFACTS / "6-canned-responses.png"), full_page=True)
    await page.goto(running.url + "/agents")
    await expect(page.locator("table.list-table")).to_contain_text("busy")
    await assert_accessible(page, "agents")
    assert errors == [], errors


async def test_phone_width_one_pane_at_a_time(running: Running, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _, _, web_id = await _seed(running)
    errors: list[str] = []
    page = await _page(browser, running, errors, viewport={"width": 390, "height": 780}, is_mobile=True,
                       has_touch=True)

    async def no_sideways_scroll() -> None:
        assert await page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")

    header = await page.locator("header.top").bounding_box()
    assert header and header["height"] < 56, header  # one compact row
    await expect(page.locator("#ticket-rows")).to_be_visible()
    await no_sideways_scroll()
    await assert_accessible(page, "the list at phone width")
    await page.screenshot(path=str(ARTIFACTS / "7-phone-list.png"))
    await page.get_by_role("button", name="Menu").click()
    await expect(page.get_by_role("link", name="Canned responses")).to_be_visible()
    await page.get_by_role("button", name="Menu").click()

    await page.locator(f"li.ticket[data-row='{web_id}'] a.row-link").click()
    await page.wait_for_url(f"{running.url}/tickets/{web_id}", timeout=TIMEOUT)
    await expect(page.locator("#ticket-rows")).to_be_hidden()
    await expect(page.locator("#details")).to_be_hidden()
    for control in ("Assign to me", "Solve"):  # at the top, not below the whole thread
        button = page.get_by_role("button", name=control)
        await expect(button).to_be_in_viewport()
    await expect(page.locator("#reply-text")).to_be_in_viewport()
    await no_sideways_scroll()
    await assert_accessible(page, "a ticket at phone width")
    await page.screenshot(path=str(ARTIFACTS / "8-phone-ticket.png"))
    await page.get_by_role("link", name="Details").click()
    await expect(page.locator("#details")).to_be_visible()
    await expect(page.locator("#conversation")).to_be_hidden()
    await page.screenshot(path=str(ARTIFACTS / "9-phone-details.png"))
    await page.get_by_role("link", name="← Conversation").click()
    await expect(page.locator("#conversation")).to_be_visible()
    assert errors == [], errors
