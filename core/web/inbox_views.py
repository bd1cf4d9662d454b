"""Inbox pages: the ticket list and one ticket (thread, delivery states, activity, reply box, controls).

Views are thin: reads come from core/store/queries.py and store.ticket(), every change goes through
core.inbox.Inbox so its rules and activity log apply. ``?fragment=...`` returns only the region the
page script swaps in on a live event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from core.errors import Conflict
from core.store.queries import TicketFilter, customer_tickets, list_tickets, parse_id, ticket_row
from core.store.tables import Agent
from core.tickets import PRIORITIES, STATUSES
from core.web.auth import AGENT
from core.web.context import CONTEXT
from core.web.live import FRAGMENTS
from core.web.present import entry, event_text

PAGE_SIZE = 50


def ticket_id(request: web.Request) -> int:
    found = parse_id(request.match_info["ticket_id"])
    if found is None:
        raise web.HTTPNotFound(text="no such ticket")
    return found


def filter_from_query(query: Any) -> TicketFilter:
    def value(key: str) -> str | None:
        v = query.get(key, "").replace("\x00", "").strip()
        return v or None

    status = query.get("status", "open").strip() or None
    return TicketFilter(status=None if status == "all" else status, channel=value("channel"),
                        assignee=value("assignee"), priority=value("priority"), tag=value("tag"),
                        overdue=query.get("overdue", "") in ("1", "true", "on"), q=value("q"),
                        sort=value("sort") or "newest").validate()


async def agent_options(request: web.Request) -> list[AgentOption]:
    """Who can be assigned: asked on every page, so shared by this process's requests until the next event."""
    async def load() -> list[AgentOption]:
        rows = await request.app[CONTEXT].store.all(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name))
        return [AgentOption(a.id, a.name, a.display_name) for a in rows]

    return await request.app[FRAGMENTS].get_or_make(("agents",), load)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class AgentOption:
    id: int
    name: str
    display_name: str


def channel_names(request: web.Request) -> list[str]:
    settings = request.app[CONTEXT].settings
    channels = getattr(settings, "channels", None) or {}
    return sorted(channels)


async def ticket_list(request: web.Request) -> web.Response:
    """The list page; its rows (the part a live event refreshes) are rendered once per list and event."""
    f = filter_from_query(request.query)
    cursor = request.query.get("cursor") or None
    params = {k: v for k, v in request.query.items() if k not in ("cursor", "fragment") and v}
    key = (tuple(sorted((k, v) for k, v in request.query.items() if k != "fragment")),
           request[AGENT].id if f.assignee == "mine" else None)

    async def rows() -> str:
        ctx = request.app[CONTEXT]
        tickets, next_cursor = await list_tickets(ctx.store, f, me=request[AGENT].id, limit=PAGE_SIZE, cursor=cursor)
        template = aiohttp_jinja2.get_env(request.app).get_template("_ticket_rows.html")
        return template.render(tickets=tickets, next_cursor=next_cursor, params=params)

    html = await request.app[FRAGMENTS].get_or_make(key, rows)
    if request.query.get("fragment") == "rows":
        return web.Response(text=html, content_type="text/html")
    data = {"rows_html": Markup(html), "filter": f, "params": params,
            "status_value": request.query.get("status", "open"), "statuses": STATUSES, "priorities": PRIORITIES,
            "agents": await agent_options(request), "channels": channel_names(request)}
    return aiohttp_jinja2.render_template("tickets.html", request, data)


async def ticket_page(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    tid = ticket_id(request)
    record = await ctx.store.ticket(tid)
    entries = [entry(m) for m in record.messages]
    data: dict[str, Any] = {"ticket": record.ticket, "row": await ticket_row(ctx.store, tid), "entries": entries,
                            "events": [(e, event_text(e)) for e in reversed(record.events)],
                            "error": _flash(request)}
    if request.query.get("fragment") == "thread":
        return aiohttp_jinja2.render_template("_thread.html", request, data)
    lang = record.ticket.language or "en"
    canned = []
    for e in getattr(ctx.kb, "entries", ()):
        try:
            canned.append((e.title.get(lang) or e.id, ctx.kb.answer(e.id, lang)))
        except KeyError:
            continue
    data.update(canned=canned, statuses=STATUSES, priorities=PRIORITIES, agents=await agent_options(request),
                others=await customer_tickets(ctx.store, record.ticket.customer_id, exclude=tid, limit=20))
    response = aiohttp_jinja2.render_template("ticket.html", request, data)
    if data["error"]:  # shown once
        response.del_cookie(FLASH_COOKIE, path=f"/tickets/{tid}")
    return response


FLASH_COOKIE = "sb_flash"


def _back(tid: int, error: str | None = None) -> web.HTTPSeeOther:
    """Back to the ticket; an error travels in a short-lived cookie only this server sets, never in the
    URL (a link with ?error=... of anyone's choosing must not show as an alert on a real inbox page)."""
    response = web.HTTPSeeOther(f"/tickets/{tid}")
    if error:
        response.set_cookie(FLASH_COOKIE, quote(error[:300]), max_age=60, path=f"/tickets/{tid}", httponly=True,
                            samesite="Strict")
    return response


def _flash(request: web.Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    return unquote(raw) if raw else None


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def reply(request: web.Request) -> web.StreamResponse:
    tid = ticket_id(request)
    form = await _form(request)
    text = form.get("text", "").replace("\x00", "")
    if len(text) > 10_000:
        raise _back(tid, "a reply is limited to 10,000 characters")
    try:
        await request.app[CONTEXT].inbox.reply(tid, text, agent_id=request[AGENT].id,
                                               internal=form.get("internal") in ("1", "on", "true"))
    except Conflict as exc:
        raise _back(tid, str(exc)) from None
    raise _back(tid)


async def update(request: web.Request) -> web.StreamResponse:
    """One endpoint for the small forms on the ticket page (claim, assign, status, priority, tags)."""
    tid = ticket_id(request)
    form = await _form(request)
    inbox, me = request.app[CONTEXT].inbox, request[AGENT].id
    try:
        match form.get("action"):
            case "claim":
                await inbox.assign(tid, me, agent_id=me)
            case "assign":
                raw = form.get("assignee", "")
                await inbox.assign(tid, parse_id(raw), agent_id=me)
            case "status":
                await inbox.set_status(tid, form.get("status", ""), agent_id=me)
            case "priority":
                await inbox.set_priority(tid, form.get("priority", ""), agent_id=me)
            case "tags":
                await inbox.set_tags(tid, [t for t in form.get("tags", "").replace("，", ",").split(",")][:20],
                                     agent_id=me)
            case "impersonator":
                await inbox.mark_impersonator(tid, agent_id=me)
            case "merge":
                target = parse_id(form.get("target", "").strip().lstrip("#"))
                if target is None:
                    raise Conflict("give the number of the ticket to merge into")
                await inbox.merge(tid, target, agent_id=me)
                raise web.HTTPSeeOther(f"/tickets/{target}")
            case _:
                raise web.HTTPBadRequest(text="unknown action")
    except Conflict as exc:
        raise _back(tid, str(exc)) from None
    raise _back(tid)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", ticket_list, name="tickets")
    app.router.add_get("/tickets/{ticket_id}", ticket_page, name="ticket")
    app.router.add_post("/tickets/{ticket_id}/reply", reply, name="reply")
    app.router.add_post("/tickets/{ticket_id}/update", update, name="update")
