"""retention of conversation history: daily figures of pruned conversations, and what may be pruned

Housekeeping prunes messages without a ticket after ``keep_unticketed_messages_days``
(core/retention.py). The statistics count conversations per UTC day from the messages, so before
a conversation's messages of a day go, that day's figures of it are added to ``stats_days`` (one row
per day and channel) and ``conversations.counted_through`` says up to which day the statistics
read them there instead of from its messages. A partial index on ``created_at`` of the messages
without a ticket finds the oldest prunable ones without reading the table.

On PostgreSQL that index is built CONCURRENTLY: a plain CREATE INDEX would stop every insert into
``messages`` (customers' messages) for as long as the build takes on a big table. It is built first,
outside any transaction, so an interrupted upgrade has committed nothing else; the build leaves an
INVALID index when interrupted, which the next upgrade drops and builds again.

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
INDEX = "ix_messages_unticketed_created"


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _build_index_concurrently()
    else:
        op.create_index(INDEX, "messages", ["created_at"], sqlite_where=UNTICKETED)
    op.create_table(
        "stats_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("conversations", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("answered", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("deflected", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("conversations", sa.Column("counted_through", sa.Date(), nullable=True))


def _build_index_concurrently() -> None:
    """Writers go on meanwhile. What an interrupted build left (INVALID: never used, still written) is dropped
    first; a valid index from a run that stopped after the build is kept."""
    with op.get_context().autocommit_block():
        invalid = op.get_bind().scalar(sa.text("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = "
                                               "to_regclass(:name)"), {"name": INDEX})
        if invalid:
            op.drop_index(INDEX, table_name="messages", postgresql_concurrently=True)
        op.create_index(INDEX, "messages", ["created_at"], postgresql_where=UNTICKETED,
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():  # DROP INDEX would wait behind, then hold up, every writer
            op.drop_index(INDEX, table_name="messages", postgresql_concurrently=True, if_exists=True)
    else:
        op.drop_index(INDEX, table_name="messages")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("counted_through")
    op.drop_table("stats_days")
