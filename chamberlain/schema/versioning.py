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
    """The newest schema revision this version of Chamberlain knows."""
    head = _script().get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """Every revision from the baseline to the head, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def current_revision(connection: sa.Connection) -> str | None:
    """The revision recorded in the database, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: sa.Connection, universe: DimensionUniverse, revision: str = "head") -> None:
    """Apply pending revisions on ``connection`` (inside its transaction)."""
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
