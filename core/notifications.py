"""What an agent's browser notifies: a new ticket, a customer reply on their ticket, an overdue first response.

The page asks after each live event (and once a minute, for due times passing). A cursor holds the
highest ticket and message ids and the time of the last answer, so each notice is given once per
page, whatever the clocks of the platforms say; the first call only returns a cursor (nothing that
was there before the page opened is announced).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from core.models import utcnow
from core.store import Store
from core.store.tables import Message, Ticket

LIMIT = 10


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str  # new_ticket | customer_reply | overdue
    ticket_id: int
    title: str
    body: str
    tag: str  # the browser shows one notification per tag

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "url": f"/tickets/{self.ticket_id}"}


@dataclass(frozen=True, slots=True)
class Cursor:
    ticket_id: int
    message_id: int
    at: datetime

    def encode(self) -> str:
        raw = json.dumps([self.ticket_id, self.message_id, self.at.isoformat()]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        try:
            tid, mid, at = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            when = datetime.fromisoformat(at)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return None
        if not isinstance(tid, int) or not isinstance(mid, int) or when.tzinfo is None:
            return None
        return cls(tid, mid, when)


async def _now_cursor(store: Store) -> Cursor:
    async with store.sessions() as session:
        tid = await session.scalar(select(func.max(Ticket.id)))
        mid = await session.scalar(select(func.max(Message.id)))
    return Cursor(tid or 0, mid or 0, utcnow())


def _short(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def notices(store: Store, agent_id: int, cursor: Cursor | None) -> tuple[list[Notice], Cursor]:
    """What happened for ``agent_id`` since ``cursor`` (nothing when None), and the next cursor."""
    following = await _now_cursor(store)
    if cursor is None:
        return [], following
    mine_or_nobody = or_(Ticket.assignee_id == agent_id, Ticket.assignee_id.is_(None))
    found: list[Notice] = []
    async with store.sessions() as session:
        new = (await session.execute(
            select(Ticket.id, Ticket.subject, Ticket.channel)
            .where(Ticket.id > cursor.ticket_id, Ticket.id <= following.ticket_id, mine_or_nobody,
                   Ticket.status.in_(("open", "pending")))
            .order_by(Ticket.id).limit(LIMIT))).all()
        found += [Notice("new_ticket", t.id, f"New ticket #{t.id} ({t.channel})", _short(t.subject),
                         f"ticket-{t.id}-new") for t in new]
        replies = (await session.execute(
            select(Message.id, Message.ticket_id, Message.text, Message.author_name)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(Message.id > cursor.message_id, Message.id <= following.message_id, Message.direction == "in",
                   Message.author_kind == "customer", Ticket.assignee_id == agent_id,
                   Ticket.id <= cursor.ticket_id)  # a brand-new ticket was announced as such
            .order_by(Message.id).limit(LIMIT))).all()
        found += [Notice("customer_reply", m.ticket_id, f"{m.author_name or 'The customer'} replied on #{m.ticket_id}",
                         _short(m.text), f"ticket-{m.ticket_id}-message-{m.id}") for m in replies]
        overdue = (await session.execute(
            select(Ticket.id, Ticket.subject)
            .where(Ticket.first_response_due > cursor.at, Ticket.first_response_due <= following.at,
                   Ticket.first_responded_at.is_(None), Ticket.status.in_(("open", "pending")), mine_or_nobody)
            .order_by(Ticket.first_response_due).limit(LIMIT))).all()
        found += [Notice("overdue", t.id, f"First response overdue on #{t.id}", _short(t.subject),
                         f"ticket-{t.id}-overdue") for t in overdue]
    return found, following
