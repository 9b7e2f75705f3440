"""Access: collection grants, the audit trail, and each query's best passage score (for the
insights "unanswered" list).

Revision ID: 0004_access
Revises: 0001 (the lead chains it after 0003_conversations at merge)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_access"
down_revision: str | None = "0003_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_grants",
        sa.Column("tenant", sa.Unicode(128), nullable=False),
        sa.Column("collection", sa.Unicode(128), nullable=False),
        sa.Column("group_name", sa.Unicode(128), nullable=False),
        sa.Column("granted_by", sa.Unicode(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "collection", "group_name", name=op.f("pk_collection_grants")),
    )
    op.create_index(
        op.f("ix_collection_grants_tenant_group_name"), "collection_grants", ["tenant", "group_name"]
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Unicode(36), nullable=False),
        sa.Column("tenant", sa.Unicode(128), nullable=False),
        sa.Column("actor", sa.Unicode(256), nullable=False),
        sa.Column("actor_role", sa.Unicode(16), nullable=False),
        sa.Column("action", sa.Unicode(16), nullable=False),
        sa.Column("target", sa.Unicode(1024), nullable=False),
        sa.Column("detail", sa.Unicode(4000)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.CheckConstraint(
            "action IN ('upload', 'delete', 'grant', 'revoke', 'refused')", name=op.f("ck_audit_events_action")
        ),
    )
    op.create_index(op.f("ix_audit_events_tenant_created_at"), "audit_events", ["tenant", "created_at"])
    op.add_column("queries", sa.Column("top_score", sa.Float))


def downgrade() -> None:
    op.drop_column("queries", "top_score")
    op.drop_table("audit_events")
    op.drop_table("collection_grants")
