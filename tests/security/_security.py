"""Helpers of the security tests: running the CLI, one-line refusals, snapshots of a repository.

Every hostile-input test follows one pattern: take a `snapshot` of the repository (every
database table's rows and every file under a watched directory, with its content hash and,
for links, the link target), try the attack, check it was refused with one line, and
assert that a second snapshot equals the first.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from chamberlain.cli import cli

RAW_RUN = "SimCam/raw/all"


def run_cli(*args: Any, input: str | None = None) -> Result:
    """Run the ``chamberlain`` command in process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="chamberlain", input=input)


def refused(result: Result, *naming: str) -> str:
    """Assert a CLI call failed with exactly one ``error: ...`` line naming each of ``naming``."""
    assert result.exit_code != 0, f"accepted (exit 0): {result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    for needle in naming:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


def file_tree(top: Path) -> dict[str, tuple[str, str]]:
    """Every entry under ``top`` (not following links): relative path -> (kind, hash or target)."""
    out: dict[str, tuple[str, str]] = {}
    if not top.exists():
        return out
    for directory, dirs, files in os.walk(top, followlinks=False):
        for name in dirs + files:
            full = Path(directory, name)
            rel = str(full.relative_to(top))
            if full.is_symlink():
                out[rel] = ("link", os.readlink(full))
            elif full.is_dir():
                out[rel] = ("dir", "")
            elif full.is_file():
                if name.endswith(("-wal", "-shm", "-journal")):
                    continue  # SQLite's side files change on every open; the tables are compared instead
                if name == "chamberlain.sqlite3":
                    out[rel] = ("db", "")
                    continue
                out[rel] = ("file", hashlib.sha256(full.read_bytes()).hexdigest())
            else:
                out[rel] = ("other", "")
    return out


def table_rows(url: str, namespace: str | None) -> dict[str, list[str]]:
    """Every table's rows (as sorted reprs) in the repository's database or schema."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            out: dict[str, list[str]] = {}
            quote = conn.dialect.identifier_preparer.quote
            prefix = f"{quote(namespace)}." if namespace else ""
            for name in inspector.get_table_names(schema=namespace):
                # Plain SELECT * (no reflection per table: snapshots are taken around every attempt).
                rows = conn.exec_driver_sql(f"SELECT * FROM {prefix}{quote(name)}")
                out[name] = sorted(repr(tuple(row)) for row in rows)
            return out
    finally:
        engine.dispose()


@dataclass
class Repo:
    """A SimCam repository made for one test, with what is needed to snapshot it."""

    root: Path
    database: Any  # tests/conftest.py DatabaseSpec: backend, url, namespace
    raws: Path
    outside: Path

    @property
    def url(self) -> str:
        if self.database.backend == "sqlite":
            return f"sqlite:///{self.root / 'chamberlain.sqlite3'}"
        return self.database.url

    def snapshot(self) -> tuple[dict[str, list[str]], dict[str, tuple[str, str]]]:
        """Tables and files of the whole test directory (repository, raws and outside)."""
        return table_rows(self.url, self.database.namespace), file_tree(self.root.parent)


#: Run a test on one backend only (overrides the two-backend `database` fixture; no skipped copies).
only_postgresql = pytest.mark.parametrize("database", ["postgresql"], indirect=True)
only_sqlite = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
