"""The relational catalog: documents and their status, tenant index generations, the query log
and feedback. SQLAlchemy Core on SQLite (local), PostgreSQL (tests) and SQL Server (AWS).

Migrations are explicit: ``migrate(url)`` runs at deploy time (the CDK custom resource) and at
``ragline dev`` start. ``make_catalog`` migrates implicitly only for SQLite, the local
zero-setup default; a server database it merely connects to, because a Lambda cold start is the
wrong place for DDL (many containers starting at once would race on it).
"""

from __future__ import annotations

from ragline.catalog.engine import catalog_url, dispose_engines, engine_for
from ragline.catalog.migrate import current_revision, ensure_migrated, head_revision, migrate, migration_sql
from ragline.catalog.records import FeedbackRecord, QueryRecord
from ragline.catalog.repository import InvalidCursorError, SqlCatalog, hash_question
from ragline.settings import Settings, get_settings

__all__ = [
    "FeedbackRecord",
    "InvalidCursorError",
    "QueryRecord",
    "SqlCatalog",
    "catalog_url",
    "current_revision",
    "dispose_engines",
    "engine_for",
    "ensure_migrated",
    "hash_question",
    "head_revision",
    "make_catalog",
    "migrate",
    "migration_sql",
]


def make_catalog(settings: Settings | None = None) -> SqlCatalog:
    """The catalog for these settings, on the process-wide engine for its URL (Lambda
    containers reuse it across invocations). SQLite is migrated on first use in the process."""
    settings = settings or get_settings()
    url = catalog_url(settings)
    engine = engine_for(url)
    if engine.dialect.name == "sqlite":
        ensure_migrated(engine)
    return SqlCatalog(engine)
