"""The initial catalog: documents, tenant generations, the query log and feedback.

Written out by hand rather than from ``metadata.create_all``: a migration is a frozen record
of the schema at one point, and must not change when ``schema.py`` changes later.
(tests/integration/test_catalog.py checks that head matches ``schema.metadata``.)

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Unicode(36), nullable=False),
        sa.Column("tenant", sa.Unicode(128), nullable=False),
        sa.Column("key", sa.Unicode(1024), nullable=False),
        sa.Column("file_name", sa.Unicode(1024), nullable=False),
        sa.Column("status", sa.Unicode(16), nullable=False),
        sa.Column("step", sa.Unicode(64)),
        sa.Column("error", sa.Unicode(4000)),
        sa.Column("content_hash", sa.Unicode(128)),
        sa.Column("etag", sa.Unicode(128)),
        sa.Column("version_id", sa.Unicode(1024)),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("file_type", sa.Unicode(32)),
        sa.Column("page_count", sa.Integer),
        sa.Column("chunk_count", sa.Integer),
        sa.Column("execution_id", sa.Unicode(2048)),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.CheckConstraint(
            "status IN ('processing', 'ready', 'failed', 'deleted')",
            name=op.f("ck_documents_status"),
        ),
    )
    op.create_index(op.f("ix_documents_tenant_status"), "documents", ["tenant", "status", "updated_at", "id"])
    op.create_index(op.f("ix_documents_tenant_updated"), "documents", ["tenant", "updated_at", "id"])

    op.create_table(
        "tenant_generations",
        sa.Column("tenant", sa.Unicode(128), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_tenant_generations")),
    )

    op.create_table(
        "queries",
        sa.Column("id", sa.Unicode(36), nullable=False),
        sa.Column("tenant", sa.Unicode(128), nullable=False),
        sa.Column("question", sa.Unicode(2000), nullable=False),
        sa.Column("question_hash", sa.Unicode(64), nullable=False),
        sa.Column("mode", sa.Unicode(16), nullable=False),
        sa.Column("top_k", sa.Integer, nullable=False),
        sa.Column("cache_hit", sa.Boolean, nullable=False),
        sa.Column("answer_type", sa.Unicode(32), nullable=False),
        sa.Column("model", sa.Unicode(128)),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("latency_ms_total", sa.Float),
        sa.Column("latency_ms_embed", sa.Float),
        sa.Column("latency_ms_search", sa.Float),
        sa.Column("latency_ms_llm", sa.Float),
        sa.Column("cited_document_ids", sa.Unicode(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queries")),
    )
    op.create_index(op.f("ix_queries_tenant_created"), "queries", ["tenant", "created_at"])
    op.create_index(op.f("ix_queries_tenant_question_hash"), "queries", ["tenant", "question_hash"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Unicode(36), nullable=False),
        sa.Column("query_id", sa.Unicode(36), nullable=False),
        sa.Column("tenant", sa.Unicode(128), nullable=False),
        sa.Column("rating", sa.Unicode(8), nullable=False),
        sa.Column("comment", sa.Unicode(4000)),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.ForeignKeyConstraint(["query_id"], ["queries.id"], name=op.f("fk_feedback_query_id_queries")),
        sa.CheckConstraint("rating IN ('up', 'down')", name=op.f("ck_feedback_rating")),
    )
    op.create_index(op.f("ix_feedback_tenant_query"), "feedback", ["tenant", "query_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("queries")
    op.drop_table("tenant_generations")
    op.drop_table("documents")
