"""Discord under faults, end to end: the real `supportbot run` process against the fake Discord
(gateway and REST) running in the test's loop, pointed at it by ``api_base_url`` only, as a
deployment behind a proxy would be.

What a customer would notice is checked: every DM they sent is in the store exactly once and each
question got its answer. Every customer has written to the bot before the fault: a DM channel the
bot never saw cannot be read back (Discord has no "list my DM channels" for bots; see the README).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from core.knowledge import KnowledgeBase
from core.store.tables import Message, Outbox
from tests.fakes.discord_api import FakeDiscord
from tests.faults import deployments
from tests.faults.questions import QUESTIONS
from tests.process import SupportbotProcess, eventually

TOKEN = "fault-test.discord-token"


class Asked:
    """What each customer wrote: DM ids, and the questions among them."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.questions: dict[str, list[str]] = {}  # user id -> questions

    async def dm(self, fake: FakeDiscord, user: dict[str, Any], text: str) -> None:
        msg = await fake.user_dm(user, text)
        self.ids.append(msg["id"])
        if text in QUESTIONS:
            self.questions.setdefault(user["id"], []).append(text)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    api = FakeDiscord(token=TOKEN)
    await api.start()
    yield api
    await api.close()


@pytest.fixture
def deploy(supportbot: Callable[..., SupportbotProcess]) -> Callable[..., SupportbotProcess]:
    """``deploy(fake, gateway_url=False)`` -> a not yet started `supportbot run`; killed at teardown."""
    def make(fake: FakeDiscord, gateway_url: bool = False) -> SupportbotProcess:
        block = deployments.discord(fake.rest_base, gateway_url=fake.gateway_url if gateway_url else None, unpaced=True)
        return supportbot(deployments.config(block), {"DISCORD_BOT_TOKEN": TOKEN})

    return make


async def _inbound(process: SupportbotProcess) -> list[Message]:
    store = await process.store()
    try:
        return await store.all(select(Message).where(Message.channel == "discord", Message.direction == "in"))
    finally:
        await store.close()


async def _customers_known(process: SupportbotProcess, fake: FakeDiscord, count: int) -> list[dict[str, Any]]:
    """``count`` customers say hello and the bot has stored it (and so knows their DM channels)."""
    users = [fake.add_user(f"customer{i}") for i in range(count)]
    asked = Asked()
    for user in users:
        await asked.dm(fake, user, "hi")
    await eventually(_count(process, count), timeout=15, what="every hello stored")
    await eventually(_drained(process), timeout=15, what="the greetings sent")
    return users


def _count(process: SupportbotProcess, count: int) -> Callable[[], Any]:
    async def check() -> bool:
        return len(await _inbound(process)) >= count
    return check


def _drained(process: SupportbotProcess) -> Callable[[], Any]:
    async def check() -> bool:
        store = await process.store()
        try:
            statuses = set(await store.all(select(Outbox.status)))
        finally:
            await store.close()
        return statuses <= {"sent"}
    return check


async def _all_stored_once_and_answered(process: SupportbotProcess, fake: FakeDiscord, kb: KnowledgeBase,
                                        asked: Asked, before: int, timeout: float = 20) -> None:
    async def answered() -> bool:
        for user_id, questions in asked.questions.items():
            channel = fake.dm_channel(user_id)["id"]
            got = {m["content"] for m in fake.sent if m["channel_id"] == channel}
            if not all(kb.answer(QUESTIONS[q], "en") in got for q in questions):
                return False
        return True

    await eventually(answered, timeout=timeout, interval=0.2, what="every question answered")
    rows = await _inbound(process)
    counts = Counter(r.platform_id for r in rows)
    assert all(counts[i] == 1 for i in asked.ids)  # each DM stored, and exactly once
    assert len(rows) == before + len(asked.ids)
    assert all(r.handled_at is not None for r in rows)
    await eventually(_drained(process), timeout=10, what="every reply sent")


async def _not_ready_because_of_discord(process: SupportbotProcess, *states: str) -> dict:
    async def waiting() -> dict | None:
        status, body = await process.readyz()
        state = body["channels"]["discord"]["state"]
        named = status == 503 and "discord" in body.get("not_receiving", [])
        return body if named and (not states or state in states) else None

    return await eventually(waiting, timeout=15, interval=0.05, what=f"/readyz 503 naming discord {states}")


async def test_a_sigkill_mid_burst_loses_no_dm(fake, deploy, kb):
    process = deploy(fake)
    await process.astart()
    await process.wait_ready()
    users = await _customers_known(process, fake, 25)
    asked = Asked()

    async def burst() -> None:  # 4 questions x 25 customers, interleaved, over ~2 s
        for question in list(QUESTIONS)[:4]:
            for user in users:
                await asked.dm(fake, user, question)
                await asyncio.sleep(0.02)

    sending = asyncio.create_task(burst())
    replies_before = len(fake.sent)
    await eventually(lambda: len(fake.sent) >= replies_before + 10, timeout=15, what="the first answers")
    process.kill()
    at_kill = len(await _inbound(process)) - 25
    await sending  # the rest of the burst reaches no one: no session
    for user in users[:10]:  # and some write again while it is down
        await asked.dm(fake, user, "what is OKPay?")
    await process.astart()
    await process.wait_ready()
    await _all_stored_once_and_answered(process, fake, kb, asked, before=25)
    print(f"{at_kill} of {len(asked.ids)} DMs stored at the kill; all stored once and answered after the restart")
    assert at_kill < len(asked.ids)  # the kill did interrupt the burst


@pytest.mark.parametrize("fault", ["refused", "op9"])
async def test_a_lost_session_loses_no_dm(fake, deploy, kb, fault):
    """The gateway refuses connections for 3 s (discord.py cannot resume and identifies afresh), or
    sends op 9: what customers wrote meanwhile is never replayed; the backfill reads it back."""
    process = deploy(fake, gateway_url=True)
    await process.astart()
    await process.wait_ready()
    users = await _customers_known(process, fake, 10)
    asked = Asked()
    if fault == "refused":
        await fake.refuse_for(3.0)
        await _not_ready_because_of_discord(process, "trouble")
    else:
        await fake.invalidate()
    for question in list(QUESTIONS)[:2]:
        for user in users:
            await asked.dm(fake, user, question)
    assert len(fake.identifies) == 1  # all of it written before the new session
    await process.wait_ready(timeout=15)
    await _all_stored_once_and_answered(process, fake, kb, asked, before=10)
    assert len(fake.identifies) == 2 and fake.history_reads


@pytest.mark.parametrize("fault", ["gateway_bot", "4004"])
async def test_a_channel_that_cannot_connect_is_named_and_recovers_by_itself(fake, deploy, kb, fault):
    """GET /gateway/bot failing at start (after a deploy), or a close 4004 (the token was reset)
    until the token is good again: /readyz names discord meanwhile, then it receives by itself and
    reads back what customers wrote in between."""
    process = deploy(fake)
    await process.astart()
    await process.wait_ready()
    users = await _customers_known(process, fake, 5)
    asked = Asked()
    if fault == "gateway_bot":
        assert await process.aterminate() == 0
        fake.fail_gateway_bot_for(600)  # until /readyz has said so: a slow start must not outlast the outage
        for user in users:
            await asked.dm(fake, user, "how do I reset my password?")
        await process.astart()
        body = await _not_ready_because_of_discord(process, "retrying", "starting")
        await eventually(lambda: _error_of(process, "gateway/bot"), timeout=10, what="the reason on /readyz")
        fake.fail_gateway_bot_for(0)  # Discord is back
    else:
        fake.token = "reset-in-the-developer-portal"
        await fake.drop(code=4004)
        body = await _not_ready_because_of_discord(process, "retrying")
        assert "token" in body["channels"]["discord"]["error"]
        for user in users:
            await asked.dm(fake, user, "how do I reset my password?")
        await asyncio.sleep(2.0)
        fake.token = TOKEN  # the operator put the right token back (Discord accepts it again)
    await process.wait_ready(timeout=25)
    await _all_stored_once_and_answered(process, fake, kb, asked, before=5)


async def _error_of(process: SupportbotProcess, words: str) -> bool:
    _status, body = await process.readyz()
    return words in (body["channels"]["discord"].get("error") or "")
