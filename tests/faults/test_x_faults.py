"""X under faults, end to end: the real `supportbot run` process polling the fake X API v2.

What a customer would notice is checked: every DM and every mention is in the store exactly once,
each DM question got its answer by DM and each mention a reply under it (after a crash a reply may
go out twice: not asserted here). The process is SIGKILLed mid-burst, and X fails for a while mid-run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select

from core.knowledge import KnowledgeBase
from core.store.tables import Message, Outbox
from tests.fakes.x_api import BOT_HANDLE, BOT_ID, FakeX
from tests.faults import deployments
from tests.faults.questions import asking
from tests.process import SupportbotProcess, eventually

QUESTIONS = asking("login", "contact", "security")


class Asked:
    """What the customers wrote: DM questions per user, and their mentions."""

    def __init__(self) -> None:
        self.dms: dict[str, list[tuple[str, str]]] = {}  # user id -> [(event id, question)]
        self.mentions: dict[str, str] = {}  # tweet id -> author id

    @property
    def ids(self) -> list[str]:
        return [e for events in self.dms.values() for e, _ in events] + list(self.mentions)


@pytest.fixture
def deploy(supportbot: Callable[..., SupportbotProcess]) -> Callable[[FakeX, str], SupportbotProcess]:
    def make(api: FakeX, url: str) -> SupportbotProcess:
        return supportbot(deployments.config(deployments.x(url)), deployments.x_env(api))

    return make


def _customers(api: FakeX, ids: range) -> None:
    for uid in ids:
        api.add_user(str(uid), f"customer{uid}", f"Customer {uid}")


def _write(api: FakeX, asked: Asked, uid: int, question: str, *, mention: bool) -> None:
    user = str(uid)
    if mention:
        asked.mentions[api.post(user, f"@{BOT_HANDLE} {question}")] = user
    else:
        asked.dms.setdefault(user, []).append((api.dm(user, question), question))


async def _burst(api: FakeX, asked: Asked, users: range, *, waves: int, pause: float) -> None:
    """Customers keep writing: each wave, every user sends one DM; in the first of every three, a mention too."""
    questions = list(QUESTIONS)
    for wave in range(waves):
        for uid in users:
            _write(api, asked, uid, questions[wave % len(questions)], mention=False)
        if wave % 3 == 0:
            for uid in users:  # never the same question twice in public: X refuses a repeated identical reply
                earlier = sum(1 for author in asked.mentions.values() if author == str(uid))
                _write(api, asked, uid, questions[(uid + earlier) % len(questions)], mention=True)
        await asyncio.sleep(pause)


async def _inbound(process: SupportbotProcess) -> list[Message]:
    store = await process.store()
    try:
        return await store.all(select(Message).where(Message.channel == "x", Message.direction == "in"))
    finally:
        await store.close()


def _replies_under(api: FakeX) -> set[str]:
    return {p["referenced_tweets"][0]["id"] for p in api.bot_posts() if p.get("referenced_tweets")}


async def _all_stored_once_and_answered(process: SupportbotProcess, api: FakeX, kb: KnowledgeBase,
                                        asked: Asked, timeout: float = 20) -> list[Message]:
    def unanswered() -> list[str]:
        dms: dict[str, list[str]] = {}
        for event in api.bot_dms():
            other = next(p for p in event["participant_ids"] if p != BOT_ID)
            dms.setdefault(other, []).append(event["text"])
        missing = [f"DM {e} from {user}: {q}" for user, events in asked.dms.items() for e, q in events
                   if not any(text.startswith(kb.answer(QUESTIONS[q], "en")) for text in dms.get(user, []))]
        missing += [f"DMs to {user}: {len(dms.get(user, []))} for {len(events)}" for user, events in asked.dms.items()
                    if len(dms.get(user, [])) < len(events)]
        return missing + [f"mention {t}" for t in sorted(set(asked.mentions) - _replies_under(api))]

    try:
        await eventually(lambda: not unanswered(), timeout=timeout, interval=0.2, what="every DM and mention answered")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}: {unanswered()[:10]}\n{process.stderr()[-3000:]}") from None
    rows = await _inbound(process)
    assert Counter(r.platform_id for r in rows) == Counter(asked.ids)  # each stored, and exactly once
    assert all(r.handled_at is not None for r in rows)

    async def statuses() -> Counter[str]:
        store = await process.store()
        try:
            return Counter(await store.all(select(Outbox.status)))
        finally:
            await store.close()

    async def all_recorded() -> bool:  # X has them; the dispatcher records each right after X's answer
        return set(await statuses()) == {"sent"}

    try:
        await eventually(all_recorded, timeout=5, interval=0.1, what="every reply recorded as sent")
    except TimeoutError:
        raise AssertionError(await statuses()) from None
    return rows


async def test_a_sigkill_mid_burst_loses_no_dm_and_no_mention(x_fake, deploy, kb):
    api, url = x_fake
    _customers(api, range(5001, 5021))
    process = deploy(api, url)
    await process.astart()
    await process.wait_ready()
    asked = Asked()
    # 20 customers: 3 DMs each (60) and 20 mentions, written over ~1.5 s
    writing = asyncio.create_task(_burst(api, asked, range(5001, 5021), waves=3, pause=0.5))
    await eventually(lambda: len(api.bot_dms()) >= 10, timeout=15, what="the first answers")
    process.kill()
    at_kill, replies_at_kill = len(await _inbound(process)), len(api.bot_dms()) + len(api.bot_posts())
    await writing  # the rest arrives while the bot is down
    total = len(asked.ids)
    assert total == 80 and 0 < at_kill < total  # killed mid-burst: some stored, some not
    await process.astart()
    await process.wait_ready()
    rows = await _all_stored_once_and_answered(process, api, kb, asked)
    print(f"\nx: {at_kill} of {total} stored and {replies_at_kill} replies out at the kill; after the restart "
          f"{len(rows)} stored once, {len(api.bot_dms())} DMs and {len(api.bot_posts())} posts sent")


async def test_x_failing_for_a_while_mid_run_loses_nothing_written_meanwhile(x_fake, deploy, kb):
    api, url = x_fake
    _customers(api, range(5001, 5011))
    process = deploy(api, url)
    await process.astart()
    await process.wait_ready()
    asked = Asked()
    await _burst(api, asked, range(5001, 5004), waves=1, pause=0)
    await _all_stored_once_and_answered(process, api, kb, asked)

    api.outage(3.0, status=503)  # every call, polls and sends alike
    await _burst(api, asked, range(5001, 5011), waves=3, pause=0.3)  # 30 DMs and 10 mentions meanwhile

    async def in_trouble() -> dict | None:
        status, body = await process.readyz()
        return body if status == 503 and body["channels"]["x"]["state"] == "trouble" else None

    body = await eventually(in_trouble, timeout=3, interval=0.05, what="/readyz 503 with x in trouble")
    assert "503" in body["channels"]["x"]["error"]
    await process.wait_ready(timeout=20)
    await _all_stored_once_and_answered(process, api, kb, asked)
