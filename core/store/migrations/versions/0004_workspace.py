"""the agents' workspace: last activity, unread marks, snooze, availability, canned responses, agent files

- ``tickets.last_activity_at / last_message_id / last_customer_at / last_agent_at``: the list is sorted
  by last activity, rows preview the last message a person wrote (the bot's acknowledgements would hide
  what the customer said), a newer customer message marks a ticket unread and
  starts its waiting time. Database triggers on ``messages`` keep them (on insert, and when a message
  joins a ticket later or moves in a merge), so the engine, the inbox and any other writer agree
  without each remembering to. Existing rows are filled from their messages.
- ``tickets.snoozed_until``: a pending ticket comes back to the list at that time.
- ``ticket_reads``: when each agent last looked at each ticket.
- ``agents.availability``: online, busy or away; auto-assignment picks online agents only.
- ``canned_responses``: saved replies, personal (an owner) or shared (none).
- ``agent_files``: files agents attach to replies (the bytes live under the data folder).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# SQLite: one trigger per event; CASE keeps the newest value (timestamps are stored in one sortable format).
_SQLITE_SET = """
    UPDATE tickets SET
      last_activity_at = CASE WHEN last_activity_at IS NULL OR new.created_at > last_activity_at
                              THEN new.created_at ELSE last_activity_at END,
      last_message_id = CASE WHEN new.author_kind != 'bot' AND (last_message_id IS NULL OR new.id > last_message_id)
                             THEN new.id ELSE last_message_id END,
      last_customer_at = CASE WHEN new.direction = 'in' AND new.author_kind = 'customer'
                                   AND (last_customer_at IS NULL OR new.created_at > last_customer_at)
                              THEN new.created_at ELSE last_customer_at END,
      last_agent_at = CASE WHEN new.direction = 'out' AND new.author_kind = 'agent'
                                AND (last_agent_at IS NULL OR new.created_at > last_agent_at)
                           THEN new.created_at ELSE last_agent_at END
    WHERE id = new.ticket_id;
"""
_SQLITE_UP = [
    "CREATE TRIGGER messages_ticket_activity_insert AFTER INSERT ON messages WHEN new.ticket_id IS NOT NULL "
    f"BEGIN {_SQLITE_SET} END",
    "CREATE TRIGGER messages_ticket_activity_update AFTER UPDATE OF ticket_id ON messages "
    "WHEN new.ticket_id IS NOT NULL AND (old.ticket_id IS NULL OR old.ticket_id != new.ticket_id) "
    f"BEGIN {_SQLITE_SET} END",
]
_SQLITE_DOWN = ["DROP TRIGGER IF EXISTS messages_ticket_activity_insert",
                "DROP TRIGGER IF EXISTS messages_ticket_activity_update"]

# PostgreSQL: GREATEST ignores NULLs, so the newest value wins without CASE.
_PG_UP = [
    """CREATE FUNCTION supportbot_ticket_activity() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.ticket_id IS NULL OR (TG_OP = 'UPDATE' AND OLD.ticket_id IS NOT DISTINCT FROM NEW.ticket_id) THEN
        RETURN NULL;
      END IF;
      UPDATE tickets SET
        last_activity_at = GREATEST(last_activity_at, NEW.created_at),
        last_message_id = CASE WHEN NEW.author_kind != 'bot' THEN GREATEST(last_message_id, NEW.id)
                               ELSE last_message_id END,
        last_customer_at = CASE WHEN NEW.direction = 'in' AND NEW.author_kind = 'customer'
                                THEN GREATEST(last_customer_at, NEW.created_at) ELSE last_customer_at END,
        last_agent_at = CASE WHEN NEW.direction = 'out' AND NEW.author_kind = 'agent'
                             THEN GREATEST(last_agent_at, NEW.created_at) ELSE last_agent_at END
      WHERE id = NEW.ticket_id;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER messages_ticket_activity AFTER INSERT OR UPDATE OF ticket_id ON messages "
    "FOR EACH ROW EXECUTE FUNCTION supportbot_ticket_activity()",
]
_PG_DOWN = ["DROP TRIGGER IF EXISTS messages_ticket_activity ON messages",
            "DROP FUNCTION IF EXISTS supportbot_ticket_activity()"]

_BACKFILL = """
UPDATE tickets SET
  last_activity_at = COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.ticket_id = tickets.id), created_at),
  last_message_id = (SELECT MAX(m.id) FROM messages m WHERE m.ticket_id = tickets.id AND m.author_kind != 'bot'),
  last_customer_at = (SELECT MAX(m.created_at) FROM messages m WHERE m.ticket_id = tickets.id
                      AND m.direction = 'in' AND m.author_kind = 'customer'),
  last_agent_at = (SELECT MAX(m.created_at) FROM messages m WHERE m.ticket_id = tickets.id
                   AND m.direction = 'out' AND m.author_kind = 'agent')
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_message_id", PK, nullable=True))
        batch.add_column(sa.Column("last_customer_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_agent_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_tickets_snoozed_until", "tickets", ["snoozed_until"])
    op.create_index("ix_tickets_status_activity", "tickets", ["status", "last_activity_at", "id"])
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("availability", sa.String(8), nullable=False, server_default="online"))
    op.create_table(
        "ticket_reads",
        sa.Column("agent_id", PK, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("ticket_id", PK, sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", PK, primary_key=True),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("shortcut", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("owner_id", PK, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_by", PK, sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_canned_responses_owner_id", "canned_responses", ["owner_id"])
    op.create_table(
        "agent_files",
        sa.Column("id", PK, primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("mime_type", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("agent_id", PK, sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("ticket_id", PK, sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("message_id", PK, sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_agent_files_ticket_id", "agent_files", ["ticket_id"])
    op.execute(_BACKFILL)
    for statement in _SQLITE_UP if dialect == "sqlite" else _PG_UP if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_DOWN if dialect == "sqlite" else _PG_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_index("ix_agent_files_ticket_id", "agent_files")
    op.drop_table("agent_files")
    op.drop_index("ix_canned_responses_owner_id", "canned_responses")
    op.drop_table("canned_responses")
    op.drop_table("ticket_reads")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("availability")
    op.drop_index("ix_tickets_status_activity", "tickets")
    op.drop_index("ix_tickets_snoozed_until", "tickets")
    with op.batch_alter_table("tickets") as batch:
        for column in ("last_agent_at", "last_customer_at", "last_message_id", "last_activity_at", "snoozed_until"):
            batch.drop_column(column)
