"""process instances and lease owners; cursors that expire; redacted messages; the conversation's story

Outbox leases name the instance that holds them, and instances keep a heartbeat, so the replies of a
process that died are taken over within seconds instead of after the lease. ``uncertain`` marks a
reply that may have reached the platform twice (taken over mid-send, or a timeout after the request
was written); ``noted_publicly`` a private reply the platform refused, announced in public and owed to the
customer until they write privately. Cursor rows that only carry short-lived delivery state get ``expires_at``, so the
housekeeping job can prune them (read positions never expire). ``messages.redacted`` lists the kinds
of secrets removed from a customer's message before it was stored. ``messages.before_handoff`` marks the story a
ticket inherits at the handoff, ``messages.feedback`` a bot answer the customer called helpful or not;
``tickets.fields`` holds what the bot collected (transaction number, amount, time, error, country) and
``tickets.rating``/``rating_comment``/``rated_at`` the customer's satisfaction.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_instances_heartbeat_at", "instances", ["heartbeat_at"])
    # Plain ADD COLUMN (no table rebuild): a rebuild on SQLite would drop the search triggers of 0002.
    op.add_column("outbox", sa.Column("lease_owner", sa.String(32), nullable=True))
    op.add_column("outbox", sa.Column("uncertain", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("outbox", sa.Column("noted_publicly", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("cursors", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_cursors_expires_at", "cursors", ["expires_at"])
    op.add_column("messages", sa.Column("redacted", sa.JSON, nullable=True))
    op.add_column("messages", sa.Column("before_handoff", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("messages", sa.Column("feedback", sa.String(16), nullable=True))
    op.add_column("tickets", sa.Column("fields", sa.JSON, nullable=False, server_default="{}"))
    op.add_column("tickets", sa.Column("rating", sa.Integer, nullable=True))
    op.add_column("tickets", sa.Column("rating_comment", sa.Text, nullable=True))
    op.add_column("tickets", sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for column in ("rated_at", "rating_comment", "rating", "fields"):
            batch.drop_column(column)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("feedback")
        batch.drop_column("before_handoff")
        batch.drop_column("redacted")
    op.drop_index("ix_cursors_expires_at", "cursors")
    with op.batch_alter_table("cursors") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("noted_publicly")
        batch.drop_column("uncertain")
        batch.drop_column("lease_owner")
    op.drop_index("ix_instances_heartbeat_at", "instances")
    op.drop_table("instances")
