"""Retention of conversation history: the part of housekeeping that keeps ``messages`` flat.

A message without a ticket (an FAQ question and its answer, a greeting, group chatter) is pruned once it is
older than ``keep_unticketed_messages_days``; a message on a ticket is the ticket's story and stays with it.
Nothing is pruned before it was handled: an inbound message not yet triaged, a conversation with a reply
still queued, sending or failing (one given up goes with it), a file an agent attached, the answer a live
"did it help?" refers to, and every message of a conversation whose ticket is open or pending stay. The
newest message row is never pruned, so SQLite never hands its id out again.

Statistics (core/stats.py) count conversation-days from the messages; before a conversation's messages
of a day go, its figures of every day up to that one are added to ``stats_days`` (the same
``conversation_days`` the statistics use) and ``counted_through`` moves on, so past figures stay
exactly as they were. A retention under a day (benchmarks) may also prune today's messages: a customer
who writes again the same day after that counts again for that day.

Then rows pruning left empty go: conversations with no message and no ticket, quiet for the retention,
and anonymous website-chat visitors (identities on ``webchat`` only) with no conversation and no ticket.
Customers of Telegram, Discord and X keep their customer and identity rows (their language and the
links an agent made): one row per person, not per message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from core.conversation import awaited_answer
from core.stats import conversation_days
from core.store import Store
from core.store.tables import AgentFile, Conversation, Customer, Identity, Message, Outbox, StatsDay, Ticket

ACTIVE = ("open", "pending")
UNDELIVERED = ("queued", "sending", "failed")  # still being delivered; a given-up ("dead") reply goes with its message
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEBCHAT = "webchat"


@dataclass(frozen=True)
class Kept:
    """What one retention pass removed."""

    messages: int = 0
    conversations: int = 0
    customers: int = 0


def _prunable(cutoff: datetime) -> Any:
    """Messages past the retention that nothing still needs (the awaited answers are taken out after)."""
    newest = select(func.max(Message.id)).scalar_subquery()
    sibling = aliased(Message)
    owed = (exists().where(Outbox.message_id == sibling.id, Outbox.status.in_(UNDELIVERED),
                           sibling.conversation_id == Message.conversation_id))
    return (select(Message.id, Message.conversation_id, Message.created_at)
            .where(Message.ticket_id.is_(None), Message.created_at < cutoff,
                   (Message.direction != "in") | Message.handled_at.is_not(None),
                   Message.id < newest,
                   ~owed,
                   ~exists().where(AgentFile.message_id == Message.id),
                   ~exists().where(Ticket.conversation_id == Message.conversation_id, Ticket.status.in_(ACTIVE)))
            .order_by(Message.created_at))


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), UTC)


async def _roll_up(conn: AsyncConnection, last_day: dict[int, date]) -> None:
    """Add every not yet counted day up to ``last_day[c]`` of these conversations to stats_days."""
    totals: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for one in await conversation_days(conn, EPOCH, _day_end(max(last_day.values())), conversation_ids=last_day):
        if one.day <= last_day[one.conversation_id]:
            figures = totals[one.day, one.channel]
            figures[0] += 1
            figures[1] += one.answered
            figures[2] += one.deflected
    for (day, channel), (conversations, answered, deflected) in totals.items():
        done = await conn.execute(update(StatsDay).where(StatsDay.day == day, StatsDay.channel == channel).values(
            conversations=StatsDay.conversations + conversations, answered=StatsDay.answered + answered,
            deflected=StatsDay.deflected + deflected))
        if not done.rowcount:
            await conn.execute(insert(StatsDay).values(day=day, channel=channel, conversations=conversations,
                                                       answered=answered, deflected=deflected))
    counted = await conn.execute(select(Conversation.id, Conversation.counted_through)
                                 .where(Conversation.id.in_(list(last_day))))
    for conversation_id, through in counted.all():
        if through is None or through < last_day[conversation_id]:
            await conn.execute(update(Conversation).where(Conversation.id == conversation_id)
                               .values(counted_through=last_day[conversation_id]))


async def prune_batch(conn: AsyncConnection, cutoff: datetime, batch: int) -> tuple[int, bool]:
    """One batch in the caller's transaction: (messages pruned, whether more may be waiting)."""
    rows = (await conn.execute(_prunable(cutoff).limit(batch))).all()
    if not rows:
        return 0, False
    conversation_ids = {row.conversation_id for row in rows}
    states = await conn.execute(select(Conversation.state).where(Conversation.id.in_(conversation_ids)))
    awaited = {awaited_answer(state) for state, in states.all()}
    pruned = [row for row in rows if row.id not in awaited]
    last_day: dict[int, date] = {}
    for row in pruned:
        day = row.created_at.astimezone(UTC).date()
        last_day[row.conversation_id] = max(day, last_day.get(row.conversation_id, day))
    if last_day:
        await _roll_up(conn, last_day)
        ids = [row.id for row in pruned]
        await conn.execute(delete(Outbox).where(Outbox.message_id.in_(ids)))  # sent or given up: checked above
        # checked again as it deletes: a handoff that took a message onto a ticket meanwhile keeps it (PostgreSQL
        # re-reads a row another transaction changed before deleting it)
        await conn.execute(delete(Message).where(Message.id.in_(ids), Message.ticket_id.is_(None)))
    return len(pruned), len(rows) == batch and bool(pruned)


async def prune_empty(conn: AsyncConnection, cutoff: datetime, batch: int) -> tuple[int, int]:
    """Conversations and anonymous website-chat visitors that pruning left with nothing: (conversations,
    customers) removed, at most ``batch`` of each."""
    empty = (select(Conversation.id)
             .where(Conversation.last_message_at < cutoff,
                    Conversation.id < select(func.max(Conversation.id)).scalar_subquery(),
                    ~exists().where(Message.conversation_id == Conversation.id),
                    ~exists().where(Ticket.conversation_id == Conversation.id)).limit(batch))
    conversations = (await conn.execute(delete(Conversation).where(Conversation.id.in_(empty.scalar_subquery()))
                                        )).rowcount
    visitors = list((await conn.execute(
        select(Customer.id)
        .where(Customer.created_at < cutoff, Customer.id < select(func.max(Customer.id)).scalar_subquery(),
               exists().where(Identity.customer_id == Customer.id, Identity.channel == WEBCHAT),
               ~exists().where(Identity.customer_id == Customer.id, Identity.channel != WEBCHAT),
               ~exists().where(Conversation.customer_id == Customer.id),
               ~exists().where(Ticket.customer_id == Customer.id)).limit(batch))).scalars())
    if visitors:
        await conn.execute(delete(Identity).where(Identity.customer_id.in_(visitors)))
        await conn.execute(delete(Customer).where(Customer.id.in_(visitors)))
    return conversations, len(visitors)


async def prune(store: Store, cutoff: datetime, batch: int,
                owns: Callable[[AsyncConnection], Awaitable[bool]]) -> Kept | None:
    """Prune what is past ``cutoff``, one batch per transaction (SQLite's writer and PostgreSQL's row locks are
    held briefly); each batch first takes the housekeeping job's lock with ``owns``. None: another process
    holds it."""
    messages = conversations = customers = 0
    for step in (prune_batch, prune_empty):
        more = True
        while more:
            async with store.connection() as conn:
                if not await owns(conn):
                    return None
                if step is prune_batch:
                    done, more = await prune_batch(conn, cutoff, batch)
                    messages += done
                else:
                    emptied, gone = await prune_empty(conn, cutoff, batch)
                    conversations, customers = conversations + emptied, customers + gone
                    more = emptied == batch or gone == batch
    return Kept(messages, conversations, customers)
