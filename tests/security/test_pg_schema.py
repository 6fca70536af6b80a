"""A repository uses only its own schema, creation leaves nothing on failure, and a damaged
repository is reported in one line (issue #11, findings 7 and 13).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from _security import Repo, only_postgresql, only_sqlite, refused, run_cli

from chamberlain.errors import ConfigError
from chamberlain.registry import Registry
from chamberlain.registry import registry as registry_module
from chamberlain.registry.sql import reader_role_name
from chamberlain.schema import SCHEMA_VERSION

# --- helpers ----------------------------------------------------------------------------------


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _schemas(url: str) -> set[str]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars())
    finally:
        engine.dispose()


def _role_exists(url: str, role: str) -> bool:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
            return found is not None
    finally:
        engine.dispose()


def _drop_role(url: str, role: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
                conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
                conn.exec_driver_sql(f'DROP ROLE "{role}"')
    finally:
        engine.dispose()


def _write_config(root: Path, db: str | None, namespace: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "chamberlain.yaml").write_text(yaml.safe_dump({"db": db, "namespace": namespace}))
    return root


def _repo_sql(repo: Repo, statement: str) -> None:
    """Run an administrator's statement on the repository's tables (to damage it on purpose)."""
    engine = _engine(repo.url)
    try:
        with engine.begin() as conn:
            if repo.database.namespace:
                conn.exec_driver_sql(f'SET LOCAL search_path TO "{repo.database.namespace}"')
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def pg_only(database: Any) -> Any:
    """The `database` of a test marked `only_postgresql`."""
    assert database.backend == "postgresql"
    return database


@pytest.fixture
def fresh_database(pg_only: Any) -> Iterator[str]:
    """A new PostgreSQL database (so its ``public`` schema can hold a repository), dropped after."""
    name = f"chamberlain_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_only.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(pg_only.url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        _drop_role(pg_only.url, reader_role_name(url, None))


# --- finding 7: only the repository's schema ----------------------------------------------------


@only_postgresql
def test_mistyped_namespace_is_one_line_and_creates_nothing(repo: Repo, tmp_path: Path) -> None:
    typo = repo.database.namespace + "x"
    other = _write_config(tmp_path / "typo", repo.database.url, typo)
    before = repo.snapshot()
    for args in (
        ("query-collections", other),
        ("query-datasets", other, "raw", "--collections", "SimCam/raw/all"),
        ("sql", other, "SELECT 1"),
    ):
        result = run_cli(*args)
        refused(result, repr(typo), "does not exist")
    with pytest.raises(ConfigError, match=typo):
        Registry.open(repo.database.url, namespace=typo)
    assert typo not in _schemas(repo.database.url)
    assert repo.snapshot() == before


@only_postgresql
def test_public_repository_is_not_found_through_another_namespace(
    fresh_database: str, tmp_path: Path
) -> None:
    url = fresh_database
    with Registry.create(url) as public:  # a repository in ``public``
        public.register_run("public/run")

    # Opening a namespace that holds nothing does not fall back on public.
    with pytest.raises(ConfigError, match="'survey_typo' does not exist"):
        Registry.open(url, namespace="survey_typo")
    assert "survey_typo" not in _schemas(url)

    # A new namespace beside it is created, not refused as "already holds a repository".
    fresh = f"survey_{uuid.uuid4().hex[:8]}"
    root = tmp_path / "fresh"
    try:
        result = run_cli("create", root, "--db", url, "--namespace", fresh)
        assert result.exit_code == 0, result.output
        assert fresh in _schemas(url)
        with Registry.open(url, namespace=fresh) as reg:
            assert "public/run" not in set(reg.query_collections())
        result = run_cli("sql", root, "SELECT name FROM collection WHERE name = 'public/run'")
        assert result.exit_code == 0, result.output
        assert "public/run" not in result.stdout
        # ...and the repository in public is still reachable as it was, by its own reader role.
        public_root = _write_config(tmp_path / "public", url, None)
        result = run_cli("sql", public_root, "SELECT name FROM collection WHERE name = 'public/run'")
        assert result.exit_code == 0, result.output
        assert "public/run" in result.stdout
    finally:
        _drop_role(url, reader_role_name(url, fresh))


@only_postgresql
def test_failed_create_leaves_no_schema_and_no_role(
    pg_only: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = f"failing_{uuid.uuid4().hex[:8]}"
    role = reader_role_name(pg_only.url, namespace)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise ConfigError("simulated failure while creating the views")

    monkeypatch.setattr(registry_module, "create_views", boom)
    try:
        result = run_cli("create", tmp_path / "r", "--db", pg_only.url, "--namespace", namespace)
        refused(result, "simulated failure")
        assert namespace not in _schemas(pg_only.url)
        assert not _role_exists(pg_only.url, role)
        assert not (tmp_path / "r").exists()
    finally:
        _drop_role(pg_only.url, role)


@only_postgresql
def test_failed_create_keeps_a_preexisting_schema(pg_only: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = pg_only.namespace  # dropped by the `database` fixture afterwards
    engine = _engine(pg_only.url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{namespace}"')

    def boom(*args: Any, **kwargs: Any) -> None:
        raise ConfigError("simulated failure")

    monkeypatch.setattr(registry_module, "create_views", boom)
    with pytest.raises(ConfigError, match="simulated"):
        Registry.create(pg_only.url, namespace=namespace)
    try:
        with engine.connect() as conn:
            assert namespace in _schemas(pg_only.url)
            tables = conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": namespace}
            ).all()
            assert tables == []
    finally:
        engine.dispose()


@only_postgresql
def test_create_refuses_a_schema_holding_other_tables(pg_only: Any, tmp_path: Path) -> None:
    """The reader role would get SELECT on the user's tables, and names could collide: refused."""
    namespace = pg_only.namespace
    engine = _engine(pg_only.url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{namespace}"')
        conn.exec_driver_sql(f'CREATE TABLE "{namespace}".keep (a INTEGER)')
        conn.exec_driver_sql(f'INSERT INTO "{namespace}".keep VALUES (42)')
    try:
        result = run_cli("create", tmp_path / "r", "--db", pg_only.url, "--namespace", namespace)
        refused(result, repr(namespace), "keep")
        assert not (tmp_path / "r").exists()
        with engine.connect() as conn:
            tables = set(
                conn.execute(
                    sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": namespace}
                ).scalars()
            )
            assert tables == {"keep"}
            assert conn.exec_driver_sql(f'SELECT a FROM "{namespace}".keep').scalar_one() == 42
    finally:
        engine.dispose()


@only_postgresql
@pytest.mark.parametrize("namespace", ["information_schema", "pg_catalog", "pg_toast", "PG_x"])
def test_create_refuses_system_schemas(pg_only: Any, tmp_path: Path, namespace: str) -> None:
    result = run_cli("create", tmp_path / "r", "--db", pg_only.url, "--namespace", namespace)
    refused(result, repr(namespace), "system schema")
    assert not (tmp_path / "r").exists()


@only_postgresql
def test_create_over_an_existing_repository_refused(repo: Repo, tmp_path: Path) -> None:
    before = repo.snapshot()
    result = run_cli(
        "create", tmp_path / "again", "--db", repo.database.url, "--namespace", repo.database.namespace
    )
    refused(result, repo.database.namespace, "already holds")
    assert repo.snapshot() == before


# --- finding 13: damaged repositories -------------------------------------------------------------


@only_sqlite
def test_sqlite_file_that_is_not_a_database(database: Any, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    assert run_cli("create", root).exit_code == 0
    db_file = root / "chamberlain.sqlite3"
    for side in ("-wal", "-shm"):
        Path(f"{db_file}{side}").unlink(missing_ok=True)
    db_file.write_bytes(b"this is not a SQLite database\n" * 200)
    for args in (("query-collections", root), ("sql", root, "SELECT 1")):
        result = run_cli(*args)
        refused(result, str(db_file), "database")
    assert db_file.read_bytes().startswith(b"this is not")


@pytest.mark.parametrize("attribute", ["universe", "schema_version"])
def test_missing_repository_attribute(repo: Repo, attribute: str) -> None:
    _repo_sql(repo, f"DELETE FROM repository_attribute WHERE name = '{attribute}'")
    before = repo.snapshot()
    result = run_cli("query-collections", repo.root)
    refused(result, repr(attribute), "repository_attribute")
    assert repo.snapshot() == before


def test_unreadable_universe_attribute(repo: Repo) -> None:
    _repo_sql(repo, "UPDATE repository_attribute SET value = '{not json' WHERE name = 'universe'")
    result = run_cli("query-collections", repo.root)
    refused(result, "'universe'", "cannot be read")


def test_changed_schema_version_attribute(repo: Repo) -> None:
    _repo_sql(repo, "UPDATE repository_attribute SET value = '0.9.7' WHERE name = 'schema_version'")
    before = repo.snapshot()
    result = run_cli("query-collections", repo.root)
    refused(result, "'0.9.7'", repr(SCHEMA_VERSION))
    assert repo.snapshot() == before
