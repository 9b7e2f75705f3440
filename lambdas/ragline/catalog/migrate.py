"""Schema migrations, run programmatically: ``migrate(url)`` brings a database to the latest
revision. The same call runs at deploy time (the CDK custom resource), at ``ragline dev`` start,
and in tests; no alembic.ini is needed at runtime (one ships in the package for the CLI:
``alembic -c lambdas/ragline/catalog/alembic.ini upgrade head``, URL from ``RAGLINE_CATALOG_URL``
or ``-x url=...``).

On SQL Server the database itself is created first when missing (RDS creates none).
Running it again is a no-op. ``python -m ragline.catalog [URL] [--sql]`` does the same
from a shell; ``--sql`` prints the DDL instead (offline mode), for a DBA to review or apply.
"""

from __future__ import annotations

import io
import re
import sys
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from ragline.catalog.engine import catalog_url, engine_for, server_engine_options
from ragline.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_migrated: set[str] = set()
_migrated_lock = threading.Lock()


def alembic_config(url: str | URL | None = None, output: io.StringIO | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, built in code (no ini file)."""
    config = Config(output_buffer=output) if output is not None else Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # '%' must be doubled: Config values go through ConfigParser interpolation.
        rendered = make_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(target: str | URL | Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    engine = target if isinstance(target, Engine) else engine_for(target)
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(
    target: str | URL | Engine | None = None,
    revision: str = "head",
    settings: Settings | None = None,
) -> str | None:
    """Upgrade the database to ``revision`` and return the revision it is at afterwards.

    ``target`` is a URL or an Engine; without one, the catalog URL from settings (including the
    Secrets Manager secret on AWS). Idempotent. If two processes race (two developers' shells on
    one SQLite file), the loser's failure is forgiven when the database ends up at the target.
    """
    if target is None:
        target = catalog_url(settings or get_settings())
    engine = target if isinstance(target, Engine) else engine_for(target)
    if engine.dialect.name == "mssql":
        create_mssql_database_if_missing(engine.url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except Exception:
        at = current_revision(engine)
        if revision != "head" or at != head_revision():
            raise
    return current_revision(engine)


def create_mssql_database_sql(name: str) -> str:
    """T-SQL that creates the database unless it exists (one batch, safe to repeat)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", name):
        raise ValueError(f"catalog database name {name!r}: use letters, digits and underscores")
    return f"IF DB_ID(N'{name}') IS NULL CREATE DATABASE [{name}]"


def create_mssql_database_if_missing(url: URL) -> None:
    """RDS for SQL Server starts with no application database: create it from ``master``
    before migrating (CREATE DATABASE cannot run inside a transaction: autocommit)."""
    if not url.database:
        return
    admin = create_engine(
        url.set(database="master"),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        **{key: value for key, value in server_engine_options(url).items() if key == "connect_args"},
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(create_mssql_database_sql(url.database)))
    finally:
        admin.dispose()


def ensure_migrated(target: str | URL | Engine) -> None:
    """Migrate once per process per database (local SQLite convenience in ``make_catalog``)."""
    engine = target if isinstance(target, Engine) else engine_for(target)
    key = engine.url.render_as_string(hide_password=False)
    with _migrated_lock:
        if key in _migrated:
            return
        migrate(engine)
        _migrated.add(key)


def migration_sql(url: str | URL = "mssql+pymssql://", revision: str = "head") -> str:
    """The DDL of the migrations up to ``revision`` for the dialect of ``url``, without
    connecting (Alembic's offline ``--sql`` mode)."""
    output = io.StringIO()
    command.upgrade(alembic_config(url, output), revision, sql=True)
    return output.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    offline = "--sql" in args
    args = [arg for arg in args if arg != "--sql"]
    url = args[0] if args else None
    if offline:
        sys.stdout.write(migration_sql(url or catalog_url(get_settings())))
        return 0
    at = migrate(url)
    print(f"catalog at revision {at}")
    return 0
