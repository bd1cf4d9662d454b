"""Delivery state that outlives one attempt: the parts of a multi-part reply already sent (per outbox row), and
the public note last posted for a ticket (``RecentNotes``).

A long reply is several Telegram messages (text parts, then files). When part 3 fails (a flood wait,
a timeout, a crash), the retry must continue with part 3, whichever process makes it and after any
restart: the count lives in the cursor store, pruned by housekeeping after ``KEEP_DAYS``. A part whose
send was uncertain is not counted (it is sent again, and the dispatcher marks the row "may have been
sent twice"). Without a store (a bare adapter in a test) it is kept in memory only.
"""

from __future__ import annotations

import json
import logging
import time

from bots.base import CursorStore
from bots.lru import LRU

log = logging.getLogger(__name__)

KEEP_DAYS = 7.0  # a reply still being retried after a week is given up long before
REMEMBERED = 10_000  # rows whose progress is also kept in memory
NOTE_WINDOW_SECONDS = 600.0  # a refused reply within this long of a ticket's public note points at that note


def _key(outbox_id: int) -> str:
    return f"parts:{outbox_id}"


class PartsSent:
    def __init__(self, cursors: CursorStore | None) -> None:
        self._cursors = cursors
        self._memory: LRU[int, tuple[int, str | None]] = LRU(REMEMBERED)

    async def get(self, outbox_id: int) -> tuple[int, str | None]:
        """(parts already sent, the platform id of the first): (0, None) for a row not started."""
        known = self._memory.get(outbox_id) or (0, None)
        if self._cursors is None:
            return known
        value = await self._cursors.get_cursor("telegram", _key(outbox_id))
        stored = (0, None)
        if value:
            try:
                data = json.loads(value)
                stored = (int(data["done"]), data.get("first"))
            except (ValueError, KeyError, TypeError):
                log.warning("telegram: unreadable progress for outbox row %s: %r", outbox_id, value)
        return max(known, stored, key=lambda progress: progress[0])

    async def save(self, outbox_id: int, done: int, first: str | None) -> None:
        """Record that ``done`` parts went out. A store failure is logged, not raised: the parts did go out,
        and failing the reply now would send them again."""
        self._memory.put(outbox_id, (done, first))
        if self._cursors is None:
            return
        try:
            await self._cursors.set_cursor("telegram", _key(outbox_id), json.dumps({"done": done, "first": first}),
                                           keep_days=KEEP_DAYS)
        except Exception as exc:
            log.warning("telegram: progress of outbox row %s kept in memory only: %s", outbox_id, exc)


class RecentNotes:
    """The public note ("an answer is waiting for you") last posted for a ticket in a public place. Replies refused
    in private one after another (the "agent joined" notice, then the agent's reply) point at that one note rather
    than each posting their own in the group; a reply refused much later posts a new one, as a reminder."""

    def __init__(self, cursors: CursorStore | None) -> None:
        self._cursors = cursors
        self._memory: LRU[str, str] = LRU(REMEMBERED, ttl=NOTE_WINDOW_SECONDS)

    async def recent(self, ticket_id: object, place: str) -> str | None:
        """The platform id of the ticket's note in ``place`` if it was posted within the window."""
        key = f"note:{ticket_id}:{place}"
        known = self._memory.get(key)
        if known is not None or self._cursors is None:
            return known
        value = await self._cursors.get_cursor("telegram", key)
        at, _, note = (value or "").partition("|")
        try:
            fresh = time.time() - float(at) < NOTE_WINDOW_SECONDS
        except ValueError:
            return None
        return note if fresh and note else None

    async def posted(self, ticket_id: object, place: str, note: str) -> None:
        key = f"note:{ticket_id}:{place}"
        self._memory.put(key, note)
        if self._cursors is None:
            return
        try:
            await self._cursors.set_cursor("telegram", key, f"{time.time()}|{note}", keep_days=1.0)
        except Exception as exc:  # the note is out; at worst a later refusal posts a second one
            log.warning("telegram: public note of ticket %s kept in memory only: %s", ticket_id, exc)
