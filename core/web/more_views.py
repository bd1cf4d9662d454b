"""The other inbox pages: a customer across channels (and linking identities), transcripts, agents."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core import accounts
from core.errors import Conflict
from core.store.queries import customer_view, find_identities, parse_id
from core.web.auth import AGENT, require_admin
from core.web.context import CONTEXT
from core.web.inbox_views import ticket_id
from core.web.present import entry, transcript_text


def _customer_id(request: web.Request) -> int:
    found = parse_id(request.match_info["customer_id"])
    if found is None:
        raise web.HTTPNotFound(text="no such customer")
    return found


async def customer_page(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    cid = _customer_id(request)
    view = await customer_view(ctx.store, cid)
    q = request.query.get("q", "").replace("\x00", "").strip()[:100]
    matches = [i for i in await find_identities(ctx.store, q) if i.customer_id != cid] if q else []
    return aiohttp_jinja2.render_template("customer.html", request, {
        "view": view, "q": q, "matches": matches})


async def link_identity(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    cid = _customer_id(request)
    form = await request.post()
    identity_id = parse_id(form.get("identity_id", ""))
    if identity_id is None:
        raise web.HTTPBadRequest(text="choose an identity to link")
    await ctx.inbox.link_identity(cid, identity_id, agent_id=request[AGENT].id)
    raise web.HTTPSeeOther(f"/customers/{cid}")


async def transcript(request: web.Request) -> web.StreamResponse:
    """The whole thread as a download, text or HTML (notes included and marked: it is for agents)."""
    ctx = request.app[CONTEXT]
    tid = ticket_id(request)
    record = await ctx.store.ticket(tid)
    entries = [entry(m) for m in record.messages]
    brand = getattr(ctx.settings, "brand", "supportbot")
    fmt = request.match_info["fmt"]
    filename = f"ticket-{tid}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "txt":
        return web.Response(text=transcript_text(record.ticket, entries, brand), content_type="text/plain",
                            charset="utf-8", headers=disposition)
    response = aiohttp_jinja2.render_template("transcript.html", request, {
        "ticket": record.ticket, "entries": entries})
    response.headers.update(disposition)
    return response


async def agents_page(request: web.Request) -> web.Response:
    require_admin(request)  # the list of agents and their roles is an admin's business
    return await _agents(request, None, 200)


async def _agents(request: web.Request, message: str | None, status: int, created: str | None = None) -> web.Response:
    agents = await accounts.list_agents(request.app[CONTEXT].store)
    data: dict[str, Any] = {"agents": agents, "error": message, "created": created}
    return aiohttp_jinja2.render_template("agents.html", request, data, status=status)


async def add_agent(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    role = "admin" if form.get("role") == "admin" else "agent"
    try:
        await accounts.create_agent(request.app[CONTEXT].store, name, password, role=role,
                                    display_name=str(form.get("display_name", "")))
    except Conflict as exc:
        return await _agents(request, str(exc), 409)
    return await _agents(request, None, 201, created=name)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/customers/{customer_id}", customer_page, name="customer")
    app.router.add_post("/customers/{customer_id}/link", link_identity, name="link_identity")
    app.router.add_get(r"/tickets/{ticket_id}/transcript.{fmt:txt|html}", transcript, name="transcript")
    app.router.add_get("/agents", agents_page, name="agents")
    app.router.add_post("/agents", add_agent)
