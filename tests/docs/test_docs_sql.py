"""Every worked query in docs/sql.md runs on a populated repository, on both backends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _query_repo import populate

from chamberlain.errors import ReadOnlyError
from chamberlain.registry import Registry
from chamberlain.registry.queries.sql import run_sql

DOC = Path(__file__).parents[2] / "docs" / "sql.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)


def test_doc_has_worked_queries() -> None:
    assert len(QUERIES) >= 5


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
