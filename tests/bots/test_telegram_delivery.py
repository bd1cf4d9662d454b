"""Delivery through the outbox: Telegram's 429 / 5xx / 403 answers, long replies, buttons with long
payloads. Nothing is lost and nothing is sent twice."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bots.telegram.adapter import TelegramAdapter
from core.errors import ConfigError
from core.models import Attachment, AttachmentKind, OutboundMessage, QuickReply, utcnow
from core.store.tables import Outbox
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import Recorder, settings_for, telegram_world, wait_until


async def _open_ticket(world, store, dispatcher, inbox, user_id: int = 5001) -> int:  # type: ignore[no-untyped-def]
    """A ticket the customer opened and an agent already answered once (the "agent joined" notice is out)."""
    fake = world.fake
    user = fake.user(user_id, "Ann")
    message = fake.message(fake.private_chat(user), user, "/human")
    await fake.deliver("message", message)
    row = await world.stored(store, f"{user_id}:{message['message_id']}", until=lambda r: r.ticket_id)
    await inbox.reply(row.ticket_id, "Hello Ann, I'm looking into it.")
    await dispatcher.drain()
    return row.ticket_id


async def test_a_429_is_waited_out_and_the_reply_is_delivered_exactly_once(engine, inbox, store, make_dispatcher,
                                                                           tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        ticket_id = await _open_ticket(world, store, dispatcher, inbox)
        fake.fail_next("sendMessage", 429, retry_after=1)
        await inbox.reply(ticket_id, "We found your transfer; it arrives today.")
        await dispatcher.drain()

        texts = [m["text"] for m in fake.sent_to(5001)]
        assert texts.count("We found your transfer; it arrives today.") == 1
        attempts = [p for m, p in fake.calls if m == "sendmessage" and p["text"].startswith("We found")]
        assert len(attempts) == 2
        row = (await store.outbox_rows())[-1]
        assert row.status == "sent" and row.last_error is None


async def test_a_long_reply_is_split_and_a_429_midway_sends_no_part_twice(engine, inbox, store, make_dispatcher,
                                                                         tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        ticket_id = await _open_ticket(world, store, dispatcher, inbox)
        paragraphs = [f"Step {i}: " + "check the withdrawal address carefully. " * 30 for i in range(1, 11)]
        fake.fail_next("sendMessage", 429, retry_after=1, after=1)  # the second part hits the flood limit
        before = len(fake.sent_to(5001))
        await inbox.reply(ticket_id, "\n\n".join(paragraphs))
        await dispatcher.drain()

        parts = [m["text"] for m in fake.sent_to(5001)][before:]
        assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
        assert len(set(parts)) == len(parts)
        assert " ".join(" ".join(parts).split()) == " ".join(" ".join(paragraphs).split())


async def test_blocked_chat_is_undeliverable_and_a_server_error_is_retried(engine, inbox, store, make_dispatcher,
                                                                          tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        ticket_id = await _open_ticket(world, store, dispatcher, inbox)
        fake.fail_next("sendMessage", 500)
        await inbox.reply(ticket_id, "first reply")
        await dispatcher.drain()
        fake.blocked_chats.add(5001)
        await inbox.reply(ticket_id, "second reply")
        await dispatcher.drain()

        assert [m["text"] for m in fake.sent_to(5001)][-1] == "first reply"
        rows = {r.payload["text"]: r for r in await store.outbox_rows()}
        assert rows["first reply"].status == "sent" and rows["first reply"].attempts == 2
        assert rows["second reply"].status == "dead"
        assert "blocked by the user" in rows["second reply"].last_error


async def test_a_long_button_payload_travels_as_a_hash_and_comes_back_whole(store, tmp_path):
    payload = "faq:" + "transaction-failed/" * 5  # over Telegram's 64-byte callback_data limit
    recorder = Recorder()
    fake = FakeTelegram()
    async with fake:
        user = fake.user(5001, "Ann")
        fake.message(fake.private_chat(user), user, "hi")
        sender = TelegramAdapter(settings_for(fake), data_dir=tmp_path, cursor_store=store)
        reply = OutboundMessage("telegram", "5001", "Pick one", quick_replies=(QuickReply("Failed", payload),),
                                outbox_id=1)
        sent = await sender.send(reply)  # a dispatcher-only process: send() without start()
        await sender.stop()
        shown = fake.messages[(5001, int(sent.platform_id.split(":")[1]))]
        data = shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert len(data.encode()) <= 64 and data != payload

        async with telegram_world(recorder, tmp_path, fake=fake, cursor_store=store):  # a restarted receiver
            await fake.deliver("callback_query", fake.callback_query(user, shown, data))
            [press] = await wait_until(lambda: recorder.messages, what="the press")
        assert press.text == payload and press.raw["button"] is True
        assert press.conversation == "5001" and press.platform_id.startswith("cb:")


async def test_group_chats_get_the_group_rate_and_private_chats_the_default(tmp_path):
    async with FakeTelegram() as fake:
        adapter = TelegramAdapter(settings_for(fake, group_messages_per_minute=20), data_dir=tmp_path)
        assert adapter.conversation_rate("-1001500600700") == 20 / 60
        assert adapter.conversation_rate("-1001500600700:77") == 20 / 60
        assert adapter.conversation_rate("5001") is None
        await adapter.stop()


async def test_a_reply_for_a_forum_topic_goes_into_that_topic(engine, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        fake.group(-1001500600700, forum=True)
        sent = await world.adapter.send(OutboundMessage("telegram", "-1001500600700:77", "hello topic"))
        [message] = fake.sent_to(-1001500600700)
        assert message["message_thread_id"] == 77
        assert sent.platform_id == f"-1001500600700:{message['message_id']}"


async def test_an_agents_file_is_uploaded_after_the_text(engine, tmp_path):
    form = tmp_path / "refund-form.pdf"
    form.write_bytes(b"%PDF-1.7 refund form")
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        fake.message(fake.private_chat(ann), ann, "hi")
        attachment = Attachment(AttachmentKind.DOCUMENT, ref="", name="refund-form.pdf", local_path=str(form))
        sent = await world.adapter.send(OutboundMessage("telegram", "5001", "Please fill in this form.",
                                                        attachments=(attachment,)))
        text, document = fake.sent_to(5001)
        assert text["text"] == "Please fill in this form." and sent.platform_id == f"5001:{text['message_id']}"
        assert document["document"]["file_size"] == len(b"%PDF-1.7 refund form")


async def test_a_rejected_token_is_a_config_error_that_does_not_quote_the_token(tmp_path):
    async with FakeTelegram() as fake:
        adapter = TelegramAdapter(settings_for(fake, token="999:wrong-token-value"), data_dir=tmp_path)
        with pytest.raises(ConfigError) as caught:
            await adapter.start(Recorder())
        assert "wrong-token-value" not in str(caught.value) and caught.value.__cause__ is None
        await adapter.stop()


async def _due_now(store) -> None:  # type: ignore[no-untyped-def]
    """The operator fixed the credentials; skip the wait instead of sleeping five minutes."""
    async with store.transaction() as session:
        await session.execute(update(Outbox).where(Outbox.status == "failed").values(next_attempt_at=utcnow()))


@pytest.mark.parametrize("status", [401, 404])
async def test_a_revoked_token_keeps_the_reply_queued_until_the_credentials_work(
        engine, inbox, store, make_dispatcher, tmp_path, status):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        ticket_id = await _open_ticket(world, store, dispatcher, inbox)
        fake.fail_next("sendMessage", status, description="Unauthorized" if status == 401 else "Not Found")
        await inbox.reply(ticket_id, "Your refund was approved.")

        async def attempted():  # type: ignore[no-untyped-def]
            await dispatcher.run_once()  # the chat's 1/s pace may hand the row back once before it is tried
            row = (await store.outbox_rows())[-1]
            return row if row.attempts else None

        row = await wait_until(attempted, what="the reply tried once")
        assert row.status == "failed" and "rejected the bot token" in row.last_error
        assert (row.next_attempt_at - utcnow()).total_seconds() > 250  # waits for an operator, not dead
        assert fake.token not in row.last_error

        await _due_now(store)
        await dispatcher.drain()
        assert [m["text"] for m in fake.sent_to(5001)][-1] == "Your refund was approved."
        assert (await store.outbox_rows())[-1].status == "sent"
