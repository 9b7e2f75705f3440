"""Databases for tests: a fresh SQLite file and a fresh PostgreSQL database per test session.

Fixtures (import them into a test module, or load this module with
``pytest_plugins = ["tests.support.databases"]`` in a conftest):

- ``sqlite_url``: ``sqlite:///<tmp>/catalog.db``, a new file per session (not migrated).
- ``postgres_url``: a uniquely named database created on the PostgreSQL server for this session
  and dropped at its end, so parallel sessions never collide (not migrated).
- ``database_url``: parametrized over both (ids ``sqlite`` and ``postgresql``; the latter is
  marked ``postgres``): run the same behavioural tests on each backend.
- ``empty_database_url``: like ``database_url`` but a new, empty database for every test
  (migration tests); ``fresh_postgres_database`` / ``fresh_sqlite_url`` do the same in code.

The server comes from ``RAGLINE_TEST_POSTGRES_URL`` (default: the server on this machine,
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). When it is unreachable the tests are
skipped with the reason, except under ``CI=true``, where they fail: CI must not go green by
silently testing less.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.pool import NullPool

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def postgres_server_url() -> URL:
    return make_url(os.environ.get("RAGLINE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI (a missing service there is a broken pipeline)."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: services must be available, not skipped)", pytrace=False)
    pytest.skip(reason)


def fresh_sqlite_url(directory: Path, name: str = "catalog.db") -> str:
    """A URL for a SQLite file that does not exist yet under ``directory``."""
    return f"sqlite:///{(directory / name).resolve()}"


def postgres_unreachable_reason(server: URL) -> str | None:
    """Why the server cannot be used, or None when it answers."""
    engine = create_engine(server, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "unavailable"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {server.render_as_string(hide_password=True)} is unreachable: {first_line}"
    finally:
        engine.dispose()
    return None


@contextmanager
def fresh_postgres_database(server: URL | None = None, prefix: str = "ragline_test") -> Iterator[URL]:
    """Create a uniquely named database on ``server``, yield its URL, drop it afterwards
    (``WITH (FORCE)`` ends connections a test left open)."""
    server = server or postgres_server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        server,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",  # CREATE/DROP DATABASE cannot run in a transaction
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fresh_sqlite_url(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = postgres_server_url()
    reason = postgres_unreachable_reason(server)
    if reason:
        unavailable(reason)
    with fresh_postgres_database(server) as url:
        yield url.render_as_string(hide_password=False)
        _dispose_cached_engines()


def _dispose_cached_engines() -> None:
    """Close pooled connections of the app's engine cache before the database is dropped."""
    try:
        from ragline.catalog import dispose_engines
    except ImportError:
        return
    dispose_engines()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """The same tests on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has touched, one per test, on each backend."""
    if request.param == "sqlite":
        yield fresh_sqlite_url(tmp_path)
        return
    request.getfixturevalue("postgres_url")  # skips (or fails under CI) without a server
    with fresh_postgres_database(prefix="ragline_empty") as url:
        yield url.render_as_string(hide_password=False)
        _dispose_cached_engines()
