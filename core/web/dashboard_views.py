"""/dashboard: the figures of `GET /api/v1/stats` as charts (server-side SVG) and tables, with a date range
and a channel filter. The same computation (core/stats.py) serves both, so they never disagree."""

from __future__ import annotations

from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from pydantic import ValidationError

from core.stats import Stats
from core.store.queries import InvalidQuery
from core.web import charts
from core.web.charts import Bar
from core.web.context import CONTEXT
from core.web.stats_api import StatsQuery, stats_for


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h"


def chart_set(stats: Stats) -> dict[str, Any]:
    data = stats.as_dict()
    totals, goal = data["totals"], data["goal_hours"]
    days = data["days"]
    labels = [d["date"] for d in days]
    channels = data["channels"]
    reasons = totals["handoffs_by_reason"]
    first = [(name, f["first_response"]) for name, f in channels.items() if f["first_response"]["responded"]]
    response_bars = [Bar("all channels, median", totals["first_response"]["p50_hours"] or 0,
                         _hours(totals["first_response"]["p50_hours"])),
                     Bar("all channels, 90th percentile", totals["first_response"]["p90_hours"] or 0,
                         _hours(totals["first_response"]["p90_hours"]))]
    for name, fr in first:
        response_bars += [Bar(f"{name}, median", fr["p50_hours"] or 0, _hours(fr["p50_hours"])),
                          Bar(f"{name}, 90th percentile", fr["p90_hours"] or 0, _hours(fr["p90_hours"]))]
    if not totals["first_response"]["responded"]:
        response_bars = []
    rated = [(name, f["satisfaction"]) for name, f in channels.items() if f["satisfaction"]["count"]]
    return {
        "volume": charts.columns("Conversations and handoffs per day", labels, [
            ("conversations", [d["conversations"] for d in days]), ("handoffs", [d["handoffs"] for d in days])]),
        "deflection": charts.columns("Deflection rate per day", labels, [
            ("deflected", [d["deflection_rate"] or 0 for d in days])], percent=True),
        "reasons": charts.bars("Handoffs by reason", [Bar(r, n, str(n)) for r, n in reasons.items()],
                               colour=charts.SERIES[1]),
        "channels": charts.bars("Conversations per channel", [
            Bar(name, f["conversations"], f"{f['conversations']} ({_pct(f['deflection_rate'])} deflected)")
            for name, f in channels.items()], colour=charts.SERIES[0]),
        "response": charts.bars(f"First response time against the {goal:g} h goal", response_bars, goal=goal,
                                goal_label=f"goal {goal:g} h", colour=charts.SERIES[4],
                                empty="no first replies in this range"),
        "satisfaction": charts.bars("Satisfaction (average rating, 1 to 5)", [
            Bar(name, s["average"] or 0, f"{s['average']:.1f} from {s['count']}") for name, s in rated],
            scale=5, colour=charts.SERIES[2], empty="no ratings in this range"),
    }


async def dashboard(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    raw = {k: request.query[k] for k in ("from", "to", "channel") if request.query.get(k)}
    error = None
    try:
        query = StatsQuery.model_validate(raw)
        stats = await stats_for(ctx, query)
    except (ValidationError, InvalidQuery) as exc:
        error = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors(include_url=False)) if isinstance(
            exc, ValidationError) else str(exc)
        stats = await stats_for(ctx, StatsQuery())
    data = stats.as_dict()
    configured = sorted(getattr(ctx.settings, "channels", None) or {})
    names = sorted(set(configured) | set(data["channels"]) | ({stats.channel} if stats.channel else set()))
    return aiohttp_jinja2.render_template("dashboard.html", request, {
        "stats": data, "charts": chart_set(stats), "error": error, "channel_names": names,
        "today": date.today().isoformat(), "pct": _pct, "hours": _hours}, status=422 if error else 200)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard, name="dashboard")
