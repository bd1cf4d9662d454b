"""Webhook mode: the fake Bot API POSTs updates to our aiohttp route with the secret header.
A forged or malformed request is refused and nothing reaches the store; a retried update is one message;
the 200 means "stored": anything else makes Telegram send the update again."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlalchemy import func, select

from bots.telegram import handover
from bots.telegram.adapter import TelegramAdapter
from core.store.tables import Message
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import (
    WEBHOOK_SECRET,
    DatabaseOutage,
    Recorder,
    settings_for,
    telegram_world,
    wait_until,
)


async def _inbound_count(store) -> int:  # type: ignore[no-untyped-def]
    return await store.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))


async def test_start_registers_the_webhook_with_its_secret_and_updates_are_answered(
    engine, store, kb, make_dispatcher, tmp_path
):
    async with telegram_world(engine, tmp_path, mode="webhook") as world:
        fake = world.fake
        assert fake.webhook == {"url": world.webhook_url, "secret_token": WEBHOOK_SECRET}
        assert world.adapter.health.receiving  # from the moment Telegram knows where to send
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


async def test_when_storing_fails_the_webhook_answers_503_and_telegrams_retry_stores_it_once(
        engine, store, kb, make_dispatcher, tmp_path):
    fake = FakeTelegram(webhook_retry_seconds=0.05, webhook_retry_max_seconds=0.2)
    async with fake, telegram_world(engine, tmp_path, fake=fake, mode="webhook") as world:
        outage = DatabaseOutage(store)
        outage.begin()
        ann = fake.user(5001, "Ann")
        delivery = asyncio.create_task(
            fake.deliver("message", fake.message(fake.private_chat(ann), ann, "how do I reset my password?")))
        await wait_until(lambda: fake.webhook_statuses.count(503) >= 3, what="Telegram retrying")
        assert not delivery.done()  # no 200 yet: Telegram keeps the update
        assert world.adapter.health.state == "trouble"
        outage.end()
        update = await asyncio.wait_for(delivery, 5)
        statuses = fake.webhook_statuses
        assert statuses[-1] == 200 and set(statuses[:-1]) == {503}
        assert fake.webhook_attempts[update["update_id"]] == len(statuses)
        assert await _inbound_count(store) == 1
        assert world.adapter.health.receiving
        await make_dispatcher({"telegram": world.adapter}).drain()
        assert [m["text"] for m in fake.sent_to(5001)] == [kb.answer("login", "en")]
        assert not (tmp_path / "telegram" / "failed-updates").exists()


class Buggy(Recorder):
    async def handle_message(self, message):  # type: ignore[no-untyped-def]
        raise ValueError(f"a bug this message trips over: {message.text!r}")  # as a bug's message may quote it


async def test_a_poison_update_is_kept_on_disk_and_then_acknowledged(tmp_path):
    fake = FakeTelegram(webhook_retry_seconds=0.01, webhook_retry_max_seconds=0.05)
    async with fake, telegram_world(Buggy(), tmp_path, fake=fake, mode="webhook"):
        ann = fake.user(5001, "Ann")
        update = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "boom"))
        assert fake.webhook_statuses == [503] * (handover.POISON_ATTEMPTS - 1) + [200]
        kept = tmp_path / "telegram" / "failed-updates" / f"{update['update_id']}.json"
        assert json.loads(kept.read_text())["message"]["text"] == "boom"


async def test_a_poison_update_is_kept_and_logged_without_the_customers_secrets(
        tmp_path, caplog: pytest.LogCaptureFixture):
    fake = FakeTelegram(webhook_retry_seconds=0.01, webhook_retry_max_seconds=0.05)
    caplog.set_level(logging.INFO)
    async with fake, telegram_world(Buggy(), tmp_path, fake=fake, mode="webhook") as world:
        ann = fake.user(5001, "Ann")
        update = await fake.deliver("message", fake.message(fake.private_chat(ann), ann,
                                                            f"please help, my phrase is {PHRASE}"))
        assert fake.webhook_statuses[-1] == 200
        assert_kept_privately(tmp_path / "telegram" / "failed-updates" / f"{update['update_id']}.json",
                              says="please help")
        assert "a bug this message trips over" in (world.adapter.health.error or "")
        assert PHRASE not in (world.adapter.health.error or "")
    assert "a bug this message trips over" in caplog.text and PHRASE not in caplog.text


PHRASE = "sunset caution fragile clap assault appear decade bean wheat regret cave front"  # a valid one
CARD = "4111 1111 1111 1111"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_kept_privately(kept: Path, *, says: str) -> None:
    """The update is on disk for an operator, with what the customer said, but not their secrets."""
    assert _mode(kept) == 0o600 and _mode(kept.parent) == 0o700
    body = kept.read_text()
    assert says in body and "[redacted: recovery phrase]" in body
    assert "sunset caution" not in body and CARD not in body and "4111111111111111" not in body
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary file left behind


async def test_an_unreadable_update_is_kept_without_the_customers_secrets_and_for_the_bot_only(
        tmp_path, caplog: pytest.LogCaptureFixture):
    """One bad field makes a signed update unreadable (400): kept on disk all the same, the secrets redacted."""
    caplog.set_level(logging.INFO)
    async with telegram_world(Recorder(), tmp_path, mode="webhook") as world:
        fake = world.fake
        eve = fake.user(6001, "Eve")
        odd_date = {"update_id": 502, "message": fake.message(
            fake.private_chat(eve), eve, f"please help: my card {CARD} and {PHRASE}")}
        odd_date["message"]["date"] = "yesterday"
        too_long = {"update_id": 501, "message": fake.message(
            fake.private_chat(eve), eve, f"please help, my seed phrase is {PHRASE} " + "." * 4100)}
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with ClientSession() as http:
            for update in (odd_date, too_long):
                async with http.post(world.webhook_url, data=json.dumps(update), headers=headers) as resp:
                    assert resp.status == 400
                kept = tmp_path / "telegram" / "failed-updates" / f"{update['update_id']}.json"
                assert_kept_privately(kept, says="please help")
                kept.unlink()
    assert PHRASE not in caplog.text and CARD not in caplog.text


async def test_without_a_public_url_the_webhook_is_assumed_set_elsewhere(tmp_path):
    async with FakeTelegram() as fake:
        adapter = TelegramAdapter(settings_for(fake, mode="webhook"), data_dir=tmp_path)
        await adapter.start(Recorder())
        try:
            assert adapter.health.receiving
            assert [m for m, _ in fake.calls] == ["getme"]  # no setWebhook, no getUpdates
        finally:
            await adapter.stop()
        await asyncio.wait_for(adapter.wait_closed(), 1)


async def _raw_post(url: str, secret: bytes, body: bytes) -> int:
    """A POST written byte for byte, so the secret header may hold bytes no HTTP client would send."""
    from yarl import URL

    target = URL(url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        writer.write(b"POST " + target.raw_path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
    return int(status_line.split()[1])


async def test_a_secret_header_with_bytes_that_are_not_ascii_is_refused_not_an_error(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path, mode="webhook") as world:
        fake = world.fake
        mallory = fake.user(6666, "Mallory")
        body = json.dumps({"update_id": 1, "message": fake.message(fake.private_chat(mallory), mallory, "hi")})
        good = WEBHOOK_SECRET.encode()
        for secret in (b"\xff", good + b"\xff", b"\xc3\xa9" + good[2:], "秘密".encode(), b"\xed\xa0\x80"):
            assert await _raw_post(world.webhook_url, secret, body.encode()) == 403, secret
        assert await _raw_post(world.webhook_url, good, body.encode()) == 200  # the same request, rightly signed
        assert await _inbound_count(store) == 1
