"""The ``config-dump`` command: a repository's configuration as YAML (`Butler.dump_config`)."""

from __future__ import annotations

import os
from pathlib import Path

import click
import yaml

from chamberlain.errors import ConfigError
from chamberlain.repository import check_outside_repository

from ._butler import open_butler
from ._repo import repo_argument

__all__ = ["config_dump"]


@click.command("config-dump")
@repo_argument
@click.option(
    "--file",
    "out_file",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Write the YAML to this file (outside the repository) instead of standard output.",
)
def config_dump(repo: str, out_file: str | None) -> None:
    """Print the configuration of REPO as YAML, with the effective defaults.

    Shows chamberlain.yaml (database URL with any password hidden,
    namespace), datastore.yaml (file templates, formatters, checksum) merged
    with the defaults that apply when a key is not set. Read-only: the
    repository is not changed.
    """
    with open_butler(repo) as butler:
        text = yaml.safe_dump(butler.dump_config(), sort_keys=False)
        root = butler.config.root
    if out_file is None:
        click.echo(text, nl=False)
        return
    target = Path(out_file).absolute()
    if not target.parent.is_dir():
        raise ConfigError(f"Cannot write {out_file!r}: its directory {str(target.parent)!r} does not exist.")
    check_outside_repository(target, root, "config-dump")
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, target)
    except OSError as err:
        raise ConfigError(f"Cannot write {out_file!r}: {err.strerror}.") from None
    finally:
        tmp.unlink(missing_ok=True)
    click.echo(f"Wrote the configuration of {repo} to {out_file}.")
