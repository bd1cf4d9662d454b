"""The Store: one async engine, sessions, migrations. SQLite (one file) by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.errors import StorageError
from core.models import utcnow
from core.store import sqlite_driver
from core.store.reads import ThreadMessage, TicketRecord, conversation_messages, ticket_record
from core.store.records import find_message
from core.store.tables import Cursor, Identity, Message, Outbox

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x5B07_0001  # pg advisory lock held while migrating
MIGRATION_LOCK_POLL = 0.2  # seconds between attempts to take it
WRITE_ATTEMPTS = 3
T = TypeVar("T")
log = logging.getLogger(__name__)
_WRITING: ContextVar[bool] = ContextVar("supportbot_sqlite_writing", default=False)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def deleted_meanwhile(exc: IntegrityError) -> bool:
    """A foreign-key violation: a row this transaction found (a conversation, a customer) was deleted by
    another transaction (retention) before a row referring to it was inserted. Writing again finds it gone
    and makes a new one; on SQLite it cannot happen (reads and writes share the one write lock)."""
    driver = getattr(exc.orig, "driver_exception", None) or getattr(exc.orig, "__cause__", None)
    return getattr(driver, "sqlstate", None) == "23503"


async def written_again_if_deleted(write: Callable[[], Awaitable[T]], what: str) -> T:
    """``write`` (one whole transaction), run again if retention deleted a row it had found before it referred
    to it: what a customer or moderator sent is stored, not refused. Retention deletes only what was quiet for
    days, so a second clash in a row is unlikely; after WRITE_ATTEMPTS the error stands."""
    attempt = 1
    while True:
        try:
            return await write()
        except IntegrityError as exc:
            if attempt == WRITE_ATTEMPTS or not deleted_meanwhile(exc):
                raise
            attempt += 1
            log.info("%s: a row it refers to was pruned meanwhile; writing it again", what)


def upgrade_schema(connection: Any, target: str = "head") -> None:
    """Alembic's upgrade on ``connection`` (a sync one: under ``run_sync``); on PostgreSQL outside a transaction."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


@asynccontextmanager
async def _migrating_alone(conn: AsyncConnection) -> AsyncIterator[None]:
    """Hold the migration lock (PostgreSQL) on ``conn``, which is left outside a transaction for the migrations.

    Asked for again and again, never waited for in one statement: a waiting statement holds a snapshot, and
    CREATE INDEX CONCURRENTLY in the migrating process waits for every older snapshot in the database, so two
    processes starting together would deadlock."""
    lock = text("SELECT pg_try_advisory_lock(:k)")
    while not (await conn.execute(lock, {"k": MIGRATION_LOCK})).scalar():
        await conn.commit()
        await asyncio.sleep(MIGRATION_LOCK_POLL)
    await conn.commit()
    try:
        yield
    finally:
        try:
            await conn.rollback()  # what a failed migration left open
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            await conn.commit()
        except (SQLAlchemyError, OSError):  # closing the session releases the lock; the pool must not keep it
            await conn.invalidate()


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite:///) and pick the async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """Owns the database connection pool; everything else asks it for sessions."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None) -> None:
        """``schema`` (PostgreSQL only) isolates one deployment or one test run inside a shared database."""
        self.url = normalise_url(url)
        self.schema = schema  # PostgreSQL: NOTIFY channels and advisory locks are per database, so they carry it
        kwargs: dict[str, Any] = {"echo": echo}
        if self.url.startswith("sqlite+aiosqlite") and sqlite_driver.supported():
            # check_same_thread: one task at a time uses a connection, on aiosqlite's thread or (inline) the loop's
            kwargs.update(connect_args={"timeout": 10, "check_same_thread": False}, module=sqlite_driver.dbapi())
        elif self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 10}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
            if schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        try:
            self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StorageError(f"cannot use database URL {self.safe_url}: {exc}") from exc
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sqlite_writer = asyncio.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name if hasattr(self, "engine") else self.url.split(":", 1)[0]

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages and logs."""
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "<unparseable url>"

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, schema: str | None = None) -> Store:
        store = cls(url, schema=schema)
        if migrate:
            try:
                await store.migrate()
            except StorageError:
                await store.close()
                raise
        return store

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run on every start).

        SQLite: all in one transaction. PostgreSQL: one transaction per revision (env.py), since a revision may
        build an index CONCURRENTLY, outside any transaction; processes starting together migrate one after
        another by a session lock (`_migrating_alone`), which those commits do not release."""
        try:
            if self.dialect != "postgresql":
                async with self.engine.begin() as conn:
                    await conn.run_sync(upgrade_schema)
                return
            async with self.engine.connect() as conn, _migrating_alone(conn):
                await conn.run_sync(upgrade_schema)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot migrate {self.safe_url}: {exc}") from exc

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self, *, hot: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on any error.

        ``hot``: a short hot-path transaction (index lookups, small batched writes); on SQLite its statements
        run on the loop's thread instead of being handed to the worker thread (core/store/sqlite_driver.py).

        SQLite has one writer: a deferred transaction that reads and then writes fails at once with
        "database is locked" when another one committed meanwhile. So on SQLite write transactions
        take the lock up front (BEGIN IMMEDIATE; other processes wait in SQLite's busy handler) and
        queue on an asyncio lock in this process (woken at once, not after the busy handler's sleeps).
        """
        try:
            if hot and self.dialect == "sqlite":
                with sqlite_driver.inline():
                    async with self.transaction() as session:
                        yield session
                return
            if self.dialect != "sqlite" or _WRITING.get():
                async with self.sessions() as session, session.begin():
                    yield session
                return
            async with self._sqlite_writer:
                writing = _WRITING.set(True)
                try:
                    async with self.sessions() as session, session.begin():
                        await session.execute(text("BEGIN IMMEDIATE"))
                        yield session
                finally:
                    _WRITING.reset(writing)
        except IntegrityError:  # the data's problem (a duplicate), which callers handle themselves
            raise
        except (SQLAlchemyError, OSError) as exc:  # the database's: typed once, here (rule 8)
            raise StorageError(f"the database is unavailable: {_first_line(exc)}") from exc

    @asynccontextmanager
    async def connection(self, *, hot: bool = False) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a write transaction, same locking as `transaction`: for hot paths with no ORM."""
        async with self.transaction(hot=hot) as session:
            yield await session.connection()

    async def get_cursor(self, channel: str, key: str) -> str | None:
        async with self.sessions() as session:
            row = await session.get(Cursor, (channel, key))
            return row.value if row else None

    async def set_cursor(self, channel: str, key: str, value: str, *, keep_days: float | None = None) -> None:
        """``keep_days``: delivery state that the housekeeping job may prune after that; None keeps it."""
        now = utcnow()
        expires = now + timedelta(days=keep_days) if keep_days is not None else None
        async with self.transaction() as session:
            row = await session.get(Cursor, (channel, key))
            if row is None:
                session.add(Cursor(channel=channel, key=key, value=value, updated_at=now, expires_at=expires))
            else:
                row.value, row.updated_at, row.expires_at = value, now, expires

    async def identity_exists(self, channel: str, platform_user_id: str) -> bool:
        """Has this platform account ever written to us (is it a known customer)?"""
        found = await self.scalar(select(Identity.id).where(Identity.channel == channel,
                                                            Identity.platform_user_id == platform_user_id))
        return found is not None

    async def ticket(self, ticket_id: int) -> TicketRecord:
        """The ticket with its whole thread (and each reply's delivery state) and activity."""
        async with self.sessions() as session:
            return await ticket_record(session, ticket_id)

    async def messages_for_conversation(self, channel: str, address: str) -> list[ThreadMessage]:
        async with self.sessions() as session:
            return await conversation_messages(session, channel, address)

    async def message(self, channel: str, platform_id: str) -> Message | None:
        """The message stored under this platform identity (a redelivery is compared with what was kept)."""
        async with self.sessions() as session:
            return await find_message(session, channel, platform_id)

    async def outbox_rows(self) -> list[Outbox]:
        return await self.all(select(Outbox).order_by(Outbox.id))

    async def scalar(self, statement: Any) -> Any:
        async with self.sessions() as session:
            return await session.scalar(statement)

    async def all(self, statement: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.scalars(statement)).all())

    async def ping(self) -> bool:
        try:
            await self.scalar(select(1))
        except (SQLAlchemyError, OSError):  # asyncpg's refused connection is a bare OSError
            return False
        return True
