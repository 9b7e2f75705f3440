"""The catalog's tables, on one MetaData, in types that mean the same on SQLite, PostgreSQL and
SQL Server.

Choices that keep the three dialects honest:

- Every string column is ``Unicode`` (NVARCHAR on SQL Server). pymssql sends every Python ``str``
  as an ``N'...'`` literal; comparing that with a VARCHAR column makes SQL Server convert the
  column and scan instead of seek. Long text is ``Unicode()`` without a length, which SQL Server
  renders as NVARCHAR(max) (``UnicodeText`` would render the deprecated NTEXT offline).
- Indexed strings are bounded so that index keys stay under SQL Server's 1,700-byte limit for
  non-clustered indexes (NVARCHAR costs 2 bytes a character).
- Timestamps are ``UtcDateTime``: TIMESTAMP WITH TIME ZONE on PostgreSQL, DATETIMEOFFSET(7) on
  SQL Server, and an ISO string in UTC on SQLite; Python always sees aware UTC datetimes.
- Constraints are named through a naming convention: SQL Server otherwise invents random names,
  and a later migration could not drop them by name.

The document id is ``models.document_id_for(tenant, key)`` (uuid5 of ``tenant/key``), so the
primary key *is* the uniqueness of (tenant, key). A separate UNIQUE (tenant, key) index is left
out on purpose: an S3 key may be 1,024 characters, and NVARCHAR(1024) + tenant exceeds SQL
Server's index key limit, so such an index would reject long keys at insert time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Unicode,
    text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from ragline.models import SEQUENCER_LENGTH

# Bounds, shared with the repository (which truncates or rejects values that exceed them).
TENANT_LENGTH = 128
KEY_LENGTH = 1024  # S3's limit for an object key
ID_LENGTH = 36  # a uuid in its canonical text form
ERROR_LENGTH = 4000
QUESTION_LENGTH = 2000
COMMENT_LENGTH = 4000

DOCUMENT_STATUSES = ("processing", "ready", "failed", "deleted")
RATINGS = ("up", "down")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every dialect.

    Naive datetimes are refused on the way in (a naive value is a bug: whose local time?).
    SQLite has no time zone type, so the value is stored as naive UTC text in a fixed format,
    which also keeps string comparison (keyset pagination) correct. Results come back aware UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite through a raw text() query
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


documents = Table(
    "documents",
    metadata,
    Column("id", Unicode(ID_LENGTH), primary_key=True),
    Column("tenant", Unicode(TENANT_LENGTH), nullable=False),
    Column("key", Unicode(KEY_LENGTH), nullable=False),
    Column("file_name", Unicode(KEY_LENGTH), nullable=False),
    Column("status", Unicode(16), nullable=False),
    Column("step", Unicode(64)),
    Column("error", Unicode(ERROR_LENGTH)),
    Column("content_hash", Unicode(128)),
    Column("etag", Unicode(128)),
    Column("version_id", Unicode(1024)),
    Column("size_bytes", BigInteger),
    Column("file_type", Unicode(32)),
    Column("page_count", Integer),
    Column("chunk_count", Integer),
    Column("execution_id", Unicode(2048)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # 0002_ordering: the highest S3 sequencer seen for the key (padded hex, see
    # models.normalise_sequencer) and the revision that owns the row (repository docstring).
    Column("sequencer", Unicode(SEQUENCER_LENGTH)),
    Column("revision", Integer, nullable=False, server_default=text("0")),
    CheckConstraint(_in("status", DOCUMENT_STATUSES), name="status"),
    # Listing a tenant's documents, optionally by status, newest first (keyset pagination).
    Index("ix_documents_tenant_status", "tenant", "status", "updated_at", "id"),
    Index("ix_documents_tenant_updated", "tenant", "updated_at", "id"),
)

tenant_generations = Table(
    "tenant_generations",
    metadata,
    Column("tenant", Unicode(TENANT_LENGTH), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

queries = Table(
    "queries",
    metadata,
    Column("id", Unicode(ID_LENGTH), primary_key=True),
    Column("tenant", Unicode(TENANT_LENGTH), nullable=False),
    Column("question", Unicode(QUESTION_LENGTH), nullable=False),
    Column("question_hash", Unicode(64), nullable=False),
    Column("mode", Unicode(16), nullable=False),
    Column("top_k", Integer, nullable=False),
    Column("cache_hit", Boolean, nullable=False),
    Column("answer_type", Unicode(32), nullable=False),
    Column("model", Unicode(128)),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("latency_ms_total", Float),
    Column("latency_ms_embed", Float),
    Column("latency_ms_search", Float),
    Column("latency_ms_llm", Float),
    Column("cited_document_ids", Unicode(), nullable=False),  # JSON array of document ids
    Column("created_at", UtcDateTime, nullable=False),
    Column("top_score", Float),  # the best passage's score (None: nothing retrieved); 0004
    Index("ix_queries_tenant_created", "tenant", "created_at"),
    Index("ix_queries_tenant_question_hash", "tenant", "question_hash"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Unicode(ID_LENGTH), primary_key=True),
    Column("query_id", Unicode(ID_LENGTH), ForeignKey("queries.id"), nullable=False),
    Column("tenant", Unicode(TENANT_LENGTH), nullable=False),
    Column("rating", Unicode(8), nullable=False),
    Column("comment", Unicode(COMMENT_LENGTH)),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(_in("rating", RATINGS), name="rating"),
    Index("ix_feedback_tenant_query", "tenant", "query_id"),
)


# -- access (migration 0004_access): collection grants and the audit trail -----------------

GROUP_LENGTH = 128
COLLECTION_LENGTH = 128
AUDIT_ACTIONS = ("upload", "delete", "grant", "revoke", "refused")

# Which groups may read which collection of a tenant (admins read every collection).
collection_grants = Table(
    "collection_grants",
    metadata,
    Column("tenant", Unicode(TENANT_LENGTH), primary_key=True),
    Column("collection", Unicode(COLLECTION_LENGTH), primary_key=True),
    Column("group_name", Unicode(GROUP_LENGTH), primary_key=True),
    Column("granted_by", Unicode(256), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_collection_grants_tenant_group_name", "tenant", "group_name"),
)

# Who did what, when: uploads, deletes, grants, revocations and refused requests.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Unicode(ID_LENGTH), primary_key=True),
    Column("tenant", Unicode(TENANT_LENGTH), nullable=False),
    Column("actor", Unicode(256), nullable=False),
    Column("actor_role", Unicode(16), nullable=False),
    Column("action", Unicode(16), nullable=False),
    Column("target", Unicode(KEY_LENGTH), nullable=False),
    Column("detail", Unicode(ERROR_LENGTH)),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(_in("action", AUDIT_ACTIONS), name="action"),
    Index("ix_audit_events_tenant_created_at", "tenant", "created_at"),
)

# -- conversations (migration 0003_conversations) ------------------------------------------

USER_LENGTH = 256  # the token's `sub` (a uuid on Cognito)
TITLE_LENGTH = 200

conversations = Table(
    "conversations",
    metadata,
    Column("id", Unicode(ID_LENGTH), primary_key=True),
    Column("tenant", Unicode(TENANT_LENGTH), nullable=False),
    Column("user_id", Unicode(USER_LENGTH), nullable=False),
    Column("title", Unicode(TITLE_LENGTH), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # A user's conversations, most recently active first (keyset pagination).
    Index("ix_conversations_tenant_user_updated", "tenant", "user_id", "updated_at", "id"),
)

conversation_messages = Table(
    "conversation_messages",
    metadata,
    Column("id", Unicode(ID_LENGTH), primary_key=True),
    Column("conversation_id", Unicode(ID_LENGTH), ForeignKey("conversations.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("query_id", Unicode(ID_LENGTH)),  # the query log entry of the answer
    Column("question", Unicode(QUESTION_LENGTH), nullable=False),
    Column("standalone_query", Unicode(QUESTION_LENGTH), nullable=False),
    Column("answer", Unicode(), nullable=False),
    Column("citations", Unicode(), nullable=False),  # JSON array of Citation objects
    Column("answer_type", Unicode(32), nullable=False),
    Column("model", Unicode(128)),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("latency_ms", Unicode(), nullable=False),  # JSON object: total + per stage
    Column("cached", Boolean, nullable=False),
    Column("rating", Unicode(8)),
    Column("feedback_comment", Unicode(COMMENT_LENGTH)),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(_in("rating", RATINGS), name="rating"),
    UniqueConstraint("conversation_id", "position"),
)
