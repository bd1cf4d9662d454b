"""Replies for channels whose "platform" is a socket one of our web processes holds (the website chat).

Such an adapter says so with ``sends_to_local_sockets = True``: its ``send`` reaches only the sockets
open in the calling process. With several processes (PostgreSQL) the dispatcher that leased the row
is rarely the web process holding the customer's socket, so:

- dispatcher side, `RelayedAdapter`: ``send`` pushes to this process's own sockets (none in a
  dispatcher-only process), then tells the other processes with a small ``relay`` event (channel,
  outbox id, conversation) and returns once PostgreSQL took that event; only then is the row marked
  sent. If the event cannot be sent, the send is a RetryLater and the row is tried again.
- web side, `SocketRelay`: for each ``relay`` event whose conversation has a socket here, read the
  outbox row and push it (rows arriving together are read in one query, pushed in id order). After
  its link to the other processes was re-established (``resync``: events may have been missed) it
  sends every open tab its history again.

At least once, shown once: the reply is in the store (the conversation's history) from the moment it
was queued, before any of this; a tab that misses the push (its web process was not listening at
that moment, or it was reconnecting) gets it in the history frame on its next connect, or from the
history sent to open tabs after a resync. Every frame carries an id the page dedupes on, so a reply
pushed twice (a row taken over after a crash, a history sent again) is shown once. "Sent" on the row
therefore means "in the store for the history, and announced to every web process listening".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from core.errors import RetryLater
from core.events import RESYNC, Event, EventBus
from core.models import OutboundMessage, Sent
from core.store import Store
from core.store.replies import outbound_from_row
from core.store.tables import Outbox
from core.tasks import cancel

log = logging.getLogger(__name__)

RELAY = "relay"


def sends_to_local_sockets(adapter: object) -> bool:
    return bool(getattr(adapter, "sends_to_local_sockets", False))


class RelayedAdapter:
    """The dispatcher's face of a socket channel: everything as the adapter, ``send`` also tells the others."""

    def __init__(self, adapter: Any, bus: EventBus) -> None:
        self._adapter = adapter
        self._bus = bus

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)

    async def send(self, reply: OutboundMessage) -> Sent:
        sent: Sent = await self._adapter.send(reply)  # the tabs open in this process
        try:
            await self._bus.notify_others(RELAY, channel=reply.channel, outbox_id=reply.outbox_id,
                                          conversation=reply.conversation)
        except Exception as exc:
            raise RetryLater(f"the web processes could not be told: {exc}") from exc
        return sent


class SocketRelay:
    """Web side: pushes the replies other processes sent to the sockets this process holds."""

    def __init__(self, store: Store, bus: EventBus, adapters: Mapping[str, Any]) -> None:
        self.store = store
        self.bus = bus
        self.adapters = {name: a for name, a in adapters.items() if sends_to_local_sockets(a)}
        self._task: asyncio.Task[None] | None = None
        self.pushed = 0  # rows pushed for other processes (for tests and the curious)

    async def start(self) -> None:
        if self.adapters and self._task is None:
            ready = asyncio.Event()
            self._task = asyncio.create_task(self._run(ready), name="supportbot-socket-relay")
            await ready.wait()  # subscribed: nothing published from now on is missed

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def _run(self, ready: asyncio.Event) -> None:
        async with self.bus.subscribe() as events:
            ready.set()
            while True:
                batch = [await events.get()]
                while not events.empty():
                    batch.append(events.get_nowait())
                try:
                    await self._handle(batch)
                except Exception:  # the database blipped: those tabs get the replies from their history
                    log.exception("pushing replies of other processes failed")

    async def _handle(self, batch: list[Event]) -> None:
        if any(event.kind == RESYNC for event in batch):
            for adapter in self.adapters.values():
                with contextlib.suppress(Exception):
                    await adapter.resync()
            return  # the history just sent holds every reply of this batch too
        wanted = [int(e.data["outbox_id"]) for e in batch if e.kind == RELAY and self._here(e)]
        if not wanted:
            return
        rows = await self.store.all(select(Outbox).where(Outbox.id.in_(wanted)).order_by(Outbox.id))
        for row in rows:
            with contextlib.suppress(Exception):  # a tab gone mid-push reads the history on reconnect
                await self.adapters[row.channel].send(outbound_from_row(row))
                self.pushed += 1

    def _here(self, event: Event) -> bool:
        adapter = self.adapters.get(str(event.data.get("channel")))
        if adapter is None or event.data.get("outbox_id") is None:
            return False
        holds = getattr(adapter, "holds", None)
        return bool(holds(str(event.data.get("conversation")))) if callable(holds) else True
