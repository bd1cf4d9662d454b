"""What the X channel remembers between sends and across restarts: small, bounded, and pruned.

In memory every map is bounded (least recently used goes first). In the cursor store (channel "x")
every entry written here is delivery state with ``keep_days``, which the housekeeping job prunes:

- ``sent:<outbox id>`` (``Progress``): parts of a reply already out (first and last id), the rewording
  level of a repeated answer, and for a DM the moment its current part was handed to X, so the retry
  of a DM whose outcome is unknown looks for it among the recent DM events before sending it again.
- ``by:<post id>``: the author (id and @handle) of a post handed to the engine, so the reply under it
  is addressed without a GET /2/tweets/:id per reply after a restart.
- ``public:<user id>``: the customer's last public post, where to tell them in public when X refuses
  our DMs to them; ``nodm:<user id>``: X refused our DMs to them.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Generic, TypeVar

from bots.base import CursorStore

log = logging.getLogger(__name__)

CHANNEL = "x"
KEEP_DAYS = 7.0  # a reply still retried after a week was given up long before
REMEMBERED = 5000  # entries of each map kept in memory

K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A map of at most ``size`` entries; the least recently used goes first."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class Progress:
    done: int = 0  # parts already at X
    first: str = ""  # X's id of the first part: the reply's platform id
    last: str = ""  # the part the next one replies to
    level: int = 0  # rewording of a repeated answer (``wording.again``)
    at: float | None = None  # DMs: when part ``done`` was handed to X (its outcome may be unknown)
    public: bool = False  # a DM X refused, answered in public instead


class Memory:
    """The channel's delivery state, in memory and in the cursor store."""

    def __init__(self, cursors: CursorStore) -> None:
        self.cursors = cursors
        self._progress: Bounded[int, Progress] = Bounded()
        self._authors: Bounded[str, tuple[str, str]] = Bounded()  # post id -> (user id, handle)
        self._public: Bounded[str, tuple[str, str]] = Bounded()  # user id -> (post id, handle)
        self._no_dms: Bounded[str, bool] = Bounded()

    async def _get(self, key: str) -> str | None:
        try:
            return await self.cursors.get_cursor(CHANNEL, key)
        except Exception as exc:  # memory still answers; a missing entry costs a lookup, not a reply
            log.warning("x: could not read %s from the store: %s", key, exc)
            return None

    async def _set(self, key: str, value: str) -> None:
        try:
            await self.cursors.set_cursor(CHANNEL, key, value, keep_days=KEEP_DAYS)
        except Exception as exc:  # after a send: what went out must not fail the reply (it would go again)
            log.warning("x: %s kept in memory only: %s", key, exc)

    # --- a reply's parts ----------------------------------------------------------------------

    async def progress(self, outbox_id: int | None) -> Progress:
        if outbox_id is None:
            return Progress()
        known = self._progress.get(outbox_id)
        if known is not None:
            return Progress(**asdict(known))
        saved = await self._get(f"sent:{outbox_id}")
        if saved:
            try:
                return Progress(**json.loads(saved))
            except (ValueError, TypeError):
                log.warning("x: unreadable progress of outbox row %s: %r", outbox_id, saved)
        return Progress()

    async def save(self, outbox_id: int | None, progress: Progress) -> None:
        if outbox_id is None:
            return
        self._progress.put(outbox_id, Progress(**asdict(progress)))
        await self._set(f"sent:{outbox_id}", json.dumps({k: v for k, v in asdict(progress).items() if v}))

    # --- who wrote what -----------------------------------------------------------------------

    def saw(self, post_id: str, user_id: str, handle: str) -> None:
        """A post seen (memory only: context posts, lookups)."""
        self._authors.put(post_id, (user_id, handle))

    async def handed_over(self, post_id: str, user_id: str, handle: str) -> None:
        """A customer's post handed to the engine: a reply will be addressed to it, maybe after a restart."""
        self.saw(post_id, user_id, handle)
        self._public.put(user_id, (post_id, handle))
        await self.cursors.set_cursor(CHANNEL, f"by:{post_id}", f"{user_id} {handle}", keep_days=KEEP_DAYS)
        await self.cursors.set_cursor(CHANNEL, f"public:{user_id}", f"{post_id} {handle}", keep_days=KEEP_DAYS)

    async def author(self, post_id: str) -> tuple[str, str] | None:
        """(user id, handle) of a post's author, when known."""
        found = self._authors.get(post_id)
        if found is None and (saved := await self._get(f"by:{post_id}")):
            user_id, _, handle = saved.partition(" ")
            found = (user_id, handle)
            self._authors.put(post_id, found)
        return found

    async def public_post(self, user_id: str) -> tuple[str, str] | None:
        """(post id, handle) of the customer's last public post handed to the engine."""
        found = self._public.get(user_id)
        if found is None and (saved := await self._get(f"public:{user_id}")):
            post_id, _, handle = saved.partition(" ")
            found = (post_id, handle)
            self._public.put(user_id, found)
        return found

    # --- customers who do not accept our DMs --------------------------------------------------

    async def refuses_dms(self, user_id: str) -> None:
        self._no_dms.put(user_id, True)
        await self._set(f"nodm:{user_id}", "1")

    async def accepts_dms(self, user_id: str) -> None:
        """They wrote to us by DM: X lets us answer them there now."""
        if self._no_dms.get(user_id):
            self._no_dms.put(user_id, False)
            await self._set(f"nodm:{user_id}", "0")

    async def dms_refused(self, user_id: str) -> bool:
        known = self._no_dms.get(user_id)
        if known is None:
            known = await self._get(f"nodm:{user_id}") == "1"
            self._no_dms.put(user_id, known)
        return known
