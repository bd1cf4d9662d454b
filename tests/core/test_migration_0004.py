"""Migration 0004 on a database with tickets: the new list columns are filled from the existing messages,
and the triggers keep them after the upgrade (SQLite; the PostgreSQL triggers run in tests/web/test_workspace_api)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from core.store.db import MIGRATIONS


def _upgrade(url: str, target: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with create_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


def test_existing_tickets_get_their_activity_preview_and_waiting_time(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _upgrade(f"sqlite:///{path}", "0003")
    db = sqlite3.connect(path)
    db.executescript("""
        INSERT INTO customers (id, display_name, created_at) VALUES (1, 'Old', '2026-01-01 00:00:00.000000');
        INSERT INTO conversations (id, customer_id, channel, address, public, state, created_at, last_message_at)
            VALUES (1, 1, 'webchat', 'c1', 0, '{}', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000');
        INSERT INTO tickets (id, customer_id, conversation_id, channel, status, priority, subject, source, tags,
            created_at, updated_at) VALUES (1, 1, 1, 'webchat', 'open', 'normal', 's', 'customer', '[]',
            '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000');
        INSERT INTO messages (id, conversation_id, ticket_id, channel, direction, author_kind, author_name, text,
            attachments, public, addressed, raw, created_at) VALUES
            (1, 1, 1, 'webchat', 'in', 'customer', 'Old', 'help me', '[]', 0, 1, '{}', '2026-01-01 10:00:00.000000'),
            (2, 1, 1, 'webchat', 'out', 'bot', 'bot', 'ticket #1', '[]', 0, 1, '{}', '2026-01-01 10:00:01.000000');
    """)
    db.commit()
    db.close()
    _upgrade(f"sqlite:///{path}", "head")
    db = sqlite3.connect(path)
    columns = "last_activity_at, last_message_id, last_customer_at, last_agent_at"
    row = db.execute(f"SELECT {columns} FROM tickets").fetchone()
    assert row == ("2026-01-01 10:00:01.000000", 1, "2026-01-01 10:00:00.000000", None)  # the bot's line: no preview
    db.execute("INSERT INTO messages (id, conversation_id, ticket_id, channel, direction, author_kind, author_name, "
               "text, attachments, public, addressed, raw, created_at, before_handoff) VALUES (3, 1, 1, 'webchat', "
               "'out', 'agent', 'Al', 'on it', '[]', 0, 1, '{}', '2026-01-01 11:00:00.000000', 0)")
    row = db.execute("SELECT last_activity_at, last_message_id, last_agent_at FROM tickets").fetchone()
    assert row == ("2026-01-01 11:00:00.000000", 3, "2026-01-01 11:00:00.000000")
    search = db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH '\"on it\"'").fetchall()
    assert search == [(3,)]  # the search index's triggers are there too
    db.close()
