"""What admins save at run time (the knowledge base of /knowledge, the preferences of /settings), in force in
every process of a deployment.

A process reads them at start, before recovery decides anything with the file's knowledge base, and again
whenever any process saves a change: the saving process announces it on the event bus (on PostgreSQL,
LISTEN/NOTIFY reaches the other processes) and each follower re-reads from the database, which stays the only
source. A missed announcement is covered by ``resync`` (the bus lost its link and may have missed events),
which re-reads too; an announcement that cannot be sent is logged and the others catch up on their next resync
or restart.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core import knowledge_store, preferences
from core.events import RESYNC
from core.tasks import cancel

log = logging.getLogger(__name__)

SAVED = "saved"  # event kind: an admin saved something; ``what`` says which ("knowledge" | "preferences")


async def load(ctx: Any, *, known: int | None = None) -> int | None:
    """Put the saved knowledge base (unless version ``known`` is already in force) and preferences into this
    process. Returns the knowledge base version now in force (None: the configured file)."""
    found = await knowledge_store.published(ctx.store)
    version = found.id if found is not None and found.note != knowledge_store.SEED_NOTE else None
    if version is not None and version != known:
        loaded = await knowledge_store.load_in_force(ctx)
        if loaded is not None:
            log.info("knowledge base version %s is in force (published on /knowledge)", loaded.id)
        version = loaded.id if loaded is not None else known
    preferences.apply(ctx.engine, await preferences.load(ctx.store, ctx.settings), only_stored=True)
    ctx.saved_version, ctx.saved_loaded = version, True
    return version


async def announce(ctx: Any, what: str) -> None:
    """Tell the other processes that ``what`` changed (this one applied it already)."""
    bus = getattr(ctx, "bus", None)
    if bus is None:
        return
    try:
        await bus.notify_others(SAVED, what=what)
    except Exception:  # the database holds the change; the others read it on their next resync or start
        log.warning("could not tell the other processes that the %s changed; they pick it up on their next "
                    "reconnect or restart", what, exc_info=True)


class Follower:
    """Re-reads what admins saved when another process says it changed, or when events may have been missed."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="saved-settings")
        await self._listening.wait()

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        async with self.ctx.bus.subscribe() as queue:
            self._listening.set()
            while True:
                event = await queue.get()
                if event.kind not in (SAVED, RESYNC):
                    continue
                try:
                    await load(self.ctx, known=getattr(self.ctx, "saved_version", None))
                except Exception:  # the database is away: the next event or resync tries again
                    log.exception("re-reading what admins saved failed")
