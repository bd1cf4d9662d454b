"""Telegram under faults, end to end: the real `supportbot run` process against the fake Bot API.

What a customer would notice is checked: every message they sent is in the store exactly once and
they got the answer to each of their questions (a reply may come twice after a crash: not asserted
here). The process is SIGKILLed mid-burst, started with the API refusing, and cut off mid-run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from sqlalchemy import select

from core.knowledge import KnowledgeBase
from core.store.tables import Message, Outbox
from tests.fakes.telegram_api import FakeTelegram
from tests.faults.deployments import telegram_deployment
from tests.faults.questions import QUESTIONS
from tests.process import SupportbotProcess, eventually

SECRET = "fault-test_Secret-123"

Sent = dict[int, list[str]]  # chat id -> the questions its customer asked


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(webhook_retry_seconds=0.1, webhook_retry_max_seconds=0.5) as api:
        yield api


@pytest.fixture
def deploy(supportbot: Callable[..., SupportbotProcess]) -> Callable[..., SupportbotProcess]:
    """``deploy(fake, mode)`` -> a not yet started `supportbot run` talking to the fake; killed at teardown."""
    return telegram_deployment(supportbot, SECRET, unpaced=True)


def _burst(fake: FakeTelegram, customers: range, asked: Sent) -> list[dict]:
    """Each customer asks every question once, interleaved across customers, as updates."""
    updates = []
    for question in QUESTIONS:
        for user_id in customers:
            user = fake.user(user_id, f"Customer {user_id}", language_code="en")
            message = fake.message(fake.private_chat(user), user, question)
            updates.append(message)
            asked.setdefault(user_id, []).append(question)
    return updates


async def _deliver_all(fake: FakeTelegram, messages: list[dict]) -> None:
    """Polling: queued at once. Webhook: POSTed with up to 40 at a time, each retried until a 2xx."""
    await asyncio.gather(*(fake.deliver("message", message) for message in messages))


async def _inbound(process: SupportbotProcess) -> list[Message]:
    store = await process.store()
    try:
        return await store.all(select(Message).where(Message.channel == "telegram", Message.direction == "in"))
    finally:
        await store.close()


async def _all_stored_once_and_answered(process: SupportbotProcess, fake: FakeTelegram, kb: KnowledgeBase,
                                        asked: Sent, timeout: float = 20) -> list[Message]:
    expected = Counter(f"{chat}:{n}" for chat, questions in asked.items() for n in range(1, len(questions) + 1))

    async def answered() -> bool:
        for chat, questions in asked.items():
            got = {m.get("text") for m in fake.sent_to(chat)}
            if not all(kb.answer(QUESTIONS[q], "en") in got for q in questions):
                return False
        return True

    await eventually(answered, timeout=timeout, interval=0.2, what="every question answered")
    rows = await _inbound(process)
    assert Counter(r.platform_id for r in rows) == expected  # each message stored, and exactly once
    assert all(r.handled_at is not None for r in rows)
    statuses: Counter[str] = Counter()

    async def all_marked_sent() -> bool:  # a delivery is marked in the store just after the fake has it
        store = await process.store()
        try:
            statuses.clear()
            statuses.update(await store.all(select(Outbox.status)))
        finally:
            await store.close()
        return set(statuses) == {"sent"}

    await eventually(all_marked_sent, timeout=5, interval=0.1, what="every reply marked sent")
    return rows


async def _not_ready_because_of_telegram(process: SupportbotProcess, *states: str) -> dict:
    """/readyz answers 503 naming telegram (in one of ``states``, when given); its body."""
    async def waiting() -> dict | None:
        status, body = await process.readyz()
        state = body["channels"]["telegram"]["state"]
        named = status == 503 and "telegram" in body.get("not_receiving", [])
        return body if named and (not states or state in states) else None

    return await eventually(waiting, timeout=15, what=f"/readyz 503 naming telegram {states or ''}")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_sigkill_mid_burst_loses_no_message(fake, deploy, kb, mode):
    process = deploy(fake, mode)
    await process.astart()
    await process.wait_ready()
    asked: Sent = {}
    first = _burst(fake, range(7001, 7031), asked)  # 30 customers, 150 messages
    delivering = asyncio.create_task(_deliver_all(fake, first))
    await eventually(lambda: len(fake.sent) >= 10, timeout=15, what="the first replies")
    process.kill()
    at_kill = len(await _inbound(process))
    replies_at_kill = len(fake.sent)
    # while it is down, ten more customers write (webhook: refused, Telegram keeps retrying)
    later = _burst(fake, range(7031, 7041), asked)
    more = asyncio.create_task(_deliver_all(fake, later))
    if mode == "webhook":
        await eventually(lambda: 0 in fake.webhook_statuses, timeout=5, what="a refused webhook delivery")
    await process.astart()
    await process.wait_ready()
    await asyncio.wait_for(asyncio.gather(delivering, more), 20)

    rows = await _all_stored_once_and_answered(process, fake, kb, asked)
    assert len(rows) == 200
    print(f"{mode}: {at_kill} stored and {replies_at_kill} replies sent at the kill; "
          f"after the restart all 200 stored once, {len(fake.sent)} replies sent")
    if mode == "webhook":
        assert max(fake.webhook_attempts.values()) > 1  # some were refused while it was down, and came again
    else:
        await eventually(lambda: fake.pending == [], timeout=5, what="every update confirmed")


@pytest.mark.parametrize("how", ["502", "refused"])
async def test_an_api_refusing_at_start_is_reported_and_recovered_by_itself(fake, deploy, kb, how):
    if how == "502":
        fake.fail_next("getMe", 502, count=None)
    else:
        await fake.go_offline()
    process = deploy(fake)
    await process.astart()
    body = await _not_ready_because_of_telegram(process, "retrying")
    assert body["channels"]["telegram"]["error"]
    asked: Sent = {}
    await _deliver_all(fake, _burst(fake, range(7001, 7005), asked))  # Telegram holds them meanwhile
    if how == "502":
        await eventually(lambda: fake.failed("getMe") >= 2, timeout=10, what="a second try at start")
        fake.heal("getMe")
    else:
        await fake.go_online()
    await process.wait_ready(timeout=15)
    await _all_stored_once_and_answered(process, fake, kb, asked)


@pytest.mark.parametrize("how", ["cut", "502"])
async def test_a_connection_cut_mid_run_loses_nothing_sent_meanwhile(fake, deploy, kb, how):
    process = deploy(fake)
    await process.astart()
    await process.wait_ready()
    asked: Sent = {}
    await _deliver_all(fake, _burst(fake, range(7001, 7005), asked))
    await _all_stored_once_and_answered(process, fake, kb, asked)

    if how == "cut":
        await fake.go_offline()
    else:
        fake.fail_next("getUpdates", 502, count=None)
    await _deliver_all(fake, _burst(fake, range(7005, 7013), asked))  # Telegram holds them meanwhile
    await _not_ready_because_of_telegram(process)
    if how == "cut":
        await fake.go_online()
    else:
        await eventually(lambda: fake.failed("getUpdates") >= 3, timeout=10, what="getUpdates failing")
        fake.heal("getUpdates")
    await process.wait_ready(timeout=15)
    await _all_stored_once_and_answered(process, fake, kb, asked)
