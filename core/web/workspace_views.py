"""The workspace's smaller endpoints: bulk actions, snooze times, availability, notifications, the ``/`` picker.

Each answers a plain form with a redirect and the page script with JSON (``Accept: application/json``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from core import bulk, canned, notifications
from core.assignment import set_availability
from core.errors import Conflict
from core.models import utcnow
from core.store.queries import parse_id
from core.web.auth import AGENT
from core.web.auth import _safe_next as safe_next
from core.web.context import CONTEXT
from core.web.inbox_lists import NOTICE_COOKIE, list_params

SNOOZE_PRESETS = (("1h", "for 1 hour"), ("4h", "for 4 hours"), ("tomorrow", "until tomorrow 9:00"),
                  ("next_week", "until Monday 9:00"), ("custom", "until a time I choose"))


def _zone(request: web.Request, form: dict[str, str]) -> ZoneInfo:
    """The agent's time zone (the page script sends it), else the business hours' zone."""
    for name in (form.get("tz", ""), getattr(getattr(request.app[CONTEXT].settings, "business_hours", None),
                                             "timezone", "UTC"), "UTC"):
        try:
            return ZoneInfo(str(name)[:64]) if name else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def snooze_until(request: web.Request, form: dict[str, str], now: datetime | None = None) -> datetime:
    """The end of a snooze from a preset or a chosen local time; Conflict when none is given."""
    now = now or utcnow()
    zone = _zone(request, form)
    local = now.astimezone(zone)
    match form.get("preset", ""):
        case "1h":
            return now + timedelta(hours=1)
        case "4h":
            return now + timedelta(hours=4)
        case "tomorrow":
            return datetime.combine(local.date() + timedelta(days=1), time(9, 0), zone)
        case "next_week":
            return datetime.combine(local.date() + timedelta(days=7 - local.weekday()), time(9, 0), zone)
        case "custom" | "":
            raw = form.get("until", "").strip()
            if not raw:
                raise Conflict("choose until when to snooze")
            try:
                chosen = datetime.fromisoformat(raw[:32])
            except ValueError:
                raise Conflict("the snooze time is not a date and time") from None
            return chosen if chosen.tzinfo else chosen.replace(tzinfo=zone)
        case other:
            raise Conflict(f"unknown snooze choice {other!r}")


async def bulk_view(request: web.Request) -> web.StreamResponse:
    """Selected tickets of the list: assign, solve, tag, snooze or merge them; back to the same list."""
    raw = await request.post()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    ids = [i for i in (parse_id(v) for v in raw.getall("ids", []) if isinstance(v, str)) if i is not None]
    action = form.get("action", "")
    params = list_params(dict(_pairs(form.get("list", ""))))
    me = request[AGENT].id
    try:
        until = snooze_until(request, form) if action == "snooze" else None
        assignee = (me if form.get("assignee") == "me" else parse_id(form.get("assignee", ""))) \
            if action == "assign" else None
        results = await bulk.apply(request.app[CONTEXT].inbox, ids, action, agent_id=me, assignee=assignee,
                                   tag=form.get("tag"), until=until,
                                   target=parse_id(form.get("target", "").strip().lstrip("#")))
        message, ok = bulk.summary(action, results), True
        body: dict[str, Any] = {"results": [{"id": r.ticket_id, "ok": r.ok, "error": r.error} for r in results]}
    except Conflict as exc:
        message, ok, body = str(exc), False, {}
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response({"ok": ok, "message": message, **body}, status=200 if ok else 409)
    response = web.HTTPSeeOther("/" + (("?" + urlencode(params)) if params else ""))
    response.set_cookie(NOTICE_COOKIE, quote(message[:400]), max_age=60, path="/", httponly=True, samesite="Strict")
    raise response


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query[:1000])


async def availability_view(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    value = str(form.get("availability", ""))
    error = None
    try:
        await set_availability(request.app[CONTEXT].store, request[AGENT].id, value)
        request.app[CONTEXT].bus.publish("agent", agent_id=request[AGENT].id)  # refresh cached agent lists
    except Conflict as exc:
        error = str(exc)
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response({"ok": error is None, "availability": value, **({"error": error} if error else {})},
                                 status=409 if error else 200)
    raise web.HTTPSeeOther(safe_next(str(form.get("back", "/"))))  # local paths only: no open redirect


async def notifications_view(request: web.Request) -> web.Response:
    cursor = notifications.Cursor.decode(request.query.get("cursor", "")[:200])
    found, following = await notifications.notices(request.app[CONTEXT].store, request[AGENT].id, cursor)
    return web.json_response({"notices": [n.as_json() for n in found], "cursor": following.encode()})


async def picker_view(request: web.Request) -> web.Response:
    """What ``/...`` in the reply box offers: own and shared canned responses, knowledge answers in the
    ticket's language."""
    ctx = request.app[CONTEXT]
    lang = "en"
    ticket = parse_id(request.query.get("ticket", ""))
    if ticket is not None:
        lang = (await ctx.store.ticket(ticket)).ticket.language or "en"
    q = request.query.get("q", "").replace("\x00", "")[:100]
    choices = await canned.picker(ctx.store, request[AGENT].id, q, kb=ctx.kb, lang=lang)
    return web.json_response({"language": lang, "choices": [c.as_json() for c in choices]})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/tickets/bulk", bulk_view, name="bulk")
    app.router.add_post("/me/availability", availability_view, name="availability")
    app.router.add_get("/notifications", notifications_view, name="notifications")
    app.router.add_get("/canned-responses/search", picker_view, name="canned_search")
    from core.web import canned_views

    canned_views.setup_routes(app)
