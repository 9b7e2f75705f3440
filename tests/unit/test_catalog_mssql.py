"""SQL Server is the catalog on AWS and there is no server to test against here, so the DDL,
the statements the repository runs and the Alembic migration are compiled with the mssql
dialect and checked for what SQL Server needs."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from ragline.catalog import migration_sql
from ragline.catalog.engine import catalog_url, server_engine_options, url_from_secret_string
from ragline.catalog.migrate import create_mssql_database_if_missing, create_mssql_database_sql
from ragline.catalog.repository import (
    advance_statement,
    bump_statement,
    encode_cursor,
    page_statement,
)
from ragline.catalog.schema import UtcDateTime, documents, feedback, metadata, queries, tenant_generations
from ragline.settings import Settings
from sqlalchemy import Index, String, Table, func, insert, make_url, select
from sqlalchemy.dialects import mssql, postgresql, sqlite
from sqlalchemy.dialects.mssql.pymssql import MSDialect_pymssql
from sqlalchemy.schema import CreateIndex, CreateTable

REPO_ROOT = Path(__file__).resolve().parents[2]
DIALECT = MSDialect_pymssql()

# SQL Server's limits on index keys, in bytes (NVARCHAR costs 2 bytes a character).
CLUSTERED_KEY_LIMIT = 900
NONCLUSTERED_KEY_LIMIT = 1700


def ddl(table: Table) -> str:
    return str(CreateTable(table).compile(dialect=DIALECT))


def sql(statement, literal: bool = False) -> str:
    kwargs = {"literal_binds": True} if literal else {}
    return " ".join(str(statement.compile(dialect=DIALECT, compile_kwargs=kwargs)).split())


def key_bytes(table: Table, columns) -> int:
    total = 0
    for column in columns:
        column = table.c[column] if isinstance(column, str) else column
        if isinstance(column.type, String):
            assert column.type.length is not None, f"{table.name}.{column.name} is indexed but unbounded"
            total += 2 * column.type.length
        elif isinstance(column.type, UtcDateTime):
            total += 10  # DATETIMEOFFSET(7)
        else:
            total += 8
    return total


def test_dialect_is_the_one_aws_uses() -> None:
    assert DIALECT.name == "mssql" and DIALECT.driver == "pymssql"


def test_documents_ddl() -> None:
    text = ddl(documents)
    assert "id NVARCHAR(36) NOT NULL" in text
    assert "[key] NVARCHAR(1024) NOT NULL" in text  # KEY is reserved in T-SQL: quoted
    assert "error NVARCHAR(4000) NULL" in text
    assert "size_bytes BIGINT NULL" in text
    assert "created_at DATETIMEOFFSET NOT NULL" in text
    assert "updated_at DATETIMEOFFSET NOT NULL" in text
    assert "CONSTRAINT pk_documents PRIMARY KEY (id)" in text
    assert (
        "CONSTRAINT ck_documents_status CHECK (status IN ('processing', 'ready', 'failed', 'deleted'))"
        in text
    )
    assert "VARCHAR(" not in text.replace("NVARCHAR(", "")  # every string is Unicode: pymssql sends N'...'
    assert "NTEXT" not in text and "DATETIME " not in text


def test_queries_and_feedback_ddl() -> None:
    query_ddl, feedback_ddl = ddl(queries), ddl(feedback)
    assert "cache_hit BIT NOT NULL" in query_ddl
    assert "latency_ms_llm FLOAT NULL" in query_ddl
    assert "question NVARCHAR(2000) NOT NULL" in query_ddl
    assert "cited_document_ids NVARCHAR(max) NOT NULL" in query_ddl
    assert (
        "CONSTRAINT fk_feedback_query_id_queries FOREIGN KEY(query_id) REFERENCES queries (id)"
        in feedback_ddl
    )
    assert "CONSTRAINT ck_feedback_rating CHECK (rating IN ('up', 'down'))" in feedback_ddl
    assert "generation INTEGER NOT NULL" in ddl(tenant_generations)


def test_every_table_and_index_compiles() -> None:
    for table in metadata.sorted_tables:
        assert ddl(table).startswith(f"\nCREATE TABLE {table.name} (")
        for index in table.indexes:
            assert str(CreateIndex(index).compile(dialect=DIALECT)).startswith(
                f"CREATE INDEX {index.name} ON"
            )


def test_index_keys_fit_sql_server_limits() -> None:
    for table in metadata.sorted_tables:
        primary_key = key_bytes(table, table.primary_key.columns)
        assert primary_key <= CLUSTERED_KEY_LIMIT, f"{table.name} primary key is {primary_key} bytes"
        index: Index
        for index in table.indexes:
            size = key_bytes(table, index.columns)
            assert size <= NONCLUSTERED_KEY_LIMIT, f"{index.name} is {size} bytes"


def test_listing_uses_top_and_keyset_order() -> None:
    first_page = sql(page_statement("acme", None, 51, None), literal=True)
    assert first_page.startswith("SELECT TOP 51 documents.id, documents.tenant, documents.[key]")
    assert "WHERE documents.tenant = N'acme' AND documents.status != N'deleted'" in first_page
    assert first_page.endswith("ORDER BY documents.updated_at DESC, documents.id DESC")

    cursor = encode_cursor(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), "0000-id")
    next_page = sql(page_statement("acme", "ready", 11, cursor))
    assert next_page.startswith("SELECT TOP __[POSTCOMPILE_param_1] ")
    assert "documents.status = :status_1" in next_page
    assert (
        "(documents.updated_at < :updated_at_1 OR "
        "documents.updated_at = :updated_at_2 AND documents.id < :id_1)"
    ) in next_page
    assert "OFFSET" not in next_page and "ROW_NUMBER" not in next_page  # keyset, not offset


def test_step_update_and_generation_bump() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    step = sql(advance_statement("doc-1", {"step": "extract", "updated_at": now}, "exec-1"))
    assert step.startswith(
        "UPDATE documents SET step=:step, updated_at=:updated_at WHERE documents.id = :id_1"
    )
    assert "documents.status = :status_1" in step  # processing only: never reopens a row
    assert "documents.execution_id = :execution_id_1" in step
    unowned = sql(advance_statement("doc-1", {"step": "extract"}, None))
    assert "documents.execution_id IS NULL" in unowned  # None is not "any owner"


def test_compare_and_set_of_register_and_delete() -> None:
    from ragline.catalog.repository import cas_statement
    from ragline.models import DocumentRecord

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    current = DocumentRecord(id="d", tenant="t", key="t/a", file_name="a", status="ready", revision=3,
                             sequencer="0" * 62 + "0A", created_at=now, updated_at=now)  # fmt: skip
    cas = sql(cas_statement(current, {"status": "processing", "revision": 4}))
    assert cas.startswith("UPDATE documents SET status=:status, revision=:revision WHERE documents.id = :id_1")
    assert "documents.revision = :revision_1 AND documents.sequencer = :sequencer_1" in cas
    first = sql(cas_statement(current.model_copy(update={"sequencer": None}), {"etag": "e"}))
    assert "documents.sequencer IS NULL" in first

    bump = sql(bump_statement("acme", now))
    assert bump.startswith("UPDATE tenant_generations SET generation=(tenant_generations.generation + ")


def test_inserts_render_with_bracketed_key_and_bit_booleans() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    document = sql(
        insert(documents).values(id="d", tenant="t", key="t/a.pdf", file_name="a.pdf", status="processing")
    )
    assert document.startswith("INSERT INTO documents (id, tenant, [key], file_name, status)")
    logged = sql(
        insert(queries).values(
            id="q",
            tenant="t",
            question="?",
            question_hash="h",
            mode="hybrid",
            top_k=5,
            cache_hit=True,
            answer_type="llm",
            cited_document_ids="[]",
            created_at=now,
        ),  # fmt: skip
        literal=True,
    )
    assert "1, N'llm'" in logged  # a BIT literal, not TRUE
    count = sql(select(func.count()).select_from(feedback).where(feedback.c.tenant == "t"), literal=True)
    assert count == "SELECT count(*) AS count_1 FROM feedback WHERE feedback.tenant = N't'"


def test_timestamps_bind_as_aware_utc_for_datetimeoffset() -> None:
    """pymssql renders an aware datetime with microseconds and its offset; a naive one would be
    cut to milliseconds, breaking keyset cursors. SQLite gets naive UTC text."""
    column_type = UtcDateTime()
    local = datetime(2026, 11, 25, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    bound = column_type.process_bind_param(local, DIALECT)
    assert bound == datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC) and bound.tzinfo is not None
    sqlite_bound = column_type.process_bind_param(local, sqlite.dialect())
    assert sqlite_bound == datetime(2026, 11, 25, 12, 0, 0, 123456)  # naive UTC
    with pytest.raises(ValueError):
        column_type.process_bind_param(datetime(2026, 1, 1), DIALECT)
    # pymssql returns DATETIMEOFFSET as an aware datetime in the stored offset
    result = column_type.process_result_value(local, DIALECT)
    assert result == local and result.utcoffset() == timedelta(0)


def test_pymssql_engines_keep_microseconds() -> None:
    """What pymssql actually sends for our timestamps, with the engine options we give it."""
    import pymssql._mssql as tds

    options = server_engine_options(make_url("mssql+pymssql://user:pw@db.example:1433/ragline"))
    bound = UtcDateTime().process_bind_param(datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), DIALECT)
    use_datetime2 = options["connect_args"]["use_datetime2"]
    assert tds.quote_simple_value(bound, use_datetime2=use_datetime2) == b"'2026-01-02 03:04:05.123456'"
    assert tds.quote_simple_value(bound) == b"'2026-01-02 03:04:05.123'"  # the default would truncate
    assert options["pool_pre_ping"] is True
    assert "connect_args" not in server_engine_options(make_url("postgresql+psycopg://u@h/d"))


def test_alembic_migration_renders_offline_for_sql_server() -> None:
    script = migration_sql("mssql+pymssql://")
    assert script.startswith("BEGIN TRANSACTION;")
    for table in ("documents", "tenant_generations", "queries", "feedback"):
        assert f"CREATE TABLE {table} (" in script
    assert "[key] NVARCHAR(1024) NOT NULL" in script
    assert "DATETIMEOFFSET NOT NULL" in script
    assert "CONSTRAINT ck_documents_status CHECK" in script  # named as schema.py names it
    assert "CREATE INDEX ix_documents_tenant_status ON documents (tenant, status, updated_at, id);" in script
    assert re.search(r"INSERT INTO alembic_version \(version_num\) .*VALUES \('0001_initial'\);", script)
    # 0002_ordering: the per-key ordering columns (the default is a named constraint on SQL Server).
    assert "ALTER TABLE documents ADD sequencer NVARCHAR(64) NULL;" in script
    assert "ALTER TABLE documents ADD revision INTEGER NOT NULL DEFAULT 0;" in script  # fills existing rows
    assert re.search(r"UPDATE alembic_version SET version_num='0002_ordering'", script)
    assert script.count("\nGO\n") >= 8  # batches separated for sqlcmd
    assert script.rstrip().endswith("COMMIT;\n\nGO")


def test_alembic_cli_renders_the_packaged_config_offline() -> None:
    """The shipped alembic.ini works from a shell too (``--sql``: no database needed)."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(REPO_ROOT / "lambdas/ragline/catalog/alembic.ini"),
            "-x",
            "url=mssql+pymssql://",
            "upgrade",
            "head",
            "--sql",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "CREATE TABLE documents (" in completed.stdout
    assert "DATETIMEOFFSET" in completed.stdout


def test_every_dialect_compiles_the_same_tables() -> None:
    """The same metadata on the other two dialects (sanity: nothing mssql-only crept in)."""
    for dialect in (postgresql.dialect(), sqlite.dialect(), mssql.dialect()):
        for table in metadata.sorted_tables:
            assert f"CREATE TABLE {table.name}" in str(CreateTable(table).compile(dialect=dialect))
    assert "TIMESTAMP WITH TIME ZONE" in str(CreateTable(documents).compile(dialect=postgresql.dialect()))


# -- the AWS connection path -----------------------------------------------------------------


def test_url_from_rds_secret() -> None:
    secret = (
        '{"username": "admin", "password": "p@ss:w/rd", "host": "db.x.rds.amazonaws.com",'
        ' "port": 1433, "dbname": "cat"}'
    )
    url = url_from_secret_string(secret)
    assert url.drivername == "mssql+pymssql"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "admin",
        "p@ss:w/rd",  # no manual escaping: URL.create keeps it intact
        "db.x.rds.amazonaws.com",
        1433,
        "cat",
    )
    # RDS-generated SQL Server secrets carry no dbname (RDS creates no database)
    assert url_from_secret_string('{"username": "a", "password": "b", "host": "h"}').database == "ragline"
    assert url_from_secret_string("postgresql+psycopg://u:p@h/d").get_backend_name() == "postgresql"
    with pytest.raises(ValueError, match="password"):
        url_from_secret_string('{"username": "a", "host": "h"}')


def test_catalog_url_reads_the_secret_when_an_arn_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    import ragline.secrets

    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:catalog"
    seen: list[str] = []

    def fake_secret(secret_arn: str, **_: object) -> str:
        seen.append(secret_arn)
        return '{"username": "u", "password": "p", "host": "h", "port": 1444, "dbname": "d"}'

    monkeypatch.setattr(ragline.secrets, "get_secret_value", fake_secret)
    url = catalog_url(Settings(catalog_secret_arn=arn))
    assert seen == [arn]
    assert url.render_as_string(hide_password=False) == "mssql+pymssql://u:p@h:1444/d"
    assert catalog_url(Settings(catalog_url="sqlite:///x.db")).database == "x.db"


def test_migrate_creates_the_sql_server_database_from_master(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``ragline.catalog.migrate`` the attribute is the function; the module is in sys.modules
    migrate_module = importlib.import_module("ragline.catalog.migrate")

    calls: list[tuple[str, dict[str, object]]] = []
    executed: list[str] = []

    class FakeConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def execute(self, statement) -> None:
            executed.append(str(statement))

    class FakeEngine:
        def connect(self) -> FakeConnection:
            return FakeConnection()

        def dispose(self) -> None:
            pass

    def fake_create_engine(url, **kwargs):
        calls.append((url.render_as_string(hide_password=False), kwargs))
        return FakeEngine()

    monkeypatch.setattr(migrate_module, "create_engine", fake_create_engine)
    create_mssql_database_if_missing(make_url("mssql+pymssql://u:p@h:1433/ragline"))

    assert calls[0][0] == "mssql+pymssql://u:p@h:1433/master"
    assert calls[0][1]["isolation_level"] == "AUTOCOMMIT"
    assert executed == ["IF DB_ID(N'ragline') IS NULL CREATE DATABASE [ragline]"]
    with pytest.raises(ValueError):
        create_mssql_database_sql("x]; DROP DATABASE master; --")
