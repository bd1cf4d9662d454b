"""Channel supervision: a channel that cannot start or stops receiving is retried for ever, and says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from sqlalchemy import select

from bots.base import ChannelHealth
from core import channels as supervisor
from core.channels import Channels
from core.errors import ConfigError, RetryLater
from core.models import Author, InboundMessage
from core.store.tables import Outbox
from core.web.app import create_app
from tests.fakes.memory_channel import MemoryChannel
from tests.process import eventually
from tests.web.inbox_helpers import web_context

FAST = {"first_backoff": 0.05, "max_backoff": 0.2}


def question(n: int) -> InboundMessage:
    return InboundMessage("memory", f"q{n}", "chat-1", Author("u1", "Mei"), "How can I contact customer support?")


def metric(name: str, channel: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"channel": channel, **labels})


def states(channel: str) -> set[str]:
    """The states `supportbot_channel_state{channel,state}` sets to 1 (README: it follows the channel)."""
    found = {state: metric("supportbot_channel_state", channel, state=state) for state in ChannelHealth.STATES}
    assert all(value in (0.0, 1.0) for value in found.values() if value is not None), found
    return {state for state, value in found.items() if value == 1.0}


@pytest_asyncio.fixture
async def readyz(store, engine, inbox, bus, kb) -> AsyncIterator:  # type: ignore[no-untyped-def]
    """GET /readyz of an app whose context holds the given supervisor."""
    clients: list[TestClient] = []

    async def get(channels: Channels) -> tuple[int, dict]:  # type: ignore[type-arg]
        if not clients:
            ctx = web_context(store, engine, inbox, bus, kb)
            ctx.channels = channels
            client = TestClient(TestServer(create_app(ctx)))
            await client.start_server()
            clients.append(client)
        response = await clients[0].get("/readyz")
        return response.status, await response.json()

    yield get
    for client in clients:
        await client.close()


async def test_a_channel_that_cannot_start_is_retried_until_it_receives(engine, readyz) -> None:
    channel = MemoryChannel()
    channel.start_failures = [RetryLater("the API answered 502"), ConfigError("the token was rejected")]
    channels = Channels({"memory": channel}, engine, **FAST)
    await readyz(channels)  # the test server is up before the start: its first 50 ms backoff is not spent on it
    failed = await channels.start(wait=5)
    try:
        assert failed == {"memory": "the API answered 502"}  # the operator is told why, without a class name
        status, body = await readyz(channels)
        assert status == 503 and body["not_receiving"] == ["memory"]
        assert body["channels"]["memory"]["error"] == "the API answered 502"
        assert states("memory") == {"retrying"}  # supportbot_channel_state: one state at 1, the others at 0

        await eventually(lambda: channel.health.receiving, timeout=5, what="channel up")
        assert channel.starts == 3
        assert channel.health.restarts == 2 and channel.health.error == "the token was rejected"
        status, body = await readyz(channels)
        assert status == 200 and body["status"] == "ready" and "not_receiving" not in body
        assert metric("supportbot_channel_up", "memory") == 1
        assert metric("supportbot_channel_restarts_total", "memory") >= 2
        assert states("memory") == {"receiving"}
    finally:
        await channels.stop()
    assert channel.health.state == "stopped"


@pytest.mark.parametrize("jitter", [0.8, 1.2])  # the two ends of the jitter
def test_the_backoff_doubles_from_a_second_to_at_most_a_minute(monkeypatch: pytest.MonkeyPatch, jitter: float) -> None:
    """README (Channels): 1 s, 2 s, 4 s ... at most a minute, for as long as the process runs (a channel down for
    days has failed thousands of times: the delay must still be a minute, not an error)."""
    monkeypatch.setattr(supervisor.random, "uniform", lambda low, high: jitter)
    assert [supervisor.backoff(a) for a in range(6)] == pytest.approx([n * jitter for n in (1, 2, 4, 8, 16, 32)])
    later = [supervisor.backoff(a) for a in range(6, 5000)]
    assert max(later) <= 60.0 and min(later) >= 60.0 * 0.8


async def test_a_channel_that_fails_to_start_many_times_still_ends_up_receiving(engine) -> None:
    """README (Channels): started again with backoff for as long as the process runs: no attempt limit."""
    channel = MemoryChannel()
    channel.start_failures = [RetryLater("the API answered 502")] * 15
    channels = Channels({"memory": channel}, engine, first_backoff=0.01, max_backoff=0.05)
    await channels.start(wait=5)
    try:
        await eventually(lambda: channel.health.receiving, timeout=5, what="channel up after 15 failed starts")
        assert channel.starts == 16 and channel.health.restarts == 15
        assert (await channel.inbound.handle_message(question(1))).outbox_ids  # it receives: answered
    finally:
        await channels.stop()


async def test_a_channel_whose_receiving_ends_is_started_again(engine, readyz) -> None:
    channel = MemoryChannel()
    channels = Channels({"memory": channel}, engine, **FAST)
    assert await channels.start(wait=5) == {}
    try:
        channel.start_failures = [RetryLater("gateway closed with 4004")]
        channel.closed.put_nowait(RuntimeError("gateway closed with 4004"))  # a fatal close, after start
        await eventually(lambda: channel.health.state == "retrying", timeout=5, what="retrying")
        status, body = await readyz(channels)
        assert status == 503 and body["channels"]["memory"]["state"] == "retrying"
        assert metric("supportbot_channel_up", "memory") == 0
        await eventually(lambda: channel.health.receiving, timeout=5, what="up again")
        assert channel.starts == 3
    finally:
        await channels.stop()


async def test_stop_ends_a_channel_waiting_to_retry_at_once(engine) -> None:
    channel = MemoryChannel()
    channel.start_failures = [RetryLater("down")] * 3
    channels = Channels({"memory": channel}, engine, first_backoff=30, max_backoff=60)
    await channels.start(wait=5)
    assert channel.health.state == "retrying"
    began = asyncio.get_running_loop().time()
    await channels.stop()
    assert asyncio.get_running_loop().time() - began < 2
    assert channel.starts == 1


async def test_replies_wait_for_their_channel_without_spending_attempts(engine, store, make_dispatcher) -> None:
    channel = MemoryChannel()
    channel.start_failures = [RetryLater("down")] * 4
    channels = Channels({"memory": channel}, engine, first_backoff=0.3, max_backoff=0.3)
    dispatcher = make_dispatcher({"memory": channel}, can_send=channels.can_send)
    channels.on_change(lambda health: dispatcher.wake() if channels.can_send(health.name) else None)
    await dispatcher.start()
    try:
        await channels.start(wait=5)
        outcome = await engine.handle_message(question(1))
        await asyncio.sleep(0.5)  # several dispatcher polls while the channel is down
        row = await store.scalar(select(Outbox).where(Outbox.id == outcome.outbox_ids[0]))
        assert row.status == "queued" and row.attempts == 0 and channel.sent == []
        await eventually(lambda: channel.sent, timeout=5, what="the reply sent once the channel is up")
        assert [r.outbox_id for r in channel.sent] == list(outcome.outbox_ids)
    finally:
        await dispatcher.stop()
        await channels.stop()
