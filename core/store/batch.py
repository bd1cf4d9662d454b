"""Group commit for the store: one transaction for the messages that arrived together.

The engine (core/group_commit.py) stores several customers' messages in one transaction. A message
written alone costs about ten statements (read the conversation, its ticket, insert the message, the
reply and its outbox row, write the conversation back, lease the reply, begin, commit); each is a
thread hand-off on SQLite and a round trip on PostgreSQL. A `WriteBatch` makes a whole batch cost
about as much as one message:

- **Reads ahead, once.** Before the messages are decided, one query each finds every sender's
  conversation (locked on PostgreSQL, as the engine's per-message lock did), the open tickets of those
  conversations (locked, as `active_ticket` does) and which messages are stored already (a redelivery).
  `ensure_place`, `active_ticket` and `insert_inbound` answer from these.
- **Writes at the end.** `insert_inbound` and `queue_reply` keep their rows here, with ids taken up
  front (SQLite: this transaction holds the write lock, so the next ids are the tables' maximum + 1;
  PostgreSQL: from the tables' sequences), and they are inserted with one statement per table.

Only what the batch foresaw is answered from memory. Any other statement in the transaction (a ticket
opened, a feedback mark, a new customer: the rarer paths of the engine) first inserts the rows kept so
far, so it sees everything written before it, and ends the read-ahead; the engine reads ahead again for
the messages still to come. Every code path therefore sees its own writes exactly as without a batch.
Nothing is committed, and so nothing acknowledged, before the whole batch is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Integer, bindparam, event, func, insert, literal, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.store.connections import connection_of
from core.store.tables import Conversation, Identity, Message, Outbox, Ticket
from core.tickets import ACTIVE

KEY = "supportbot_write_batch"
OWN = {"supportbot_batch": True}  # the batch's own statements: they need no flush and end no read-ahead
MISSING = object()  # "not read ahead": ask the database

IDENTITIES, CONVERSATIONS, MESSAGES, OUTBOX, TICKETS = (
    Identity.__table__, Conversation.__table__, Message.__table__, Outbox.__table__, Ticket.__table__)
# The columns `records._FIND_BOTH` returns: identity id, customer, name, handle, then the conversation (a Place).
FOUND_COLUMNS = (IDENTITIES.c.id, IDENTITIES.c.customer_id, IDENTITIES.c.display_name, IDENTITIES.c.handle,
                 *(CONVERSATIONS.c[name] for name in ("id", "customer_id", "channel", "address", "public", "language",
                                                      "state", "last_message_at")))


def _places(postgres: bool) -> Any:
    """The identities and conversations of one channel's senders (a superset: the engine matches user and
    address pairs). Plain IN lists: SQLite plans a row-value IN as a scan of the whole table."""
    statement = (
        select(IDENTITIES.c.platform_user_id.label("k_user"), *FOUND_COLUMNS)
        .select_from(IDENTITIES.join(CONVERSATIONS, (CONVERSATIONS.c.customer_id == IDENTITIES.c.customer_id)
                                     & (CONVERSATIONS.c.channel == IDENTITIES.c.channel)))
        .where(IDENTITIES.c.channel == bindparam("channel_"),
               IDENTITIES.c.platform_user_id.in_(bindparam("users", expanding=True)),
               CONVERSATIONS.c.address.in_(bindparam("addresses", expanding=True)))
        .order_by(CONVERSATIONS.c.id))
    if postgres:  # the engine's per-conversation lock, for the whole batch at once (in id order: no deadlock)
        statement = statement.with_for_update(of=CONVERSATIONS)
    return statement.execution_options(**OWN)


def _tickets(postgres: bool) -> Any:
    statement = (select(TICKETS.c.conversation_id, TICKETS.c.id)
                 .where(TICKETS.c.conversation_id.in_(bindparam("ids", expanding=True)), TICKETS.c.status.in_(ACTIVE))
                 .order_by(TICKETS.c.id))
    return (statement.with_for_update() if postgres else statement).execution_options(**OWN)


def _next_ids() -> Any:
    """PostgreSQL: ``:messages`` and ``:outbox`` new ids from the tables' own sequences, in one round trip."""
    series = {name: func.generate_series(1, bindparam(name, type_=Integer())).table_valued("n")
              for name in ("messages", "outbox")}
    return union_all(*(
        select(literal(name), func.nextval(func.pg_get_serial_sequence(name, "id"))).select_from(series[name])
        for name in ("messages", "outbox"))).execution_options(**OWN)


_READ = {dialect: (_places(dialect == "postgresql"), _tickets(dialect == "postgresql"))
         for dialect in ("sqlite", "postgresql")}
_STORED = (select(MESSAGES.c.platform_id)
           .where(MESSAGES.c.channel == bindparam("channel_"),
                  MESSAGES.c.platform_id.in_(bindparam("ids", expanding=True)))
           .execution_options(**OWN))
_LAST_IDS = select(select(MESSAGES.c.id).order_by(MESSAGES.c.id.desc()).limit(1).scalar_subquery(),
                   select(OUTBOX.c.id).order_by(OUTBOX.c.id.desc()).limit(1).scalar_subquery()
                   ).execution_options(**OWN)
_NEXT_IDS = _next_ids()
_INSERT = {table.name: insert(table).execution_options(**OWN) for table in (MESSAGES, OUTBOX)}


@dataclass(eq=False)
class WriteBatch:
    """The read-ahead and the kept rows of one group-commit transaction (see the module's docstring)."""

    dialect: str
    valid: bool = False  # the read-ahead answers: no statement it did not foresee has run since
    places: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    read: set[tuple[str, str, str]] = field(default_factory=set)  # the senders read ahead (found or not)
    tickets: dict[int, int | None] = field(default_factory=dict)  # conversation -> its newest open ticket
    stored: set[tuple[str, str]] = field(default_factory=set)  # (channel, platform id) in the store or kept here
    checked: set[tuple[str, str]] = field(default_factory=set)  # the platform ids `stored` knows about
    locked: set[int] = field(default_factory=set)  # conversations this transaction has locked (PostgreSQL)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"messages": [], "outbox": []})
    _ids: dict[str, list[int]] = field(default_factory=lambda: {"messages": [], "outbox": []})
    _next: dict[str, int] = field(default_factory=dict)

    async def read_ahead(self, conn: AsyncConnection, senders: Sequence[tuple[str, str, str, str]]) -> None:
        """For the messages still to come, each (channel, user, address, platform id): their conversations,
        those conversations' open tickets, which of the messages are stored already, and ids for new rows."""
        await conn.run_sync(self.flush)
        places, tickets = _READ[self.dialect]
        self.read = set((c, u, a) for c, u, a, _ in senders)
        self.places, self.stored = {}, set()
        for channel in dict.fromkeys(c for c, _, _, _ in senders):  # one channel, mostly
            mine = [(u, a, p) for c, u, a, p in senders if c == channel]
            found = await conn.execute(places, {"channel_": channel, "users": list({u for u, _, _ in mine}),
                                                "addresses": list({a for _, a, _ in mine})})
            for row in found:
                if (channel, row[0], row[8]) in self.read:  # row[8]: the conversation's address
                    self.places[(channel, row[0], row[8])] = tuple(row[1:])
            stored = await conn.execute(_STORED, {"channel_": channel, "ids": list({p for _, _, p in mine})})
            self.stored.update((channel, platform_id) for platform_id, in stored)
        conversations = sorted({found[4] for found in self.places.values()})
        if self.dialect == "postgresql":
            self.locked.update(conversations)
        self.tickets = dict.fromkeys(conversations)
        if conversations:
            for conversation_id, ticket_id in await conn.execute(tickets, {"ids": conversations}):
                self.tickets[conversation_id] = ticket_id  # in id order: the newest wins, as in `active_ticket`
        self.checked = {(c, p) for c, _, _, p in senders}
        if self.dialect == "sqlite":  # the write lock is ours (BEGIN IMMEDIATE): nobody else inserts meanwhile
            last_message, last_outbox = (await conn.execute(_LAST_IDS)).one()
            self._next = {"messages": (last_message or 0) + 1, "outbox": (last_outbox or 0) + 1}
        else:  # an inbound message and about one reply each; more are fetched when needed
            await self._fetch_ids(conn, 2 * len(senders) + 2, len(senders) + 2)
        self.valid = True

    async def _fetch_ids(self, conn: AsyncConnection, messages: int, outbox: int) -> None:
        self._ids = {"messages": [], "outbox": []}
        for table, value in await conn.execute(_NEXT_IDS, {"messages": messages, "outbox": outbox}):
            self._ids[table].append(int(value))
        for ids in self._ids.values():
            ids.reverse()  # popped from the end, smallest first

    async def _new_id(self, conn: AsyncConnection, table: str) -> int:
        """The id the next row of ``table`` gets (only while `valid`)."""
        if self.dialect == "sqlite":
            value = self._next[table]
            self._next[table] = value + 1
            return value
        if not self._ids[table]:  # more replies than foreseen
            await self._fetch_ids(conn, 8, 8)
        return self._ids[table].pop()

    def place(self, channel: str, user: str, address: str) -> Any:
        """The read-ahead row as `records._FIND_BOTH` returns it; None for a first contact; MISSING if unknown."""
        key = (channel, user, address)
        return self.places.get(key) if self.valid and key in self.read else MISSING

    def ticket(self, conversation_id: int) -> Any:
        """The conversation's newest open ticket id (None: none); MISSING if it was not read ahead."""
        return self.tickets.get(conversation_id, MISSING) if self.valid else MISSING

    async def keep(self, conn: AsyncConnection, table: str, values: dict[str, Any]) -> int:
        """A row of ``table`` to insert with the batch's others (only while `valid`); its id."""
        new_id = await self._new_id(conn, table)
        self.rows[table].append({"id": new_id, **values})
        return new_id

    def flush(self, conn: Connection) -> None:
        """Insert the rows kept so far, one statement per table (messages before the outbox rows naming them)."""
        for table in ("messages", "outbox"):
            rows, self.rows[table] = self.rows[table], []
            shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # inbound and reply rows name other columns
            for row in sorted(rows, key=lambda r: r["id"]):
                shapes.setdefault(tuple(row), []).append(row)
            for same in shapes.values():
                conn.execute(_INSERT[table], same)

    def foreign(self, conn: Connection) -> None:
        """A statement the read-ahead did not foresee is about to run: it must see the rows kept so far, and
        it may change what was read ahead (on SQLite it may also insert rows, taking the ids we would give)."""
        self.flush(conn)
        self.valid = False


@asynccontextmanager
async def write_batch(session: AsyncSession) -> AsyncIterator[WriteBatch]:
    """A batch on the session's connection; its rows are inserted when the block ends (before the commit)."""
    conn = await connection_of(session)
    sync = conn.sync_connection
    assert sync is not None
    batch = WriteBatch(conn.dialect.name)
    sync.info[KEY] = batch
    try:
        yield batch
        await conn.run_sync(batch.flush)
    finally:
        sync.info.pop(KEY, None)


def batch_of(conn: AsyncConnection) -> WriteBatch | None:
    sync = conn.sync_connection
    return sync.info.get(KEY) if sync is not None else None


@event.listens_for(Engine, "before_execute")
def _before_execute(conn: Connection, clauseelement: Any, multiparams: Any, params: Any,
                    execution_options: Any) -> None:
    """Any statement on a connection with a batch, except the batch's own: the kept rows are inserted first."""
    batch = conn.info.get(KEY)
    if batch is not None and not execution_options.get("supportbot_batch"):
        batch.foreign(conn)
