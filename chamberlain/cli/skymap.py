"""The ``register-skymap`` command: write a skymap's skymap, tract and patch records."""

from __future__ import annotations

import contextlib

import click

from chamberlain.skymap.config_file import load_skymap_config
from chamberlain.skymap.registration import register_skymap

from ._progress import progress_callback
from ._repo import open_registry, repo_argument

__all__ = ["register_skymap_command"]


@click.command("register-skymap")
@repo_argument
@click.argument("name")
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="YAML file describing the skymap: 'type: rings' or 'type: discrete' and its settings "
    "(see docs/cli.md).",
)
def register_skymap_command(repo: str, name: str, config_file: str) -> None:
    """Register the skymap described by --config under NAME (skymap, tract and patch records).

    Everything is written in one transaction, with the exact overlaps of the
    patches with the visits already present. Registering the same skymap
    under the same NAME again does nothing; a different skymap (another hash)
    under NAME is refused.
    """
    skymap = load_skymap_config(config_file)
    with contextlib.ExitStack() as stack:
        progress = progress_callback(stack, f"Registering {name}")
        registry = stack.enter_context(open_registry(repo))
        written = register_skymap(registry, name, skymap, progress=progress)
    if written:
        click.echo(
            f"Registered skymap {name!r} ({type(skymap).__name__}, {len(skymap)} tracts, "
            f"hash {skymap.hash_hex})."
        )
    else:
        click.echo(
            f"Skymap {name!r} is already registered with the same hash {skymap.hash_hex}; nothing to do."
        )
