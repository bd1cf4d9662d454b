"""Sending on X when things go wrong, as the customer notices it: a DM whose answer was lost is not sent
twice, the same answer to the same customer is accepted by X, a customer who does not accept DMs is
told in public where to write, and a restart reads no post per pending reply. Real tweepy against the
fake X API v2; the real engine, dispatcher and Store where the flow goes through them."""

from __future__ import annotations

import re

import aiohttp
import pytest
from sqlalchemy import select

from bots.x.state import Bounded
from core.errors import RateLimited, Uncertain, Undeliverable
from core.models import OutboundMessage, QuickReply
from core.store.tables import Cursor, Message, Ticket
from tests.bots.test_x_polling import Recorder
from tests.contract.harness_x import MemoryCursors, XHarness
from tests.fakes.x_api import BOT_ID, FakeX
from tests.process import eventually

CHAT = "https://okpay.com/chat"


def dm_texts(fake: FakeX, user_id: str) -> list[str]:
    return [e["text"] for e in fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-{user_id}"]


def under(fake: FakeX, post_id: str) -> list[dict]:
    return [p for p in fake.bot_posts() if p.get("referenced_tweets", [{}])[0].get("id") == post_id]


def thread_under(fake: FakeX, post_id: str) -> list[dict]:
    out, parent = [], post_id
    while found := under(fake, parent):
        out.append(found[0])
        parent = found[0]["id"]
    return out


def dm(user_id: str, text: str, outbox_id: int, **meta: object) -> OutboundMessage:
    return OutboundMessage(channel="x", conversation=f"dm:{user_id}", text=text, outbox_id=outbox_id, meta=meta)


async def test_a_dm_whose_answer_was_lost_is_found_not_sent_again_one_read_for_all():
    fake = FakeX()
    cursors = MemoryCursors()
    users = ["5001", "5002", "5003"]
    for uid in users:
        fake.add_user(uid, f"customer{uid}")
    replies = [dm(uid, f"Answer for {uid}: fees are zero.", n) for n, uid in enumerate(users, 1)]
    async with XHarness(Recorder(), fake=fake, cursor_store=cursors) as x:
        for reply in replies:  # X carries each out, but the answer never comes back
            fake.lose_answer("dm_send")
            with pytest.raises(Uncertain):
                await x.adapter.send(reply)
        # the dispatcher's retry in the same process: found among the recent DM events, not sent again
        assert (await x.adapter.send(replies[0])).platform_id == fake.bot_dms()[0]["id"]
    assert [len(dm_texts(fake, uid)) for uid in users] == [1, 1, 1]

    async with XHarness(Recorder(), fake=fake, cursor_store=cursors) as x:  # a restart: rows taken over
        sent = [await x.adapter.send(reply) for reply in replies[1:]]
        assert x.adapter.sender.dms.reads == 1  # one read of recent DM events served every row
    assert [len(dm_texts(fake, uid)) for uid in users] == [1, 1, 1]
    assert [s.platform_id for s in sent] == [e["id"] for e in fake.bot_dms()[1:]]


async def test_a_dm_timing_out_after_it_was_written_is_uncertain_and_not_sent_twice(monkeypatch):
    monkeypatch.setattr("bots.x.http.TIMEOUT", aiohttp.ClientTimeout(total=None, connect=5, sock_read=0.3))
    fake = FakeX()
    fake.add_user("5001", "ann")
    async with XHarness(Recorder(), fake=fake) as x:
        fake.send_latency = 0.6  # X is slow today: it carries the DM out after we stopped waiting
        with pytest.raises(Uncertain):
            await x.adapter.send(dm("5001", "Fees are zero.", 1))
        await eventually(lambda: len(fake.bot_dms()) == 1, timeout=3, what="X carrying the DM out")
        fake.send_latency = 0
        assert (await x.adapter.send(dm("5001", "Fees are zero.", 1))).platform_id == fake.bot_dms()[0]["id"]
    assert dm_texts(fake, "5001") == ["Fees are zero."]


async def test_a_dm_x_surely_did_not_take_is_sent_without_a_look():
    fake = FakeX()
    fake.add_user("5001", "ann")
    async with XHarness(Recorder(), fake=fake) as x:
        x.fake.fail_next("dm_send", 429, retry_after=0)
        with pytest.raises(RateLimited):
            await x.adapter.send(dm("5001", "Fees are zero.", 1))
        x.adapter.client.window("dm_send").remaining = None
        await x.adapter.send(dm("5001", "Fees are zero.", 1))
        assert x.adapter.sender.dms.reads == 0
    assert dm_texts(fake, "5001") == ["Fees are zero."]


async def test_the_same_question_twice_gets_two_public_answers(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        first = await x.mention("is OKPay safe?", user_id="5001")
        await make_dispatcher({"x": x.adapter}).drain()
        second = await x.mention("is OKPay safe?", user_id="5001")  # a day later, the same question
        await make_dispatcher({"x": x.adapter}).drain(timeout=15)

        assert [r.status for r in await store.outbox_rows()] == ["sent", "sent"]
        [a], [b] = under(x.fake, first), under(x.fake, second)
        assert a["text"].startswith("@ann ") and b["text"].startswith(a["text"].split(" (")[0][:40])
        assert re.search(r"\(re your post of \d\d:\d\d:\d\d UTC\)$", b["text"])
        assert "re your post" not in a["text"]


async def test_a_customer_without_dms_is_told_in_public_where_to_write(engine, inbox, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store, settings={"contact_url": CHAT}) as x:
        x.customer("5001", "ann")
        x.fake.dm_closed.add("5001")
        post = await x.mention("my transfer failed, account 6222 0211 4455, can you check?", user_id="5001")
        dispatcher = make_dispatcher({"x": x.adapter})
        await dispatcher.drain()

        # the public note of the handoff, then (DM refused) a note saying how else to reach us
        notes = sorted(under(x.fake, post), key=lambda p: int(p["id"]))
        assert len(notes) == 2 and all(p["text"].startswith("@ann ") for p in notes)
        assert notes[1]["text"] == ("@ann We cannot DM you: please send us a DM so we can reply, "
                                    f"or chat with us at {CHAT}.")
        assert x.fake.bot_dms() == []
        ticket = await store.scalar(select(Ticket))
        assert all(f"#{ticket.id}" not in p["text"] and "6222" not in p["text"] for p in x.fake.bot_posts())
        ack = [r for r in await store.outbox_rows() if r.conversation == "dm:5001"]
        assert [r.status for r in ack] == ["dead"] and "told them how to reach us" in ack[0].last_error

        # the agent's reply cannot go by DM either: a short public note, nothing of the reply
        await inbox.reply(ticket.id, "Hi Ann, your transfer 88231 was refunded to your card ending 4455.")
        await dispatcher.drain()
        waiting = sorted(under(x.fake, post), key=lambda p: int(p["id"]))[-1]
        assert waiting["text"].startswith("@ann We have a reply for you") and CHAT in waiting["text"]
        assert all("88231" not in p["text"] and "4455" not in p["text"] for p in x.fake.bot_posts())
        last = (await store.outbox_rows())[-1]
        assert last.status == "dead" and "not delivered" in last.last_error  # the agent sees it

        # a later public note inviting her to DMs: no promise of a DM that cannot come
        again = await x.mention("and my withdrawal?", user_id="5001")
        await x.adapter.send(OutboundMessage(channel="x", conversation=f"tweet:{again}", public=True,
                                             text=kb.message("handoff_public", "en"), invite_private=True))
        said = " ".join(p["text"] for p in thread_under(x.fake, again))
        assert "check your DMs" not in said and "We cannot DM you" in said


async def test_the_bots_general_answer_refused_by_dm_goes_under_the_customers_post():
    rec = Recorder()
    async with XHarness(rec, settings={"contact_url": CHAT}) as x:
        x.customer("5001", "ann")
        post = await x.mention("what are the fees?", user_id="5001")
        x.fake.dm_closed.add("5001")
        reply = dm("5001", "Top-ups are free; withdrawals cost 1 USD.", 9, author="bot")
        reply = OutboundMessage(**{**{f: getattr(reply, f) for f in reply.__dataclass_fields__},
                                   "quick_replies": (QuickReply("Talk to a person", "/human"),)})
        sent = await x.adapter.send(reply)
        [answer] = under(x.fake, post)
        assert answer["text"] == "@ann Top-ups are free; withdrawals cost 1 USD."  # no menu nobody can press
        assert sent.platform_id == answer["id"]
        assert (await x.adapter.send(reply)).platform_id == answer["id"]  # a retry: not again, not by DM
        assert x.fake.count("dm_send") == 1
        # a bot message about this customer (a warning about a secret she sent) is not made public: a note
        with pytest.raises(Undeliverable):
            await x.adapter.send(dm("5001", "You sent what looks like a password; we did not keep it.", 11,
                                    author="bot"))
        note = max(under(x.fake, post), key=lambda p: int(p["id"]))
        assert "password" not in note["text"] and note["text"].startswith("@ann We cannot DM you")
        with pytest.raises(Undeliverable):  # a DM-only customer with no public post: nowhere to say it
            x.customer("5002", "bob")
            x.fake.dm_closed.add("5002")
            await x.adapter.send(dm("5002", "Top-ups are free.", 10, author="bot"))


async def test_a_restart_reads_no_post_per_pending_reply(engine, store, make_dispatcher):
    fake = FakeX()
    users = [str(uid) for uid in range(5001, 5011)]
    posts = {}
    async with XHarness(engine, fake=fake, cursor_store=store) as first:
        for uid in users:
            first.customer(uid, f"customer{uid}")
            posts[uid] = await first.mention("is OKPay safe?", user_id=uid)
    # stopped before anything went out; a new process sends the ten replies
    async with XHarness(engine, fake=fake, cursor_store=store, settings={"rate_per_second": 50}) as second:
        lookups = fake.count("tweet_lookup")
        await make_dispatcher({"x": second.adapter}).drain(timeout=20)
        assert fake.count("tweet_lookup") == lookups == 0
    for uid, post in posts.items():  # each reply addressed to its customer all the same
        [reply] = under(fake, post)
        assert reply["text"].startswith(f"@customer{uid} ")
    # what the channel keeps for this is delivery state: the housekeeping job prunes it
    kept = await store.all(select(Cursor).where(Cursor.channel == "x", Cursor.key.like("by:%")))
    assert len(kept) == 10 and all(c.expires_at is not None for c in kept)
    progress = await store.all(select(Cursor).where(Cursor.channel == "x", Cursor.key.like("sent:%")))
    assert progress and all(c.expires_at is not None for c in progress)
    assert await store.scalar(select(Message).where(Message.direction == "out", Message.platform_id.is_(None))) is None


def test_the_channels_memory_is_bounded():
    memory: Bounded[int, int] = Bounded(3)
    for i in range(10):
        memory.put(i, i)
    assert len(memory) == 3 and memory.get(0) is None and memory.get(9) == 9
