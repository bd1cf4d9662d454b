"""Receivers elected among processes (PostgreSQL advisory locks): one owner each, shards split evenly,
everything taken over when the other process goes. Two processes are two stores, supervisors and lock
connections in this test's loop; the receiver is a gateway stand-in that records the shards it runs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from pydantic import BaseModel

from bots.base import ChannelHealth
from core.channels import Channels
from core.election import NAMESPACE
from core.instances import Instance
from core.receivers import Receivers
from core.store import Store
from tests.conftest import PG_URL
from tests.process import eventually

pytestmark = pytest.mark.skipif(PG_URL.lower() == "off", reason="SUPPORTBOT_TEST_PG_URL=off leaves PostgreSQL out")


class GatewaySettings(BaseModel):
    shard_count: int | None = 4
    shard_ids: list[int] | None = None


class Gateway:
    """Runs the shards its settings name while started (as discord.py's AutoShardedClient does)."""

    name = "gw"

    def __init__(self, shard_count: int | None = 4) -> None:
        self.settings = GatewaySettings(shard_count=shard_count)
        self.health = ChannelHealth(self.name)
        self.shards: list[int] | None = None
        self._closed = asyncio.Event()

    async def start(self, inbound: Any) -> None:
        self.shards = list(self.settings.shard_ids or [])
        self._closed.clear()
        self.health.up()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        self.shards = None
        self._closed.set()


class Process:
    def __init__(self, store: Store, adapter: Gateway) -> None:
        self.store, self.adapter = store, adapter
        self.instance = Instance(store, role="channels")
        self.channels = Channels({"gw": adapter}, inbound=None)  # type: ignore[arg-type]
        self.receivers = Receivers(store, self.channels, ["gw"], tick=0.2)

    async def start(self) -> None:
        await self.instance.register()
        await self.receivers.start(wait=5)

    async def stop(self) -> None:
        await self.receivers.stop()
        await self.channels.stop()
        await self.instance.close()


@pytest_asyncio.fixture
async def stores() -> AsyncIterator[tuple[Store, Store]]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(raw)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    first = await Store.open(PG_URL, schema=schema)
    second = await Store.open(PG_URL, schema=schema, migrate=False)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


async def test_shards_are_split_between_processes_and_taken_over_when_one_goes(stores) -> None:
    one, two = Process(stores[0], Gateway()), Process(stores[1], Gateway())
    try:
        await one.start()
        assert one.adapter.shards == [0, 1, 2, 3]  # alone: all of them
        await two.start()

        def split() -> bool:
            a, b = one.adapter.shards or [], two.adapter.shards or []
            return len(a) == 2 and len(b) == 2 and sorted(a + b) == [0, 1, 2, 3]

        await eventually(split, timeout=10, what="two shards each")
        assert one.channels.report()["gw"]["state"] == two.channels.report()["gw"]["state"] == "receiving"
        await one.stop()
        await eventually(lambda: two.adapter.shards == [0, 1, 2, 3], timeout=10, what="all shards on the other")
    finally:
        await two.stop()
        await one.stop()


async def test_an_unsharded_receiver_runs_once_and_the_standby_takes_it_over(stores) -> None:
    one, two = Process(stores[0], Gateway(shard_count=None)), Process(stores[1], Gateway(shard_count=None))
    try:
        await one.start()
        await two.start()
        await asyncio.sleep(0.6)  # a few ticks: the standby stays one
        assert one.adapter.shards is not None and two.adapter.shards is None
        assert two.channels.report()["gw"]["state"] == "standby" and two.channels.ready
        assert not two.channels.can_send("gw")
        # The owner's lock session ends under it (PostgreSQL restarted it, a network cut): it stops at once, since
        # the other may take over from that moment; then exactly one of them runs it.
        # (found in pg_locks: asking the owner's own connection would race its elector's checks on it)
        key = one.receivers.elector.key("gw") % (1 << 32)  # pg_locks shows the two int4 keys as unsigned oids
        async with stores[1].engine.connect() as conn:
            pid = (await conn.exec_driver_sql(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
                f"AND classid = {NAMESPACE} AND objid = {key}")).scalar_one()
            await conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        ended = asyncio.get_running_loop().time()
        await eventually(lambda: one.adapter.shards is None or two.adapter.shards is None, timeout=5, interval=0.01,
                         what="no two runners")
        assert asyncio.get_running_loop().time() - ended < 1.0
        await eventually(lambda: (one.adapter.shards is None) != (two.adapter.shards is None), timeout=5,
                         what="one runner again")
        await one.stop()  # gone for good: the standby takes over
        await eventually(lambda: two.adapter.shards is not None, timeout=5, what="the standby running it")
    finally:
        await two.stop()
        await one.stop()
