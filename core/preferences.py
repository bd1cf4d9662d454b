"""Settings an admin changes at run time on /settings: business hours, the first-response SLA, auto-assignment.

`channels.yaml` keeps the secrets and gives the defaults; what an admin saves is stored in the
``preferences`` table (one row per section) and wins over the file from then on, in every process
that loads it. `apply` puts them into the running engine, so a change needs no restart:
``engine.hours`` (a BusinessHours), ``engine.first_response_hours`` and ``engine.assigner``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.hours import BusinessHours
from core.models import utcnow
from core.store import Store
from core.store.tables import Preference

HOURS_KEY = "business_hours"
TICKETS_KEY = "tickets"


class TicketPreferences(BaseModel):
    """The SLA and auto-assignment (same names as the `tickets` section of channels.yaml)."""

    model_config = ConfigDict(extra="forbid")

    first_response_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    auto_assign: bool = False
    max_open_per_agent: int = Field(default=20, ge=1, le=10_000)


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    tickets: TicketPreferences = Field(default_factory=TicketPreferences)
    stored: frozenset[str] = frozenset()  # sections read from the store (the rest come from channels.yaml)


def defaults(settings: Any) -> Preferences:
    """What channels.yaml says (or the built-in defaults without settings)."""
    hours = getattr(settings, "business_hours", None) or BusinessHours()
    tickets = getattr(settings, "tickets", None)
    ticket_prefs = TicketPreferences() if tickets is None else TicketPreferences(
        first_response_hours=tickets.first_response_hours, auto_assign=tickets.auto_assign,
        max_open_per_agent=tickets.max_open_per_agent)
    return Preferences(business_hours=hours.model_copy(), tickets=ticket_prefs)


async def load(store: Store, settings: Any = None) -> Preferences:
    """channels.yaml's values with every section an admin saved laid over them.

    A stored section that no longer validates (a time zone this system lacks) is ignored, not fatal.
    """
    prefs = defaults(settings)
    rows = {row.key: row.value for row in await store.all(select(Preference))}
    stored: set[str] = set()
    updates: dict[str, Any] = {}
    for key, model in ((HOURS_KEY, BusinessHours), (TICKETS_KEY, TicketPreferences)):
        if key in rows:
            try:
                updates[key] = model.model_validate(rows[key])
                stored.add(key)
            except ValueError:
                continue
    return prefs.model_copy(update={**updates, "stored": frozenset(stored)})


async def save(store: Store, key: str, value: BaseModel, *, agent_id: int | None = None) -> None:
    """Store one section (insert or replace)."""
    if key not in (HOURS_KEY, TICKETS_KEY):
        raise ValueError(f"unknown preference {key!r}")
    data = value.model_dump(mode="json")
    for attempt in range(2):  # two admins saving the first time at once: the second insert becomes an update
        try:
            async with store.transaction() as session:
                row = await session.get(Preference, key, with_for_update=True)
                if row is None:
                    session.add(Preference(key=key, value=data, updated_by=agent_id, updated_at=utcnow()))
                else:
                    row.value, row.updated_by, row.updated_at = data, agent_id, utcnow()
            return
        except IntegrityError:
            if attempt:
                raise


def apply(engine: Any, prefs: Preferences, *, only_stored: bool = False) -> None:
    """Make the running engine follow ``prefs`` at once (new tickets, handoff texts, assignment).

    ``only_stored``: leave alone what no admin saved (at start the engine already follows channels.yaml).
    """
    from core.assignment import AutoAssigner

    if not only_stored or HOURS_KEY in prefs.stored:
        engine.hours = prefs.business_hours
    if only_stored and TICKETS_KEY not in prefs.stored:
        return
    engine.first_response_hours = prefs.tickets.first_response_hours
    if prefs.tickets.auto_assign:
        engine.assigner = AutoAssigner(max_open=prefs.tickets.max_open_per_agent)
    else:
        engine.assigner = None
