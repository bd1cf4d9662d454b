"""Housekeeping keeps the tables that grow with traffic flat, and never prunes what is still needed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.dispatch import Dispatcher, DispatchPolicy
from core.housekeeping import Housekeeping, table_sizes
from core.models import Author, InboundMessage, utcnow
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Cursor, Outbox
from tests.fakes.memory_channel import MemoryChannel


async def test_old_deliveries_and_expired_cursors_are_pruned_the_rest_kept(any_store: Store, triage, kb) -> None:
    store = any_store
    engine = Engine(store, triage, kb)
    for i in range(6):
        await engine.handle_message(InboundMessage("memory", f"m{i}", f"dm-{i}", Author(f"u{i}", "Mei"),
                                                   "how do I contact customer support?"))
    channel = MemoryChannel()
    channel.fail_next(403)  # one reply is given up: the agent must keep seeing it
    await Dispatcher(store, {"memory": channel}, DispatchPolicy(poll_interval_seconds=0.05)).drain(timeout=5)
    old = utcnow() - timedelta(days=40)
    async with store.connection() as conn:  # four deliveries made 40 days ago, one yesterday
        ids = [r.id for r in (await conn.execute(select(Outbox.id).where(Outbox.status == "sent")
                                                  .order_by(Outbox.id))).all()]
        await conn.execute(update(Outbox).where(Outbox.id.in_(ids[:4])).values(sent_at=old))
    await store.set_cursor("memory", "position", "123")  # a read position: never expires
    await store.set_cursor("memory", "sent:1", "2 parts", keep_days=7)
    await store.set_cursor("memory", "sent:2", "1 part", keep_days=-1)  # already past its time

    pruned = await Housekeeping(store).run_once()
    assert pruned is not None and (pruned.outbox, pruned.cursors) == (4, 1)
    statuses = sorted(r.status for r in await store.outbox_rows())
    assert statuses == ["dead", "sent"]
    assert {c.key for c in await store.all(select(Cursor))} == {"position", "sent:1"}
    assert (await table_sizes(store))["outbox"] == 2
    record = await store.messages_for_conversation("memory", "dm-1")  # dm-0 got the 403
    assert [m.delivery for m in record if m.message.direction == "out"] == ["sent"]  # still shown as delivered
