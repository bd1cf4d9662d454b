"""Private chats with the bot: real python-telegram-bot against the fake Bot API, the real engine,
the real dispatcher. What a customer would notice: answers arrive in their chat, in their language."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bots.telegram.escalation import USAGE_PRIVATE
from core.store.tables import Message
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import Recorder, telegram_world, wait_until


async def _decision(store, platform_id: str) -> dict:  # type: ignore[no-untyped-def]
    row = await store.scalar(select(Message).where(Message.channel == "telegram", Message.platform_id == platform_id))
    return row.decision


async def test_faq_questions_are_answered_in_english_and_chinese(engine, store, kb, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann", language_code="en")
        li = fake.user(5002, "李", last_name="雷", language_code="zh-hans")
        question = "I forgot my password, how do I reset it?"
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, question))
        await fake.deliver("message", fake.message(fake.private_chat(li), li, "忘记密码了怎么办"))
        await world.stored(store, "5001:1")
        await world.stored(store, "5002:1")
        await make_dispatcher({"telegram": world.adapter}).drain()

        en, zh = fake.sent_to(5001), fake.sent_to(5002)
        assert len(en) == 1 and len(zh) == 1
        assert (await _decision(store, "5001:1"))["faq_id"] == "login"
        assert (await _decision(store, "5002:1"))["faq_id"] == "login"
        assert en[0]["text"] == kb.answer("login", "en")
        assert zh[0]["text"] == kb.answer("login", "zh-Hans")
        # every answer asks whether it helped, as inline buttons; "not solved" leads to a person
        assert [row[0]["callback_data"] for row in zh[0]["reply_markup"]["inline_keyboard"]] == [
            "feedback:solved", "feedback:unsolved"]
        # the store knows the bot's own message by its Telegram identity (echo guard)
        stored = await store.messages_for_conversation("telegram", "5002")
        assert [m.message.platform_id for m in stored] == ["5002:1", f"5002:{zh[0]['message_id']}"]


@pytest.mark.parametrize(("language_code", "lang"), [("en", "en"), ("zh-hans", "zh-Hans")])
async def test_start_greets_lists_topics_as_buttons_and_a_press_is_answered(
    engine, store, kb, make_dispatcher, tmp_path, language_code, lang
):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        li = fake.user(5002, "Li", language_code=language_code)
        await fake.deliver("message", fake.message(fake.private_chat(li), li, "/start"))
        row = await world.stored(store, "5002:1")
        assert row.text == "/start" and row.raw["command"] == "start"
        dispatcher = make_dispatcher({"telegram": world.adapter})
        await dispatcher.drain()

        [greeting] = fake.sent_to(5002)
        assert greeting["text"] == kb.message("greeting", lang)
        buttons = [row[0] for row in greeting["reply_markup"]["inline_keyboard"]]
        assert [b["text"] for b in buttons[:-1]] == [title for _, title in kb.topics(lang)]
        assert {b["callback_data"] for b in buttons} >= {"faq:login", "/human"}

        press = fake.callback_query(li, greeting, "faq:login")
        await fake.deliver("callback_query", press)
        row = await world.stored(store, f"cb:{press['id']}")
        label = next(b["text"] for b in buttons if b["callback_data"] == "faq:login")
        assert (row.text, row.raw["payload"], row.raw["button"]) == (label, "faq:login", True)  # what they saw
        await dispatcher.drain()

        assert fake.sent_to(5002)[-1]["text"] == kb.answer("login", lang)
        assert [a["callback_query_id"] for a in fake.callback_answers] == [press["id"]]


async def test_handoff_then_the_agents_reply_reaches_the_same_chat(engine, inbox, store, kb, make_dispatcher,
                                                                     tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann", language_code="en")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "/human"))
        row = await world.stored(store, "5001:1")
        dispatcher = make_dispatcher({"telegram": world.adapter})
        await dispatcher.drain()
        ticket_id = (await store.scalar(select(Message).where(Message.id == row.id))).ticket_id
        assert ticket_id is not None
        assert fake.sent_to(5001)[-1]["text"] == kb.message("handoff", "en", ticket=ticket_id)

        await inbox.reply(ticket_id, "Hi Ann, I've unlocked your account. Please try again.")
        await dispatcher.drain()
        assert fake.sent_to(5001)[-1]["text"] == "Hi Ann, I've unlocked your account. Please try again."
        record = await store.ticket(ticket_id)
        assert [m.delivery for m in record.messages if m.message.author_kind == "agent"] == ["sent"]


async def test_attachments_reach_the_ticket_and_small_files_are_downloaded(engine, store, make_dispatcher,
                                                                            tmp_path):
    fake = FakeTelegram()
    async with fake, telegram_world(engine, tmp_path, fake=fake, max_download_bytes=10_000) as world:
        ann = fake.user(5001, "Ann", language_code="en")
        chat = fake.private_chat(ann)
        await fake.deliver("message", fake.message(chat, ann, "/human"))
        await world.stored(store, "5001:1")
        screenshot = b"\x89PNG fake screenshot bytes" * 10
        small_id, small_unique = fake.add_file(screenshot, folder="photos")
        thumb_id, thumb_unique = fake.add_file(b"tiny", folder="photos")
        big_id, big_unique = fake.add_file(b"%PDF-1.7 ...", size=5_000_000)
        photo = [
            {"file_id": thumb_id, "file_unique_id": thumb_unique, "width": 90, "height": 60, "file_size": 4},
            {"file_id": small_id, "file_unique_id": small_unique, "width": 1280, "height": 853,
             "file_size": len(screenshot)},
        ]
        await fake.deliver("message", fake.message(chat, ann, caption="transfer failed, see screenshot", photo=photo))
        document = {"file_id": big_id, "file_unique_id": big_unique, "file_name": "statement.pdf",
                    "mime_type": "application/pdf", "file_size": 5_000_000}
        await fake.deliver("message", fake.message(chat, ann, document=document))
        await world.stored(store, "5001:3")

        shot_row = await world.stored(store, "5001:2")
        ticket = await store.ticket(shot_row.ticket_id)
        by_id = {m.message.platform_id: m.message for m in ticket.messages}
        [image] = by_id["5001:2"].attachments
        assert by_id["5001:2"].text == "transfer failed, see screenshot"
        assert image["ref"] == small_id and image["kind"] == "image"
        assert _read(image["local_path"]) == screenshot
        assert Path(image["local_path"]) == tmp_path / "telegram" / small_unique
        [pdf] = by_id["5001:3"].attachments
        assert pdf["name"] == "statement.pdf" and pdf["size"] == 5_000_000 and pdf["local_path"] is None
        assert not (tmp_path / "telegram" / big_unique).exists()


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


async def test_an_edit_is_reflected_on_the_stored_message(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        original = fake.message(fake.private_chat(ann), ann, "my transfer 1234 is late")
        await fake.deliver("message", original)
        await world.stored(store, "5001:1")
        edited = {**original, "text": "my transfer 12345 is late", "edit_date": original["date"] + 30}
        await fake.deliver("edited_message", edited)

        async def edited() -> bool:
            row = await store.scalar(select(Message).where(Message.platform_id == "5001:1"))
            return row.text == "my transfer 12345 is late" and row.edited_at is not None

        await wait_until(edited, what="the edit stored")


async def test_an_edit_of_a_message_never_seen_is_stored_and_answered_as_a_new_one(engine, store, make_dispatcher,
                                                                                    tmp_path):
    """Telegram sends an edit of a message the bot never received (sent while it was away, or a group message
    edited to mention it): the edited text is the customer's message; dropping it would lose it."""
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        unseen = fake.message(fake.private_chat(ann), ann, "hi")
        edited = {**unseen, "text": "How do I verify my identity?", "edit_date": unseen["date"] + 30}
        await fake.deliver("edited_message", edited)
        row = await world.stored(store, "5001:1")
        assert row.text == "How do I verify my identity?"
        await make_dispatcher({"telegram": world.adapter}).drain()
        [answer] = fake.sent_to(5001)
        assert "verif" in answer["text"].lower()  # the identity-verification answer


async def test_a_polling_restart_does_not_fetch_old_updates_again(engine, store, make_dispatcher, tmp_path):
    fake = FakeTelegram()
    async with fake:
        ann = fake.user(5001, "Ann")
        chat = fake.private_chat(ann)
        async with telegram_world(engine, tmp_path, fake=fake) as world:
            first = await fake.deliver("message", fake.message(chat, ann, "hello, how do I verify my identity?"))
            await world.stored(store, "5001:1")
        async with telegram_world(engine, tmp_path, fake=fake) as world:
            second = await fake.deliver("message", fake.message(chat, ann, "and how long does the review take?"))
            await world.stored(store, "5001:2")
            await make_dispatcher({"telegram": world.adapter}).drain()
        assert fake.served.count(first["update_id"]) == 1
        assert fake.served.count(second["update_id"]) == 1
        inbound = [m for m in await store.messages_for_conversation("telegram", "5001") if m.message.direction == "in"]
        assert [m.message.platform_id for m in inbound] == ["5001:1", "5001:2"]
        assert len(fake.sent_to(5001)) == 2  # one answer each, none repeated


async def test_escalate_in_a_private_chat_explains_where_it_works(tmp_path):
    recorder = Recorder()
    async with telegram_world(recorder, tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "/escalate"))
        [usage] = await wait_until(lambda: fake.sent_to(5001), what="the usage notice")
        assert usage["text"] == USAGE_PRIVATE
        assert recorder.messages == [] and recorder.escalations == []
