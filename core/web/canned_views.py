"""The canned responses page: an agent's own and the shared ones, added, edited and removed here."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core import canned
from core.errors import Conflict, NotFound
from core.store.queries import parse_id
from core.web.auth import AGENT
from core.web.context import CONTEXT


def _id(request: web.Request) -> int:
    found = parse_id(request.match_info["response_id"])
    if found is None:
        raise web.HTTPNotFound(text="no such canned response")
    return found


async def _page(request: web.Request, *, status: int = 200, error: str | None = None, saved: str | None = None,
                draft: dict[str, str] | None = None) -> web.Response:
    me = request[AGENT]
    rows = await canned.visible(request.app[CONTEXT].store, me.id)
    data: dict[str, Any] = {"rows": rows, "error": error, "saved": saved, "draft": draft or {},
                            "may_change": {r.id: canned.may_change(r, me.id, is_admin=me.is_admin) for r in rows}}
    return aiohttp_jinja2.render_template("canned.html", request, data, status=status)


async def list_page(request: web.Request) -> web.Response:
    return await _page(request, saved={"added": "Canned response added.", "saved": "Canned response saved.",
                                       "deleted": "Canned response deleted."}.get(request.query.get("done", "")))


async def _fields(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


async def add(request: web.Request) -> web.StreamResponse:
    form = await _fields(request)
    try:
        await canned.create(request.app[CONTEXT].store, title=form.get("title", ""), text=form.get("text", ""),
                            shortcut=form.get("shortcut", ""), shared=form.get("shared") == "1",
                            agent_id=request[AGENT].id)
    except Conflict as exc:
        return await _page(request, status=422, error=str(exc), draft=form)
    raise web.HTTPSeeOther("/canned-responses?done=added")


async def edit_page(request: web.Request) -> web.Response:
    me = request[AGENT]
    row = await canned.get(request.app[CONTEXT].store, _id(request), me.id)
    if not canned.may_change(row, me.id, is_admin=me.is_admin):
        raise web.HTTPForbidden(text="only its author or an admin may change a shared canned response")
    return aiohttp_jinja2.render_template("canned_edit.html", request, {"row": row, "error": None})


async def save(request: web.Request) -> web.StreamResponse:
    me = request[AGENT]
    rid = _id(request)
    form = await _fields(request)
    store = request.app[CONTEXT].store
    try:
        if form.get("delete") == "1":
            await canned.delete(store, rid, agent_id=me.id, is_admin=me.is_admin)
            raise web.HTTPSeeOther("/canned-responses?done=deleted")
        await canned.update(store, rid, agent_id=me.id, is_admin=me.is_admin, title=form.get("title", ""),
                            text=form.get("text", ""), shortcut=form.get("shortcut", ""),
                            shared=form.get("shared") == "1")
    except canned.NotYours as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    except NotFound:
        raise
    except Conflict as exc:
        row = await canned.get(store, rid, me.id)
        return aiohttp_jinja2.render_template("canned_edit.html", request, {"row": row, "error": str(exc)},
                                              status=422)
    raise web.HTTPSeeOther("/canned-responses?done=saved")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/canned-responses", list_page, name="canned")
    app.router.add_post("/canned-responses", add)
    app.router.add_get("/canned-responses/{response_id:\\d+}", edit_page, name="canned_edit")
    app.router.add_post("/canned-responses/{response_id:\\d+}", save)
