"""scale-out on PostgreSQL: per-channel send slots shared by every dispatcher process; when jobs last ran

``channel_pace`` holds, per channel, the next free send slot and how long the platform told us to
pause the whole bot (Telegram's flood wait, Discord's global 429). Every dispatcher claims its next
slot from this row in one statement (core/pacing_pg.py), so several dispatchers together keep the
channel's rate. Only PostgreSQL uses it; SQLite runs one process, paced in memory. ``job_runs``
says when a periodic job (housekeeping) last ran in any process, so N processes run it once per interval.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_pace",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_table("channel_pace")
