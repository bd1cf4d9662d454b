"""Polling X within its rate limits, and the typed errors of send(). Real tweepy, the fake X API v2."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from bots.x import http
from bots.x.adapter import DM_CURSOR, MENTIONS_CURSOR
from bots.x.http import RateWindow
from core.errors import RateLimited, RetryLater, Undeliverable
from core.models import OutboundMessage
from tests.contract.harness_x import MemoryCursors, XHarness
from tests.fakes.x_api import BOT_HANDLE, FakeX


class Recorder:
    """The engine's side of the boundary, recording what the adapter hands over."""

    def __init__(self) -> None:
        self.messages: list = []
        self.escalations: list = []

    async def handle_message(self, message):  # type: ignore[no-untyped-def]
        self.messages.append(message)

    async def handle_escalation(self, escalation):  # type: ignore[no-untyped-def]
        self.escalations.append(escalation)

    async def handle_edit(self, edit):  # type: ignore[no-untyped-def]
        return None


async def test_a_429_on_polling_waits_for_the_reset_and_loses_nothing():
    rec = Recorder()
    async with XHarness(rec) as x:
        x.customer("5001")
        x.fake.fail_next("dm_events", 429, retry_after=2)
        polls = x.fake.count("dm_events")
        started = time.monotonic()
        event = x.fake.dm("5001", "hello?")
        await x.until_handed(DM_CURSOR, event)
        waited = time.monotonic() - started
        assert waited >= 1.0  # it waited for X's reset instead of hammering
        assert x.fake.count("dm_events") - polls <= 3
        assert [m.platform_id for m in rec.messages] == [event]


async def test_poll_interval_spreads_the_remaining_calls_over_the_window():
    rec = Recorder()
    fake = FakeX()
    fake.set_limit("mentions", 3, window=60)  # 3 calls per minute: at most one every ~20-30 s
    async with XHarness(rec, fake=fake):
        await asyncio.sleep(1.0)
        assert fake.count("mentions") <= 2
        assert fake.count("dm_events") >= 5  # the other feed, with room to spare, polls at poll_interval


def test_rate_window_arithmetic():
    now = 1_000_000.0
    w = RateWindow()
    assert w.next_delay(5.0, now) == 5.0  # nothing known yet: the configured interval
    w.update({"x-rate-limit-remaining": "10", "x-rate-limit-reset": str(int(now + 300))})
    assert w.next_delay(5.0, now) == pytest.approx(30.0)
    assert w.next_delay(60.0, now) == 60.0  # never faster than poll_interval
    w.update({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(now + 300))})
    assert w.next_delay(5.0, now) == pytest.approx(301.0) and w.blocked_for(now) == pytest.approx(301.0)
    w.update({"x-rate-limit-remaining": "5", "x-user-limit-24hour-remaining": "0",
              "x-user-limit-24hour-reset": str(int(now + 7200))})
    assert w.blocked_for(now) == pytest.approx(7201.0)  # the daily cap outranks the 15-minute window
    w.update({"x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": str(int(now + 10**9))})
    assert w.blocked_for(now) == pytest.approx(86_401.0)  # ... but never past its 24 hours
    w.update({"x-rate-limit-remaining": "1", "x-rate-limit-reset": str(int(now + 10**9))})
    assert w.next_delay(5.0, now) == pytest.approx(900.0) and w.overlong(now) == pytest.approx(10**9)
    for odd in ("inf", "nan", "-5", "1e12", "12.5", "soon", ""):
        w.update({"x-rate-limit-remaining": "0", "x-rate-limit-reset": odd})
        assert w.next_delay(5.0, now) == 5.0 and w.blocked_for(now) is None  # unreadable: the default pacing
        w.update({"x-rate-limit-remaining": odd, "x-rate-limit-reset": str(int(now + 300))})
        assert w.next_delay(5.0, now) == 5.0


@pytest.mark.parametrize("reset", ["inf", "nan", "-5", "1e12", "soon", "decades"])
async def test_a_429_with_an_odd_reset_header_backs_off_and_polling_resumes(monkeypatch, reset):
    monkeypatch.setattr(http, "DEFAULT_RETRY_AFTER", 0.5)  # the default backoff, made short
    monkeypatch.setattr(http, "WINDOW_SECONDS", 1.0)  # X's 15-minute window, made short
    rec = Recorder()
    async with XHarness(rec) as x:
        x.customer("5001")
        x.fake.fail_next("dm_events", 429)
        x.fake.odd_headers("dm_events", {"x-rate-limit-reset": str(int(time.time()) + 10**9)
                                         if reset == "decades" else reset})
        event = x.fake.dm("5001", "written while polling backs off")
        await x.until_handed(DM_CURSOR, event, timeout=5)
        assert x.fake.too_many.get("dm_events") == 1
    assert [m.platform_id for m in rec.messages] == [event]


async def test_a_rate_reset_beyond_xs_window_is_waited_out_within_it_and_shown_as_trouble(monkeypatch):
    monkeypatch.setattr(http, "WINDOW_SECONDS", 2.0)  # X's 15-minute window, made short
    fake = FakeX()
    for family in ("mentions", "dm_events"):
        fake.set_limit(family, 100_000, window=1)  # its ordinary resets within that window
    rec = Recorder()
    async with XHarness(rec, fake=fake) as x:
        health = x.adapter.health
        await x._until(_async(lambda: health.receiving), "receiving")
        x.fake.odd_headers("mentions", {"x-rate-limit-remaining": "1",
                                        "x-rate-limit-reset": str(int(time.time()) + 10**9)})
        await x._until(_async(lambda: health.state == "trouble"), "trouble", timeout=5)
        assert "beyond its 2s window" in (health.error or "")
        tweet = await x.mention("written while X said to wait 30 years")  # handed over within the clamp
        await x._until(_async(lambda: health.receiving), "receiving again", timeout=5)
    assert tweet in [m.platform_id for m in rec.messages]


def _async(check):  # type: ignore[no-untyped-def]
    async def probe() -> bool:
        return bool(check())
    return probe


async def test_a_backlog_larger_than_a_page_is_handed_over_in_order():
    rec = Recorder()
    cursors = MemoryCursors()
    fake = FakeX()
    fake.add_user("5001", "ann")
    async with XHarness(rec, fake=fake, cursor_store=cursors):
        pass  # first start: baseline
    dms = [fake.dm("5001", f"dm {i}") for i in range(230)]
    posts = [fake.post("5001", f"@OKPaySupport question {i}") for i in range(120)]
    async with XHarness(rec, fake=fake, cursor_store=cursors) as x:
        await x.until_handed(DM_CURSOR, dms[-1])
        await x.until_handed(MENTIONS_CURSOR, posts[-1])
    assert [m.platform_id for m in rec.messages if not m.public] == dms
    assert [m.platform_id for m in rec.messages if m.public] == posts
    assert fake.count("dm_events") >= 3  # three pages of 100, newest first, back to the cursor


async def test_send_maps_x_errors_to_typed_errors():
    async with XHarness(Recorder()) as x:
        x.customer("5001")
        dm = OutboundMessage(channel="x", conversation="dm:5001", text="hello")
        x.fake.fail_next("dm_send", 429, retry_after=30)
        with pytest.raises(RateLimited) as limited:
            await x.adapter.send(dm)
        assert 25 <= limited.value.retry_after <= 32  # X's reset time, not a guess
        with pytest.raises(RateLimited):  # the window is known to be used up: no call is made
            await x.adapter.send(dm)
        assert x.fake.count("dm_send") == 1
        x.adapter.client.window("dm_send").remaining = None  # (as after the reset)
        x.fake.fail_next("dm_send", 503)
        with pytest.raises(RetryLater):
            await x.adapter.send(dm)
        x.fake.fail_next("dm_send", 400)
        with pytest.raises(Undeliverable):
            await x.adapter.send(dm)
        with pytest.raises(Undeliverable):  # replying to a deleted post
            await x.adapter.send(OutboundMessage(channel="x", conversation="tweet:42", text="hi"))
        with pytest.raises(Undeliverable):
            await x.adapter.send(OutboundMessage(channel="x", conversation="telegram:5", text="hi"))
        sent = await x.adapter.send(dm)
        assert [e["id"] for e in x.fake.bot_dms()] == [sent.platform_id]


async def test_a_reply_to_an_older_post_is_addressed_and_the_same_answer_twice_is_reworded():
    """After a restart the adapter has not seen the post: it looks up the author to address the reply."""
    fake = FakeX()
    fake.add_user("5001", "ann")
    old = fake.post("5001", f"@{BOT_HANDLE} is my transfer done?")  # before start: history, never polled
    again = fake.post("5001", f"@{BOT_HANDLE} is my transfer done? asking again")
    async with XHarness(Recorder(), fake=fake) as x:
        reply = OutboundMessage(channel="x", conversation=f"tweet:{old}", text="Our team is on it.", public=True)
        first = await x.adapter.send(reply)
        [post] = x.fake.bot_posts()
        assert post["text"] == "@ann Our team is on it." and first.platform_id == post["id"]
        assert post["referenced_tweets"] == [{"type": "replied_to", "id": old}]
        # sent again (an earlier attempt was accepted but its answer lost): X refuses the identical post,
        # and the earlier one is there under the same post: it is this reply, nothing is posted twice
        assert (await x.adapter.send(reply)).platform_id == post["id"]
        assert len(x.fake.bot_posts()) == 1
        # the same answer to her next question: X refuses the identical text, so it is reworded, publicly
        second = OutboundMessage(channel="x", conversation=f"tweet:{again}", text="Our team is on it.",
                                 public=True, outbox_id=2)
        sent = await x.adapter.send(second)
        assert (await x.adapter.send(second)).platform_id == sent.platform_id  # a retry finds it, posts nothing
    posts = sorted(fake.bot_posts(), key=lambda p: int(p["id"]))
    assert len(posts) == 2 and posts[1]["id"] == sent.platform_id
    assert re.fullmatch(r"@ann Our team is on it\. \(re your post of \d\d:\d\d:\d\d UTC\)", posts[1]["text"])
    assert posts[1]["referenced_tweets"] == [{"type": "replied_to", "id": again}]
    assert fake.count("user_tweets") == 2  # one look per duplicate refusal that was not ours


@pytest.mark.parametrize("lost", [0, 1, 2])
async def test_a_thread_whose_post_went_out_but_whose_answer_was_lost_continues_without_repeats(lost: int):
    """X took part ``lost + 1`` but the answer never came back; the retry finds it and posts only the rest."""
    fake = FakeX()
    fake.add_user("5001", "ann")
    root = fake.post("5001", f"@{BOT_HANDLE} how do I verify my identity?")
    text = " ".join(f"Step {i}: open the app, go to settings and follow the instructions." for i in range(9))
    reply = OutboundMessage(channel="x", conversation=f"tweet:{root}", text=text, public=True, outbox_id=7)
    async with XHarness(Recorder(), fake=fake) as x:
        fake.lose_answer("tweets", after=lost)
        with pytest.raises(RetryLater):
            await x.adapter.send(reply)
        sent = await x.adapter.send(reply)  # the dispatcher's retry
    posts = sorted(fake.bot_posts(), key=lambda p: int(p["id"]))
    assert len(posts) == 3 and len({p["text"] for p in posts}) == 3  # three parts, none twice
    assert [p["referenced_tweets"][0]["id"] for p in posts] == [root, posts[0]["id"], posts[1]["id"]]
    assert sent.platform_id == posts[0]["id"]
    assert [p["text"][-5:] for p in posts] == ["(1/3)", "(2/3)", "(3/3)"]


async def test_requests_are_signed_for_the_host_they_really_go_to():
    """The fake checks OAuth 1.0a signatures against its own URL: with a wrong secret X says 401."""
    async with XHarness(Recorder()) as x:
        x.customer("5001")
        x.fake.creds.consumer_secret = "rotated-on-the-x-side"
        with pytest.raises(RetryLater) as err:  # keep the reply queued until the credentials are fixed
            await x.adapter.send(OutboundMessage(channel="x", conversation="dm:5001", text="hello"))
        assert "401" in str(err.value)
        assert x.fake.bot_dms() == []


async def test_a_photo_in_a_dm_arrives_as_a_typed_attachment():
    rec = Recorder()
    async with XHarness(rec) as x:
        x.customer("5001", "ann")
        event = x.fake.dm("5001", "this error appears", photo="https://ton.x.com/i/ton/data/dm/1/2/shot.jpg")
        await x.until_handed(DM_CURSOR, event)
    [message] = rec.messages
    [photo] = message.attachments
    assert message.text == "this error appears"
    assert photo.kind == "image" and photo.url == "https://ton.x.com/i/ton/data/dm/1/2/shot.jpg"
    assert photo.ref.startswith("3_")


async def test_without_the_store_cursors_survive_a_restart_in_a_file(tmp_path):
    from bots.x.http import FileCursors

    rec = Recorder()
    fake = FakeX()
    fake.add_user("5001", "ann")
    async with XHarness(rec, fake=fake, cursor_store=FileCursors(tmp_path / "x_cursors.json")) as x:
        first = await x.customer_dm("first", user_id="5001")
    later = fake.dm("5001", "while the bot was down")
    async with XHarness(rec, fake=fake, cursor_store=FileCursors(tmp_path / "x_cursors.json")) as x:
        await x.until_handed(DM_CURSOR, later)
    assert first == "dm:5001"
    assert [m.text for m in rec.messages] == ["first", "while the bot was down"]
