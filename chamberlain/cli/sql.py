"""The ``sql`` command: run one read-only SQL statement on a repository's database."""

from __future__ import annotations

from typing import Any

import click

from chamberlain.errors import ConfigError
from chamberlain.registry.sql import create_reader_role, run_sql
from chamberlain.repository import RepositoryConfig

from ._format import format_option, print_rows
from ._repo import repo_argument

__all__ = ["sql"]


@click.command("sql")
@repo_argument
@click.argument("statement", required=False)
@format_option
@click.option(
    "--create-role",
    is_flag=True,
    help="Create (or re-grant) the repository's read-only PostgreSQL role instead of running a statement; "
    "needs a database user allowed to create roles.",
)
def sql(repo: str, statement: str | None, output_format: str, create_role: bool) -> None:
    """Run the SQL STATEMENT (e.g. "SELECT * FROM visit LIMIT 5") read-only and print its rows.

    Exactly one statement runs, in a read-only transaction that is rolled back:
    anything that would write, end the transaction, change a setting or attach
    a file is refused. On PostgreSQL it runs as the repository's read-only role
    (created by `chamberlain create`, or by `--create-role` for an older
    repository); SQLite files are opened read-only. Tables, views and the
    guarantees are described in docs/sql.md. A statement that returns no rows
    prints nothing; binary values (encoded regions) print as hex.
    """
    config = RepositoryConfig.load(repo)
    if create_role:
        if statement is not None:
            raise ConfigError("Give either a STATEMENT or --create-role, not both.")
        role = create_reader_role(config.url, config.namespace)
        click.echo(f"Read-only role {role} can read the repository {config.root}.")
        return
    if statement is None:
        raise ConfigError('Give the SQL STATEMENT to run, e.g. "SELECT * FROM visit LIMIT 5".')
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
