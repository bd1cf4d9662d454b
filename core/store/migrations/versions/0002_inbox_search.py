"""inbox search and list indexes

Text search over ticket subjects and message texts that stays fast at a million messages and
works for Chinese (no word boundaries), so both backends index character trigrams:

- SQLite: FTS5 tables with the ``trigram`` tokenizer (external content: the text is not stored
  twice), kept in sync with ``messages`` / ``tickets`` by triggers.
- PostgreSQL: ``pg_trgm`` GIN indexes, which serve ``ILIKE '%...%'`` directly and are maintained
  by PostgreSQL itself.

Both give substring semantics (case-insensitive); queries shorter than three characters cannot
use a trigram index and fall back to a scan (see core/store/queries.py).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', "
    "tokenize='trigram case_sensitive 0')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, content='tickets', content_rowid='id', "
    "tokenize='trigram case_sensitive 0')",
    "CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject); END",
    "CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject) VALUES ('delete', old.id, old.subject); "
    "INSERT INTO tickets_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    *(f"DROP TRIGGER IF EXISTS {table}_fts_{verb}"
      for table in ("messages", "tickets") for verb in ("insert", "delete", "update")),
    "DROP TABLE IF EXISTS messages_fts",
    "DROP TABLE IF EXISTS tickets_fts",
]


def _trgm_schema() -> str:
    """Where pg_trgm lives: its operator class must be named with that schema when search_path excludes it."""
    bind = op.get_bind()
    found = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'").scalar()
    if found is None:
        has_public = bind.exec_driver_sql("SELECT 1 FROM pg_namespace WHERE nspname = 'public'").scalar()
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" SCHEMA public" if has_public else ""))
        found = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'").scalar()
    return str(found)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index("ix_tickets_status_id", "tickets", ["status", "id"])
    op.create_index("ix_tickets_due", "tickets", ["first_response_due", "id"])
    op.create_index("ix_agents_seen", "agents", ["seen_at"])
    if dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif dialect == "postgresql":
        schema = _trgm_schema()
        op.execute(f'CREATE INDEX ix_messages_text_trgm ON messages USING gin (text "{schema}".gin_trgm_ops)')
        op.execute(f'CREATE INDEX ix_tickets_subject_trgm ON tickets USING gin (subject "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_text_trgm")
        op.execute("DROP INDEX IF EXISTS ix_tickets_subject_trgm")
    op.drop_index("ix_agents_seen", "agents")
    op.drop_index("ix_tickets_due", "tickets")
    op.drop_index("ix_tickets_status_id", "tickets")
