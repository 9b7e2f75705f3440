"""CloudFormation custom resource (CDK Provider framework): bring the catalog to the latest
schema revision on every deploy that changes the migrations (wiring.MIGRATE_CATALOG).

RDS for SQL Server creates no database at instance creation, so the first run creates the one
named in the catalog secret; `ragline.catalog.migrate` does the rest (idempotent). A failure
fails the deploy, and CloudFormation rolls back.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import URL, create_engine, text

from ragline.catalog.engine import catalog_url
from ragline.catalog.migrate import migrate
from ragline.settings import get_settings

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

PHYSICAL_ID = "ragline-catalog-schema"

CREATE_DATABASE = text(
    "DECLARE @sql nvarchar(400) = N'CREATE DATABASE ' + QUOTENAME(:name); "
    "IF DB_ID(:name) IS NULL EXEC sp_executesql @sql;"
)


def ensure_database(url: URL) -> None:
    """Create the catalog's database on a SQL Server that lacks it (no-op for other backends)."""
    if url.get_backend_name() != "mssql" or not url.database:
        return
    engine = create_engine(url.set(database="master"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(CREATE_DATABASE, {"name": url.database})
    finally:
        engine.dispose()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event["RequestType"]
    physical_id = event.get("PhysicalResourceId") or PHYSICAL_ID
    if request == "Delete":
        # The schema lives as long as the database: nothing to undo when the resource goes.
        return {"PhysicalResourceId": physical_id}
    url = catalog_url(get_settings())
    ensure_database(url)
    revision = migrate(url)
    logger.info("catalog %s at revision %s (%s)", url.database, revision, request)
    return {"PhysicalResourceId": physical_id, "Data": {"Revision": revision or ""}}
