"""Discord sending under faults, end to end: the real `supportbot run` against the fake Discord in the
test's loop, with the channel's real limits (40 messages/s, 1 per conversation per second, 45
requests/s).

Checked against the fake's record of what Discord created: after a SIGKILL mid-burst and a restart
every customer got every answer and nothing was posted twice (each part carries a nonce with
``enforce_nonce``, so a send retried after the crash returns the message Discord already made; no row
needs the "may have been sent twice" mark), and replies go out again within seconds of the restart.
While the API answers 500, 502 (after creating the message) and 429 for a few seconds, and once a
global 429: everything is delivered after, once, and nothing at all is requested during the block.
Against Discord's own limits (50 requests/s, 5 messages per 5 s per channel) a burst after a
restart, with the backfill reading every channel, meets at most one 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from core.knowledge import KnowledgeBase
from core.store.tables import Outbox
from tests.fakes.discord_api import FakeDiscord
from tests.faults import deployments
from tests.faults.questions import QUESTIONS
from tests.faults.test_discord_faults import Asked, _all_stored_once_and_answered, _customers_known
from tests.process import SupportbotProcess, eventually

TOKEN = "sending-test.discord-token"
RESUME_WITHIN = 5.0  # seconds from the restarted process being up (its web server runs) to its next message create:
# at once, not after the dead process's leases (120 s); Python's start on a busy machine is not counted
IN_FLIGHT_WITHIN = 10.0  # ... and from then to the retry of the last send that was under way at the kill (lease: 120 s)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    api = FakeDiscord(token=TOKEN)
    await api.start()
    yield api
    await api.close()


@pytest.fixture
def deploy(supportbot: Callable[..., SupportbotProcess]) -> Callable[[FakeDiscord], SupportbotProcess]:
    """Discord's real limits: the defaults."""
    def make(fake: FakeDiscord) -> SupportbotProcess:
        return supportbot(deployments.config(deployments.discord(fake.rest_base)), {"DISCORD_BOT_TOKEN": TOKEN})

    return make


async def _burst(fake: FakeDiscord, users: list[dict], per_user: int, asked: Asked) -> None:
    for question in list(QUESTIONS)[:per_user]:
        for user in users:
            await asked.dm(fake, user, question)


async def _nothing_twice(process: SupportbotProcess, fake: FakeDiscord) -> list[Outbox]:
    store = await process.store()
    try:
        rows = await store.outbox_rows()
    finally:
        await store.close()
    assert {r.status for r in rows} == {"sent"}
    created = Counter((m["channel_id"], m["content"]) for m in fake.sent)
    assert max(created.values()) == 1, [k for k, n in created.items() if n > 1]
    assert len(fake.sent) == len(rows)  # one message per row: every reply here fits in one
    assert not any(r.uncertain for r in rows)  # nothing may have been sent twice
    return rows


def _creates_after(fake: FakeDiscord, moment: float) -> list[float]:
    return [t for t, method, path in fake.request_log
            if t > moment and method == "POST" and path.endswith("/messages")]


async def test_a_sigkill_mid_burst_posts_nothing_twice_and_resumes_at_once(fake, deploy, kb: KnowledgeBase):
    fake.send_delay = 0.3  # Discord makes the message, answers 0.3 s later: the kill falls in between
    process = deploy(fake)
    await process.astart()
    await process.wait_ready()
    users = await _customers_known(process, fake, 30)
    asked = Asked()
    before = len(fake.sent)
    sending = asyncio.create_task(_burst(fake, users, 4, asked))
    await eventually(lambda: len(fake.sent) >= before + 30, timeout=15, what="the first 30 answers")
    process.kill()
    at_kill = len(fake.sent) - before
    restarted = time.monotonic()
    await process.astart()
    up = time.monotonic()
    await sending
    await _all_stored_once_and_answered(process, fake, kb, asked, before=30, timeout=25)

    rows = await _nothing_twice(process, fake)
    resumed = min(_creates_after(fake, restarted)) - up
    in_flight = [t - up for t in fake.nonce_hit_at if t > restarted]
    print(f"{at_kill} answers created at the kill; {len(rows)} rows, each created once; {len(in_flight)} sends under "
          f"way at the kill retried and answered by their nonce, the last {max(in_flight):.2f}s after it was up; "
          f"first message create {resumed:.2f}s after it was up again ({up - restarted:.2f}s to start)")
    assert in_flight, "the kill should have caught sends Discord had made but not answered"
    assert resumed <= RESUME_WITHIN
    assert max(in_flight) <= IN_FLIGHT_WITHIN  # taken over from the dead process, not after its lease


async def test_errors_and_rate_limits_for_a_while_deliver_everything_once_and_respect_the_global_block(
        fake, deploy, kb: KnowledgeBase):
    process = deploy(fake)
    await process.astart()
    await process.wait_ready()
    users = await _customers_known(process, fake, 20)
    asked = Asked()
    fake.trouble_for(4.0)  # 500, 502 (message made, answer lost), 429 of the route, in turn

    async def global_block_midway() -> None:
        await asyncio.sleep(1.5)
        fake.fail_next_sends(429, scope="global", retry_after=2.0)

    midway = asyncio.create_task(global_block_midway())
    await _burst(fake, users, 2, asked)
    await midway
    await _all_stored_once_and_answered(process, fake, kb, asked, before=20, timeout=25)

    await _nothing_twice(process, fake)
    [(start, end)] = fake.global_blocks
    during = fake.requests_during_blocks(grace=0.05)
    print(f"{fake.troubles} creates met 500/502/429; global block of {end - start:.1f}s: "
          f"{len(fake.requests_during_blocks())} requests arrived in it ({len(during)} after its first 50 ms); "
          f"{fake.nonce_hits} retries answered by their nonce")
    assert fake.troubles >= 6
    assert during == []
    assert min(_creates_after(fake, start)) >= end


async def test_a_burst_after_a_restart_meets_at_most_one_429_from_discords_limits(fake, deploy, kb: KnowledgeBase):
    fake.strict_global_rate = 50  # per bot, all routes
    fake.bucket_limit, fake.bucket_window = 5, 5.0  # messages per channel
    process = deploy(fake)
    await process.astart()
    await process.wait_ready()
    users = await _customers_known(process, fake, 30)
    assert await process.aterminate() == 0
    asked = Asked()
    await _burst(fake, users, 2, asked)  # written while it was down: read back after the restart
    requests = len(fake.request_log)
    await process.astart()
    await _all_stored_once_and_answered(process, fake, kb, asked, before=30, timeout=25)

    await _nothing_twice(process, fake)
    times = [t for t, _, path in fake.request_log[requests:] if "/interactions/" not in path]
    busiest = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
    refused = fake.rejected_429 + len(fake.rejected_at_global)
    print(f"{len(times)} requests after the restart (backfill and answers); busiest second {busiest}; "
          f"{refused} answered 429")
    assert refused <= 1
