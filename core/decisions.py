"""What the engine decided, and what happened to one event: shared by the engine's parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.store.records import Place, active_ticket
from core.store.tables import Conversation, Ticket


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one event. Adapters only need ``notice`` (shown to a moderator) and ``ticket_id``."""

    action: str  # answer | handoff | greet | joined | stored | duplicate | escalated | refused | edited | unknown
    message_id: int | None = None
    ticket_id: int | None = None
    notice: str | None = None
    outbox_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    lang: str
    reply: str
    faq_id: str | None = None
    confidence: float = 1.0
    reason: str | None = None
    priority: str = "normal"
    options: tuple[str, ...] = ()  # a clarifying question's FAQ choices


def as_record(decision: Decision | None) -> dict[str, Any] | None:
    """What is kept of a decision on the message (the reply text itself is its own message)."""
    if decision is None:
        return None
    record = {"action": decision.action, "faq_id": decision.faq_id, "lang": decision.lang,
              "confidence": decision.confidence, "reason": decision.reason}
    if decision.options:
        record["options"] = list(decision.options)
    return record


async def customer_ticket(session: Any, conversation: Place | Conversation,
                           private_address: str | None) -> Ticket | None:
    """The case a new message belongs to: this conversation's open ticket, or, for a public message,
    the one already running in the customer's private conversation (a public follow-up is the same case)."""
    ticket = await active_ticket(session, conversation.id)
    if ticket is None and conversation.public and private_address:
        private = await session.scalar(select(Conversation.id).where(
            Conversation.channel == conversation.channel, Conversation.address == private_address,
            Conversation.customer_id == conversation.customer_id))
        ticket = await active_ticket(session, private) if private else None
    return ticket
