"""Storage behaviour, run against SQLite and PostgreSQL alike (the ``any_store`` fixture)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.dispatch import Dispatcher, DispatchPolicy
from core.errors import Conflict, StorageError
from core.events import EventBus
from core.inbox import Inbox
from core.models import Author, InboundMessage
from core.pipeline import Engine
from core.store import Store, normalise_url
from core.store.tables import Customer, Identity, Message, Ticket
from tests.fakes.memory_channel import MemoryChannel

DAVE = Author("u-dave", "Dave", handle="dave", language="en")


@pytest.fixture
def parts(any_store: Store, kb, triage):  # type: ignore[no-untyped-def]
    bus = EventBus()
    return Engine(any_store, triage, kb, bus=bus), Inbox(any_store, kb, bus=bus), any_store


async def count(store: Store, model: type) -> int:
    return await store.scalar(select(func.count()).select_from(model))


async def test_concurrent_redeliveries_store_one_message(parts) -> None:  # type: ignore[no-untyped-def]
    engine, _, store = parts
    m = InboundMessage("memory", "same-id", "dm-dave", DAVE, "I need a human agent please")
    outcomes = await asyncio.gather(*(engine.handle_message(m) for _ in range(8)))
    actions = sorted(o.action for o in outcomes)
    assert actions.count("handoff") == 1 and actions.count("duplicate") == 7
    assert await count(store, Message) == 2  # the customer's message and one acknowledgement
    assert await count(store, Ticket) == 1
    assert await count(store, Customer) == 1 and await count(store, Identity) == 1


async def test_full_cycle_and_delivery_state(parts) -> None:  # type: ignore[no-untyped-def]
    engine, inbox, store = parts
    out = await engine.handle_message(InboundMessage("memory", "1", "dm-dave", DAVE, "talk to a human"))
    await inbox.reply(out.ticket_id, "On it.")
    channel = MemoryChannel()
    channel.fail_next(500)
    await Dispatcher(store, {"memory": channel}, DispatchPolicy(base_backoff_seconds=0.01)).drain(timeout=5)
    record = await store.ticket(out.ticket_id)
    assert [(m.message.author_kind, m.delivery) for m in record.messages] == [
        ("customer", None), ("bot", "sent"), ("bot", "sent"), ("agent", "sent")]  # handoff, "agent joined", reply
    assert record.ticket.created_at.tzinfo is not None  # timestamps come back timezone-aware on both backends


async def test_ticket_lifecycle_rules(parts) -> None:  # type: ignore[no-untyped-def]
    engine, inbox, _store = parts
    out = await engine.handle_message(InboundMessage("memory", "1", "dm-dave", DAVE, "human please"))
    await inbox.set_status(out.ticket_id, "pending")
    await inbox.set_status(out.ticket_id, "closed")
    with pytest.raises(Conflict):
        await inbox.set_status(out.ticket_id, "open")  # closed is final
    with pytest.raises(Conflict):
        await inbox.reply(out.ticket_id, "too late")
    # a new message after close starts a new ticket rather than reopening the closed one
    again = await engine.handle_message(InboundMessage("memory", "2", "dm-dave", DAVE, "human please, again"))
    assert again.ticket_id != out.ticket_id


async def test_merge_moves_messages_and_closes_source(parts) -> None:  # type: ignore[no-untyped-def]
    engine, inbox, store = parts
    a = await engine.handle_message(InboundMessage("memory", "1", "dm-dave", DAVE, "human please"))
    await inbox.set_status(a.ticket_id, "solved")
    b = await engine.handle_message(InboundMessage("other", "1", "tg-dave", Author("77", "Dave T"), "转人工"))
    identities = await store.all(select(Identity).order_by(Identity.id))
    await inbox.link_identity(identities[0].customer_id, identities[1].id)  # same person, two channels
    await inbox.merge(b.ticket_id, a.ticket_id)
    merged, target = await store.ticket(b.ticket_id), await store.ticket(a.ticket_id)
    assert merged.ticket.status == "closed" and merged.ticket.merged_into_id == a.ticket_id
    assert merged.messages == [] and "转人工" in target.texts
    with pytest.raises(Conflict):
        await inbox.merge(a.ticket_id, b.ticket_id)  # cannot merge into a closed ticket
    c = await engine.handle_message(InboundMessage("memory", "3", "dm-erin", Author("u-erin", "Erin"), "human"))
    with pytest.raises(Conflict):
        await inbox.merge(c.ticket_id, a.ticket_id)  # another customer's case
    await inbox.set_tags(a.ticket_id, ["Refund", "refund", " vip "])
    assert (await store.ticket(a.ticket_id)).ticket.tags == ["refund", "vip"]


async def test_linking_identities_gives_one_customer(parts) -> None:  # type: ignore[no-untyped-def]
    engine, inbox, store = parts
    await engine.handle_message(InboundMessage("memory", "1", "dm-dave", DAVE, "human please"))
    await engine.handle_message(InboundMessage("other", "1", "tg-77", Author("77", "Dave T"), "转人工"))
    identities = await store.all(select(Identity).order_by(Identity.id))
    await inbox.link_identity(identities[0].customer_id, identities[1].id)
    tickets = await store.all(select(Ticket))
    assert {t.customer_id for t in tickets} == {identities[0].customer_id}


async def test_cursors_persist(any_store: Store) -> None:
    assert await any_store.get_cursor("x", "mentions") is None
    await any_store.set_cursor("x", "mentions", "100")
    await any_store.set_cursor("x", "mentions", "200")
    assert await any_store.get_cursor("x", "mentions") == "200"


async def test_migrations_are_idempotent(any_store: Store) -> None:
    await any_store.migrate()
    assert await any_store.ping()


def test_url_normalisation() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


async def test_unreachable_database_is_a_storage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StorageError) as err:
        await Store.open("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in str(err.value)  # the password is never shown
    with pytest.raises(StorageError):
        await Store.open(f"sqlite+aiosqlite:///{tmp_path}/missing-dir/x.db")


async def test_two_dispatchers_share_the_outbox_without_double_sends(parts) -> None:  # type: ignore[no-untyped-def]
    engine, _, store = parts
    for c in range(15):
        await engine.handle_message(InboundMessage("memory", f"q{c}", f"dm-{c}", Author(f"u{c}", "U"),
                                                   "how do I contact customer support?"))
    channel = MemoryChannel()
    policy = DispatchPolicy(base_backoff_seconds=0.01, poll_interval_seconds=0.01)
    first, second = Dispatcher(store, {"memory": channel}, policy), Dispatcher(store, {"memory": channel}, policy)
    await asyncio.gather(first.drain(timeout=20), second.drain(timeout=20))
    ids = [r.outbox_id for r in channel.sent]
    assert len(ids) == 15 and len(set(ids)) == 15


async def test_simultaneous_messages_of_one_customer_open_one_ticket(parts) -> None:  # type: ignore[no-untyped-def]
    engine, _, store = parts
    await asyncio.gather(*(engine.handle_message(InboundMessage("memory", f"s{i}", "dm-dave", DAVE,
                                                                f"I need a human agent, case {i}"))
                           for i in range(6)))
    assert await count(store, Ticket) == 1


async def test_a_message_that_breaks_triage_goes_to_a_person(any_store: Store, kb) -> None:  # type: ignore[no-untyped-def]
    class Broken:
        def decide(self, text: str, context: object = None) -> object:
            raise RuntimeError("model file corrupt")

    out = await Engine(any_store, Broken(), kb).handle_message(
        InboundMessage("memory", "b1", "dm-dave", DAVE, "anything at all"))
    assert out.action == "handoff" and out.ticket_id
    assert (await any_store.ticket(out.ticket_id)).ticket.reason == "triage_error"


async def test_sqlite_statements_run_in_one_worker_call_with_dbapi_results(store: Store) -> None:
    """The one-hop driver: results, rowcounts and errors come back as the standard adapter gives them."""
    from sqlalchemy import bindparam, text, update
    from sqlalchemy.exc import IntegrityError

    from core.store.sqlite_driver import OneHopDBAPI

    assert isinstance(store.engine.dialect.dbapi, OneHopDBAPI)
    async with store.connection() as conn:
        for name in ("a", "b", "c"):
            await conn.execute(text("INSERT INTO customers (display_name, created_at) VALUES (:n, '2026-01-01')"),
                               {"n": name})
        table = Customer.__table__
        many = await conn.execute(update(table).where(table.c.display_name == bindparam("old"))
                                  .values(display_name=bindparam("new")), [{"old": "a", "new": "A"},
                                                                           {"old": "b", "new": "B"}])
        assert many.rowcount == 2
        names = (await conn.execute(select(table.c.display_name).order_by(table.c.id))).scalars().all()
        assert names == ["A", "B", "c"]
    with pytest.raises(IntegrityError):
        async with store.connection() as conn:
            await conn.execute(text("INSERT INTO identities (customer_id, channel, platform_user_id, display_name,"
                                    " created_at) VALUES (999, 'x', 'y', '', '2026-01-01')"))
    assert await store.scalar(select(func.count()).select_from(Identity)) == 0  # rolled back, store usable


async def test_text_no_database_keeps_is_made_storable_for_every_channel(any_store, triage, kb) -> None:
    """A NUL or a lone surrogate (PostgreSQL refuses both; a platform may still send them) must not make a
    message unstorable, or the platform would deliver it again for ever."""
    from core.pipeline import Engine

    engine = Engine(any_store, triage, kb)
    odd = "how do I reset my password?\x00 \ud83d"
    outcome = await engine.handle_message(InboundMessage(
        "memory", "odd-1", "dm-odd", Author("odd", "Na\x00me \udc00" + "x" * 400, handle="h\ud800", language="x" * 40),
        odd, raw={"text": odd, "from": {"first_name": "\x00"}}))
    assert outcome.action == "answer"
    record = await any_store.messages_for_conversation("memory", "dm-odd")
    assert record[0].message.text == "how do I reset my password? \ufffd"
    assert len(record[0].message.author_name) <= 256
