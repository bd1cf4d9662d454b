"""The ticket lifecycle as an explicit transition table; every change is recorded as ticket activity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.models import utcnow
from core.store.tables import Ticket, TicketEvent

Status = Literal["open", "pending", "solved", "closed"]
Trigger = Literal["customer_message", "reopen", "pend", "solve", "close", "merge"]

STATUSES: Final = ("open", "pending", "solved", "closed")
PRIORITIES: Final = ("low", "normal", "high", "urgent")
ACTIVE: Final = ("open", "pending", "solved")  # a customer message joins (and reopens) these; closed is final

TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("open", "customer_message"): "open",
    ("pending", "customer_message"): "open",
    ("solved", "customer_message"): "open",
    ("pending", "reopen"): "open",
    ("solved", "reopen"): "open",
    ("open", "pend"): "pending",
    ("open", "solve"): "solved",
    ("pending", "solve"): "solved",
    ("open", "close"): "closed",
    ("pending", "close"): "closed",
    ("solved", "close"): "closed",
    ("open", "merge"): "closed",
    ("pending", "merge"): "closed",
    ("solved", "merge"): "closed",
}

# What an agent asks for ("set status to X") -> the trigger that gets there.
TRIGGER_FOR_STATUS: Final[dict[str, str]] = {"open": "reopen", "pending": "pend", "solved": "solve", "closed": "close"}


def record(session: AsyncSession, ticket: Ticket, kind: str, actor: str, **data: Any) -> TicketEvent:
    """Append one activity entry; the inbox shows these in the ticket's history."""
    event = TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor, data=data, created_at=utcnow())
    session.add(event)
    ticket.updated_at = event.created_at
    return event


def transition(session: AsyncSession, ticket: Ticket, trigger: str, actor: str) -> bool:
    """Apply ``trigger``; returns False when the status did not change. Illegal moves raise Conflict."""
    target = TRANSITIONS.get((ticket.status, trigger))
    if target is None:
        raise Conflict(f"ticket #{ticket.id} is {ticket.status}: cannot {trigger}")
    if target == ticket.status:
        return False
    before, now = ticket.status, utcnow()
    ticket.status = target
    if target == "solved":
        ticket.solved_at = now
    elif target == "closed":
        ticket.closed_at = now
    elif target == "open":
        ticket.solved_at = None
    record(session, ticket, "status", actor, before=before, after=target, trigger=trigger)
    return True


def set_status(session: AsyncSession, ticket: Ticket, status: str, actor: str) -> bool:
    if status not in STATUSES:
        raise Conflict(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if status == ticket.status:
        return False
    return transition(session, ticket, TRIGGER_FOR_STATUS[status], actor)


def set_priority(session: AsyncSession, ticket: Ticket, priority: str, actor: str) -> bool:
    if priority not in PRIORITIES:
        raise Conflict(f"unknown priority {priority!r}; expected one of {', '.join(PRIORITIES)}")
    if priority == ticket.priority:
        return False
    record(session, ticket, "priority", actor, before=ticket.priority, after=priority)
    ticket.priority = priority
    return True


def raise_priority(session: AsyncSession, ticket: Ticket, priority: str, actor: str) -> bool:
    """Only ever raise: a later "my funds were stolen" must not be buried under a normal ticket."""
    if PRIORITIES.index(priority) <= PRIORITIES.index(ticket.priority):
        return False
    return set_priority(session, ticket, priority, actor)


def first_response_due(hours: float) -> Any:
    return utcnow() + timedelta(hours=hours)
