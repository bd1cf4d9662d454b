"""`GET /api/v1/stats`: the support statistics of a date range (core/stats.py), and their OpenAPI description."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.stats import Stats, StatsRangeError, compute, date_range
from core.store.queries import InvalidQuery
from core.web.context import CONTEXT, AppContext

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


class StatsQuery(BaseModel):
    """The query string; ``from`` and ``to`` are calendar days (UTC), ``to`` included."""

    model_config = ConfigDict(extra="forbid")
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")
    channel: str | None = Field(default=None, max_length=32)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not _DATE.match(value):
                raise ValueError("must be a date written YYYY-MM-DD")
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValueError("is not a calendar date") from None
            if not EARLIEST <= day <= LATEST:
                raise ValueError(f"must lie between {EARLIEST} and {LATEST}")
            return day
        return value

    @field_validator("channel")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        value = value.replace("\x00", "").strip() if value is not None else None
        return value or None


def goal_hours(ctx: AppContext) -> float:
    """The first-response goal in force: the running engine's (settings page), else channels.yaml's."""
    hours = getattr(ctx.engine, "first_response_hours", None)
    if isinstance(hours, int | float) and hours > 0:
        return float(hours)
    tickets = getattr(ctx.settings, "tickets", None)
    return float(getattr(tickets, "first_response_hours", 24.0))


async def stats_for(ctx: AppContext, query: StatsQuery) -> Stats:
    try:
        start, end = date_range(query.start, query.end)
        if start < EARLIEST + timedelta(days=1):
            raise StatsRangeError(f"'from' must lie after {EARLIEST}")
    except StatsRangeError as exc:
        raise InvalidQuery(str(exc)) from None
    return await compute(ctx.store, start, end, channel=query.channel, goal_hours=goal_hours(ctx))


async def stats_view(request: web.Request) -> web.Response:
    query = StatsQuery.model_validate({k: request.query[k] for k in request.query})
    stats = await stats_for(request.app[CONTEXT], query)
    return web.json_response(stats.as_dict())


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/stats", stats_view)


# ---- the OpenAPI description (core/web/openapi.py merges it) ---------------------------------------------
_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_HOURS = {"type": ["number", "null"], "minimum": 0}
_COUNT = {"type": "integer", "minimum": 0}
_FIGURE_PROPS: dict[str, Any] = {
    "conversations": {**_COUNT, "description": "conversations in which a customer wrote to us, once per "
                      "UTC day (a range adds its days up)"},
    "answered_by_bot": {**_COUNT, "description": "of those, answered from the knowledge base with no ticket"},
    "deflected": {**_COUNT, "description": "answered by the bot and not escalated, or marked solved by the customer"},
    "deflection_rate": {**_RATE, "description": "deflected / conversations; null without conversations"},
    "handoffs": {**_COUNT, "description": "tickets opened"},
    "handoffs_by_reason": {"type": "object", "additionalProperties": _COUNT,
                           "description": "tickets opened, by the reason of the handoff"},
    "first_response": {"type": "object", "additionalProperties": False, "required": [
        "responded", "p50_hours", "p90_hours", "within_goal", "within_goal_rate", "waiting", "waiting_over_goal"],
        "properties": {
            "responded": {**_COUNT, "description": "tickets with a first agent reply"},
            "p50_hours": {**_HOURS, "description": "median hours to the first reply; null when none"},
            "p90_hours": _HOURS,
            "within_goal": {**_COUNT, "description": "first replies within goal_hours"},
            "within_goal_rate": {**_RATE, "description": "within_goal / (responded + waiting_over_goal)"},
            "waiting": {**_COUNT, "description": "open or pending tickets still owed a first reply"},
            "waiting_over_goal": _COUNT}},
    "satisfaction": {"type": "object", "additionalProperties": False, "required": ["count", "average"],
                     "properties": {"count": _COUNT,
                                    "average": {"type": ["number", "null"], "minimum": 1, "maximum": 5}}},
}
_DAY_PROPS = {"date": {"type": "string", "format": "date"}, **_FIGURE_PROPS}

STATS_SCHEMAS: dict[str, Any] = {
    "StatsFigures": {"type": "object", "additionalProperties": False, "required": list(_FIGURE_PROPS),
                     "properties": _FIGURE_PROPS},
    "StatsDay": {"type": "object", "additionalProperties": False, "required": list(_DAY_PROPS),
                 "properties": _DAY_PROPS},
    "Stats": {"type": "object", "additionalProperties": False,
              "required": ["from", "to", "channel", "timezone", "goal_hours", "totals", "channels", "days"],
              "properties": {
                  "from": {"type": "string", "format": "date"},
                  "to": {"type": "string", "format": "date"},
                  "channel": {"type": ["string", "null"]},
                  "timezone": {"type": "string", "const": "UTC"},
                  "goal_hours": {"type": "number", "exclusiveMinimum": 0,
                                 "description": "the first-response goal (the SLA; 24 h unless changed)"},
                  "totals": {"$ref": "#/components/schemas/StatsFigures"},
                  "channels": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/StatsFigures"},
                               "description": "the same figures per channel"},
                  "days": {"type": "array", "items": {"$ref": "#/components/schemas/StatsDay"},
                           "description": "every day of the range, oldest first"}}},
}


def stats_path(error: Any, common: dict[str, Any]) -> dict[str, Any]:
    def q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}

    return {"/api/v1/stats": {"get": {
        "operationId": "getStats",
        "summary": "Conversations, deflection, handoffs by reason, first-response times, satisfaction; per channel "
                   "and per day",
        "parameters": [
            q("from", {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
              "first day (UTC, YYYY-MM-DD); default 29 days before `to`"),
            q("to", {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
              "last day, included (UTC); default today"),
            q("channel", {"type": "string", "maxLength": 32}, "only this channel (telegram, discord, x, webchat, ...)"),
        ],
        "responses": {"200": {"description": "the statistics", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Stats"}}}}, **common,
            "422": error("not a date, 'from' after 'to', or more than 366 days")}}}}
