"""The ``sql`` command: run one read-only SQL statement on a repository's database."""

from __future__ import annotations

from typing import Any

import click

from chamberlain.registry.queries.sql import run_sql
from chamberlain.repository import RepositoryConfig

from ._format import format_option, print_rows
from ._repo import repo_argument

__all__ = ["sql"]


@click.command("sql")
@repo_argument
@click.argument("statement")
@format_option
def sql(repo: str, statement: str, output_format: str) -> None:
    """Run the SQL STATEMENT (e.g. "SELECT * FROM visit LIMIT 5") read-only and print its rows.

    The connection cannot write: INSERT, UPDATE, DELETE and DDL are refused.
    Tables and views are described in docs/sql.md. A statement that returns
    no rows prints nothing; binary values (encoded regions) print as hex.
    """
    config = RepositoryConfig.load(repo)
    columns, rows = run_sql(config.url, statement, namespace=config.namespace)
    if not columns:
        return
    names = _unique(columns)
    print_rows([dict(zip(names, map(_cell, row))) for row in rows], names, output_format)


def _cell(value: Any) -> Any:
    """Binary values (encoded regions) as hexadecimal text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    return value


def _unique(columns: list[str]) -> list[str]:
    """Column names made unique (``id``, ``id_2``) so JSON objects keep every value."""
    out: list[str] = []
    for name in columns:
        candidate, n = name, 1
        while candidate in out:
            n += 1
            candidate = f"{name}_{n}"
        out.append(candidate)
    return out
