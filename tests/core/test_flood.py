"""A customer who floods a channel gets one ticket and one notice; every message is kept; others are unaffected."""

from __future__ import annotations

from sqlalchemy import func, select

from core.flood import FloodGate
from core.models import Author, InboundMessage
from core.pipeline import Engine
from core.store import Store
from core.store.tables import Message, Ticket


async def test_five_hundred_messages_make_one_ticket_and_one_notice(store: Store, triage, kb, bus) -> None:
    engine = Engine(store, triage, kb, bus=bus, flood=FloodGate({"telegram": 20}))
    spammer = Author("666", "Spam", language="en")
    for i in range(500):
        await engine.handle_message(InboundMessage("telegram", f"s{i}", "666", spammer,
                                                   "How can I contact customer support?"))
    stored = await store.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
    assert stored == 500  # nothing a customer sends is lost
    assert await store.scalar(select(func.count()).select_from(Ticket)) == 1
    bot = [m.text for m in await store.all(select(Message).where(Message.author_kind == "bot"))]
    assert bot.count(kb.answer("contact", "en")) == 20  # answered while it was a conversation
    [ticket_id] = await store.all(select(Ticket.id))
    assert bot.count(kb.message("flood_notice", "en", ticket=ticket_id)) == 1
    assert len(bot) == 22  # the twenty answers, the handoff acknowledgement, the one notice
    on_ticket = await store.scalar(select(func.count()).select_from(Message).where(
        Message.ticket_id == ticket_id, Message.direction == "in"))
    assert on_ticket == 480  # the agent sees what they sent after the limit

    calm = await engine.handle_message(InboundMessage("telegram", "c1", "777", Author("777", "Calm"),
                                                      "How can I contact customer support?"))
    assert calm.action == "answer"  # another customer is not held up


async def test_each_channel_has_its_own_limit(store: Store, triage, kb, bus) -> None:
    engine = Engine(store, triage, kb, bus=bus, flood=FloodGate({"webchat": 3, "telegram": 50}))
    for i in range(5):
        await engine.handle_message(InboundMessage("telegram", f"t{i}", "9", Author("9", "Li"), "hello"))
    outcomes = [await engine.handle_message(InboundMessage("webchat", f"w{i}", "web:9", Author("9", "Li"), "hello"))
                for i in range(5)]
    assert [o.action for o in outcomes] == ["greet", "greet", "greet", "flood", "flood"]
