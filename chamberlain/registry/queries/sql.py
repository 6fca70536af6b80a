"""Run an analyst's SQL statement on a read-only connection (``chamberlain sql REPO "SELECT ..."``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...errors import DatabaseError, ReadOnlyError
from .._database import Database

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = ["run_sql"]


def _target(url_or_registry: Any, namespace: str | None) -> tuple[str | sa.URL, str | None]:
    from ..registry import Registry

    if isinstance(url_or_registry, Registry):
        db = url_or_registry.db
        return db.url, db.namespace if namespace is None else namespace
    if isinstance(url_or_registry, str | os.PathLike) and Path(url_or_registry).is_dir():
        from ...repository import RepositoryConfig

        config = RepositoryConfig.load(url_or_registry)
        return config.url, config.namespace if namespace is None else namespace
    return str(url_or_registry), namespace


def run_sql(
    url_or_registry: str | os.PathLike[str] | Registry, statement: str, namespace: str | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one SQL statement read-only and return its column names and rows.

    Parameters
    ----------
    url_or_registry
        A database URL, a repository directory (``chamberlain.yaml`` inside),
        or an open `Registry` (a separate read-only connection is opened).
    statement
        The SQL text, run as written (no parameters).
    namespace
        PostgreSQL schema to search first (defaults to the repository's).

    Returns
    -------
    tuple
        (column names, rows as tuples). A statement returning no rows gives
        ``([], [])``.

    Raises
    ------
    ReadOnlyError
        If the statement tries to write (SQLite opened ``mode=ro``;
        PostgreSQL transaction ``READ ONLY``).
    DatabaseError
        If the database rejects the statement; the message names it.
    """
    url, ns = _target(url_or_registry, namespace)
    db = Database(url, namespace=ns, writeable=False)
    try:
        with db.transaction(write=False) as conn:
            if db.dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                result = conn.exec_driver_sql(statement)
            except sa.exc.DBAPIError as err:
                text = " ".join(str(err.orig).split())
                if "read-only" in text.lower() or "readonly" in text.lower():
                    raise ReadOnlyError(
                        f"SQL statement refused, the connection is read-only: {text}"
                    ) from None
                raise DatabaseError(f"SQL statement failed: {text}\n  {statement}") from None
            if not result.returns_rows:
                return [], []
            return list(result.keys()), [tuple(r) for r in result]
    finally:
        db.close()
