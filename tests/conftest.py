"""Fixtures shared by the whole suite: database backends.

Every registry test runs on SQLite and on a real PostgreSQL server. The
PostgreSQL server is the one at ``CHAMBERLAIN_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``); if it is not reachable the
suite tries to start the local cluster, and if that fails the whole run stops
with an error. PostgreSQL tests are never skipped silently.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _pg import drop_schema

from chamberlain.registry import Registry

PG_URL = os.environ.get("CHAMBERLAIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def _pg_reachable() -> str | None:
    engine = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as err:  # any failure to connect
        return str(err).splitlines()[0]
    finally:
        engine.dispose()


def _start_postgresql() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    for version in versions:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    """Make sure PostgreSQL answers before any test runs: start it if needed, else stop the run loudly."""
    problem = _pg_reachable()
    if problem is not None:
        _start_postgresql()
        for _ in range(30):
            problem = _pg_reachable()
            if problem is None:
                break
            time.sleep(1)
    if problem is not None:
        pytest.exit(
            f"PostgreSQL at {PG_URL} is not reachable and could not be started: {problem}", returncode=3
        )


@pytest.fixture(scope="session")
def postgresql_server() -> str:
    """The PostgreSQL URL (checked at session start), with the btree_gist extension present."""
    engine = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")).first() is None:
            # Another worker may create it at the same moment.
            with contextlib.suppress(sa.exc.IntegrityError):
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
    engine.dispose()
    return PG_URL


class DatabaseSpec:
    """Where a test's repository database lives: a URL plus an optional namespace."""

    def __init__(self, backend: str, url: str, namespace: str | None) -> None:
        self.backend = backend
        self.url = url
        self.namespace = namespace

    def __repr__(self) -> str:
        return f"DatabaseSpec({self.backend!r})"


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseSpec]:
    """A fresh, empty database on each backend: a SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield DatabaseSpec("sqlite", f"sqlite:///{tmp_path / 'registry.sqlite3'}", None)
        return
    url = request.getfixturevalue("postgresql_server")
    namespace = f"test_{uuid.uuid4().hex[:16]}"
    try:
        yield DatabaseSpec("postgresql", url, namespace)
    finally:
        drop_schema(url, namespace)


@pytest.fixture
def populated_registry(database: DatabaseSpec) -> Iterator[Registry]:
    """A registry on each backend filled with the small repository of tests/_query_repo.py."""
    from _query_repo import populate

    reg = Registry.create(database.url, namespace=database.namespace)
    populate(reg)
    try:
        yield reg
    finally:
        reg.close()
