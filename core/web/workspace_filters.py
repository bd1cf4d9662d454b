"""Template filters and context for the workspace pages: short times, waiting spans, the agent's availability."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core.models import utcnow
from core.web.auth import AGENT
from core.web.template_filters import span

ONLINE_WITHIN = timedelta(minutes=5)  # as core/assignment.py counts an agent online


def short_time(value: datetime | None) -> str:
    """"14:05" today, "3 Dec" this year, "3 Dec 2025" before (UTC, like the rest of the inbox)."""
    if value is None:
        return ""
    now = utcnow()
    if value.date() == now.date():
        return value.strftime("%H:%M")
    return value.strftime("%-d %b") if value.year == now.year else value.strftime("%-d %b %Y")


def ago(value: datetime | None) -> str:
    return span((utcnow() - value).total_seconds()) if value else ""


def recently(value: datetime | None) -> bool:
    return value is not None and utcnow() - value < ONLINE_WITHIN


async def workspace_context(request: web.Request) -> dict[str, Any]:
    """The signed-in agent's availability for the header (from the cached agent list: no query per page)."""
    agent = request.get(AGENT)
    if agent is None or request.path.startswith(("/api/", "/static/")):
        return {}
    from core.web.inbox_lists import agent_options

    mine = next((a for a in await agent_options(request) if a.id == agent.id), None)
    return {"my_availability": mine.availability if mine else "online"}


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.get_env(app)
    env.filters.update(short_time=short_time, ago=ago, recently=recently)
    processors = app.get(aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY)
    if isinstance(processors, list) and workspace_context not in processors:
        processors.append(workspace_context)
