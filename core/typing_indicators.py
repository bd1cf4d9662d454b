"""Typing indicators both ways: an agent writing a reply shows "typing…" to the customer, and a customer typing
shows "Customer is typing…" on the ticket page.

Typing is ephemeral: never stored, never in the outbox, never retried, and it never waits for or delays a
reply. Everything travels as a ``typing`` event on the bus (on PostgreSQL it reaches every process), because
the process that takes an agent's POST is rarely the one that can call the platform or holds the customer's
chat socket:

- **agent → customer** (``who="agent"``): each process acts on what it can. A channel that pushes to local
  sockets (the website chat) does it in every process that runs it, each to its own sockets. A platform
  channel (Telegram, Discord) types where this process's dispatcher sends it and while the channel is up
  there, through the adapter's optional ``typing(conversation)`` (bots/base.py ``ShowsTyping``; adapters
  without it, like X, are skipped). At most one platform call per conversation per ``AGENT_EVERY`` seconds
  (Telegram's action lasts 5 s, Discord's 10 s): in this process by memory, and on PostgreSQL across
  processes by a 4-second claim (one small upsert on the ``cursors`` table), so several dispatchers never
  type twice. Typing is skipped while the channel is paused (a flood wait, a global 429: a call would only
  be refused), and a 429 on a typing call mutes typing (only typing) for as long as the platform asks.
  Calls run in their own tasks with a short timeout, beside the dispatcher's pacing: a typing call is one
  light request at most every 4 s per conversation an agent is writing to, a small share of the send rate.
- **customer → agent** (``who="customer"``): an adapter that sees typing (``SeesTyping``) calls the hook set
  by `attach`; the conversation's open ticket of that customer is looked up (at most every few seconds per
  customer, remembered for a few seconds; "no ticket" is forgotten as soon as a message joins any ticket, since
  it may be theirs) and announced with its ``ticket_id``; the inbox's live stream (core/web/live.py) forwards
  it to the ticket page.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select, text

from bots.base import TypingSeen
from bots.lru import LRU
from core.errors import RateLimited
from core.events import Event, EventBus
from core.relay import sends_to_local_sockets
from core.store import Store
from core.store.tables import Conversation, Identity, Ticket
from core.tasks import cancel

log = logging.getLogger(__name__)

TYPING = "typing"  # event kind: channel, conversation, who ("agent" | "customer"), ticket_id[, seconds]
AGENT_EVERY = 4.0  # seconds between platform calls per conversation
CUSTOMER_EVERY = 2.5  # seconds between announcements per customer and conversation (pages send every 3 s)
CUSTOMER_SHOWN = 6.0  # seconds the ticket page shows "Customer is typing…" unless the channel says otherwise
CALL_TIMEOUT = 5.0  # a typing call slower than this is given up: its moment has passed
LOOKUP_TTL = 10.0  # seconds a conversation's ticket (or that it has none) is remembered
MAX_CALLS = 64  # typing calls in flight in this process; more are dropped, never queued
REMEMBERED = 20_000

# On PostgreSQL: take the conversation's typing turn if nobody took it in the last :gap seconds (any process).
CLAIM = text("""
INSERT INTO cursors AS c (channel, key, value, updated_at, expires_at)
VALUES (:channel, :key, 'typing', clock_timestamp(), clock_timestamp() + interval '1 day')
ON CONFLICT (channel, key) DO UPDATE SET updated_at = excluded.updated_at, expires_at = excluded.expires_at
 WHERE c.updated_at < clock_timestamp() - make_interval(secs => :gap)
RETURNING 1
""")


class TypingIndicators:
    """One per process: turns agents' typing events into platform calls, and customers' typing into events."""

    def __init__(self, store: Store, bus: EventBus, adapters: Mapping[str, Any], *,
                 can_type: Callable[[str], bool] | None = None, shared: bool = False,
                 paused_for: Callable[[str], float] | None = None) -> None:
        """``adapters``: the channels this process types for (see the module docstring); ``can_type(name)``:
        whether that channel may call its platform now; ``shared``: claim turns across processes (PostgreSQL);
        ``paused_for(name)``: seconds left of a pause the platform ordered (the dispatcher's pacing)."""
        self.store = store
        self.bus = bus
        self.adapters = {name: a for name, a in adapters.items() if callable(getattr(a, "typing", None))}
        self.can_type = can_type or (lambda name: True)
        self.shared = shared
        self.paused_for = paused_for or (lambda name: 0.0)
        self._recent: LRU[tuple[str, ...], bool] = LRU(REMEMBERED)  # throttles and mutes, by key
        self._tickets: LRU[tuple[str, str, str], int] = LRU(REMEMBERED, ttl=LOOKUP_TTL)
        self._none: LRU[tuple[str, str, str], bool] = LRU(REMEMBERED, ttl=LOOKUP_TTL)  # typed without a ticket
        self._hooked = False  # some adapter reports customers typing to this process
        self._generation = 0  # moves on whenever "no ticket" answers are forgotten
        self._calls: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._events: asyncio.Queue[Event] | None = None
        self.calls = 0  # platform calls made (for tests and the curious)

    # ---- lifecycle ------------------------------------------------------------------------------
    def attach(self, adapters: Mapping[str, Any]) -> None:
        """Hook the adapters that see customers typing (website chat, Discord) to this process."""
        for name, adapter in adapters.items():
            if hasattr(adapter, "customer_typing"):
                adapter.customer_typing = self.seen(name)
                self._hooked = True

    async def start(self) -> None:
        if self._task is None and (self.adapters or self._hooked):
            ready = asyncio.Event()
            self._task = asyncio.create_task(self._run(ready), name="supportbot-typing")
            await ready.wait()  # subscribed: nothing published from now on is missed

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        for call in list(self._calls):
            await cancel(call)

    # ---- agent -> customer ----------------------------------------------------------------------
    async def _run(self, ready: asyncio.Event) -> None:
        async with self.bus.subscribe() as events:
            self._events = events
            ready.set()
            while True:
                event = await events.get()
                if event.kind == TYPING and event.data.get("who") == "agent":
                    self._agent_typing(str(event.data.get("channel")), str(event.data.get("conversation")))
                elif event.kind == "message" and event.data.get("ticket_id") is not None:
                    self._forget_none()  # a ticket may have just begun: ask again

    def _agent_typing(self, channel: str, conversation: str) -> None:
        adapter = self.adapters.get(channel)
        if adapter is None or not conversation or not self.can_type(channel) or self.paused_for(channel) > 0:
            return
        if (channel,) in self._recent or (channel, conversation) in self._recent or len(self._calls) >= MAX_CALLS:
            return
        self._recent.put((channel, conversation), True, ttl=AGENT_EVERY)
        self._spawn(self._type(adapter, channel, conversation))

    async def _type(self, adapter: Any, channel: str, conversation: str) -> None:
        try:
            if self.shared and not sends_to_local_sockets(adapter) and not await self._claim(channel, conversation):
                return  # another process typed there less than AGENT_EVERY ago
            self.calls += 1
            await asyncio.wait_for(adapter.typing(conversation), CALL_TIMEOUT)
        except RateLimited as exc:  # typing waits; replies follow their own rules (the dispatcher's pacing)
            wait = exc.retry_after or AGENT_EVERY
            key = (channel,) if exc.scope == "channel" else (channel, conversation)
            self._recent.put(key, True, ttl=wait)
            log.debug("%s: typing in %s refused (%s); no typing there for %.1f s", channel, conversation, exc, wait)
        except Exception as exc:  # 403, 5xx, a timeout, the database: typing is dropped, never retried
            log.debug("%s: typing in %s dropped: %r", channel, conversation, exc)

    async def _claim(self, channel: str, conversation: str) -> bool:
        key = "typing:" + hashlib.sha256(conversation.encode()).hexdigest()[:48]
        async with self.store.engine.connect() as conn:
            taken = (await conn.execute(CLAIM, {"channel": channel, "key": key, "gap": AGENT_EVERY})).first()
            await conn.commit()
        return taken is not None

    # ---- customer -> agent ----------------------------------------------------------------------
    def seen(self, channel: str) -> TypingSeen:
        """The hook an adapter calls when a customer starts typing in ``conversation``."""

        def customer_typing(conversation: str, user_id: str, seconds: float = CUSTOMER_SHOWN) -> None:
            key = (channel, conversation, user_id)
            if key in self._recent or len(self._calls) >= MAX_CALLS:
                return
            self._recent.put(key, True, ttl=CUSTOMER_EVERY)
            self._spawn(self._announce(channel, conversation, user_id, seconds))

        return customer_typing

    async def _announce(self, channel: str, conversation: str, user_id: str, seconds: float) -> None:
        try:
            ticket_id = await self.ticket_of(channel, conversation, user_id)
        except Exception as exc:  # the database is away: this moment of typing is not shown
            log.debug("%s: typing in %s not announced: %r", channel, conversation, exc)
            return
        if ticket_id is None:  # nothing shown, so nothing to space out: the next frame asks again (or the cache)
            self._recent.pop((channel, conversation, user_id))
            return
        self.bus.publish(TYPING, channel=channel, conversation=conversation, who="customer", ticket_id=ticket_id,
                         seconds=seconds)

    async def ticket_of(self, channel: str, conversation: str, user_id: str) -> int | None:
        """The newest ticket still open to replies of this customer in this conversation (None: no ticket, or
        someone else typing there, such as a moderator in the customer's thread)."""
        key = (channel, conversation, user_id)
        known = self._tickets.get(key)
        if known is not None or key in self._none:
            return known
        generation = self._generation
        found = await self.store.scalar(
            select(Ticket.id).join(Conversation, Conversation.id == Ticket.conversation_id)
            .join(Identity, (Identity.customer_id == Conversation.customer_id) & (Identity.channel == channel))
            .where(Conversation.channel == channel, Conversation.address == conversation,
                   Identity.platform_user_id == user_id, Ticket.status != "closed")
            .order_by(Ticket.id.desc()).limit(1))
        if found is None:
            if generation == self._generation:  # else a ticket may have begun while we asked
                self._none.put(key, True)
        else:
            self._tickets.put(key, found)
        return found

    def _forget_none(self) -> None:
        self._none = LRU(REMEMBERED, ttl=LOOKUP_TTL)
        self._generation += 1

    async def settled(self) -> None:
        """Returns once every event received so far was acted on and the calls it made have finished (tests)."""
        while True:
            await asyncio.sleep(0)
            if self._events is not None and not self._events.empty():
                continue  # an event still waits (taken from the queue, an event is acted on before the next await)
            if not self._calls:
                return
            await asyncio.gather(*list(self._calls), return_exceptions=True)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

