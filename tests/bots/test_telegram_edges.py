"""Telegram's edge cases end to end (real engine, inbox, dispatcher, PTB; the fake Bot API): a group
upgraded to a supergroup keeps its conversation and gets its replies, a private reply Telegram refuses
becomes a public note that says only that an answer waits, and the adapter's memory stays bounded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from telegram import Bot

from bots.telegram.adapter import TelegramAdapter
from bots.telegram.escalation import ModeratorCheck
from bots.telegram.outbound import WORDS, answer_waiting
from core.models import OutboundMessage, QuickReply, utcnow
from core.store.tables import Cursor, Message
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import settings_for, telegram_world

GROUP = -4001234567  # a basic group ...
SUPERGROUP = -1004001234567  # ... and the supergroup it becomes
PUBLIC = -1001500600700


async def _conversation_of(store, platform_id: str) -> str:  # type: ignore[no-untyped-def]
    from core.store.tables import Conversation

    row = await store.scalar(select(Conversation.address).join(Message, Message.conversation_id == Conversation.id)
                             .where(Message.channel == "telegram", Message.platform_id == platform_id))
    return str(row)


async def test_a_group_upgraded_to_a_supergroup_gets_its_reply_and_stays_one_conversation(
        engine, store, kb, make_dispatcher, tmp_path):
    async with FakeTelegram() as fake:
        async with telegram_world(engine, tmp_path, fake=fake, cursor_store=store) as world:
            group = fake.group(GROUP, "OKPay Chat")
            ann = fake.user(5001, "Ann")
            asked = fake.message(group, ann, "@okpay_support_bot how do I reset my password?")
            await fake.deliver("message", asked)
            await world.stored(store, f"{GROUP}:{asked['message_id']}")
            fake.migrate(GROUP, SUPERGROUP, by=ann)  # upgraded before the answer went out
            dispatcher = make_dispatcher({"telegram": world.adapter})
            await dispatcher.drain()

            [answer] = fake.sent_to(SUPERGROUP)  # resent there at once
            assert answer["text"].startswith(kb.answer("login", "en"))  # (a public answer adds a safety line)
            assert fake.failed("sendMessage") == 1 and (await store.outbox_rows())[-1].status == "sent"
            # the customer goes on in the supergroup: same conversation, and the answer goes straight there
            again = fake.message(fake.chat(SUPERGROUP), ann, "@okpay_support_bot is OKPay safe?")
            await fake.deliver("message", again)
            await world.stored(store, f"{SUPERGROUP}:{again['message_id']}")
            await dispatcher.drain()
            assert await _conversation_of(store, f"{SUPERGROUP}:{again['message_id']}") == str(GROUP)
            answer = fake.sent_to(SUPERGROUP)[-1]
            assert answer["text"].startswith(kb.answer("security", "en"))
            assert answer["reply_to_message"]["message_id"] == again["message_id"]
            assert fake.failed("sendMessage") == 1  # no second ChatMigrated

        # a restarted process (nothing in memory) still knows the move, both ways, from the store
        async with telegram_world(engine, tmp_path, fake=fake, cursor_store=store) as world:
            await world.adapter.send(OutboundMessage("telegram", str(GROUP), "still here"))
            assert fake.sent_to(SUPERGROUP)[-1]["text"] == "still here" and fake.failed("sendMessage") == 1
            later = fake.message(fake.chat(SUPERGROUP), ann, "@okpay_support_bot thanks")
            await fake.deliver("message", later)
            await world.stored(store, f"{SUPERGROUP}:{later['message_id']}")
            assert await _conversation_of(store, f"{SUPERGROUP}:{later['message_id']}") == str(GROUP)
        moves = {c.key: c for c in await store.all(select(Cursor).where(Cursor.key.like("moved-%")))}
        assert moves[f"moved-to:{GROUP}"].value == str(SUPERGROUP) and moves[f"moved-to:{GROUP}"].expires_at is None
        assert moves[f"moved-from:{SUPERGROUP}"].value == str(GROUP)


async def test_an_upgrade_seen_as_a_service_message_is_followed_without_a_refused_send(
        engine, store, kb, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        group = fake.group(GROUP, "OKPay Chat")
        ann = fake.user(5001, "Ann")
        first = fake.message(group, ann, "@okpay_support_bot what is OKPay?")
        await fake.deliver("message", first)
        await world.stored(store, f"{GROUP}:{first['message_id']}")
        dispatcher = make_dispatcher({"telegram": world.adapter})
        await dispatcher.drain()
        left, arrived = fake.migrate(GROUP, SUPERGROUP, by=ann)
        await fake.deliver("message", left)
        await fake.deliver("message", arrived)
        asked = fake.message(fake.chat(SUPERGROUP), ann, "@okpay_support_bot how do I verify my identity?")
        await fake.deliver("message", asked)
        await world.stored(store, f"{SUPERGROUP}:{asked['message_id']}")
        await dispatcher.drain()

        assert await _conversation_of(store, f"{SUPERGROUP}:{asked['message_id']}") == str(GROUP)
        [answer] = fake.sent_to(SUPERGROUP)
        assert answer["text"].startswith(kb.answer("verification", "en"))
        assert fake.failed("sendMessage") == 0
        stored = await store.messages_for_conversation("telegram", str(GROUP))
        assert sorted(m.message.author_kind for m in stored) == ["bot", "bot", "customer", "customer"]


async def _group_ticket(world, store, dispatcher, user: dict) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    """The customer asks for a person in the public group (never having opened the bot): a ticket."""
    fake = world.fake
    asked = fake.message(fake.group(PUBLIC, "OKPay Community"), user, "/human my withdrawal is stuck")
    await fake.deliver("message", asked)
    row = await world.stored(store, f"{PUBLIC}:{asked['message_id']}", until=lambda r: r.ticket_id)
    await dispatcher.drain()
    return int(row.ticket_id), asked


async def test_a_private_reply_refused_becomes_a_public_note_that_tells_nothing_private(
        engine, inbox, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        ann = fake.user(5001, "Ann", username="ann_w")
        ticket_id, asked = await _group_ticket(world, store, dispatcher, ann)
        notes_before = len(fake.sent_to(PUBLIC))
        secret = "Your withdrawal 0x9f3c to address bc1q-ann was returned; the account ends in 4411."
        message_id = await inbox.reply(ticket_id, secret)
        await dispatcher.drain()

        assert fake.sent_to(5001) == []  # Telegram refused every private message: she never opened the bot
        [note] = fake.sent_to(PUBLIC)[notes_before:]
        assert "@ann_w" in note["text"] and "answer" in note["text"]
        assert "0x9f3c" not in note["text"] and "4411" not in note["text"]
        assert note["reply_to_message"]["message_id"] == asked["message_id"]
        [[button]] = note["reply_markup"]["inline_keyboard"]
        assert button["url"] == f"https://t.me/okpay_support_bot?start=ticket-{ticket_id}"
        rows = await store.outbox_rows()
        row = next(r for r in rows if r.message_id == message_id)
        assert row.status == "sent" and row.noted_publicly  # the reply itself is owed until they open the chat
        joined = next(r for r in rows if r.id == row.id - 1)  # "an agent has joined": refused too, the same note
        assert joined.status == "sent" and joined.noted_publicly
        sent = await store.scalar(select(Message).where(Message.id == message_id))
        assert sent.platform_id is None  # the note's id is not the reply's

        # Ann taps the button: the private chat opens with /start ticket-N, and what she is owed arrives there
        opened = fake.message(fake.private_chat(ann), ann, f"/start ticket-{ticket_id}")
        await fake.deliver("message", opened)
        await world.stored(store, f"5001:{opened['message_id']}")
        await dispatcher.drain()
        texts = [m["text"] for m in fake.sent_to(5001)]
        assert texts.count(secret) == 1 and texts.index(secret) > 0  # after the joined notice, once
        assert len(fake.sent_to(PUBLIC)) == notes_before + 1  # no further note


async def test_a_blocked_customer_gets_the_note_and_without_a_public_place_the_reply_is_undeliverable(
        engine, inbox, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        bo = fake.user(5002, "Bo")  # no username: a text mention
        ticket_id, _ = await _group_ticket(world, store, dispatcher, bo)
        fake.started.add(5002)
        fake.blocked_chats.add(5002)
        await inbox.reply(ticket_id, "We refunded the fee.")
        cy = fake.user(5003, "Cy")  # writes only in private, then blocks the bot
        await fake.deliver("message", fake.message(fake.private_chat(cy), cy, "/human"))
        await world.stored(store, "5003:1", until=lambda r: r.ticket_id)
        await dispatcher.drain()
        fake.blocked_chats.add(5003)
        cy_ticket = (await world.stored(store, "5003:1")).ticket_id
        await inbox.reply(cy_ticket, "Your card is on its way.")
        await dispatcher.drain()

        note = fake.sent_to(PUBLIC)[-1]
        assert "We refunded" not in note["text"] and "answer" in note["text"]
        assert note["text"].startswith('<a href="tg://user?id=5002">')  # a text mention (the fake keeps the HTML)
        [call] = [p for m, p in fake.calls if m == "sendmessage" and p["text"] == note["text"]]
        assert call["parse_mode"] == "HTML"
        rows = {r.payload["text"]: r for r in await store.outbox_rows()}
        assert rows["We refunded the fee."].status == "sent"
        assert rows["Your card is on its way."].status == "dead"
        assert "blocked" in rows["Your card is on its way."].last_error


def test_the_public_note_mentions_a_customer_without_a_username_by_id():
    reply = OutboundMessage("telegram", "5002", "secret text", meta={"ticket_id": 7})
    text, markup = answer_waiting(reply, {"conversation": str(PUBLIC), "user_id": "5002", "handle": None}, "bot")
    assert text.startswith('<a href="tg://user?id=5002">') and "secret" not in text
    assert markup.inline_keyboard[0][0].url == "https://t.me/bot?start=ticket-7"
    text, _ = answer_waiting(reply, {"conversation": str(PUBLIC), "handle": "<b>x"}, "bot")
    assert text.startswith("@&lt;b&gt;x")  # escaped: a handle is never markup


async def test_caches_are_bounded_and_delivery_state_expires(store, tmp_path):
    async with FakeTelegram() as fake:
        for chat in (-1, -2, -3):
            fake.group(chat, admins=[9000])
        async with Bot(fake.token, base_url=fake.api_base_url + "/bot") as bot:
            moderators = ModeratorCheck(bot, set(), ttl=300, chats=2)
            for chat in (-1, -2, -3, -3, -2, -1):
                assert await moderators.admins(chat) == {9000}
        asked = [p["chat_id"] for m, p in fake.calls if m == "getchatadministrators"]
        assert asked == ["-1", "-2", "-3", "-1"]  # -3 and -2 were remembered, -1 had been forgotten

        fake.started.add(5001)
        adapter = TelegramAdapter(settings_for(fake), data_dir=tmp_path, cursor_store=store)
        await adapter.send(OutboundMessage("telegram", "5001", "Pick one", outbox_id=1,
                                           quick_replies=(QuickReply("Failed", "faq:" + "x" * 80),)))
        await adapter.stop()
        [button] = await store.all(select(Cursor).where(Cursor.key.like("callback:%")))
        assert button.expires_at is not None
        assert timedelta(days=29) < button.expires_at - utcnow() <= timedelta(days=30)


async def test_the_public_note_speaks_the_customers_language(engine, inbox, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        notes = {}
        for user_id, text in ((5011, "/human 我的提现一直没有到账"), (5012, "/human 我的提現一直沒有到帳，請幫忙")):
            user = fake.user(user_id, "李", username=f"li_{user_id}", language_code=None)
            asked = fake.message(fake.group(PUBLIC, "OKPay Community"), user, text)
            await fake.deliver("message", asked)
            row = await world.stored(store, f"{PUBLIC}:{asked['message_id']}", until=lambda r: r.ticket_id)
            await dispatcher.drain()
            before = len(fake.sent_to(PUBLIC))
            await inbox.reply(int(row.ticket_id), "已退回")
            await dispatcher.drain()
            [notes[user_id]] = fake.sent_to(PUBLIC)[before:]
        assert notes[5011]["text"] == f"@li_5011 {WORDS['zh-Hans']['waiting'].format(mention='')[1:]}"
        assert "请点击下方按钮" in notes[5011]["text"] and "請點" in notes[5012]["text"]
        assert notes[5012]["reply_markup"]["inline_keyboard"][0][0]["text"] == "💬 私聊繼續"


def test_the_public_note_follows_the_language_it_is_given_and_defaults_to_english():
    place = {"conversation": str(PUBLIC), "handle": "ann"}
    texts = {lang: answer_waiting(OutboundMessage("telegram", "5002", "x", meta={"lang": lang}), place, "bot")
             for lang in ("en", "zh-Hans", "zh-Hant", None, "fr")}
    assert texts["en"][0].startswith("@ann 👋 An answer") and texts[None][0] == texts["fr"][0] == texts["en"][0]
    assert "客服已回复你" in texts["zh-Hans"][0] and "客服已回覆你" in texts["zh-Hant"][0]
    assert [t[1].inline_keyboard[0][0].text for t in texts.values()] == [
        "💬 Continue privately", "💬 私聊继续", "💬 私聊繼續", "💬 Continue privately", "💬 Continue privately"]
