"""/settings (admins): the running channels and their state, business hours, the first-response SLA and
auto-assignment. Saved to the store (core/preferences.py) and applied to the running engine at once;
channels.yaml keeps the secrets (never shown here) and the defaults.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from pydantic import ValidationError

from core import preferences, saved
from core.hours import DAYS, BusinessHours
from core.preferences import HOURS_KEY, TICKETS_KEY, TicketPreferences
from core.web.auth import require_admin
from core.web.context import CONTEXT, AppContext

DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
                     strict=True))
ZONES = ("UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
         "Europe/Berlin", "America/New_York", "America/Los_Angeles")
NOTICES = {"hours": "Business hours saved; they apply from now on.",
           "tickets": "SLA and assignment saved; they apply to new tickets from now on."}


def channel_rows(ctx: AppContext) -> list[dict[str, Any]]:
    """Every configured channel with how it receives and, when it runs, its supervisor's state."""
    report = ctx.channels.report() if ctx.channels is not None else {}
    configured = getattr(ctx.settings, "channels", None) or {}
    rows = []
    for name in sorted(set(configured) | set(report)):
        block = configured.get(name)
        mode = getattr(block, "mode", None)
        receives = {"webhook": f"webhook at {getattr(block, 'webhook_path', '')}", "polling": "polling"}.get(
            mode or "", {"discord": "gateway", "webchat": "website chat socket"}.get(name, "-"))
        state = report.get(name)
        enabled = bool(getattr(block, "enabled", state is not None))
        rows.append({"name": name, "enabled": enabled, "receives": receives, "state": state,
                     "webhook_set": mode == "webhook" and state is not None and state.get("state") == "receiving"})
    return rows


async def _render(request: web.Request, *, errors: dict[str, str] | None = None, status: int = 200,
                  form: dict[str, Any] | None = None) -> web.Response:
    ctx = request.app[CONTEXT]
    prefs = await preferences.load(ctx.store, ctx.settings)
    zones = ZONES if prefs.business_hours.timezone in ZONES else (prefs.business_hours.timezone, *ZONES)
    return aiohttp_jinja2.render_template("settings.html", request, {
        "channels": channel_rows(ctx), "prefs": prefs, "days": DAY_NAMES, "zones": zones, "errors": errors or {},
        "form": form or {}, "notice": NOTICES.get(request.query.get("done", ""))}, status=status)


async def settings_page(request: web.Request) -> web.Response:
    require_admin(request)
    return await _render(request)


def _clock(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day (HH:MM)") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors(
        include_url=False))


async def save_hours(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    ctx = request.app[CONTEXT]
    form = await request.post()
    try:
        hours = BusinessHours(always=form.get("always") == "yes", timezone=str(form.get("timezone", "UTC")),
                              days=[d for d in DAYS if form.get(f"day-{d}") == "on"],
                              opens=_clock(str(form.get("opens", "09:00"))), closes=_clock(str(form.get("closes",
                                                                                                       "18:00"))))
    except (ValidationError, ValueError) as exc:
        message = _problems(exc) if isinstance(exc, ValidationError) else str(exc)
        return await _render(request, errors={"hours": message}, status=422)
    if not hours.always and not hours.days:
        return await _render(request, errors={"hours": "choose at least one working day, or answer around the clock"},
                             status=422)
    await preferences.save(ctx.store, HOURS_KEY, hours, agent_id=admin.id)
    preferences.apply(ctx.engine, await preferences.load(ctx.store, ctx.settings))
    await saved.announce(ctx, "preferences")
    raise web.HTTPSeeOther("/settings?done=hours")


async def save_tickets(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    ctx = request.app[CONTEXT]
    form = await request.post()
    try:
        prefs = TicketPreferences(first_response_hours=str(form.get("first_response_hours", "")),
                                  auto_assign=form.get("auto_assign") == "on",
                                  max_open_per_agent=str(form.get("max_open_per_agent", "")))
    except ValidationError as exc:
        return await _render(request, errors={"tickets": _problems(exc)}, status=422)
    await preferences.save(ctx.store, TICKETS_KEY, prefs, agent_id=admin.id)
    preferences.apply(ctx.engine, await preferences.load(ctx.store, ctx.settings))
    await saved.announce(ctx, "preferences")
    raise web.HTTPSeeOther("/settings?done=tickets")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/settings", settings_page, name="settings")
    app.router.add_post("/settings/hours", save_hours)
    app.router.add_post("/settings/tickets", save_tickets)
