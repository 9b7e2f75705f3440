"""Alembic environment for the catalog.

Three ways in, in order of precedence:
- ``config.attributes["connection"]``: ``ragline.catalog.migrate`` passes an open connection;
- ``sqlalchemy.url`` in the config, or ``-x url=...`` on the command line;
- the application settings (``RAGLINE_CATALOG_URL`` / ``RAGLINE_CATALOG_SECRET_ARN``).
Offline mode (``--sql``) renders the DDL for the URL's dialect without connecting.
"""

from __future__ import annotations

from alembic import context
from ragline.catalog.schema import metadata
from sqlalchemy import URL, Connection

config = context.config


def _url() -> str | URL:
    url = config.get_main_option("sqlalchemy.url") or context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from ragline.catalog.engine import catalog_url
    from ragline.settings import get_settings

    return catalog_url(get_settings())


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: future migrations use batch mode (copy and move).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from ragline.catalog.engine import engine_for

    with engine_for(_url()).connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
