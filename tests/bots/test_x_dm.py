"""Direct messages on X: real tweepy AsyncClient against the fake X API v2, the real engine and
dispatcher, the Store as cursor store. What a customer notices: answers and agent replies arrive in
their DM conversation, in their language, once; a restart neither loses nor repeats anything."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bots.x.adapter import DM_CURSOR
from core.store.tables import Message
from tests.contract.harness_x import XHarness
from tests.fakes.x_api import BOT_ID


def dm_texts(fake, user_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["text"] for e in fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-{user_id}"]


async def inbound_count(store) -> int:  # type: ignore[no-untyped-def]
    return await store.scalar(select(func.count()).select_from(Message).where(
        Message.channel == "x", Message.direction == "in"))


async def test_faq_in_english_and_chinese_is_answered_in_the_same_dm(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        x.customer("5002", "lilei")
        x.customer("5003", "chen")
        assert await x.customer_dm("I forgot my password, how do I reset it?", user_id="5001") == "dm:5001"
        await x.customer_dm("忘记密码了怎么办", user_id="5002")
        await x.customer_dm("忘記密碼了怎麼辦", user_id="5003")
        await make_dispatcher({"x": x.adapter}).drain()

        for user, lang in (("5001", "en"), ("5002", "zh-Hans"), ("5003", "zh-Hant")):
            [answer] = dm_texts(x.fake, user)
            assert answer.startswith(kb.answer("login", lang))
            # no buttons on X: the choices after an answer ("did it help?", the way to a person) are numbered lines
            assert re.search(r"\n\n1\. \S.*\n2\. \S.*$", answer)
        # the bot's own DMs come back in GET /2/dm_events; they are not customer messages
        await x.customer_dm("thanks", user_id="5001")
        thread = await store.messages_for_conversation("x", "dm:5001")
        assert [(m.message.direction, m.message.author_kind) for m in thread][:2] == [("in", "customer"),
                                                                                       ("out", "bot")]
        sent_id = next(e["id"] for e in x.fake.bot_dms() if e["dm_conversation_id"] == f"{BOT_ID}-5001")
        assert thread[1].message.platform_id == sent_id
        assert sum(1 for m in thread if m.message.direction == "in") == 2


async def test_handoff_and_the_agents_reply_arrive_in_the_customers_dm(engine, inbox, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        await x.customer_dm("I want to talk to a person", user_id="5001")
        dispatcher = make_dispatcher({"x": x.adapter})
        await dispatcher.drain()
        [ack] = dm_texts(x.fake, "5001")
        row = await store.scalar(select(Message).where(Message.channel == "x", Message.direction == "in"))
        assert row.ticket_id is not None
        assert ack == kb.message("handoff", "en", ticket=row.ticket_id)

        await inbox.reply(row.ticket_id, "Hi Ann, I have reset your login; please try again.")
        await dispatcher.drain()
        # the engine announces the agent first ("... has joined the conversation"), then their reply
        assert dm_texts(x.fake, "5001")[-1] == "Hi Ann, I have reset your login; please try again."
        assert [d.conversation for d in x.delivered()] == ["dm:5001"] * 3
        record = await store.ticket(row.ticket_id)
        assert [m.delivery for m in record.messages if m.message.direction == "out"] == ["sent"] * 3


async def test_rate_limited_send_is_retried_and_delivered_once(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        x.fail_next_sends(429, retry_after=1)
        await x.customer_dm("Is OKPay safe to use?", user_id="5001")
        await make_dispatcher({"x": x.adapter}).drain(timeout=15)
        assert len(dm_texts(x.fake, "5001")) == 1
        assert x.fake.count("dm_send") == 2  # the 429, then the delivery after X's reset time
        [row] = [r for r in await store.outbox_rows()]
        assert row.status == "sent" and row.last_error is None


async def test_dm_refused_by_x_becomes_a_visible_failure_not_a_retry_loop(engine, store, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        await x.customer_dm("Is OKPay safe to use?", user_id="5001")
        x.fake.dm_closed.add("5001")  # the customer stopped accepting DMs
        await make_dispatcher({"x": x.adapter}).drain()
        [row] = await store.outbox_rows()
        assert row.status == "dead" and "cannot send messages" in (row.last_error or "")
        assert x.fake.count("dm_send") == 1


async def test_restart_neither_misses_nor_repeats(engine, store, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as first:
        first.customer("5001", "ann")
        await first.customer_dm("Is OKPay safe to use?", user_id="5001")
        await first.mention("how do I reset my password?", user_id="5001")
        await make_dispatcher({"x": first.adapter}).drain()
        fake = first.fake
    assert await inbound_count(store) == 2
    cursor = await store.get_cursor("x", DM_CURSOR)

    missed = fake.dm("5001", "I forgot my password")  # arrives while the bot is down
    async with XHarness(engine, cursor_store=store, fake=fake) as second:
        await second.until_handed(DM_CURSOR, missed)
        polls = fake.count("dm_events")
        await second._until(lambda: _more(fake, polls), "two more polls")
        await make_dispatcher({"x": second.adapter}).drain()
    assert int(await store.get_cursor("x", DM_CURSOR)) > int(cursor)
    assert await inbound_count(store) == 3  # only the missed one is new
    assert len(dm_texts(fake, "5001")) == 2  # one answer each, none repeated
    posts = fake.bot_posts()  # the public answer's thread, each part once
    assert len(posts) >= 2 and len({p["text"] for p in posts}) == len(posts)


async def _more(fake, polls: int) -> bool:  # type: ignore[no-untyped-def]
    return fake.count("dm_events") >= polls + 2


async def test_first_start_takes_history_as_seen(engine, store):
    from tests.fakes.x_api import FakeX

    fake = FakeX()
    fake.add_user("5001", "ann")
    fake.dm("5001", "an old message from last week")
    async with XHarness(engine, cursor_store=store, fake=fake) as x:
        await x.customer_dm("Is OKPay safe to use?", user_id="5001")
    texts = [m.message.text for m in await store.messages_for_conversation("x", "dm:5001")
             if m.message.direction == "in"]
    assert texts == ["Is OKPay safe to use?"]


async def test_first_start_with_backfill_takes_the_history_the_api_still_has(engine, store):
    """README, X: "on the very first start history is skipped unless `backfill: true`"."""
    from tests.fakes.x_api import FakeX

    fake = FakeX()
    fake.add_user("5001", "ann")
    old = fake.dm("5001", "an old message from last week")
    async with XHarness(engine, cursor_store=store, fake=fake, settings={"backfill": True}) as x:
        await x.until_handed(DM_CURSOR, old)
        await x.customer_dm("Is OKPay safe to use?", user_id="5001")
    texts = [m.message.text for m in await store.messages_for_conversation("x", "dm:5001")
             if m.message.direction == "in"]
    assert texts == ["an old message from last week", "Is OKPay safe to use?"]


async def test_a_replayed_event_is_not_answered_twice(engine, store, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        await x.customer_dm("Is OKPay safe to use?", user_id="5001")
        await x.redeliver_last()  # the cursor went back: the same DM event is handed over again
        await make_dispatcher({"x": x.adapter}).drain()
        assert len(dm_texts(x.fake, "5001")) == 1
        assert await inbound_count(store) == 1


async def test_a_numbered_choice_works_like_a_button(engine, store, kb, make_dispatcher):
    async with XHarness(engine, cursor_store=store) as x:
        x.customer("5001", "ann")
        await x.customer_dm("Is OKPay safe to use?", user_id="5001")
        dispatcher = make_dispatcher({"x": x.adapter})
        await dispatcher.drain()
        [answer] = dm_texts(x.fake, "5001")
        assert re.search(r"\n\n1\. \S.*\n2\. \S.*$", answer)

        await x.customer_dm("2", user_id="5001")  # the customer answers the menu with its number: not solved
        await dispatcher.drain()
        received = await store.all(select(Message).where(Message.direction == "in"))
        [pressed] = [m for m in received if m.raw.get("button")]
        assert pressed.raw["choice"] == 2 and pressed.raw["payload"] == "feedback:unsolved"
        assert pressed.ticket_id is not None and answer.endswith(f"\n2. {pressed.text}")
        assert dm_texts(x.fake, "5001")[1].startswith(kb.message("handoff", "en", ticket=pressed.ticket_id))

        await x.customer_dm("7", user_id="5001")  # no such choice: just text
        assert await store.scalar(select(Message).where(Message.text == "7")) is not None
