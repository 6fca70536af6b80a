"""Creating, checking and upgrading a repository's schema through Alembic.

The revisions live in ``chamberlain/schema/migrations/versions``. A new
repository is created by upgrading an empty database to the head revision.
Opening a repository compares its recorded revision with the head: older means
``chamberlain migrate REPO`` is needed, unknown means the repository was
written by a newer Chamberlain.
"""

from __future__ import annotations

import functools
import importlib.resources

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..dimensions import DimensionUniverse
from ..errors import SchemaVersionError


def _config(connection: sa.Connection | None = None, universe: DimensionUniverse | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(importlib.resources.files("chamberlain.schema") / "migrations")
    )
    cfg.attributes["connection"] = connection
    cfg.attributes["universe"] = universe
    return cfg


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """Return the newest schema revision this version of Chamberlain knows.

    Returns
    -------
    revision : `str`
        The Alembic revision ID at the head of the migration scripts.
    """
    head = _script().get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """Return every revision from the baseline to the head, oldest first.

    Returns
    -------
    revisions : `list` [`str`]
        Alembic revision IDs.
    """
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def current_revision(connection: sa.Connection) -> str | None:
    """Return the revision recorded in the database (one SELECT), or None for an empty database.

    Parameters
    ----------
    connection : `sqlalchemy.Connection`
        An open connection to the repository database.

    Returns
    -------
    revision : `str` or None
        The Alembic revision ID stored in the database.
    """
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: sa.Connection, universe: DimensionUniverse, revision: str = "head") -> None:
    """Apply pending revisions on ``connection`` (inside its transaction).

    Runs the DDL of each migration script between the database's revision
    and ``revision``.

    Parameters
    ----------
    connection : `sqlalchemy.Connection`
        An open connection to the repository database, in a transaction.
    universe : `DimensionUniverse`
        The repository's dimension universe (the scripts build its tables).
    revision : `str`, optional
        The revision to upgrade to; the newest by default.
    """
    from alembic import command

    command.upgrade(_config(connection, universe), revision)


def check_revision(connection: sa.Connection, where: str) -> None:
    """Raise `SchemaVersionError` unless the database is at the head revision.

    Parameters
    ----------
    connection
        An open connection to the repository database.
    where
        The repository, as the user named it (for the message).
    """
    current = current_revision(connection)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaVersionError(
            f"{where} is not a Chamberlain repository (its database has no schema revision)."
        )
    if current in known_revisions():
        raise SchemaVersionError(
            f"Repository {where} has schema revision {current}, older than this Chamberlain's {head}; "
            f"run `chamberlain migrate {where}` to upgrade it."
        )
    raise SchemaVersionError(
        f"Repository {where} has schema revision {current}, which this Chamberlain does not know "
        f"(newest known: {head}); it was written by a newer Chamberlain: upgrade Chamberlain to open it."
    )
