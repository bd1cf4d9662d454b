"""outbox: an index of the undelivered rows of each conversation

A reply goes out only when no older reply of its conversation is still undelivered. Asked through
``ix_outbox_conversation``, that check read every reply the conversation ever had (kept for the
retention period: a busy group gets thousands); this partial index holds only the rows still queued,
failed or sending, so the check reads a handful. The claim statements name the same three statuses
literally (core/outbox_sql.py): SQLite uses a partial index only for a query whose terms match its own.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PENDING = sa.text("status IN ('queued', 'failed', 'sending')")


def upgrade() -> None:
    op.create_index("ix_outbox_pending", "outbox", ["channel", "conversation", "id"], sqlite_where=PENDING,
                    postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
