"""`chamberlain sql` is read-only by construction, on SQLite and on PostgreSQL (issue #11, finding 1).

Each hostile statement must be refused with one ``error:`` line naming it, and leave every table
and every file of the test directory as it was; statements that would create a file (COPY TO
PROGRAM, COPY TO a file, lo_export, ATTACH, VACUUM INTO) must not create it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _security import RAW_RUN, Repo, only_postgresql, refused, run_cli

from chamberlain.errors import ReadOnlyError
from chamberlain.registry.sql import reader_role_name, run_sql

#: Statements refused on both backends.
COMMON = [
    "DELETE FROM detector",
    "UPDATE detector SET purpose = 'EVIL'",
    "INSERT INTO collection (name, type) VALUES ('evil', 1)",
    "DROP TABLE detector",
    "DROP VIEW dataset_view",
    "ALTER TABLE detector ADD COLUMN evil INTEGER",
    "CREATE TABLE evil (a INTEGER)",
    "CREATE TEMP TABLE evil (a INTEGER)",
    "CREATE INDEX evil_idx ON detector (purpose)",
    "COMMIT; DELETE FROM detector",
    "ROLLBACK; DELETE FROM detector",
    "END; DELETE FROM detector",
    "COMMIT",
    "ROLLBACK",
    "END",
    "BEGIN",
    "SAVEPOINT evil",
    "SELECT 1; DELETE FROM detector",
    "SELECT 1; SELECT 2",
    "SELECT * FROM detector FOR UPDATE",
    "WITH d AS (DELETE FROM detector RETURNING *) SELECT * FROM d",
]

#: PostgreSQL: server files, programs, large objects, settings, roles, procedural blocks.
POSTGRESQL = [
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('/etc/passwd')",
    "SELECT pg_ls_dir('/')",
    "SELECT pg_stat_file('/etc/passwd')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT lo_create(0)",
    "SELECT lo_from_bytea(0, 'evil')",
    "SELECT nextval('collection_collection_id_seq')",
    "SET transaction_read_only = off",
    "SET transaction_read_only = off; DELETE FROM detector",
    "SET default_transaction_read_only = off",
    "SET work_mem = '1MB'",
    "RESET ALL",
    "SELECT set_config('work_mem', '1MB', false)",
    "SELECT set_config('search_path', 'public', true)",
    "SELECT set_config('transaction_read_only', 'off', false)",
    "SET ROLE postgres",
    "RESET ROLE",
    "SET SESSION AUTHORIZATION postgres",
    "RESET SESSION AUTHORIZATION",
    "DO $$ BEGIN DELETE FROM detector; END $$",
    "DO $$ BEGIN PERFORM set_config('work_mem', '1MB', false); END $$",
    "DO $$ BEGIN COMMIT; DELETE FROM detector; END $$",
    "COPY detector TO STDOUT",
    "COPY detector FROM STDIN",
    "PREPARE evil AS DELETE FROM detector",
    "LISTEN evil",
    "SELECT dblink_exec('dbname=test', 'DELETE FROM detector')",
    "CREATE EXTENSION dblink",
    "GRANT ALL ON detector TO PUBLIC",
    "SELECT * FROM public.pg_stat_statements",
    "VACUUM detector",
]

#: PostgreSQL statements that would create the file ``{target}`` (in /tmp, writable by the server).
POSTGRESQL_FILES = [
    "COPY (SELECT 1) TO PROGRAM 'touch {target}'",
    "COPY detector TO '{target}'",
    "SELECT lo_export(lo_import('/etc/hostname'), '{target}')",
    "SELECT lo_export(1, '{target}')",
]

#: SQLite: attaching or writing files, writing PRAGMAs.
SQLITE = [
    "PRAGMA query_only = OFF",
    "PRAGMA user_version = 7",
    "PRAGMA writable_schema = ON",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "DETACH DATABASE main",
    "REINDEX",
    "ANALYZE",
    "VACUUM",
    "SELECT load_extension('/tmp/evil')",
]

#: SQLite statements that would create the file ``{target}``.
SQLITE_FILES = [
    "ATTACH DATABASE '{target}' AS evil",
    "ATTACH '{target}' AS evil",
    "VACUUM INTO '{target}'",
    "SELECT 1 FROM (SELECT 1) AS x; ATTACH '{target}' AS evil",
]


def _statements(backend: str) -> list[str]:
    return COMMON + (POSTGRESQL if backend == "postgresql" else SQLITE)


def _file_statements(backend: str) -> list[str]:
    return POSTGRESQL_FILES if backend == "postgresql" else SQLITE_FILES


def _sql_json(repo: Repo, statement: str) -> list[dict[str, Any]]:
    result = run_cli("sql", repo.root, statement, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _raw_count(repo: Repo) -> int:
    rows = _sql_json(repo, f"SELECT COUNT(*) AS n FROM dataset_view WHERE run = '{RAW_RUN}'")
    return int(rows[0]["n"])


def test_select_and_views_still_work(repo: Repo) -> None:
    assert _raw_count(repo) == 4  # 2 exposures x 2 detectors
    rows = _sql_json(repo, "SELECT DISTINCT dataset_type FROM dataset_view ORDER BY dataset_type;")
    assert [r["dataset_type"] for r in rows] == ["raw"]
    # Tables made after `create` (the raw dataset type's tags table, with its view) are readable too.
    detectors = _sql_json(
        repo, "SELECT DISTINCT detector FROM datasets_instrument_detector_exposure ORDER BY 1"
    )
    assert [r["detector"] for r in detectors] == [0, 8]
    # '%' in a statement is SQL text, not a driver placeholder.
    rows = _sql_json(repo, "SELECT COUNT(*) AS n FROM collection WHERE name LIKE 'SimCam/raw/%'")
    assert int(rows[0]["n"]) >= 1


def _check_refused(repo: Repo, statement: str, *naming: str) -> None:
    before = repo.snapshot()
    result = run_cli("sql", repo.root, statement)
    line = refused(result, "SQL statement", *naming)
    assert "Traceback" not in result.stderr
    assert ("refused" in line) or ("failed" in line), line
    assert repo.snapshot() == before, f"{statement!r} changed the repository"


def test_hostile_statements_refused(repo: Repo) -> None:
    """One repository per backend, every statement tried on it in turn (each checked on its own)."""
    failures = []
    for statement in _statements(repo.database.backend):
        try:
            _check_refused(repo, statement, statement[:40])
        except AssertionError as err:
            failures.append(f"{statement!r}: {err}")
    assert not failures, "\n".join(failures)
    assert _raw_count(repo) == 4  # and a query still runs normally afterwards


def test_statements_creating_a_file_refused(repo: Repo) -> None:
    failures = []
    for template in _file_statements(repo.database.backend):
        if repo.database.backend == "postgresql":
            # The server writes as its own OS user: a name in /tmp is one it could create.
            target = Path("/tmp") / f"chamberlain_sql_{uuid.uuid4().hex}"
        else:
            target = repo.outside / "attached.db"
        statement = template.format(target=target)
        try:
            _check_refused(repo, statement, str(target)[:25])
            assert not target.exists(), f"{target} was created"
        except AssertionError as err:
            failures.append(f"{statement!r}: {err}")
        finally:
            if target.exists() and target.parent == Path("/tmp"):
                target.unlink()
    assert not failures, "\n".join(failures)


def test_multiple_statements_named_in_message(repo: Repo) -> None:
    before = repo.snapshot()
    result = run_cli("sql", repo.root, "SELECT 1; DELETE FROM detector")
    refused(result, "one statement", "DELETE FROM detector")
    assert repo.snapshot() == before


def test_huge_statement_not_echoed(repo: Repo) -> None:
    statement = "DELETE FROM detector WHERE purpose IN (" + ", ".join(f"'{i}'" for i in range(2000)) + ")"
    result = run_cli("sql", repo.root, statement)
    line = refused(result, "DELETE FROM detector")
    assert len(line) < 400


def test_run_sql_raises_read_only_error(repo: Repo) -> None:
    before = repo.snapshot()
    with pytest.raises(ReadOnlyError, match="refused"):
        run_sql(repo.root, "COMMIT; DELETE FROM detector")
    with pytest.raises(ReadOnlyError, match="refused"):
        run_sql(repo.root, "DELETE FROM detector")
    assert repo.snapshot() == before


# --- PostgreSQL: the reader role ----------------------------------------------------------------


def _role(repo: Repo) -> str:
    return reader_role_name(repo.database.url, repo.database.namespace)


def _admin(repo: Repo, *statements: str) -> None:
    engine = sa.create_engine(repo.database.url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture
def pg_repo(repo: Repo) -> Repo:
    """The `repo` of a test marked `only_postgresql`."""
    assert repo.database.backend == "postgresql"
    return repo


@only_postgresql
def test_reader_role_can_only_read(pg_repo: Repo) -> None:
    """Connected as the role itself (as an analyst's SQL client would), outside any read-only transaction."""
    role = _role(pg_repo)
    url = sa.make_url(pg_repo.database.url).set(username=role, password=None)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    before = pg_repo.snapshot()
    ns = pg_repo.database.namespace
    try:
        with engine.connect() as conn:
            flags = conn.execute(
                sa.text(
                    "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
                    "FROM pg_roles WHERE rolname = current_user"
                )
            ).one()
            assert not any(flags)
            member_of = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                    "WHERE r.rolname = current_user"
                )
            ).scalar_one()
            assert member_of == 0
            n = conn.execute(sa.text(f'SELECT count(*) FROM "{ns}".dataset_view')).scalar_one()
            assert n == 4
            conn.rollback()
            for statement in (
                f'DELETE FROM "{ns}".detector',
                f"INSERT INTO \"{ns}\".collection (name, type) VALUES ('evil', 1)",
                f'CREATE TABLE "{ns}".evil (a INTEGER)',
                "SELECT pg_read_file('/etc/passwd')",
                "SELECT pg_ls_dir('/')",
                "SELECT lo_import('/etc/passwd')",
                "COPY (SELECT 1) TO PROGRAM 'true'",
                "SET ROLE postgres",
                "SET SESSION AUTHORIZATION postgres",
            ):
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be superuser"):
                    conn.exec_driver_sql(statement)
                conn.rollback()
    finally:
        engine.dispose()
    assert pg_repo.snapshot() == before


@only_postgresql
def test_missing_role_refuses_and_create_role_restores(pg_repo: Repo) -> None:
    role = _role(pg_repo)
    _admin(pg_repo, f'DROP OWNED BY "{role}"', f'DROP ROLE "{role}"')
    before = pg_repo.snapshot()
    result = run_cli("sql", pg_repo.root, "SELECT 1")
    refused(result, role, "does not exist", "--create-role")
    assert pg_repo.snapshot() == before

    result = run_cli("sql", pg_repo.root, "--create-role")
    assert result.exit_code == 0, result.output
    assert role in result.stdout
    assert _raw_count(pg_repo) == 4
    result = run_cli("sql", pg_repo.root, "DELETE FROM detector")
    refused(result, "refused")
    assert pg_repo.snapshot() == before


@only_postgresql
def test_role_that_lends_privileges_is_refused(pg_repo: Repo) -> None:
    """If someone makes the reader a member of a privileged role, `sql` stops rather than run as it."""
    role = _role(pg_repo)
    _admin(pg_repo, f'GRANT pg_read_server_files TO "{role}"')
    try:
        before = pg_repo.snapshot()
        result = run_cli("sql", pg_repo.root, "SELECT pg_read_file('/etc/hostname')")
        refused(result, role, "not a plain read-only role")
        assert pg_repo.snapshot() == before
    finally:
        _admin(pg_repo, f'REVOKE pg_read_server_files FROM "{role}"')
    assert _raw_count(pg_repo) == 4


@only_postgresql
def test_namespace_is_the_only_schema_searched(pg_repo: Repo) -> None:
    rows = _sql_json(pg_repo, "SELECT current_schemas(false) AS schemas")
    assert rows[0]["schemas"] == [pg_repo.database.namespace]
    result = run_cli("sql", pg_repo.root, "SELECT * FROM public.alembic_version")
    refused(result, "public.alembic_version")


@only_postgresql
def test_create_without_createrole_then_sql_refuses(database: Any, tmp_path: Path) -> None:
    """A repository made by a user who may not create roles has no reader; `sql` will not run as that user."""
    owner = f"owner_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database.url, poolclass=sa.pool.NullPool)
    dbname = sa.make_url(database.url).database
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{owner}" LOGIN')
        conn.exec_driver_sql(f'GRANT CREATE ON DATABASE "{dbname}" TO "{owner}"')
    owner_url = sa.make_url(database.url).set(username=owner).render_as_string(hide_password=False)
    root = tmp_path / "repo"
    role = reader_role_name(owner_url, database.namespace)
    try:
        result = run_cli("create", root, "--db", owner_url, "--namespace", database.namespace)
        assert result.exit_code == 0, result.output
        result = run_cli("sql", root, "SELECT COUNT(*) FROM collection")
        refused(result, role, "does not exist", "--create-role")
        result = run_cli("sql", root, "--create-role")
        refused(result, role, "permission denied")
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{database.namespace}" CASCADE')
            conn.exec_driver_sql(f'REVOKE CREATE ON DATABASE "{dbname}" FROM "{owner}"')
            conn.exec_driver_sql(f'DROP OWNED BY "{owner}"')
            conn.exec_driver_sql(f'DROP ROLE "{owner}"')
        admin.dispose()
