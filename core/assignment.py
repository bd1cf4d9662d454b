"""Automatic assignment of new tickets: round-robin over available agents, each under a cap of open tickets.

Stateless on purpose (no in-memory turn counter two processes would need to share): "round-robin"
is computed from the store as *the available agent under the cap who was assigned a ticket least
recently*. Available = the agent says "online" (not busy or away: `set_availability`) and was seen
within ``online_minutes`` (agents.seen_at, refreshed by the web session and the live inbox).
No agent available: the ticket stays unassigned for a human to pick up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.models import utcnow
from core.store import Store
from core.store.tables import Agent, Ticket
from core.tickets import record

AVAILABILITY = ("online", "busy", "away")


async def set_availability(store: Store, agent_id: int, availability: str) -> None:
    """Online agents get new tickets; busy and away ones keep theirs but get no new ones."""
    if availability not in AVAILABILITY:
        raise Conflict(f"unknown availability {availability!r}; expected one of {', '.join(AVAILABILITY)}")
    async with store.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(availability=availability))


@dataclass(frozen=True, slots=True)
class AutoAssigner:
    max_open: int = 20
    online_minutes: float = 5.0

    async def pick(self, session: AsyncSession) -> int | None:
        since = utcnow() - timedelta(minutes=self.online_minutes)
        open_count = (select(func.count()).select_from(Ticket)
                      .where(Ticket.assignee_id == Agent.id, Ticket.status.in_(("open", "pending")))
                      .scalar_subquery())
        last_assigned = (select(func.max(Ticket.id)).where(Ticket.assignee_id == Agent.id).scalar_subquery())
        stmt = (select(Agent.id).where(Agent.active.is_(True), Agent.availability == "online", Agent.seen_at >= since,
                                       open_count < self.max_open)
                .order_by(func.coalesce(last_assigned, 0), Agent.id).limit(1))
        return await session.scalar(stmt)

    async def __call__(self, session: AsyncSession, ticket: Ticket) -> int | None:
        """Assign ``ticket`` (inside the engine's transaction) and record it as activity."""
        agent_id = await self.pick(session)
        if agent_id is not None:
            ticket.assignee_id = agent_id
            record(session, ticket, "assignee", "auto-assign", before=None, after=agent_id)
        return agent_id
