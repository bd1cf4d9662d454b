"""The support statistics (core/stats.py) on SQLite and PostgreSQL alike, from conversations the engine stored.

Times are moved after the fact (the rows' created_at, first_responded_at) so a day and a response time
are known exactly; everything else is what the engine and the inbox wrote.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from core.stats import StatsRangeError, compute, date_range, percentile
from core.store.tables import Message, Ticket
from tests.web.inbox_helpers import customer_message

DAY1, DAY2 = date(2025, 3, 10), date(2025, 3, 11)
FAQ = "How can I contact customer support?"


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def _move(store, conversation_ids: set[int] | None = None, ticket_id: int | None = None, *,
                when: datetime, responded: datetime | None = None) -> None:
    async with store.transaction() as session:
        if conversation_ids:
            await session.execute(update(Message).where(Message.conversation_id.in_(conversation_ids))
                                  .values(created_at=when))
        if ticket_id is not None:
            await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(
                created_at=when, first_responded_at=responded))


async def _conversation(store, outcome) -> int:
    row = await store.scalar(Message.__table__.select().with_only_columns(Message.conversation_id)
                             .where(Message.id == outcome.message_id))
    return int(row)


@pytest.fixture
def engine_on(any_store, triage, kb, bus):
    from core.flood import FloodGate
    from core.pipeline import Engine

    return Engine(any_store, triage, kb, bus=bus, flood=FloodGate(default=1_000_000))


async def test_figures_per_channel_and_day(any_store, engine_on) -> None:
    # Day 1, website chat: an FAQ answered (deflected), and a customer who asks for a person (handoff).
    faq = await engine_on.handle_message(customer_message(FAQ, user="w1"))
    assert faq.action == "answer"
    human = await engine_on.handle_message(customer_message("/human", user="w2"))
    await _move(any_store, {await _conversation(any_store, faq), await _conversation(any_store, human)},
                when=at(DAY1))
    await _move(any_store, ticket_id=human.ticket_id, when=at(DAY1), responded=at(DAY1, 11))  # 2 h
    # Day 2, Telegram: answered, then the customer asks for a person anyway (not deflected), answered in 30 h.
    first = await engine_on.handle_message(customer_message(FAQ, user="t1", channel="telegram"))
    late = await engine_on.handle_message(customer_message("/human", user="t1", channel="telegram"))
    assert late.ticket_id is not None
    await _move(any_store, {await _conversation(any_store, first)}, when=at(DAY2))
    await _move(any_store, ticket_id=late.ticket_id, when=at(DAY2), responded=at(DAY2) + timedelta(hours=30))
    # Day 2, Telegram: still waiting for a first reply, 40 h after opening (overdue against 24 h).
    waiting = await engine_on.handle_message(customer_message("/human", user="t2", channel="telegram"))
    await _move(any_store, {await _conversation(any_store, waiting)}, waiting.ticket_id, when=at(DAY2))

    stats = (await compute(any_store, DAY1, DAY2, now=at(DAY2) + timedelta(hours=40))).as_dict()
    totals = stats["totals"]
    assert totals["conversations"] == 4
    assert totals["deflected"] == 1 and totals["deflection_rate"] == 0.25
    assert totals["handoffs"] == 3 and totals["handoffs_by_reason"] == {"asked_for_human": 3}
    fr = totals["first_response"]
    assert fr["responded"] == 2 and fr["p50_hours"] == 16.0 and fr["p90_hours"] == 27.2
    assert fr["within_goal"] == 1 and fr["waiting"] == 1 and fr["waiting_over_goal"] == 1
    assert fr["within_goal_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert stats["channels"]["webchat"]["deflection_rate"] == 0.5
    assert stats["channels"]["telegram"]["conversations"] == 2
    assert stats["channels"]["telegram"]["deflected"] == 0
    assert [(d["date"], d["conversations"], d["handoffs"]) for d in stats["days"]] == [
        ("2025-03-10", 2, 1), ("2025-03-11", 2, 2)]
    assert stats["goal_hours"] == 24.0

    only = (await compute(any_store, DAY1, DAY2, channel="webchat")).as_dict()
    assert only["totals"]["conversations"] == 2 and set(only["channels"]) == {"webchat"}
    assert (await compute(any_store, DAY2 + timedelta(days=1), DAY2 + timedelta(days=3))).as_dict()[
        "totals"]["conversations"] == 0


async def test_helpful_answers_and_ratings(any_store, engine_on) -> None:
    """A conversation whose answer the customer marked as solved is deflected even with a ticket in it;
    ratings count on the day they were given."""
    faq = await engine_on.handle_message(customer_message(FAQ, user="r1"))
    human = await engine_on.handle_message(customer_message("/human", user="r1"))
    conversation = await _conversation(any_store, faq)
    await _move(any_store, {conversation}, human.ticket_id, when=at(DAY1))
    async with any_store.transaction() as session:
        await session.execute(update(Message).where(Message.conversation_id == conversation,
                                                    Message.author_kind == "bot").values(feedback="helpful"))
        await session.execute(update(Ticket).where(Ticket.id == human.ticket_id).values(
            rating=4, rated_at=at(DAY2), status="solved", solved_at=at(DAY2)))
    stats = (await compute(any_store, DAY1, DAY2)).as_dict()
    assert stats["totals"]["deflected"] == 1 and stats["totals"]["answered_by_bot"] == 0
    assert stats["totals"]["satisfaction"] == {"count": 1, "average": 4.0}
    assert stats["days"][1]["satisfaction"]["count"] == 1 and stats["days"][0]["satisfaction"]["count"] == 0


def test_ranges_and_percentiles() -> None:
    assert date_range(None, date(2025, 1, 30)) == (date(2025, 1, 1), date(2025, 1, 30))
    with pytest.raises(StatsRangeError):
        date_range(date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(StatsRangeError):
        date_range(date(2024, 1, 1), date(2025, 1, 2))
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
