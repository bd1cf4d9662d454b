"""Change notifications: the dispatcher wakes on new outbox rows, the inbox goes live, the chat gets its replies.

`EventBus` is the in-process source (SQLite: one process). On PostgreSQL the same interface is
served by `core/events_pg.py`, which also carries every event to the other processes (LISTEN/NOTIFY).

Subscribers get every event published after they subscribe; a slow subscriber loses the oldest
events rather than slowing the engine. Events say what changed (kinds and ids), never the content,
so a lost one costs a re-read, never data: a ``resync`` event tells subscribers that events may
have been missed (the link to the other processes was re-established) and they should re-read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

RESYNC = "resync"  # events may have been missed: re-read what you show


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "message" | "ticket" | "delivery" | "outbox" | "agent" | "relay" | "resync"
    data: dict[str, Any] = field(default_factory=dict)


class EventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._queue_size = queue_size

    def publish(self, kind: str, **data: Any) -> None:
        """To every subscriber of this process (and, on PostgreSQL, of every other process)."""
        self._local(Event(kind, data))

    def _local(self, event: Event) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def notify_others(self, kind: str, **data: Any) -> None:
        """To the subscribers of the other processes only, returning once it left this process (raises if it
        could not). One process has no others: nothing to do."""

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def connected(self) -> bool:
        """Whether events of the other processes reach this one (always, with no other processes)."""
        return True

    async def start(self) -> None:
        """Nothing to connect in one process."""

    async def close(self) -> None:
        """Nothing to disconnect in one process."""
