"""Public posts on X: mentions answered in public threads, account matters moved to DMs, moderator
escalations. Real tweepy against the fake X API v2, the real engine and dispatcher."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bots.x.text import weighted_length
from core.store.tables import Conversation, Message, Ticket
from tests.contract.harness_x import XHarness
from tests.fakes.x_api import BOT_ID

MARKER = re.compile(r" \((\d+)/(\d+)\)$")
HANDLE = re.compile(r"^@\w+ ")


def replies_under(fake, tweet_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """The bot's thread under a post: first reply, then each part replying to the previous one."""
    out, parent = [], tweet_id
    while True:
        nxt = [t for t in fake.bot_posts() if t.get("referenced_tweets", [{}])[0].get("id") == parent]
        if not nxt:
            return out
        assert len(nxt) == 1, "a part was posted twice"
        out.append(nxt[0])
        parent = nxt[0]["id"]


def unthread(parts: list[dict]) -> str:
    return " ".join(HANDLE.sub("", MARKER.sub("", p["text"])) for p in parts)


async def queued(store, conversation: str) -> str:  # type: ignore[no-untyped-def]
    """The text the engine queued for a place (the answer, plus whatever the engine adds in public)."""
    [row] = [r for r in await store.outbox_rows() if r.conversation == conversation]
    return row.payload["text"]


async def test_public_question_is_answered_in_a_thread_under_the_post(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        x.customer("5002", "lilei")
        en = await x.mention("I forgot my password, how do I reset it?", user_id="5001")
        zh = await x.mention("忘记密码了怎么办", user_id="5002", lang="zh")
        await make_dispatcher({"x": x.adapter}).drain()

        for tweet_id, lang in ((en, "en"), (zh, "zh-Hans")):
            parts = replies_under(x.fake, tweet_id)
            answer = await queued(store, f"tweet:{tweet_id}")
            assert answer.startswith(kb.answer("login", lang))
            assert weighted_length(answer) > 280 and len(parts) >= 2
            assert all(weighted_length(p["text"]) <= 280 for p in parts)
            # every part is addressed to its customer (X refuses identical posts; this is how replies look)
            handle = "@ann " if lang == "en" else "@lilei "
            assert all(p["text"].startswith(handle) for p in parts)
            assert [MARKER.search(p["text"]).groups() for p in parts] == [
                (str(i), str(len(parts))) for i, _ in enumerate(parts, 1)]
            # nothing cut mid-sentence, nothing lost: the parts read as the whole answer
            assert re.sub(r"\s+", "", unthread(parts)) == re.sub(r"\s+", "", answer)
            # buttons do not exist on X and a public thread is no place for them
            assert kb.message("button_human", lang) not in unthread(parts)
        assert x.fake.bot_dms() == []
        stored = await store.messages_for_conversation("x", f"tweet:{en}")
        assert stored[0].message.text == "I forgot my password, how do I reset it?"  # the @handle prefix dropped
        assert stored[1].message.platform_id == replies_under(x.fake, en)[0]["id"]


async def test_account_question_moves_to_dm_with_a_short_public_note(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        text = "my transfer to my friend failed, account 6222 0211 4455, can you check?"
        tweet = await x.mention(text, user_id="5001")
        await make_dispatcher({"x": x.adapter}).drain()

        [note] = replies_under(x.fake, tweet)
        assert note["text"].startswith("@ann " + kb.message("handoff_public", "en"))
        assert note["text"].endswith("Please check your DMs from us.")  # true even if the DM fails
        assert weighted_length(note["text"]) <= 280
        assert all("6222" not in p["text"] and "4455" not in p["text"] for p in x.fake.bot_posts())
        [dm] = [e for e in x.fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-5001"]
        ticket = await store.scalar(select(Ticket))
        assert dm["text"] == kb.message("handoff", "en", ticket=ticket.id)
        assert [d.conversation for d in x.delivered()] == [f"tweet:{tweet}", "dm:5001"]


@pytest.mark.parametrize("moderators", [["mod_jane"], ["@Mod_Jane"], ["7001"]])
async def test_moderator_escalates_a_post_with_its_thread(engine, store, make_dispatcher, moderators):
    async with XHarness(engine, cursor_store=store, settings={"moderators": moderators}) as x:
        x.customer("5001", "ann")
        x.customer("7001", "mod_jane")
        opener = x.fake.post("5001", "OKPay ate my 200 USD withdrawal")
        followup = x.fake.post("5001", "still nothing after 3 days, this is a scam", in_reply_to=opener)
        escalation = await x.mention("#escalate angry customer, withdrawal missing", user_id="7001",
                                     in_reply_to=followup)
        await make_dispatcher({"x": x.adapter}).drain()

        ticket = await store.scalar(select(Ticket))
        assert ticket is not None and ticket.source == "escalation"
        record = await store.ticket(ticket.id)
        texts = record.texts
        assert "OKPay ate my 200 USD withdrawal" in texts  # the context above the target
        assert "still nothing after 3 days, this is a scam" in texts
        assert "angry customer, withdrawal missing" in texts  # the moderator's note
        target = await store.scalar(select(Message).where(Message.platform_id == followup))
        assert target.ticket_id == ticket.id
        home = await store.scalar(select(Conversation).where(Conversation.id == ticket.conversation_id))
        assert home.address == "dm:5001"  # the post's author, not the moderator
        assert any(e.kind == "escalated" for e in record.events)
        # the moderator's confirmation is private; the customer gets the public note + DM of a handoff
        mod_dms = [e["text"] for e in x.fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-7001"]
        assert len(mod_dms) == 1 and f"#{ticket.id}" in mod_dms[0]
        assert all(p["referenced_tweets"][0]["id"] != escalation for p in x.fake.bot_posts())

        await x.redeliver_last()  # the same escalation seen again: no second ticket, no second notice
        await make_dispatcher({"x": x.adapter}).drain()
        assert len(await store.all(select(Ticket))) == 1
        assert len([e for e in x.fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-7001"]) == 1


async def test_a_customers_keyword_reply_is_an_ordinary_mention_not_lost(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store, settings={"moderators": ["mod_jane"]}) as x:
        x.customer("5001", "ann")
        post = await x.mention("my withdrawal is stuck", user_id="5001")
        await make_dispatcher({"x": x.adapter}).drain()
        again = await x.mention("still waiting after 3 days #escalate please", user_id="5001", in_reply_to=post)
        await make_dispatcher({"x": x.adapter}).drain()

        stored = await store.scalar(select(Message).where(Message.platform_id == again))
        assert stored is not None and stored.direction == "in"
        assert stored.text == "still waiting after 3 days #escalate please"
        tickets = await store.all(select(Ticket))
        assert all(t.source != "escalation" for t in tickets)  # not a moderator: no escalation
        # triaged like any mention: a public reply (answer or handoff note) addressed to her, under it
        [first, *_] = replies_under(x.fake, again)
        assert first["text"].startswith("@ann ")


async def test_two_customers_with_the_same_account_question_both_get_note_and_dm(engine, store, kb,
                                                                                  make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        x.customer("5002", "bob")
        ann = await x.mention("my transfer failed, account 6222 0211 4455, can you check?", user_id="5001")
        bob = await x.mention("my withdrawal failed, account 6222 9999 1111, can you check?", user_id="5002")
        await make_dispatcher({"x": x.adapter}).drain()

        assert [row.status for row in await store.outbox_rows()] == ["sent"] * 4
        [ann_note], [bob_note] = replies_under(x.fake, ann), replies_under(x.fake, bob)
        assert ann_note["text"].startswith("@ann ") and bob_note["text"].startswith("@bob ")
        assert HANDLE.sub("", ann_note["text"]) == HANDLE.sub("", bob_note["text"])  # same note, addressed
        dms = {e["dm_conversation_id"] for e in x.fake.bot_dms()}
        assert dms == {f"{BOT_ID}-5001", f"{BOT_ID}-5002"}


async def test_a_thread_interrupted_by_429s_continues_without_repeating(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        x.fake.set_limit("tweets", 1, window=1)  # one post per second: every part after the first waits
        tweet = await x.mention("I forgot my password, how do I reset it?", user_id="5001")
        await make_dispatcher({"x": x.adapter}).drain(timeout=20)

        parts = replies_under(x.fake, tweet)  # asserts no part was posted twice
        assert len(parts) >= 2
        assert re.sub(r"\s+", "", unthread(parts)) == re.sub(r"\s+", "", await queued(store, f"tweet:{tweet}"))
        [row] = await store.outbox_rows()
        assert row.status == "sent"
        stored = await store.scalar(select(Message).where(Message.id == row.message_id))
        assert stored.platform_id == parts[0]["id"]


async def test_escalating_under_the_bots_reply_opens_the_ticket_for_the_customer(engine, store, make_dispatcher):
    async with XHarness(engine, cursor_store=store, settings={"moderators": ["mod_jane"]}) as x:
        x.customer("5001", "ann")
        x.customer("7001", "mod_jane")
        question = await x.mention("Is OKPay safe to use?", user_id="5001")  # answered by the bot
        await make_dispatcher({"x": x.adapter}).drain()
        bot_reply = replies_under(x.fake, question)[0]["id"]
        await x.mention("#escalate she asked twice", user_id="7001", in_reply_to=bot_reply)
        tickets = await store.all(select(Ticket))
        assert len(tickets) == 1
        record = await store.ticket(tickets[0].id)
        assert "Is OKPay safe to use?" in record.texts and "she asked twice" in record.texts
        home = await store.scalar(select(Conversation).where(Conversation.id == tickets[0].conversation_id))
        assert home.address == "dm:5001"
