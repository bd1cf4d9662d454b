"""/customers: every customer with their identities across channels and their tickets, searchable, newest first.

One page is three queries (customers, their identities, their tickets), never one per row; pages go
by keyset on the customer id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import case, func, or_, select

from core.store import Store
from core.store.queries import parse_id
from core.store.tables import Customer, Identity, Ticket

PAGE_SIZE = 50
TICKETS_SHOWN = 5


@dataclass
class CustomerRow:
    id: int
    name: str
    created_at: Any
    identities: list[Identity] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    ticket_count: int = 0
    active_count: int = 0


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def customer_page(store: Store, q: str, *, before: int | None = None,
                        limit: int = PAGE_SIZE) -> tuple[list[CustomerRow], int | None]:
    """Customers matching ``q`` (name, handle or platform id of any identity; ``#12`` or ``12`` is an id)."""
    stmt = select(Customer).order_by(Customer.id.desc()).limit(limit + 1)
    if q:
        pattern = _like(q)
        matching = select(Identity.customer_id).where(or_(Identity.handle.ilike(pattern, escape="\\"),
                                                          Identity.display_name.ilike(pattern, escape="\\"),
                                                          Identity.platform_user_id.ilike(pattern, escape="\\")))
        conditions = [Customer.display_name.ilike(pattern, escape="\\"), Customer.id.in_(matching)]
        wanted = parse_id(q.lstrip("#"))
        if wanted is not None:
            conditions.append(Customer.id == wanted)
        stmt = stmt.where(or_(*conditions))
    if before is not None:
        stmt = stmt.where(Customer.id < before)
    async with store.sessions() as session:
        customers = list((await session.scalars(stmt)).all())
        more = len(customers) > limit
        customers = customers[:limit]
        ids = [c.id for c in customers]
        rows = {c.id: CustomerRow(c.id, c.display_name, c.created_at) for c in customers}
        if ids:
            for identity in (await session.scalars(select(Identity).where(Identity.customer_id.in_(ids))
                                                   .order_by(Identity.id))).all():
                rows[identity.customer_id].identities.append(identity)
            counts = await session.execute(
                select(Ticket.customer_id, func.count(),
                       func.sum(case((Ticket.status.in_(("open", "pending")), 1), else_=0)))
                .where(Ticket.customer_id.in_(ids)).group_by(Ticket.customer_id))
            for customer_id, total, active in counts.all():
                rows[customer_id].ticket_count, rows[customer_id].active_count = int(total), int(active or 0)
            recent: dict[int, list[Ticket]] = defaultdict(list)
            rank = func.row_number().over(partition_by=Ticket.customer_id, order_by=Ticket.id.desc()).label("rank")
            ranked = select(Ticket.id, rank).where(Ticket.customer_id.in_(ids)).subquery()
            newest = (select(Ticket).join(ranked, ranked.c.id == Ticket.id).where(ranked.c.rank <= TICKETS_SHOWN)
                      .order_by(Ticket.id.desc()))
            for ticket in (await session.scalars(newest)).all():
                recent[ticket.customer_id].append(ticket)
            for customer_id, tickets in recent.items():
                rows[customer_id].tickets = tickets
    return list(rows.values()), (customers[-1].id if more and customers else None)


async def customers_list(request: web.Request) -> web.Response:
    from core.web.context import CONTEXT

    q = request.query.get("q", "").replace("\x00", "").strip()[:100]
    before = parse_id(request.query.get("before", ""))
    rows, next_before = await customer_page(request.app[CONTEXT].store, q, before=before)
    return aiohttp_jinja2.render_template("customers.html", request, {"rows": rows, "q": q, "next": next_before})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/customers", customers_list, name="customers")
