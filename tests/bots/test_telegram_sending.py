"""Sending semantics against the fake Bot API, through the real engine, dispatcher and adapter: a long
reply continues where it stopped (after a restart too), a slow Telegram is waited for rather than sent
to twice, a send that may have arrived is marked "may have been sent twice", and a platform failing
for a while gets everything once it recovers, with a flood wait stopping the whole bot."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from telegram import Bot

from core.models import utcnow
from core.store.tables import Cursor, Outbox
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_world import telegram_world, wait_until

QUESTIONS = ["how do I reset my password?", "is OKPay safe?", "how do I verify my identity?"]
LONG = "\n\n".join(f"Step {i}: " + "check the withdrawal address carefully. " * 30 for i in range(1, 11))


async def _ticket(world: Any, store: Any, dispatcher: Any, inbox: Any, user_id: int = 5001) -> tuple[int, int]:
    """A ticket an agent already answered once (the "agent joined" notice is out); (ticket id, messages so far)."""
    fake = world.fake
    user = fake.user(user_id, "Ann")
    message = fake.message(fake.private_chat(user), user, "/human")
    await fake.deliver("message", message)
    row = await world.stored(store, f"{user_id}:{message['message_id']}", until=lambda r: r.ticket_id)
    await inbox.reply(int(row.ticket_id), "Hello Ann, I'm looking into it.")
    await dispatcher.drain()
    return int(row.ticket_id), len(fake.sent_to(user_id))


async def _ask(world: Any, store: Any, customers: range) -> None:
    """Each customer asks one FAQ question in private; returns once all are stored (answers queued)."""
    fake = world.fake
    last = []
    for n, user_id in enumerate(customers):
        user = fake.user(user_id, f"Customer {user_id}")
        message = fake.message(fake.private_chat(user), user, QUESTIONS[n % len(QUESTIONS)])
        await fake.deliver("message", message)
        last.append(f"{user_id}:{message['message_id']}")
    for platform_id in last:
        await world.stored(store, platform_id)


def _sends_per_row(fake: FakeTelegram, rows: list[Outbox]) -> dict[int, int]:
    """How many times the fake accepted each row's text in its chat (the texts in one chat differ)."""
    accepted = Counter((str(m["chat"]["id"]), m.get("text")) for m in fake.sent)
    keys = Counter((r.conversation, r.payload["text"]) for r in rows)
    assert max(keys.values()) == 1, "two rows with the same text in one chat cannot be told apart"
    return {r.id: accepted[(r.conversation, r.payload["text"])] for r in rows}


async def test_a_long_reply_continues_after_a_restart_without_sending_part_one_again(
        engine, inbox, store, make_dispatcher, tmp_path):
    async with FakeTelegram() as fake:
        async with telegram_world(engine, tmp_path, fake=fake, cursor_store=store) as world:
            dispatcher = make_dispatcher({"telegram": world.adapter})
            ticket_id, before = await _ticket(world, store, dispatcher, inbox)
            fake.fail_next("sendMessage", 502, after=1)  # part 1 goes out, part 2 meets a 502
            await inbox.reply(ticket_id, LONG)

            async def tried() -> bool:
                await dispatcher.run_once()  # the chat's 1/s pace may hand the row back once first
                return fake.failed("sendMessage") == 1

            await wait_until(tried, what="part 2 refused")
        # another process (nothing in memory) retries the row
        async with telegram_world(engine, tmp_path, fake=fake, cursor_store=store) as world:
            await make_dispatcher({"telegram": world.adapter}).drain()

        parts = [m["text"] for m in fake.sent_to(5001)][before:]
        assert len(parts) >= 3 and len(set(parts)) == len(parts)  # every part once
        assert " ".join(" ".join(parts).split()) == " ".join(LONG.split())
        row = (await store.outbox_rows())[-1]
        assert row.status == "sent" and not row.uncertain
        [progress] = await store.all(select(Cursor).where(Cursor.key == f"parts:{row.id}"))
        assert progress.expires_at is not None  # delivery state: pruned by housekeeping
        assert timedelta(days=6) < progress.expires_at - utcnow() <= timedelta(days=7)


async def test_a_part_answered_after_the_timeout_is_sent_again_and_the_reply_marked_uncertain(
        engine, inbox, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, cursor_store=store, send_timeout_seconds=0.5) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        ticket_id, before = await _ticket(world, store, dispatcher, inbox)
        fake.answer_late(1.5, count=1, after=1)  # Telegram takes part 2, answers after we gave up
        await inbox.reply(ticket_id, LONG)
        await dispatcher.drain()

        parts = Counter(m["text"] for m in fake.sent_to(5001)[before:])
        assert sorted(parts.values())[-1] == 2 and list(parts.values()).count(2) == 1  # part 2 twice, no other
        assert " ".join(" ".join(parts).split()) == " ".join(LONG.split())
        row = (await store.outbox_rows())[-1]
        assert row.status == "sent" and row.uncertain  # the agent sees "may have been sent twice"


async def test_answers_slower_than_ptbs_default_timeout_are_waited_for_and_sent_once(
        engine, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path) as world:  # the default send_timeout_seconds
        fake = world.fake
        await _ask(world, store, range(5001, 5011))
        fake.answer_late(6.0, count=None)  # PTB's own default gives up after 5 s
        began = time.monotonic()
        await make_dispatcher({"telegram": world.adapter}).drain(timeout=20)
        assert time.monotonic() - began >= 6.0

        rows = await store.outbox_rows()
        assert set(_sends_per_row(fake, rows).values()) == {1}
        assert all(r.status == "sent" and not r.uncertain for r in rows)


async def test_answers_slower_than_the_timeout_are_sent_twice_only_on_rows_marked_uncertain(
        engine, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path, send_timeout_seconds=0.5) as world:
        fake = world.fake
        await _ask(world, store, range(5001, 5011))
        fake.answer_late(1.0, count=5)  # five answers come after the client gave up
        await make_dispatcher({"telegram": world.adapter}).drain(timeout=20)

        rows = await store.outbox_rows()
        sends = _sends_per_row(fake, rows)
        twice = {row_id for row_id, n in sends.items() if n > 1}
        assert len(twice) == 5 and max(sends.values()) == 2
        assert twice == {r.id for r in rows if r.uncertain}  # each duplicate is marked, and only those
        assert all(r.status == "sent" for r in rows)


async def test_a_platform_failing_for_a_while_gets_everything_once_and_a_flood_wait_stops_the_whole_bot(
        engine, store, make_dispatcher, tmp_path):
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        dispatcher = make_dispatcher({"telegram": world.adapter})
        await dispatcher.start()
        try:
            for status in (500, 502):  # a second or so of each, while customers keep writing
                fake.fail_next(None, status, count=None)
                await _ask(world, store, range(5001 + status, 5006 + status))
                await wait_until(lambda status=status: fake.failed("sendMessage") >= (3 if status == 500 else 6),
                                 what=f"sends failing with {status}")
                fake.heal()
            fake.fail_next(None, 429, retry_after=2)  # one flood wait, then Telegram takes everything
            await _ask(world, store, range(6001, 6011))
            await wait_until(lambda: fake.rate_limited == 1, what="the flood wait")
            await wait_until(lambda: len(fake.sent) == 20, timeout=15, what="every answer delivered")
        finally:
            await dispatcher.stop()

        rows = await store.outbox_rows()
        assert set(_sends_per_row(fake, rows).values()) == {1} and not any(r.uncertain for r in rows)
        assert all(r.status == "sent" for r in rows)
        flood_wait_at = next(t for t, name, status in fake.timeline if status == 429)
        after = [t for t, name, status in fake.timeline if name == "sendmessage" and t > flood_wait_at]
        assert after and min(after) - flood_wait_at >= 1.9  # no send to anyone until the wait was over


async def test_the_strict_fake_refuses_a_burst_that_a_paced_sender_never_sees(tmp_path):
    """The fake's flood control is what makes "at most one 429" mean something: a burst is refused."""
    async with FakeTelegram(strict_rate_per_second=30) as fake:
        users = range(7001, 7101)  # 100 at once: a burst even on a machine slow enough to spread them over 2 s
        fake.started.update(users)
        async with Bot(fake.token, base_url=fake.api_base_url + "/bot") as bot:
            results = await asyncio.gather(*(bot.send_message(u, "hi") for u in users), return_exceptions=True)
        assert fake.sent and fake.rate_limited >= 1 and len(fake.sent) + fake.rate_limited == len(users)
        # what the fake promises: no second holds more than 30 accepted sends (a slow client may spread the burst
        # over more than one second, so the count accepted is not the figure to check). ``sent_at`` is taken just
        # after the fake's own clock reading, hence a window a little under a second.
        assert max(sum(t <= u < t + 0.95 for u in fake.sent_at) for t in fake.sent_at) <= 30
        assert all("retry" in str(r).lower() for r in results if isinstance(r, Exception))


async def test_sends_to_one_group_and_to_others_do_not_wait_for_each_other(engine, store, make_dispatcher,
                                                                           tmp_path):
    """A group takes 20 messages a minute; private customers' replies go out meanwhile."""
    async with telegram_world(engine, tmp_path) as world:
        fake = world.fake
        group = fake.group(-1001500600700)
        ann = fake.user(4001, "Ann")
        for question in QUESTIONS:
            await fake.deliver("message", fake.message(group, ann, f"@okpay_support_bot {question}"))
        await wait_until(lambda: store.scalar(select(Outbox.id).where(Outbox.id == 3)), what="group answers queued")
        await _ask(world, store, range(5001, 5011))
        began = time.monotonic()
        await make_dispatcher({"telegram": world.adapter}).drain(timeout=20)

        private = [t for t, m in zip(fake.sent_at, fake.sent, strict=True) if m["chat"]["id"] > 0]
        in_group = [t for t, m in zip(fake.sent_at, fake.sent, strict=True) if m["chat"]["id"] < 0]
        assert len(private) == 10 and len(in_group) == 3
        assert max(private) - began < 2.0  # not behind the group's 3 s gaps
        assert min(b - a for a, b in itertools.pairwise(in_group)) >= 2.9
