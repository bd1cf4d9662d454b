"""Polling with our own getUpdates loop: Telegram keeps an update until a later offset confirms it,
and we confirm only what the engine stored. Real PTB against the fake Bot API, the real engine and
store; the database fails for real (statements refused at the driver), not a stand-in."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import ClientSession
from sqlalchemy import func, select

from bots.base import ChannelHealth
from bots.telegram import handover, polling
from bots.telegram.adapter import TelegramAdapter
from core.errors import ConfigError, StorageError
from core.store.tables import Message
from tests.bots.test_telegram_webhook import PHRASE, assert_kept_privately
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import DatabaseOutage, Recorder, settings_for, telegram_world, wait_until

QUESTION = "how do I reset my password?"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test-sized pauses between retries (production: 0.5 s doubling to 10 s); retry_after is still honoured."""
    monkeypatch.setattr(polling, "BACKOFF_SECONDS", (0.05, 0.4))


def _states(health: ChannelHealth) -> list[str]:
    seen: list[str] = []
    health.listen(lambda h: seen.append(h.state) if not seen or seen[-1] != h.state else None)
    return seen


async def _inbound(store) -> list[str]:  # type: ignore[no-untyped-def]
    return await store.all(select(Message.platform_id).where(Message.direction == "in").order_by(Message.id))


async def test_updates_stay_with_telegram_until_the_database_takes_them(engine, store, kb, make_dispatcher,
                                                                         tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake, adapter = world.fake, world.adapter
        await wait_until(lambda: adapter.health.receiving, what="the first getUpdates")
        customers = [fake.user(5001 + i, f"Customer {i}") for i in range(5)]
        outage = DatabaseOutage(store)
        outage.begin()
        updates = [await fake.deliver("message", fake.message(fake.private_chat(c), c, QUESTION)) for c in customers]
        ids = [u["update_id"] for u in updates]
        # the bot fetched them, could not store them, and asked again from the same offset
        await wait_until(lambda: all(fake.served.count(i) >= 3 for i in ids), what="the batch fetched again")
        assert sorted(fake.pending) == ids  # Telegram still holds every one of them
        assert adapter.health.state == "trouble" and "not stored" in (adapter.health.error or "")

        outage.end()
        await wait_until(lambda: fake.pending == [], what="the stored batch confirmed")
        assert sorted(await _inbound(store)) == sorted(f"{c['id']}:1" for c in customers)  # each once
        assert adapter.health.receiving
        await make_dispatcher({"telegram": adapter}).drain()
        for customer in customers:
            assert [m["text"] for m in fake.sent_to(customer["id"])] == [kb.answer("login", "en")]
        assert not (tmp_path / "telegram" / "failed-updates").exists()  # a storage failure is no dead letter


async def test_a_stop_while_the_database_is_down_confirms_nothing_and_a_restart_stores_it(
        engine, store, tmp_path):
    fake = FakeTelegram()
    async with fake:
        ann = fake.user(5001, "Ann")
        outage = DatabaseOutage(store)
        async with telegram_world(engine, tmp_path, fake=fake) as world:
            outage.begin()
            update = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, QUESTION))
            await wait_until(lambda: fake.served.count(update["update_id"]) >= 2, what="the failed handover")
        assert fake.pending == [update["update_id"]]  # the stop confirmed nothing that was not stored
        outage.end()
        async with telegram_world(engine, tmp_path, fake=fake) as world:
            await world.stored(store, "5001:1")
            await wait_until(lambda: fake.pending == [], what="the update confirmed")
        assert await _inbound(store) == ["5001:1"]


class Buggy(Recorder):
    """An engine with a bug that one message trips over, every time (not a storage failure)."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.inner = inner
        self.tries = 0

    async def handle_message(self, message):  # type: ignore[no-untyped-def]
        if message.text.startswith("boom"):
            self.tries += 1
            raise ValueError("a bug the message trips over")
        return await self.inner.handle_message(message)


async def test_a_poison_update_is_kept_on_disk_and_the_bot_moves_on(engine, store, tmp_path):
    buggy = Buggy(engine)
    async with telegram_world(buggy, tmp_path) as world:
        fake = world.fake
        ann, bob = fake.user(5001, "Ann"), fake.user(5002, "Bob")
        poison = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "boom"))
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, QUESTION))
        await fake.deliver("message", fake.message(fake.private_chat(bob), bob, QUESTION))
        kept = tmp_path / "telegram" / "failed-updates" / f"{poison['update_id']}.json"
        await world.stored(store, "5001:2", timeout=10)  # after the poison, in the same chat
        await world.stored(store, "5002:1")
        assert json.loads(kept.read_text())["message"]["text"] == "boom"
        assert buggy.tries == handover.POISON_ATTEMPTS
        await wait_until(lambda: fake.pending == [], what="everything confirmed")
        assert world.adapter.health.receiving


async def test_a_poison_update_is_kept_without_the_customers_secrets_for_the_bot_only(engine, tmp_path):
    async with telegram_world(Buggy(engine), tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        said = f"boom, my phrase is {PHRASE}"
        poison = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, said))
        await wait_until(lambda: fake.pending == [], what="the poison update confirmed", timeout=10)
        assert_kept_privately(tmp_path / "telegram" / "failed-updates" / f"{poison['update_id']}.json", says="boom")


async def test_a_storage_error_is_never_written_off_as_poison(tmp_path):
    class DatabaseDown(Recorder):
        async def handle_message(self, message):  # type: ignore[no-untyped-def]
            raise StorageError("database is unreachable")

    async with telegram_world(DatabaseDown(), tmp_path) as world:
        fake = world.fake
        ann = fake.user(5001, "Ann")
        update = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, "my code is late"))
        await wait_until(lambda: fake.served.count(update["update_id"]) > handover.POISON_ATTEMPTS + 1,
                         what="many failed handovers")
        assert fake.pending == [update["update_id"]]
        assert not (tmp_path / "telegram" / "failed-updates").exists()


async def test_messages_of_one_chat_are_stored_in_order_while_chats_go_side_by_side(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        ann, bob = fake.user(5001, "Ann"), fake.user(5002, "Bob")
        for n in range(1, 6):
            await fake.deliver("message", fake.message(fake.private_chat(ann), ann, f"ann {n}"))
            await fake.deliver("message", fake.message(fake.private_chat(bob), bob, f"bob {n}"))
        await world.stored(store, "5001:5")
        await world.stored(store, "5002:5")
        order = await _inbound(store)
        assert [p for p in order if p.startswith("5001:")] == [f"5001:{n}" for n in range(1, 6)]
        assert [p for p in order if p.startswith("5002:")] == [f"5002:{n}" for n in range(1, 6)]


async def test_5xx_and_429_on_get_updates_are_ridden_out(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake, adapter = world.fake, world.adapter
        await wait_until(lambda: adapter.health.receiving, what="the first getUpdates")
        states = _states(adapter.health)
        fake.fail_next("getUpdates", 502, count=2)
        fake.fail_next("getUpdates", 500)
        fake.fail_next("getUpdates", 429, retry_after=1)
        await wait_until(lambda: fake.failed("getUpdates") == 4, what="the failures served")
        ann = fake.user(5001, "Ann")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, QUESTION))
        await world.stored(store, "5001:1", timeout=10)
        limited = next(t for t, m, status in fake.timeline if m == "getupdates" and status == 429)
        after = next(t for t, m, _ in fake.timeline if m == "getupdates" and t > limited)
        assert after - limited >= 0.95  # retry_after honoured
        assert states[:2] == ["trouble", "receiving"] and adapter.health.receiving
        assert "rate limited" in (adapter.health.error or "")


async def test_a_connection_cut_is_ridden_out_and_what_came_meanwhile_is_stored(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake, adapter = world.fake, world.adapter
        await wait_until(lambda: adapter.health.receiving, what="the first getUpdates")
        await fake.go_offline()
        await wait_until(lambda: adapter.health.state == "trouble", what="the cut noticed")
        ann = fake.user(5001, "Ann")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, QUESTION))
        await fake.go_online()
        await world.stored(store, "5001:1", timeout=10)
        await wait_until(lambda: adapter.health.receiving, what="receiving again")


async def test_409_from_another_poller_or_a_webhook_is_ridden_out(engine, store, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake, adapter = world.fake, world.adapter
        await wait_until(lambda: adapter.health.receiving, what="the first getUpdates")
        api = f"{fake.api_base_url}/bot{fake.token}"
        async with ClientSession() as http:
            # a second instance of the bot polls once: Telegram ends our long poll with 409
            async with http.post(f"{api}/getUpdates", data={"timeout": "1"}) as resp:
                assert resp.status in (200, 409)
            # someone sets a webhook: getUpdates answers 409 until it is deleted again
            async with http.post(f"{api}/setWebhook", data={"url": "https://example.com/hook"}) as resp:
                assert resp.status == 200
            await wait_until(lambda: "conflict" in (adapter.health.error or "") and not adapter.health.receiving,
                             what="the conflict reported")
            async with http.post(f"{api}/deleteWebhook") as resp:
                assert resp.status == 200
        ann = fake.user(5001, "Ann")
        await fake.deliver("message", fake.message(fake.private_chat(ann), ann, QUESTION))
        await world.stored(store, "5001:1", timeout=10)
        await wait_until(lambda: adapter.health.receiving, what="receiving again")
        assert fake.failed("getUpdates") >= 2


@pytest.mark.parametrize("how", ["revoked", "forbidden"])
async def test_a_revoked_token_ends_receiving_and_wait_closed_raises(tmp_path, how):
    async with FakeTelegram() as fake:
        adapter = TelegramAdapter(settings_for(fake), data_dir=tmp_path)
        await adapter.start(Recorder())
        secret = fake.token
        if how == "revoked":
            fake.token = "123456789:AAnotherTokenAfterRevoke_zyxwvutsrqp"  # every call with the old one: 401
        else:
            fake.fail_next("getUpdates", 403, description="Forbidden: bot was deleted")
        with pytest.raises(ConfigError) as caught:
            await asyncio.wait_for(adapter.wait_closed(), 10)
        assert "rejected" in str(caught.value) and secret not in str(caught.value)
        assert adapter.health.state == "trouble"
        await adapter.stop()
        await adapter.stop()  # idempotent
        await asyncio.wait_for(adapter.wait_closed(), 1)  # after stop(): returns


async def test_stop_ends_a_long_poll_at_once_and_wait_closed_returns(tmp_path):
    async with FakeTelegram(max_long_poll=30) as fake:
        adapter = TelegramAdapter(settings_for(fake, poll_timeout_seconds=30), data_dir=tmp_path)
        await adapter.start(Recorder())
        await wait_until(lambda: adapter.health.receiving, what="the long poll")
        waiting = asyncio.create_task(adapter.wait_closed())
        began = time.monotonic()
        await adapter.stop()
        assert time.monotonic() - began < 2
        await asyncio.wait_for(waiting, 1)
        await adapter.stop()


async def test_the_polling_bot_deletes_a_webhook_but_keeps_what_is_pending(engine, store, tmp_path):
    async with FakeTelegram() as fake:
        ann = fake.user(5001, "Ann")
        early = await fake.deliver("message", fake.message(fake.private_chat(ann), ann, QUESTION))
        fake.webhook = {"url": "https://example.com/old-hook", "secret_token": None}
        async with telegram_world(engine, tmp_path, fake=fake) as world:
            await world.stored(store, "5001:1")
        delete = next(params for method, params in fake.calls if method == "deletewebhook")
        assert delete.get("drop_pending_updates") in (None, "False", "false")
        assert fake.webhook is None and fake.served.count(early["update_id"]) == 1
        count = await store.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
        assert count == 1


async def test_an_update_nothing_can_read_is_kept_on_disk_and_the_batch_goes_on(engine, store, tmp_path):
    """PTB's get_updates fails the whole batch on one update it cannot read: the same batch came back forever and
    nothing behind it was stored. Each update is read on its own now."""
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        ann, bo = fake.user(5001, "Ann"), fake.user(5002, "Bo")
        broken = fake.message(fake.private_chat(ann), ann, "hello")
        del broken["message_id"]  # not a message any reader can identify
        poison = {"update_id": 700_001, "message": broken}
        await fake.redeliver(poison)
        later = await fake.deliver("message", fake.message(fake.private_chat(bo), bo, QUESTION))
        await world.stored(store, f"5002:{later['message']['message_id']}")
        await wait_until(lambda: not fake.pending, what="both confirmed to Telegram")
        kept = tmp_path / "telegram" / "failed-updates" / "700001.json"
        assert json.loads(kept.read_text())["message"]["text"] == "hello"
        assert await _inbound(store) == [f"5002:{later['message']['message_id']}"]
        assert world.adapter.health.receiving
