"""Upgrading a repository's database schema to this Chamberlain's Alembic head: `migrate`."""

from __future__ import annotations

import dataclasses
import json

import sqlalchemy as sa

from ..dimensions import DimensionUniverse
from ..errors import SchemaVersionError
from ..schema import versioning
from ._database import Database

__all__ = ["MigrationResult", "migrate", "redact_url"]


@dataclasses.dataclass(frozen=True)
class MigrationResult:
    """What `migrate` found and did.

    Attributes
    ----------
    current
        The schema revision the database had.
    head
        This Chamberlain's head revision.
    applied
        The revisions applied, oldest first (empty if already at head).
    reached
        The revision the database has now.
    """

    current: str
    head: str
    applied: tuple[str, ...]
    reached: str


def migrate(url: str, *, namespace: str | None = None, label: str | None = None) -> MigrationResult:
    """Upgrade a repository database to this Chamberlain's schema revision (one transaction).

    Parameters
    ----------
    url
        ``sqlite:///PATH`` or a PostgreSQL URL of the repository database.
    namespace
        PostgreSQL schema holding the repository (None: ``public``).
    label
        How error messages name the repository (default: the URL without
        its password).

    Returns
    -------
    MigrationResult
        The revision found, the head, the revisions applied and the one reached.

    Raises
    ------
    SchemaVersionError
        If the database has no schema revision (not a repository), or one
        this Chamberlain does not know (written by a newer one). Nothing is
        changed then.
    """
    name = label if label is not None else redact_url(url)
    head = versioning.head_revision()
    db = Database(url, namespace=namespace)
    try:
        with db.transaction() as conn:
            current = versioning.current_revision(conn)
            known = versioning.known_revisions()
            if current is None:
                raise SchemaVersionError(
                    f"Cannot migrate {name!r}: its database has no schema revision (not a Chamberlain repository)."
                )
            if current not in known:
                raise SchemaVersionError(
                    f"Cannot migrate {name!r}: its schema revision {current!r} is unknown to this Chamberlain "
                    f"(head {head!r}); it was written by a newer Chamberlain."
                )
            if current == head:
                return MigrationResult(current, head, (), current)
            pending = tuple(known[known.index(current) + 1 :])
            versioning.upgrade(conn, _stored_universe(conn))
            reached = versioning.current_revision(conn)
    finally:
        db.close()
    assert reached is not None
    return MigrationResult(current, head, pending, reached)


def redact_url(url: str) -> str:
    """Return a database URL as it may be shown: its password hidden.

    Parameters
    ----------
    url
        A SQLAlchemy database URL.

    Returns
    -------
    str
        The URL with ``***`` in place of any password.
    """
    return sa.make_url(url).render_as_string(hide_password=True)


def _stored_universe(connection: sa.Connection) -> DimensionUniverse:
    try:
        value = connection.execute(
            sa.text("SELECT value FROM repository_attribute WHERE name = 'universe'")
        ).scalar_one_or_none()
    except sa.exc.DBAPIError:
        value = None
    return DimensionUniverse.from_config(json.loads(value)) if value else DimensionUniverse.default()
