"""Events across processes on PostgreSQL: publish = NOTIFY, and one LISTEN connection per process.

`PostgresEventBus` keeps `EventBus`'s interface, so the inbox, the dispatcher and the chat relay
subscribe as before. An event published here reaches this process's subscribers at once (as on
SQLite) and the other processes through ``pg_notify``: events published together go out in one
statement (one round trip), and the listener skips the ones this process sent itself.

A payload is small: the kind, the ids and the sender (PostgreSQL refuses more than 8000 bytes; a
longer one loses its lists and is marked ``partial``). NOTIFY is a hint, not a queue: when the
listening connection drops, the bus reconnects by itself with backoff and then publishes ``resync``
to local subscribers, who re-read what they show (the inbox refetches, the dispatcher looks at the
outbox, the chat sends its open tabs their history again). Nothing is lost, because every event
only says where to look in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import uuid
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from core.events import RESYNC, Event, EventBus
from core.store import Store

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7900  # bytes; PostgreSQL's limit is 8000
PING_EVERY = 5.0  # seconds between checks that the listening connection still lives (a half-open TCP link)
PING_TIMEOUT = 5.0
FIRST_RETRY, MAX_RETRY = 0.2, 5.0
PENDING_LIMIT = 10_000  # events waiting to be sent while the database is away; the oldest go first
# The server notices a vanished client (a lost machine) within ~11 s and ends its session.
KEEPALIVE = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}
NOTIFY_MANY = "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p"
SEND_TIMEOUT = 10.0  # seconds one statement of notifications may take before its connection is given up


def raw_dsn(store: Store) -> str:
    """The store's URL for asyncpg itself (a dedicated connection, outside SQLAlchemy's pool)."""
    return make_url(store.url).set(drivername="postgresql").render_as_string(hide_password=False)


def scoped_name(base: str, store: Store) -> str:
    """A name that is per deployment: NOTIFY channels and advisory locks are per database, not per schema."""
    name = f"{base}_{store.schema}" if store.schema else base
    return name.lower()[:63]


class PostgresEventBus(EventBus):
    def __init__(self, store: Store, queue_size: int = 1000) -> None:
        super().__init__(queue_size)
        self.store = store
        self.origin = uuid.uuid4().hex[:12]  # this process: its own notifications come back and are skipped
        self.channel = scoped_name("supportbot_events", store)
        self._dsn = raw_dsn(store)
        self._pending: list[str] = []
        self._sending: asyncio.Task[None] | None = None
        self._outgoing: list[tuple[str, asyncio.Future[None]]] = []  # notify_others: waiting for the next statement
        self._telling: asyncio.Task[None] | None = None
        self._listening: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._warned = False
        # one connection of its own for each sending task (each sends one statement at a time): a notification is
        # one autocommitted round trip, not a pool checkout, BEGIN, statement and COMMIT
        self._senders: dict[str, asyncpg.Connection] = {}

    # ---- publishing -------------------------------------------------------------------------------
    def publish(self, kind: str, **data: Any) -> None:
        self._local(Event(kind, data))
        self._pending.append(self._encode(kind, data))
        if len(self._pending) > PENDING_LIMIT:
            del self._pending[: len(self._pending) - PENDING_LIMIT]
        if self._sending is None or self._sending.done():
            self._sending = asyncio.get_running_loop().create_task(self._send_pending(), name="supportbot-notify")

    async def notify_others(self, kind: str, **data: Any) -> None:
        """Those asked for while one statement runs go out together in the next (every website-chat reply asks:
        one statement and one pooled connection each would exhaust the pool under load)."""
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outgoing.append((self._encode(kind, data), sent))
        if self._telling is None or self._telling.done():
            self._telling = asyncio.get_running_loop().create_task(self._tell(), name="supportbot-notify-others")
        await sent

    async def _tell(self) -> None:
        while self._outgoing:
            batch, self._outgoing = self._outgoing, []
            try:
                await self._notify([payload for payload, _ in batch], "tell")
            except Exception as exc:
                for _, sent in batch:
                    if not sent.done():
                        sent.set_exception(exc)
            else:
                for _, sent in batch:
                    if not sent.done():
                        sent.set_result(None)

    async def _send_pending(self) -> None:
        """Everything published while the last statement ran goes out in the next one."""
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._notify(batch, "publish")
            except Exception as exc:  # a hint lost: the others find the change at their next look
                if not self._warned:
                    log.warning("events not sent to the other processes (%s); they see the changes at their "
                                "next poll or re-read", exc)
                self._warned = True
            else:
                self._warned = False

    async def _notify(self, payloads: list[str], sender: str) -> None:
        """One statement on the ``sender`` task's own connection; a connection that failed is dropped (and made
        again by the next statement), and the error is the caller's."""
        conn = self._senders.get(sender)
        try:
            if conn is None or conn.is_closed():
                conn = self._senders[sender] = await asyncpg.connect(self._dsn, timeout=SEND_TIMEOUT,
                                                                     server_settings=KEEPALIVE)
            await conn.execute(NOTIFY_MANY, self.channel, payloads, timeout=SEND_TIMEOUT)
        except BaseException:
            if conn is not None:
                conn.terminate()
            self._senders.pop(sender, None)
            raise

    def _encode(self, kind: str, data: dict[str, Any]) -> str:
        payload = json.dumps({"k": kind, "o": self.origin, "d": data}, separators=(",", ":"), default=str)
        if len(payload.encode()) <= MAX_PAYLOAD:
            return payload
        short = {k: v for k, v in data.items() if not isinstance(v, list | dict)} | {"partial": True}
        payload = json.dumps({"k": kind, "o": self.origin, "d": short}, separators=(",", ":"), default=str)
        if len(payload.encode()) <= MAX_PAYLOAD:
            return payload
        return json.dumps({"k": kind, "o": self.origin, "d": {"partial": True}})

    # ---- listening --------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self, wait: float = 10.0) -> None:
        """Start listening; wait (a little) for the first connection so early events are not missed."""
        if self._listening is None:
            self._listening = asyncio.create_task(self._listen(), name="supportbot-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait)

    async def close(self) -> None:
        for task in (self._listening, self._sending, self._telling):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._listening = self._sending = self._telling = None
        senders, self._senders = list(self._senders.values()), {}
        for conn in senders:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)
        for _, sent in self._outgoing:  # closed before they went out: their senders retry
            if not sent.done():
                sent.set_exception(ConnectionError("the event bus was closed"))
        self._outgoing = []

    async def _listen(self) -> None:
        delay = FIRST_RETRY
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=10, server_settings=KEEPALIVE)
                lost = asyncio.Event()
                conn.add_termination_listener(functools.partial(_set, lost))
                await conn.add_listener(self.channel, self._received)
                self._connected.set()
                if delay > FIRST_RETRY:
                    log.info("events from the other processes reach this one again")
                delay = FIRST_RETRY
                self._local(Event(RESYNC))  # whatever happened while we did not listen: re-read
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), PING_EVERY)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), PING_TIMEOUT)
                raise ConnectionError("the listening connection was closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._connected.is_set() or delay == FIRST_RETRY:
                    log.warning("not listening to the other processes' events (%s); reconnecting", exc)
            finally:
                self._connected.clear()
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, MAX_RETRY)

    def _received(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            kind, origin, data = message["k"], message.get("o"), message.get("d") or {}
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed event: %.200r", payload)
            return
        if origin == self.origin or not isinstance(data, dict):
            return
        self._local(Event(str(kind), data))


def _set(event: asyncio.Event, _conn: object) -> None:
    event.set()
