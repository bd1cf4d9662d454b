"""The list pane: filters, rows (shared by every agent, rendered once per event), each agent's unread marks.

Rows are the expensive part and the same for everyone looking at the same filters, so they are
rendered once into the fragment cache (core/web/live.py). What differs per agent (which tickets have
customer messages they have not seen, which ticket is open beside the list) is applied to that
HTML afterwards by switching markers the row template leaves for it: one small indexed query, no
second rendering.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from core.store.queries import TicketFilter, list_tickets, parse_id
from core.store.tables import Agent, TicketRead
from core.tickets import PRIORITIES, STATUSES
from core.web.activity import People
from core.web.auth import AGENT
from core.web.context import CONTEXT
from core.web.live import FRAGMENTS

PAGE_SIZE = 50
LIST_KEYS = ("q", "status", "channel", "assignee", "priority", "tag", "overdue", "sort")
NOTICE_COOKIE = "sb_notice"
CHANNEL_NAMES = {"telegram": "Telegram", "discord": "Discord", "x": "X", "webchat": "Website chat"}
STATUS_CHOICES = ("open", "pending", "snoozed", "solved", "closed", "active", "all")


@dataclass(frozen=True, slots=True)
class AgentOption:
    id: int
    name: str
    display_name: str
    availability: str = "online"

    @property
    def label(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class Listing:
    filter: TicketFilter
    params: dict[str, str]
    html: str


@dataclass(frozen=True, slots=True)
class _Rows:
    html: str
    customer_at: Mapping[int, datetime | None]


def list_params(query: Mapping[str, str]) -> dict[str, str]:
    """The list's filters from a query string (what a ticket link carries to keep the list beside it)."""
    return {k: str(query.get(k, "")).replace("\x00", "").strip()[:200] for k in LIST_KEYS
            if str(query.get(k, "")).strip()}


def filter_from_query(query: Mapping[str, str]) -> TicketFilter:
    def value(key: str) -> str | None:
        v = str(query.get(key, "")).replace("\x00", "").strip()
        return v or None

    status = str(query.get("status", "open")).strip() or None
    return TicketFilter(status=None if status == "all" else status, channel=value("channel"),
                        assignee=value("assignee"), priority=value("priority"), tag=value("tag"),
                        overdue=query.get("overdue", "") in ("1", "true", "on"), q=value("q"),
                        sort=value("sort") or "activity").validate()


async def agent_options(request: web.Request) -> list[AgentOption]:
    """Who can be assigned: asked on every page, so shared by this process's requests until the next event."""
    async def load() -> list[AgentOption]:
        rows = await request.app[CONTEXT].store.all(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name))
        return [AgentOption(a.id, a.name, a.display_name, a.availability) for a in rows]

    return await request.app[FRAGMENTS].get_or_make(("agents",), load)  # type: ignore[no-any-return]


async def people(request: web.Request) -> People:
    """Names for the activity log (every agent, also former ones)."""
    async def load() -> People:
        rows = await request.app[CONTEXT].store.all(select(Agent))
        return People({a.id: a.display_name or a.name for a in rows}, {a.name: a.display_name or a.name for a in rows})

    return await request.app[FRAGMENTS].get_or_make(("people",), load)  # type: ignore[no-any-return]


def channel_names(request: web.Request) -> list[str]:
    channels = getattr(request.app[CONTEXT].settings, "channels", None) or {}
    return sorted(channels)


async def rows_html(request: web.Request, f: TicketFilter, params: dict[str, str], cursor: str | None) -> _Rows:
    me = request[AGENT].id
    key = (tuple(sorted(params.items())), cursor, me if f.assignee == "mine" else None)

    async def make() -> _Rows:
        tickets, next_cursor = await list_tickets(request.app[CONTEXT].store, f, me=me, limit=PAGE_SIZE,
                                                  cursor=cursor)
        template = aiohttp_jinja2.get_env(request.app).get_template("_ticket_rows.html")
        html = template.render(tickets=tickets, next_cursor=next_cursor, params=params,
                               list_qs=("?" + urlencode(params)) if params else "", channel_names=CHANNEL_NAMES)
        return _Rows(html, {t.id: t.last_customer_at for t in tickets})

    return await request.app[FRAGMENTS].get_or_make(key, make)  # type: ignore[no-any-return]


async def unread(request: web.Request, customer_at: Mapping[int, datetime | None]) -> set[int]:
    """Tickets with a customer message newer than this agent's last look."""
    waiting = {tid: at for tid, at in customer_at.items() if at is not None}
    if not waiting:
        return set()
    rows = await request.app[CONTEXT].store.all(
        select(TicketRead).where(TicketRead.agent_id == request[AGENT].id, TicketRead.ticket_id.in_(list(waiting))))
    read = {r.ticket_id: r.read_at for r in rows}
    return {tid for tid, at in waiting.items() if tid not in read or at > read[tid]}


_UNREAD = re.compile(r'<span class="unread" data-unread="(\d+)" hidden>')
_ROW = re.compile(r'<li class="ticket([^"]*)" data-row="(\d+)"')


def personalise(html: str, current: int | None, unread_ids: set[int]) -> str:
    """Switch on this agent's unread marks and the open ticket's highlight in the shared rows."""
    html = _UNREAD.sub(lambda m: (f'<span class="unread" data-unread="{m[1]}">' if int(m[1]) in unread_ids
                                  else m[0]), html)

    def row(m: re.Match[str]) -> str:
        tid = int(m[2])
        classes = m[1] + (" is-unread" if tid in unread_ids else "") + (" current" if tid == current else "")
        return f'<li class="ticket{classes}" data-row="{tid}"' + (' aria-current="true"' if tid == current else "")

    return _ROW.sub(row, html)


async def listing(request: web.Request, *, current: int | None) -> Listing:
    f = filter_from_query(request.query)
    params = list_params(request.query)
    cursor = request.query.get("cursor") or None
    rows = await rows_html(request, f, params, cursor)
    if current is None:
        current = parse_id(request.query.get("current", ""))
    return Listing(f, params, personalise(rows.html, current, await unread(request, rows.customer_at)))


async def pane_data(request: web.Request, listing: Listing) -> dict[str, Any]:
    """What the list pane's template needs besides the rows."""
    return {"rows_html": Markup(listing.html), "filter": listing.filter, "params": listing.params,
            "status_value": request.query.get("status", "open"), "status_choices": STATUS_CHOICES,
            "statuses": STATUSES, "priorities": PRIORITIES, "agents": await agent_options(request),
            "channels": channel_names(request), "channel_names": CHANNEL_NAMES,
            "list_query": urlencode(listing.params)}
