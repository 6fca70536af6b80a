"""Repository commands: ``create``, ``migrate`` and ``demo``."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from chamberlain.errors import ConfigError
from chamberlain.registry import Registry, redact_url
from chamberlain.registry import migrate as migrate_database
from chamberlain.repository import (
    PREEXISTING_NAME,
    SQLITE_NAME,
    RepositoryConfig,
    check_new_root,
    write_preexisting,
)

from ._repo import repo_argument

__all__ = ["create", "demo", "migrate"]


def _describe(config: RepositoryConfig) -> str:
    if config.db is None:
        return f"SQLite database {SQLITE_NAME}"
    url = redact_url(config.db)
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
@click.option(
    "--allow-existing-files",
    is_flag=True,
    help=f"Accept a REPO that already holds files; they are listed in {PREEXISTING_NAME} as not owned "
    "by the repository, and `verify --fix` never deletes them.",
)
def create(repo: str, db_url: str | None, namespace: str | None, allow_existing_files: bool) -> None:
    """Create an empty repository in directory REPO.

    Writes REPO/chamberlain.yaml and creates the registry schema. REPO must be
    missing or empty (unless --allow-existing-files) and must not be inside
    another repository.
    """
    if namespace is not None and db_url is None:
        raise ConfigError(f"--namespace {namespace!r} needs --db with a PostgreSQL URL.")
    existing = check_new_root(repo, allow_existing_files=allow_existing_files)
    root = Path(repo).absolute()
    config = RepositoryConfig(root, db_url, namespace)
    created = root
    while not created.parent.exists():
        created = created.parent
    created_dir = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        write_preexisting(root, existing)
        Registry.create(config.url, namespace=namespace).close()
        config.save()
    except BaseException:
        if created_dir:
            shutil.rmtree(created, ignore_errors=True)
        else:
            (root / PREEXISTING_NAME).unlink(missing_ok=True)
            if db_url is None:
                _remove_sqlite(root / SQLITE_NAME)
        raise
    kept = f"; {len(existing)} existing file(s) listed as not owned in {PREEXISTING_NAME}" if existing else ""
    click.echo(f"Created repository {root} ({_describe(config)}{kept}).")


@click.command()
@repo_argument
def migrate(repo: str) -> None:
    """Upgrade the database schema of REPO to this Chamberlain's revision.

    Prints the current and head revisions, then applies the pending Alembic
    revisions in one transaction; prints "already at head" if there are none.
    """
    config = RepositoryConfig.load(repo)
    result = migrate_database(config.url, namespace=config.namespace, label=repo)
    click.echo(f"Current revision: {result.current}; head revision: {result.head}.")
    if not result.applied:
        click.echo(f"Repository {repo} is already at head; nothing to do.")
        return
    click.echo(
        f"Applied {len(result.applied)} revision(s) ({', '.join(result.applied)}); {repo} is now at {result.reached}."
    )


@click.command()
@click.argument("directory", required=False, default="demo-repo", type=click.Path(path_type=str))
@click.option(
    "--replace",
    is_flag=True,
    help="Delete DIRECTORY first if an earlier demo made it (or it is empty); anything else is refused.",
)
def demo(directory: str, replace: bool) -> None:
    """Build a small demo repository in DIRECTORY (default demo-repo) and show what it holds.

    The raw files are simulated in a temporary directory, removed afterwards;
    the repository is marked as the demo's (.chamberlain-demo) so that
    --replace deletes only a directory the demo made.
    """
    from chamberlain import demo as demo_module

    demo_module.prepare_root(directory, replace=replace)
    demo_module.run(Path(directory), echo=click.echo).close()
