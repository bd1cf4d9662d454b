"""inbox search indexes only the messages that belong to a ticket

Search finds tickets: a message counts through its ``ticket_id`` (core/store/queries.py), so a
message with none (the FAQ answers and the questions they answered, most of the traffic) can never
be a search result, yet its trigrams were written on every insert, the largest part of storing a
message on SQLite. The index now holds exactly the messages with a ticket: a message indexed when it
is stored with one, or when it is given one later (a handoff, a merge); taken out when it loses it.
Search results are the same as before.

- SQLite: the FTS5 triggers test ``ticket_id`` (an external-content table must be told to delete
  only what it was given), and the index is rebuilt from the messages with a ticket.
- PostgreSQL: the trigram GIN index becomes partial (``WHERE ticket_id IS NOT NULL``); the search
  names the same condition so the planner uses it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_OLD_TRIGGERS = ["messages_fts_insert", "messages_fts_delete", "messages_fts_update"]
_SQLITE_UP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in _OLD_TRIGGERS),
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.ticket_id IS NOT NULL BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.ticket_id IS NOT NULL BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    # one trigger for both columns: an UPDATE setting text and ticket_id together fires it once
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, ticket_id ON messages "
    "WHEN old.ticket_id IS NOT NULL OR new.ticket_id IS NOT NULL BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) SELECT 'delete', old.id, old.text "
    "WHERE old.ticket_id IS NOT NULL; "
    "INSERT INTO messages_fts(rowid, text) SELECT new.id, new.text WHERE new.ticket_id IS NOT NULL; END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')",
    "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE ticket_id IS NOT NULL",
]
_SQLITE_DOWN = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in _OLD_TRIGGERS),
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]


def _trgm_opclass() -> str:
    """The operator class of the existing index, named with pg_trgm's schema (search_path may exclude it)."""
    schema = op.get_bind().exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'").scalar()
    return f'"{schema}".gin_trgm_ops'


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_text_trgm")
        op.execute(f"CREATE INDEX ix_messages_text_trgm ON messages USING gin (text {_trgm_opclass()}) "
                   "WHERE ticket_id IS NOT NULL")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_text_trgm")
        op.execute(f"CREATE INDEX ix_messages_text_trgm ON messages USING gin (text {_trgm_opclass()})")
