"""Conversations: a user's follow-up questions and their answers.

A conversation belongs to one user (the token's ``sub``) in one tenant; every read filters on
both. Messages keep what the user saw (question, answer, citations) and how it was produced
(standalone query, answer type, model, usage, latency), plus the user's feedback.

Revision ID: 0003_conversations
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_conversations"
down_revision: str | None = "0002_ordering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Unicode(36), nullable=False),
        sa.Column("tenant", sa.Unicode(128), nullable=False),
        sa.Column("user_id", sa.Unicode(256), nullable=False),
        sa.Column("title", sa.Unicode(200), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(
        op.f("ix_conversations_tenant_user_updated"), "conversations", ["tenant", "user_id", "updated_at", "id"]
    )
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Unicode(36), nullable=False),
        sa.Column("conversation_id", sa.Unicode(36), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("query_id", sa.Unicode(36)),
        sa.Column("question", sa.Unicode(2000), nullable=False),
        sa.Column("standalone_query", sa.Unicode(2000), nullable=False),
        sa.Column("answer", sa.Unicode(), nullable=False),
        sa.Column("citations", sa.Unicode(), nullable=False),
        sa.Column("answer_type", sa.Unicode(32), nullable=False),
        sa.Column("model", sa.Unicode(128)),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("latency_ms", sa.Unicode(), nullable=False),
        sa.Column("cached", sa.Boolean, nullable=False),
        sa.Column("rating", sa.Unicode(8)),
        sa.Column("feedback_comment", sa.Unicode(4000)),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_messages")),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name=op.f("fk_conversation_messages_conversation_id_conversations"),
        ),
        sa.CheckConstraint("rating IN ('up', 'down')", name=op.f("ck_conversation_messages_rating")),
        sa.UniqueConstraint(
            "conversation_id", "position", name=op.f("uq_conversation_messages_conversation_id_position")
        ),
    )


def downgrade() -> None:
    op.drop_table("conversation_messages")
    op.drop_index(op.f("ix_conversations_tenant_user_updated"), table_name="conversations")
    op.drop_table("conversations")
