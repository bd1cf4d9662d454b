"""preferences set on /settings; knowledge-base versions edited on /knowledge

``preferences`` holds what an admin changed at run time (business hours, the first-response SLA,
auto-assignment), one row per section; ``knowledge_versions`` the shared draft and every published
knowledge base (history and revert), the configured YAML file being the seed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "preferences",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_by", _PK, sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "knowledge_versions",
        sa.Column("id", _PK, primary_key=True, autoincrement=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("based_on", sa.Integer, nullable=True),
        sa.Column("agent_id", _PK, sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("scores", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_knowledge_versions_state", "knowledge_versions", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_versions_state", "knowledge_versions")
    op.drop_table("knowledge_versions")
    op.drop_table("preferences")
