"""The catalog-migration custom resource handler (wiring.MIGRATE_CATALOG), run against SQLite
the way the Provider framework calls it on deploy."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from ragline.settings import get_settings


@pytest.fixture()
def catalog_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    monkeypatch.setenv("RAGLINE_CATALOG_URL", url)
    monkeypatch.delenv("RAGLINE_CATALOG_SECRET_ARN", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_create_and_update_migrate_to_head_and_delete_keeps_the_schema(catalog_url):
    from handlers import migrate_catalog
    from ragline.catalog.migrate import current_revision, head_revision

    created = migrate_catalog.handler({"RequestType": "Create"}, None)
    assert created["PhysicalResourceId"] == migrate_catalog.PHYSICAL_ID
    assert created["Data"]["Revision"] == head_revision() == current_revision(catalog_url)

    updated = migrate_catalog.handler(
        {"RequestType": "Update", "PhysicalResourceId": created["PhysicalResourceId"]}, None
    )
    assert updated == created  # idempotent, same physical id: no replacement

    deleted = migrate_catalog.handler(
        {"RequestType": "Delete", "PhysicalResourceId": created["PhysicalResourceId"]}, None
    )
    assert deleted == {"PhysicalResourceId": created["PhysicalResourceId"]}
    assert current_revision(catalog_url) == head_revision()


def test_database_creation_is_only_attempted_on_sql_server(catalog_url):
    from handlers.migrate_catalog import CREATE_DATABASE, ensure_database

    ensure_database(make_url(catalog_url))  # SQLite: nothing to create, no error
    sql = str(CREATE_DATABASE)
    assert "QUOTENAME(:name)" in sql and "IF DB_ID(:name) IS NULL" in sql
