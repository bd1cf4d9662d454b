"""retention of conversation history: daily figures of pruned conversations, and what may be pruned

Housekeeping prunes messages without a ticket after ``keep_unticketed_messages_days``
(core/retention.py). The statistics count conversations per UTC day from the messages, so before
a conversation's messages of a day go, that day's figures of it are added to ``stats_days`` (one row
per day and channel) and ``conversations.counted_through`` says up to which day the statistics
read them there instead of from its messages. A partial index on ``created_at`` of the messages
without a ticket finds the oldest prunable ones without reading the table.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNTICKETED = sa.text("ticket_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "stats_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("conversations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("answered", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("deflected", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("conversations", sa.Column("counted_through", sa.Date(), nullable=True))
    op.create_index("ix_messages_unticketed_created", "messages", ["created_at"], sqlite_where=UNTICKETED,
                    postgresql_where=UNTICKETED)


def downgrade() -> None:
    op.drop_index("ix_messages_unticketed_created", table_name="messages")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("counted_through")
    op.drop_table("stats_days")
