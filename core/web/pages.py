"""The admin and report pages (issue 15 items 5-8) and the statistics API, registered in one place.

At start the app puts what admins saved into the running process: the newest published knowledge
base (core/knowledge_store.py) and the preferences of /settings (core/preferences.py).
"""

from __future__ import annotations

import logging

from aiohttp import web

from core import saved
from core.web import customers_views, dashboard_views, knowledge_publish, knowledge_views, settings_views, stats_api
from core.web.context import CONTEXT

log = logging.getLogger(__name__)


async def load_saved(app: web.Application) -> None:
    """Knowledge base and preferences saved by admins win over the files, from the first request on (the runner
    loads them before it recovers anything; an app made without the runner, as in tests, does it here)."""
    ctx = app[CONTEXT]
    if not ctx.saved_loaded:
        await saved.load(ctx)


def setup_routes(app: web.Application) -> None:
    for module in (customers_views, dashboard_views, knowledge_views, knowledge_publish, settings_views, stats_api):
        module.setup_routes(app)
    app.on_startup.append(load_saved)
