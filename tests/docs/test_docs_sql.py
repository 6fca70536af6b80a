"""Every worked query in docs/sql.md runs on a populated repository, on both backends."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from _query_repo import populate

from chamberlain.errors import ReadOnlyError
from chamberlain.registry import Registry
from chamberlain.registry.queries.sql import run_sql as run_sql_old_path
from chamberlain.registry.sql import reader_role_name, run_sql

DOC = Path(__file__).parents[2] / "docs" / "sql.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_has_worked_queries() -> None:
    assert len(QUERIES) >= 5
    assert run_sql_old_path is run_sql  # the old import path keeps working


def test_worked_queries_run(database) -> None:
    reg = Registry.create(database.url, namespace=database.namespace)
    try:
        populate(reg)
        for sql in QUERIES:
            columns, rows = run_sql(reg, sql)
            assert columns and rows, sql
        _, rows = run_sql(reg, QUERIES[0])
        assert [r[0] for r in rows] == [1, 3]
        assert rows[0][2].startswith("2024-03-0")
        _, rows = run_sql(reg, QUERIES[3])
        assert len(rows) == 24 and rows[0][3] == "run1/calexp/1_0.fits"
        assert run_sql(reg, QUERIES[3])[1] == [tuple(r) for r in run_sql(reg, QUERIES[4])[1]]
        with pytest.raises(ReadOnlyError):
            run_sql(reg, "DELETE FROM visit_definition")
    finally:
        reg.close()


def test_reader_role_names_follow_the_documented_rule() -> None:
    assert reader_role_name("postgresql://u@h:5432/survey", "survey_a") == "survey_a_reader"
    assert reader_role_name("postgresql://u@h:5432/My-Survey.2", None) == "chamberlain_reader_my_survey_2"
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    name_a, name_b = (
        reader_role_name("postgresql://h/db", long_a),
        reader_role_name("postgresql://h/db", long_b),
    )
    assert len(name_a.encode()) <= 63 and re.fullmatch(r"a+_[0-9a-f]{8}", name_a)
    assert name_a != name_b


def test_documented_clients_can_read_but_not_write(database) -> None:
    """The SQLite URI and the PostgreSQL role connection shown in docs/sql.md read, and cannot write."""
    reg = Registry.create(database.url, namespace=database.namespace)
    try:
        populate(reg)
    finally:
        reg.close()
    if database.backend == "sqlite":
        path = sa.make_url(database.url).database
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert con.execute("SELECT COUNT(*) FROM visit").fetchone()[0] > 0
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                con.execute("DELETE FROM visit_definition")
        finally:
            con.close()
        return
    role = reader_role_name(database.url, database.namespace)
    engine = sa.create_engine(sa.make_url(database.url).set(username=role), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'SET search_path TO "{database.namespace}"')
            assert conn.exec_driver_sql("SELECT id, physical_filter FROM visit LIMIT 5").all()
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.exec_driver_sql("DELETE FROM visit_definition")
    finally:
        engine.dispose()


def test_one_statement_and_no_transaction_control(database) -> None:
    reg = Registry.create(database.url, namespace=database.namespace)
    try:
        populate(reg)
        before = run_sql(reg, "SELECT COUNT(*) FROM visit_definition;")[1]
        for statement in ("COMMIT; DELETE FROM visit_definition", "SELECT 1; DELETE FROM visit_definition"):
            with pytest.raises(ReadOnlyError, match="refused"):
                run_sql(reg, statement)
        assert run_sql(reg, "SELECT COUNT(*) FROM visit_definition")[1] == before
    finally:
        reg.close()
