"""Ordering per key: the highest S3 event sequencer seen for a document (deletes included, so a
tombstone is never resurrected by an older event) and a revision, bumped each time an
ingestion or a delete takes the row over (points carry it in their id and payload).

Revision ID: 0002_ordering
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ordering"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("sequencer", sa.Unicode(64)))
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("revision", mssql_drop_default=True)
        batch.drop_column("sequencer")
