"""Read models: a ticket with its thread and activity, a conversation's messages, delivery state."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.store.tables import Conversation, Message, Outbox, Ticket, TicketEvent


@dataclass(frozen=True)
class ThreadMessage:
    message: Message
    delivery: str | None  # None for inbound and notes; queued | sending | sent | failed | dead
    delivery_error: str | None
    attempts: int
    uncertain: bool = False  # the reply may have reached the customer twice


@dataclass(frozen=True)
class TicketRecord:
    ticket: Ticket
    messages: list[ThreadMessage]
    events: list[TicketEvent]

    @property
    def texts(self) -> list[str]:
        return [m.message.text for m in self.messages]


async def thread(session: AsyncSession, *conditions: object) -> list[ThreadMessage]:
    rows = await session.execute(
        select(Message, Outbox).outerjoin(Outbox, Outbox.message_id == Message.id).where(*conditions)
        .order_by(Message.created_at, Message.id))
    # An outbound message without an outbox row was delivered long ago (housekeeping pruned the row).
    return [ThreadMessage(m, o.status if o else ("sent" if m.direction == "out" else None),
                          o.last_error if o else None, o.attempts if o else 0, bool(o.uncertain) if o else False)
            for m, o in rows.all()]


async def ticket_record(session: AsyncSession, ticket_id: int) -> TicketRecord:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket #{ticket_id} does not exist")
    events = list((await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))).all())
    return TicketRecord(ticket, await thread(session, Message.ticket_id == ticket_id), events)


async def conversation_messages(session: AsyncSession, channel: str, address: str) -> list[ThreadMessage]:
    ids = select(Conversation.id).where(Conversation.channel == channel, Conversation.address == address)
    return await thread(session, Message.conversation_id.in_(ids))
