"""Inbox pages: the list, and one ticket in three panes (list | conversation | details).

Views are thin: reads come from core/store/queries.py and store.ticket(), every change goes through
core.inbox.Inbox so its rules and activity log apply. ``?fragment=...`` returns only the region the
page script swaps in on a live event. Forms work without JavaScript (a post, then a redirect back to
the new message); with it, the same endpoints answer JSON (``Accept: application/json``) and the
page stays where it is.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import aiohttp_jinja2
from aiohttp import web

from core.errors import Conflict
from core.store.queries import customer_tickets, parse_id, ticket_row
from core.tickets import PRIORITIES, STATUSES
from core.web import inbox_files, inbox_lists, workspace_api, workspace_filters, workspace_views
from core.web.activity import sentence
from core.web.auth import AGENT
from core.web.context import CONTEXT
from core.web.inbox_lists import agent_options, list_params, people
from core.web.present import entry

FLASH_COOKIE = "sb_flash"
MAX_REPLY = 10_000


def ticket_id(request: web.Request) -> int:
    found = parse_id(request.match_info["ticket_id"])
    if found is None:
        raise web.HTTPNotFound(text="no such ticket")
    return found


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _qs(params: dict[str, str]) -> str:
    return ("?" + urlencode(params)) if params else ""


async def ticket_list(request: web.Request) -> web.Response:
    """The list page (the list pane alone; a phone shows just this)."""
    listing = await inbox_lists.listing(request, current=None)
    if request.query.get("fragment") == "rows":
        return web.Response(text=listing.html, content_type="text/html")
    data = {**await inbox_lists.pane_data(request, listing), "notice": _notice(request)}
    response = aiohttp_jinja2.render_template("tickets.html", request, data)
    if data["notice"]:
        response.del_cookie(inbox_lists.NOTICE_COOKIE, path="/")
    return response


async def _thread_data(request: web.Request, tid: int) -> dict[str, Any]:
    ctx = request.app[CONTEXT]
    record = await ctx.store.ticket(tid)
    known = await people(request)
    return {"ticket": record.ticket, "row": await ticket_row(ctx.store, tid),
            "entries": [entry(m) for m in record.messages],
            "events": [(e, sentence(e, known)) for e in reversed(record.events)]}


async def ticket_page(request: web.Request) -> web.Response:
    """Three panes: the list (same filters as the page it came from), the conversation, the details."""
    ctx = request.app[CONTEXT]
    tid = ticket_id(request)
    me = request[AGENT]
    data = await _thread_data(request, tid)
    fragment = request.query.get("fragment")
    if fragment in ("thread", "live"):
        if request.query.get("seen") == "1":
            await ctx.inbox.mark_read(tid, me.id)
        template = "_thread.html" if fragment == "thread" else "_ticket_live.html"
        return aiohttp_jinja2.render_template(template, request, {**data, **await _controls(request)})
    await ctx.inbox.mark_read(tid, me.id)
    listing = await inbox_lists.listing(request, current=tid)
    params = list_params(request.query)
    data.update(await inbox_lists.pane_data(request, listing), **await _controls(request))
    data.update(error=_flash(request), list_qs=_qs(params), list_back=urlencode(params),
                others=await customer_tickets(ctx.store, data["ticket"].customer_id, exclude=tid, limit=20),
                snooze_presets=workspace_views.SNOOZE_PRESETS)
    response = aiohttp_jinja2.render_template("ticket.html", request, data)
    if data["error"]:  # shown once
        response.del_cookie(FLASH_COOKIE, path=f"/tickets/{tid}")
    return response


async def _controls(request: web.Request) -> dict[str, Any]:
    return {"statuses": STATUSES, "priorities": PRIORITIES, "agents": await agent_options(request),
            "channel_names": inbox_lists.CHANNEL_NAMES}


def _back(tid: int, error: str | None = None, *, list_back: str = "", anchor: str = "") -> web.HTTPSeeOther:
    """Back to the ticket; an error travels in a short-lived cookie only this server sets, never in the
    URL (a link with ?error=... of anyone's choosing must not show as an alert on a real inbox page)."""
    query = ("?" + list_back) if list_back else ""
    response = web.HTTPSeeOther(f"/tickets/{tid}{query}{anchor}")
    if error:
        response.set_cookie(FLASH_COOKIE, quote(error[:300]), max_age=60, path=f"/tickets/{tid}", httponly=True,
                            samesite="Strict")
    return response


def done(request: web.Request, tid: int, error: str | None = None, *, list_back: str = "",
         anchor: str = "", **extra: Any) -> web.StreamResponse:
    """The answer to a change: JSON for the page script, a redirect for a plain form."""
    if wants_json(request):
        body = {"ok": error is None, **({"error": error} if error else {}), **extra}
        return web.json_response(body, status=409 if error else 200)
    raise _back(tid, error, list_back=list_back, anchor=anchor)


def _flash(request: web.Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    return unquote(raw) if raw else None


def _notice(request: web.Request) -> str | None:
    raw = request.cookies.get(inbox_lists.NOTICE_COOKIE)
    return unquote(raw) if raw else None


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _list_back(form: dict[str, str]) -> str:
    return urlencode(list_params(dict(_pairs(form.get("list", "")))))


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query[:1000], keep_blank_values=False)


async def reply(request: web.Request) -> web.StreamResponse:
    """A reply or note, with files when the form carries them (multipart, streamed to the data folder)."""
    tid = ticket_id(request)
    ctx = request.app[CONTEXT]
    try:
        if request.content_type == "multipart/form-data" and "X-CSRF-Token" in request.headers:
            form, files = await inbox_files.read_reply_form(request)  # streamed: files up to the channel's limit
        else:  # a plain form (no page script): the body was read whole, within the app's size limit
            raw = await request.post()
            form = {k: v for k, v in raw.items() if isinstance(v, str)}
            files = await inbox_files.save_fields(request, raw.getall("files", []))
    except Conflict as exc:  # a file too large, too many files
        return done(request, tid, str(exc))
    text = form.get("text", "").replace("\x00", "")
    back = _list_back(form)
    if len(text) > MAX_REPLY:
        inbox_files.discard(files)
        return done(request, tid, "a reply is limited to 10,000 characters", list_back=back)
    try:
        message_id = await ctx.inbox.reply(tid, text, agent_id=request[AGENT].id, files=files,
                                           internal=form.get("internal") in ("1", "on", "true"))
    except Conflict as exc:
        inbox_files.discard(files)
        return done(request, tid, str(exc), list_back=back)
    except BaseException:
        inbox_files.discard(files)
        raise
    await ctx.inbox.mark_read(tid, request[AGENT].id)
    return done(request, tid, list_back=back, anchor=f"#m{message_id}", message_id=message_id)


async def typing(request: web.Request) -> web.Response:
    """The ticket page's reply box is being written in (reply.js posts at most every 3 s): 204."""
    await request.app[CONTEXT].inbox.typing(ticket_id(request))
    return web.Response(status=204)


async def update(request: web.Request) -> web.StreamResponse:
    """One endpoint for the ticket's controls: each saves on change (``action`` names the control)."""
    tid = ticket_id(request)
    form = await _form(request)
    inbox, me = request.app[CONTEXT].inbox, request[AGENT].id
    back = _list_back(form)
    try:
        match form.get("action"):
            case "claim":
                await inbox.assign(tid, me, agent_id=me)
            case "assign":
                await inbox.assign(tid, parse_id(form.get("assignee", "")), agent_id=me)
            case "status":
                await inbox.set_status(tid, form.get("status", ""), agent_id=me)
            case "priority":
                await inbox.set_priority(tid, form.get("priority", ""), agent_id=me)
            case "tags":
                await inbox.set_tags(tid, _split_tags(form.get("tags", "")), agent_id=me)
            case "controls":  # every control at once: the form posted without the page script
                await _all_controls(request, tid, form)
            case "snooze":
                await inbox.snooze(tid, workspace_views.snooze_until(request, form), agent_id=me)
            case "impersonator":
                await inbox.mark_impersonator(tid, agent_id=me)
            case "merge":
                target = parse_id(form.get("target", "").strip().lstrip("#"))
                if target is None:
                    raise Conflict("give the number of the ticket to merge into")
                await inbox.merge(tid, target, agent_id=me)
                if wants_json(request):
                    return web.json_response({"ok": True, "location": f"/tickets/{target}"})
                raise web.HTTPSeeOther(f"/tickets/{target}")
            case _:
                raise web.HTTPBadRequest(text="unknown action")
    except Conflict as exc:
        return done(request, tid, str(exc), list_back=back)
    return done(request, tid, list_back=back)


def _split_tags(raw: str) -> list[str]:
    return [t for t in raw.replace("，", ",").split(",")][:20]


async def _all_controls(request: web.Request, tid: int, form: dict[str, str]) -> None:
    ctx, me = request.app[CONTEXT], request[AGENT].id
    ticket = (await ctx.store.ticket(tid)).ticket
    assignee = parse_id(form.get("assignee", ""))
    if "assignee" in form and assignee != ticket.assignee_id:
        await ctx.inbox.assign(tid, assignee, agent_id=me)
    if form.get("priority") and form["priority"] != ticket.priority:
        await ctx.inbox.set_priority(tid, form["priority"], agent_id=me)
    if "tags" in form:
        await ctx.inbox.set_tags(tid, _split_tags(form["tags"]), agent_id=me)
    if form.get("status") and form["status"] != ticket.status:
        await ctx.inbox.set_status(tid, form["status"], agent_id=me)


def setup_routes(app: web.Application) -> None:
    workspace_filters.setup(app)
    ctx = app[CONTEXT]
    if getattr(ctx.inbox, "public_url", None) is None:  # files agents send are linked from there
        ctx.inbox.public_url = getattr(getattr(ctx.settings, "web", None), "public_url", None)
    app.router.add_get("/", ticket_list, name="tickets")
    app.router.add_get("/tickets/{ticket_id:\\d+}", ticket_page, name="ticket")
    app.router.add_post("/tickets/{ticket_id:\\d+}/reply", reply, name="reply")
    app.router.add_post("/tickets/{ticket_id:\\d+}/update", update, name="update")
    app.router.add_post("/tickets/{ticket_id:\\d+}/typing", typing, name="typing")
    workspace_views.setup_routes(app)
    inbox_files.setup_routes(app)
    workspace_api.setup_routes(app)
