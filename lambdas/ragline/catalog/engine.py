"""Engines for the catalog: one per URL per process, configured per dialect.

Lambda containers live for many invocations, so an engine (and its pool) is created once per
URL and reused; ``pool_pre_ping`` replaces connections that died while the container was frozen.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.pool import StaticPool

from ragline.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_MSSQL_DATABASE = "ragline"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def catalog_url(settings: Settings) -> URL:
    """The catalog's URL: ``settings.catalog_url`` locally; on AWS (``catalog_secret_arn`` set)
    built from the RDS secret, read through ``ragline.secrets`` (Powertools' cached reader)."""
    if settings.catalog_secret_arn:
        from ragline.secrets import get_secret_value

        return url_from_secret_string(get_secret_value(settings.catalog_secret_arn))
    return make_url(settings.catalog_url)


def url_from_secret_string(secret: str) -> URL:
    """An ``mssql+pymssql`` URL from an RDS-style secret ``{username, password, host, port,
    dbname}``; a secret that holds a whole SQLAlchemy URL is used as it is.

    RDS for SQL Server creates no database of its own and its generated secrets carry no
    ``dbname``: then the database is ``ragline`` (``migrate`` creates it when missing).
    """
    try:
        data = json.loads(secret)
    except ValueError:
        return make_url(secret.strip())
    if not isinstance(data, dict):
        raise ValueError("catalog secret must be a JSON object {username, password, host, port, dbname}")
    missing = [name for name in ("username", "password", "host") if not data.get(name)]
    if missing:
        raise ValueError(
            f"catalog secret lacks {', '.join(missing)}: expected {{username, password, host, port, dbname}}"
        )
    return URL.create(
        "mssql+pymssql",
        username=str(data["username"]),
        password=str(data["password"]),
        host=str(data["host"]),
        port=int(data.get("port") or 1433),
        database=str(data.get("dbname") or DEFAULT_MSSQL_DATABASE),
    )


def engine_for(url: str | URL) -> Engine:
    """The process-wide engine for ``url`` (created on first use)."""
    url = make_url(url)
    cache_key = url.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(cache_key)
        if engine is None:
            engine = _create_engine(url)
            _engines[cache_key] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine's pool (tests; forked processes)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def server_engine_options(url: URL) -> dict[str, Any]:
    """``create_engine`` options for a server database (PostgreSQL, SQL Server).

    Small pools: a Lambda container handles one request at a time, the local runtime a few.
    pymssql gets ``use_datetime2``: without it, it sends a UTC datetime cut to milliseconds
    (its ``%Z`` check sees no offset in "UTC"), which would make stored timestamps differ from
    the ones the code holds and break keyset cursors.
    """
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": 2,
        "max_overflow": 8,
        "pool_recycle": 300,
    }
    if url.get_driver_name() == "pymssql":
        options["connect_args"] = {"use_datetime2": True, "login_timeout": 10}
    return options


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url)
    return create_engine(url, **server_engine_options(url))


def _create_sqlite_engine(url: URL) -> Engine:
    """SQLite for local use: WAL so readers never block the writer, a busy timeout so concurrent
    writers (threads of the local runtime, a second process) wait instead of failing, foreign
    keys on (SQLite leaves them off by default)."""
    if is_memory_sqlite(url):
        # One shared connection, or every checkout would see a different empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if not is_memory_sqlite(url):
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return engine
