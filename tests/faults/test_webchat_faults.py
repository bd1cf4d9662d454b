"""The website chat under a crash, end to end: the real `supportbot run` process and visitors on real WebSockets.

Each visitor is a `ChatPage` (tests/contract/harness_webchat.py), which speaks the page's protocol:
a message stays pending until the server acks it (after storing it), and after a reconnect the
pending ones are sent again, in order, with the same ids. What a visitor would notice is checked:
every message is stored exactly once and gets its answer once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from sqlalchemy import func, select

from core.knowledge import KnowledgeBase
from core.store.tables import Message, Outbox
from tests.contract.harness_webchat import ChatPage
from tests.faults import deployments
from tests.faults.questions import QUESTIONS
from tests.process import SupportbotProcess, eventually

CONFIG = deployments.config()  # the website chat is on by default
VISITORS, MESSAGES = 20, 10


async def _type(page: ChatPage, asked: list[str]) -> None:
    """A visitor asks ten questions, one every ~0.15 s, whether or not the server is there."""
    questions = list(QUESTIONS)
    for n in range(MESSAGES):
        asked.append(await page.say(questions[n % len(questions)]))
        await asyncio.sleep(0.15)


async def test_a_sigkill_mid_burst_loses_no_chat_message_and_answers_each_once(
        supportbot: Callable[..., SupportbotProcess], kb: KnowledgeBase) -> None:
    process = supportbot(CONFIG)
    await process.astart()
    await process.wait_ready()
    pages = [ChatPage(process.url) for _ in range(VISITORS)]
    asked: dict[ChatPage, list[str]] = {page: [] for page in pages}
    try:
        for page in pages:
            await page.open()
        typing = asyncio.gather(*(_type(page, asked[page]) for page in pages))
        await eventually(lambda: sum(len(p.acks) for p in pages) >= 40, timeout=15, what="the first acks")
        process.kill()
        acked_at_kill = sum(len(p.acks) for p in pages)
        await process.astart()  # the pages reconnect by themselves and resend what was not acked
        await asyncio.wait_for(typing, 20)
        total = VISITORS * MESSAGES
        assert 0 < acked_at_kill < total  # killed mid-burst

        def done() -> bool:
            return all(not p.pending and len(p.replies) >= MESSAGES for p in pages)

        await eventually(done, timeout=20, interval=0.2, what="every message acked and answered")
        await asyncio.sleep(0.5)  # a reply pushed twice would have arrived by now (frames carry the message id)
        for page in pages:
            assert page.confirmed == set(asked[page])  # each shown as sent: acked, or stored per the history
            expected = Counter(kb.answer(QUESTIONS[q], "en") for q in list(QUESTIONS) * 2)
            assert Counter(r["text"] for r in page.replies.values()) == expected  # each answered once
    finally:
        for page in pages:
            await page.close()

    store = await process.store()
    try:
        rows = await store.all(select(Message).where(Message.channel == "webchat", Message.direction == "in"))
        replies = await store.scalar(select(func.count()).select_from(Message).where(
            Message.channel == "webchat", Message.direction == "out"))
        statuses = Counter(await store.all(select(Outbox.status)))
    finally:
        await store.close()
    stored = Counter(r.platform_id.split(":")[1] for r in rows)
    assert stored == Counter(i for ids in asked.values() for i in ids)  # each stored, exactly once
    assert replies == total and set(statuses) == {"sent"}, statuses
    print(f"\nwebchat: {acked_at_kill} of {total} acked at the kill; after the restart {len(rows)} stored once, "
          f"{replies} answers, {sum(len(p.acks) for p in pages)} acks ({sum(len(p.errors) for p in pages)} errors)")


async def test_a_sigkill_while_batches_are_written_loses_no_acknowledged_message(
        supportbot: Callable[..., SupportbotProcess], kb: KnowledgeBase) -> None:
    """Visitors who send the next question the moment the last one is acked keep a group commit always being
    written (messages arriving together share one transaction): the kill lands in one. Nothing acked is lost,
    what was not acked is sent again by the page and stored once, every question is answered once."""
    process = supportbot(CONFIG)
    await process.astart()
    await process.wait_ready()
    pages = [ChatPage(process.url) for _ in range(30)]
    asked: dict[ChatPage, list[str]] = {page: [] for page in pages}
    questions = list(QUESTIONS)

    async def type_fast(page: ChatPage) -> None:
        for n in range(20):
            client_id = await page.say(questions[n % len(questions)])
            asked[page].append(client_id)
            await eventually(lambda sent=client_id: sent not in page.pending, timeout=20, interval=0.005,
                             what="the ack")

    try:
        for page in pages:
            await page.open()
        typing = asyncio.gather(*(type_fast(page) for page in pages))
        await eventually(lambda: sum(len(p.acks) for p in pages) >= 150, timeout=15, what="150 acks")
        in_flight = sum(len(p.pending) for p in pages)
        process.kill()
        acked_at_kill = {i for p in pages for i in p.acks}
        await process.astart()
        await asyncio.wait_for(typing, 25)
        await eventually(lambda: all(len(p.replies) >= len(asked[p]) for p in pages), timeout=20, interval=0.2,
                         what="every question answered")
        await asyncio.sleep(0.5)  # a reply pushed twice would have arrived by now
    finally:
        for page in pages:
            await page.close()
    store = await process.store()
    try:
        rows = await store.all(select(Message).where(Message.channel == "webchat", Message.direction == "in"))
        statuses = Counter(await store.all(select(Outbox.status)))
    finally:
        await store.close()
    stored = Counter(r.platform_id.split(":")[1] for r in rows)
    assert in_flight > 0  # messages were being written when the process died
    assert acked_at_kill <= set(stored)  # nothing acknowledged was lost
    assert stored == Counter(i for ids in asked.values() for i in ids)  # the rest resent, each stored once
    assert set(statuses) == {"sent"}, statuses
    for page in pages:
        expected = Counter(kb.answer(QUESTIONS[questions[n % len(questions)]], "en") for n in range(20))
        assert Counter(r["text"] for r in page.replies.values()) == expected  # each answered once
    print(f"\nwebchat, group commit: {len(acked_at_kill)} acked and {in_flight} in flight at the kill; "
          f"{len(rows)} stored once after the restart")
