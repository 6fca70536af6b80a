"""Repository commands: ``create``, ``migrate`` and ``demo``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import sqlalchemy as sa

from chamberlain.dimensions import DimensionUniverse
from chamberlain.errors import ConfigError, SchemaVersionError
from chamberlain.registry import Registry
from chamberlain.registry._database import Database
from chamberlain.repository import CONFIG_NAME, SQLITE_NAME, RepositoryConfig
from chamberlain.schema import versioning

from ._repo import repo_argument

__all__ = ["create", "demo", "migrate"]


def _describe(config: RepositoryConfig) -> str:
    if config.db is None:
        return f"SQLite database {SQLITE_NAME}"
    url = sa.make_url(config.db).render_as_string(hide_password=True)
    return f"database {url}" + (f", namespace {config.namespace}" if config.namespace else "")


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


@click.command()
@repo_argument
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="Database URL (postgresql://user@host:port/dbname) for a shared repository; "
    f"by default a SQLite file {SQLITE_NAME} inside REPO.",
)
@click.option("--namespace", metavar="NS", help="PostgreSQL schema to create the tables in (only with --db).")
def create(repo: str, db_url: str | None, namespace: str | None) -> None:
    """Create an empty repository in directory REPO.

    Writes REPO/chamberlain.yaml and creates the registry schema. REPO may
    exist but must not already be a repository.
    """
    root = Path(repo).absolute()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"Cannot create repository {repo!r}: it exists and is not a directory.")
    if (root / CONFIG_NAME).exists():
        raise ConfigError(
            f"Repository {repo!r} already exists (it has {CONFIG_NAME}); choose another directory."
        )
    if namespace is not None and db_url is None:
        raise ConfigError(f"--namespace {namespace!r} needs --db with a PostgreSQL URL.")
    sqlite_file = root / SQLITE_NAME
    if db_url is None and sqlite_file.exists():
        raise ConfigError(f"Cannot create repository {repo!r}: {sqlite_file} already exists.")
    config = RepositoryConfig(root, db_url, namespace)
    created_dir = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        Registry.create(config.url, namespace=namespace).close()
        config.save()
    except BaseException:
        if created_dir:
            shutil.rmtree(root, ignore_errors=True)
        elif db_url is None:
            _remove_sqlite(sqlite_file)
        raise
    click.echo(f"Created repository {root} ({_describe(config)}).")


def _stored_universe(connection: sa.Connection) -> DimensionUniverse:
    try:
        value = connection.execute(
            sa.text("SELECT value FROM repository_attribute WHERE name = 'universe'")
        ).scalar_one_or_none()
    except sa.exc.DBAPIError:
        value = None
    return DimensionUniverse.from_config(json.loads(value)) if value else DimensionUniverse.default()


@click.command()
@repo_argument
def migrate(repo: str) -> None:
    """Upgrade the database schema of REPO to this Chamberlain's revision.

    Prints the current and head revisions, then applies the pending Alembic
    revisions in one transaction; prints "already at head" if there are none.
    """
    config = RepositoryConfig.load(repo)
    head = versioning.head_revision()
    db = Database(config.url, namespace=config.namespace)
    try:
        with db.transaction() as conn:
            current = versioning.current_revision(conn)
            known = versioning.known_revisions()
            if current is None:
                raise SchemaVersionError(
                    f"Cannot migrate {repo!r}: its database has no schema revision (not a Chamberlain repository)."
                )
            if current not in known:
                raise SchemaVersionError(
                    f"Cannot migrate {repo!r}: its schema revision {current!r} is unknown to this Chamberlain "
                    f"(head {head!r}); it was written by a newer Chamberlain."
                )
            click.echo(f"Current revision: {current}; head revision: {head}.")
            if current == head:
                click.echo(f"Repository {repo} is already at head; nothing to do.")
                return
            pending = known[known.index(current) + 1 :]
            versioning.upgrade(conn, _stored_universe(conn))
            reached = versioning.current_revision(conn)
    finally:
        db.close()
    click.echo(f"Applied {len(pending)} revision(s) ({', '.join(pending)}); {repo} is now at {reached}.")


_DEMO_MARKERS = (CONFIG_NAME, SQLITE_NAME)


@click.command()
@click.argument("directory", required=False, default="demo-repo", type=click.Path(path_type=str))
@click.option(
    "--replace",
    is_flag=True,
    help="Delete DIRECTORY first if it is an existing repository (or empty).",
)
def demo(directory: str, replace: bool) -> None:
    """Build a small demo repository in DIRECTORY (default demo-repo) and show what it holds."""
    from chamberlain import demo as demo_module

    root = Path(directory)
    if root.exists():
        if not replace:
            raise ConfigError(f"{directory!r} already exists; choose another directory or pass --replace.")
        looks_like_repo = root.is_dir() and (
            any((root / m).exists() for m in _DEMO_MARKERS) or not any(root.iterdir())
        )
        if not looks_like_repo:
            raise ConfigError(
                f"Refusing to replace {directory!r}: it is not an empty directory or a Chamberlain repository."
            )
        shutil.rmtree(root)
    demo_module.run(root, echo=click.echo).close()
    if not (root / CONFIG_NAME).exists():
        RepositoryConfig(root.absolute()).save()
