"""Alembic environment: runs on the connection the Store hands over (async engines via run_sync)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from core.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # a revision may step outside its transaction (autocommit_block: CREATE INDEX CONCURRENTLY); the revisions
        # before it stay committed. A caller's transaction (SQLite: Store.migrate) still holds them all.
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
elif context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:  # `alembic` CLI with a sync URL (used to autogenerate revisions)
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
