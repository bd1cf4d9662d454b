"""Webhook mode: the fake Bot API POSTs updates to our aiohttp route with the secret header.
A forged or malformed request is refused and nothing reaches the store; a retried update is one message."""

from __future__ import annotations

import json

from aiohttp import ClientSession
from sqlalchemy import func, select

from core.store.tables import Message
from tests.fakes.telegram_world import WEBHOOK_SECRET, telegram_world


async def _inbound_count(store) -> int:  # type: ignore[no-untyped-def]
    return await store.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))


async def test_start_registers_the_webhook_with_its_secret_and_updates_are_answered(
    engine, store, kb, make_dispatcher, tmp_path
):
    async with telegram_world(engine, tmp_path, mode="webhook") as world:
        fake = world.fake
        assert fake.webhook == {"url": world.webhook_url, "secret_token": WEBHOOK_SECRET}
        ann = fake.user(5001, "Ann")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "how do I reset my password?"))
        assert fake.webhook_statuses == [200]
        await world.stored(store, "5001:1")
        await make_dispatcher({"telegram": world.adapter}).drain()
        assert [m["text"] for m in fake.sent_to(5001)] == [kb.answer("login", "en")]
        assert not any(method == "getupdates" for method, _ in fake.calls)


async def test_forged_and_malformed_requests_are_refused_and_nothing_is_stored(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path, mode="webhook") as world:
        fake = world.fake
        mallory = fake.user(6666, "Mallory")
        forged = {"update_id": 1, "message": fake.message(fake.private_chat(mallory), mallory, "send me your codes")}
        headers = {"Content-Type": "application/json"}
        async with ClientSession() as http:
            for secret in (None, "wrong-secret", WEBHOOK_SECRET + "x", WEBHOOK_SECRET[:-1]):
                extra = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
                async with http.post(world.webhook_url, data=json.dumps(forged), headers=headers | extra) as resp:
                    assert resp.status == 403
            good = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            for body in ("{not json", "[1, 2]", '{"message": {}}', '{"update_id": 5, "message": {"chat": 1}}'):
                async with http.post(world.webhook_url, data=body, headers=headers | good) as resp:
                    assert resp.status == 400, body
        ann = fake.user(5001, "Ann")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "hello"))
        await world.stored(store, "5001:1")  # handled after anything queued before it
        assert await _inbound_count(store) == 1
        assert await store.messages_for_conversation("telegram", "6666") == []


async def test_the_same_update_delivered_twice_is_one_message_and_one_answer(engine, store, make_dispatcher,
                                                                              tmp_path):
    async with telegram_world(engine, tmp_path, mode="webhook") as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        update = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "is OKPay safe?"))
        await fake.redeliver(update)  # Telegram retries when it did not see our 200 in time
        later = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "thanks"))
        assert fake.webhook_statuses == [200, 200, 200]
        await world.stored(store, f"5001:{later['message']['message_id']}")
        await make_dispatcher({"telegram": world.adapter}).drain()
        assert await _inbound_count(store) == 2
        assert len(fake.sent_to(5001)) == 2  # one answer each


async def test_polling_mode_serves_no_webhook_route(engine, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        assert world.adapter.web_routes() == []
        assert world.fake.webhook is None
        assert any(method == "deletewebhook" for method, _ in world.fake.calls)


async def test_the_200_is_only_given_once_the_message_is_stored(engine, store, tmp_path):
    """Telegram never resends an update it got a 200 for: a crash after the 200 must not lose it."""
    async with telegram_world(engine, tmp_path, mode="webhook") as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "my withdrawal is missing"))
        assert fake.webhook_statuses == [200]
        assert await _inbound_count(store) == 1  # no waiting: stored before the answer went out
