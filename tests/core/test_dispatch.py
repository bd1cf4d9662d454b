"""The outbox dispatcher: retries, 429 pacing, giving up, ordering, leases, and two dispatchers at once."""

from __future__ import annotations

import asyncio
import itertools
import time

from sqlalchemy import select

from core.dispatch import DELIVERIES, Dispatcher, DispatchPolicy
from core.events import EventBus
from core.flood import FloodGate
from core.models import Author, InboundMessage, Sent
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Message, Outbox
from tests.fakes.memory_channel import MemoryChannel

CAROL = Author("u-carol", "Carol", language="en")


async def _queue(engine: Engine, n: int, conversation: str = "dm-carol") -> None:
    for i in range(n):
        await engine.handle_message(InboundMessage("memory", f"{conversation}-{i}", conversation, CAROL,
                                                   "how do I contact customer support?"))


def _counted(outcome: str) -> float:
    return DELIVERIES.labels("memory", outcome)._value.get()


async def test_429_waits_retry_after_then_delivers_once(engine: Engine, store: Store, make_dispatcher) -> None:
    before = {outcome: _counted(outcome) for outcome in ("sent", "rate_limited")}
    channel = MemoryChannel()
    channel.fail_next(429, retry_after=0.3)
    await _queue(engine, 1)
    started = time.monotonic()
    await make_dispatcher({"memory": channel}).drain(timeout=5)
    assert time.monotonic() - started >= 0.3  # the platform's own figure is honoured
    assert len(channel.sent) == 1 and channel.attempts == 2
    row = (await store.outbox_rows())[0]
    assert row.status == "sent" and row.attempts == 1  # a 429 does not use up an attempt
    message = await store.scalar(select(Message).where(Message.id == row.message_id))
    assert message.platform_id == "out-1"  # recorded: the echo of this message will be recognised
    # what /metrics shows the operator (the dispatcher's process serves it)
    assert {o: _counted(o) - before[o] for o in before} == {"sent": 1, "rate_limited": 1}


async def test_server_errors_back_off_and_failure_is_visible(engine: Engine, store: Store, make_dispatcher) -> None:
    channel = MemoryChannel()
    channel.fail_next(500, count=2)
    await _queue(engine, 1)
    dispatcher = make_dispatcher({"memory": channel})
    await dispatcher.run_once()
    row = (await store.outbox_rows())[0]
    assert row.status == "failed" and "500" in (row.last_error or "")
    await dispatcher.drain(timeout=5)
    row = (await store.outbox_rows())[0]
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None


async def test_gives_up_after_max_attempts_and_on_undeliverable(engine: Engine, store: Store) -> None:
    before = {outcome: _counted(outcome) for outcome in ("retry", "dead")}
    channel = MemoryChannel()
    channel.fail_next(500, count=10)
    await _queue(engine, 1, "dm-a")
    policy = DispatchPolicy(max_attempts=3, base_backoff_seconds=0.01, max_backoff_seconds=0.02)
    await Dispatcher(store, {"memory": channel}, policy).drain(timeout=5)
    row = (await store.outbox_rows())[0]
    assert row.status == "dead" and row.attempts == 3 and "gave up after 3 attempts" in row.last_error
    channel.failures.clear()
    channel.fail_next(403)
    await _queue(engine, 1, "dm-b")
    await Dispatcher(store, {"memory": channel}, policy).drain(timeout=5)
    row = (await store.outbox_rows())[1]
    assert row.status == "dead" and row.attempts == 1 and "undeliverable" in row.last_error
    assert {o: _counted(o) - before[o] for o in before} == {"retry": 2, "dead": 2}


async def test_one_conversation_is_delivered_in_order_even_across_retries(engine: Engine, make_dispatcher) -> None:
    channel = MemoryChannel()
    channel.fail_next(500)  # the first reply fails once; the second must not overtake it
    for i, text in enumerate(["hi", "how do I contact support?", "thanks"]):
        await engine.handle_message(InboundMessage("memory", f"o{i}", "dm-order", CAROL, text))
    await make_dispatcher({"memory": channel}).drain(timeout=5)
    assert len(channel.sent) == 3
    assert [r.outbox_id for r in channel.sent] == sorted(r.outbox_id for r in channel.sent)


async def test_two_dispatchers_never_send_a_row_twice(engine: Engine, store: Store) -> None:
    channel = MemoryChannel()
    for c in range(20):
        await _queue(engine, 2, f"dm-{c}")
    policy = DispatchPolicy(base_backoff_seconds=0.01, poll_interval_seconds=0.01)
    a, b = Dispatcher(store, {"memory": channel}, policy), Dispatcher(store, {"memory": channel}, policy)
    await asyncio.gather(a.drain(timeout=20), b.drain(timeout=20))
    ids = [r.outbox_id for r in channel.sent]
    assert len(ids) == 40 and len(set(ids)) == 40


class _Timed(MemoryChannel):
    """Records when each send began and ended at the "platform", to see whether two overlapped."""

    def __init__(self) -> None:
        super().__init__(send_delay=0.03)
        self.spans: list[tuple[str, int, float, float]] = []  # conversation, outbox id, start, end

    async def send(self, reply):  # type: ignore[no-untyped-def]
        started = asyncio.get_running_loop().time()
        sent = await super().send(reply)
        self.spans.append((reply.conversation, reply.outbox_id, started, asyncio.get_running_loop().time()))
        return sent


async def test_two_dispatchers_never_send_to_one_conversation_at_once(any_store: Store, triage, kb) -> None:
    """README (Scaling): a conversation's replies are leased one at a time, so no two processes send to one
    conversation at once; each conversation's replies reach the platform one after another, in order."""
    engine = Engine(any_store, triage, kb, flood=FloodGate(default=1_000_000))
    for c in range(6):
        await _queue(engine, 4, f"dm-{c}")
    channel = _Timed()
    policy = DispatchPolicy(base_backoff_seconds=0.01, poll_interval_seconds=0.01)
    a, b = Dispatcher(any_store, {"memory": channel}, policy), Dispatcher(any_store, {"memory": channel}, policy)
    await asyncio.gather(a.drain(timeout=8), b.drain(timeout=8))
    assert len(channel.spans) == 24
    for c in range(6):
        spans = sorted((s for s in channel.spans if s[0] == f"dm-{c}"), key=lambda s: s[2])
        assert [s[1] for s in spans] == sorted(s[1] for s in spans)  # in the order they were queued
        for earlier, later in itertools.pairwise(spans):
            assert later[2] >= earlier[3], f"two sends to dm-{c} overlapped: {earlier} and {later}"


async def test_expired_lease_is_picked_up_again(engine: Engine, store: Store, make_dispatcher) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from core.models import utcnow

    await _queue(engine, 1)
    async with store.transaction() as session:  # what a dispatcher killed mid-send leaves behind
        await session.execute(update(Outbox).values(status="sending", attempts=1,
                                                    locked_until=utcnow() - timedelta(seconds=1)))
    channel = MemoryChannel()
    await make_dispatcher({"memory": channel}).drain(timeout=5)
    assert len(channel.sent) == 1


async def test_background_loop_wakes_on_new_replies_and_stops_cleanly(engine: Engine, store: Store,
                                                                      make_dispatcher) -> None:
    channel = MemoryChannel()
    dispatcher = make_dispatcher({"memory": channel}, DispatchPolicy(poll_interval_seconds=30))
    await dispatcher.start()
    try:
        await _queue(engine, 1)
        for _ in range(100):
            if channel.sent:
                break
            await asyncio.sleep(0.02)
        assert len(channel.sent) == 1  # woken by the bus, not by the 30 s poll
    finally:
        await dispatcher.stop()
    await _queue(engine, 1, "dm-later")  # queued after stop: stays in the outbox, not lost
    assert [r.status for r in await store.outbox_rows()] == ["sent", "queued"]


async def test_a_slow_channel_below_one_message_per_second_still_delivers(engine: Engine, store: Store) -> None:
    channel = MemoryChannel()
    channel.settings = channel.settings.model_copy(update={"rate_per_second": 0.5})
    await _queue(engine, 1)
    await Dispatcher(store, {"memory": channel}, DispatchPolicy()).drain(timeout=5)
    assert len(channel.sent) == 1 and (await store.outbox_rows())[0].status == "sent"


async def test_a_delivery_is_recorded_even_if_the_pass_is_cancelled_later(engine: Engine, store: Store) -> None:
    class OneSlow(MemoryChannel):
        async def send(self, reply):  # type: ignore[no-untyped-def]
            if reply.conversation == "dm-slow":
                await asyncio.sleep(30)
            return await super().send(reply)

    channel = OneSlow()
    await _queue(engine, 1, "dm-slow")
    await _queue(engine, 1, "dm-fast")
    dispatcher = Dispatcher(store, {"memory": channel}, DispatchPolicy())
    task = asyncio.create_task(dispatcher.run_once())
    await asyncio.sleep(0.5)
    task.cancel()  # the process dies while one send hangs
    statuses = {r.conversation: r.status for r in await store.outbox_rows()}
    assert statuses == {"dm-slow": "sending", "dm-fast": "sent"}  # the fast one is not sent again later


class _ReusedIds(MemoryChannel):
    """A platform that hands out the same message id twice (seen with ids scoped per chat)."""

    async def send(self, reply):  # type: ignore[no-untyped-def]
        await super().send(reply)
        return Sent(platform_id="same-id")


async def test_a_platform_reusing_an_id_still_gets_both_deliveries_recorded(any_store: Store, triage, kb) -> None:
    engine = Engine(any_store, triage, kb)
    await _queue(engine, 1, "dm-a")
    await _queue(engine, 1, "dm-b")
    channel = _ReusedIds()
    await Dispatcher(any_store, {"memory": channel}, DispatchPolicy()).drain(timeout=5)
    rows = await any_store.outbox_rows()
    assert len(channel.sent) == 2 and [r.status for r in rows] == ["sent", "sent"]  # never sent twice
    ids = await any_store.all(select(Message.platform_id).where(Message.direction == "out"))
    assert sorted(ids, key=str) == [None, "same-id"] or sorted(ids, key=str) == ["same-id", None]


async def test_replies_leased_by_the_engine_go_out_in_order_without_a_claim_pass(any_store: Store, triage,
                                                                                kb) -> None:
    bus = EventBus()
    engine = Engine(any_store, triage, kb, bus=bus)
    channel = MemoryChannel()
    channel.settings = channel.settings.model_copy(update={"rate_per_conversation_per_second": 20.0})
    dispatcher = Dispatcher(any_store, {"memory": channel}, DispatchPolicy(poll_interval_seconds=30), bus=bus)
    await dispatcher.start()
    engine.dispatcher = dispatcher
    try:
        outcomes = [await engine.handle_message(InboundMessage("memory", f"q-{i}", "dm-carol", CAROL,
                                                               "how do I contact customer support?"))
                    for i in range(4)]
        # leased in the engine's own transaction: already "sending" when the message is handled
        first = next(r for r in await any_store.outbox_rows() if r.id == outcomes[0].outbox_ids[0])
        assert first.status in ("sending", "sent")
        for _ in range(200):
            if len(channel.sent) == 4:
                break
            await asyncio.sleep(0.02)
        assert [r.outbox_id for r in channel.sent] == [o.outbox_ids[0] for o in outcomes]  # conversation order
    finally:
        await dispatcher.stop()
    assert {r.status for r in await any_store.outbox_rows()} == {"sent"}
    await engine.handle_message(InboundMessage("memory", "after-stop", "dm-carol", CAROL, "how do I contact support?"))
    assert [r.status for r in await any_store.outbox_rows()][-1] == "queued"  # a stopped dispatcher leases nothing
