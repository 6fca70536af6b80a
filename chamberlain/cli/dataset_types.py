"""Dataset type commands: ``query-dataset-types``, ``register-dataset-type`` and ``remove-dataset-type``."""

from __future__ import annotations

import click

from ._butler import open_butler
from ._format import format_option, print_rows
from ._repo import open_registry, repo_argument

__all__ = ["query_dataset_types", "register_dataset_type", "remove_dataset_type"]


@click.command("query-dataset-types")
@repo_argument
@click.argument("patterns", nargs=-1, metavar="[PATTERN...]")
@format_option
def query_dataset_types(repo: str, patterns: tuple[str, ...], output_format: str) -> None:
    """List registered dataset types whose names match glob PATTERNs (default: all).

    Columns: name, dimensions (the required ones), storage_class, is_calibration.
    """
    with open_registry(repo, writeable=False) as registry:
        types = registry.query_dataset_types(list(patterns) or "*")
    rows = [
        {
            "name": t.name,
            "dimensions": list(t.dimensions.required),
            "storage_class": t.storage_class,
            "is_calibration": t.is_calibration,
        }
        for t in types
    ]
    print_rows(rows, ["name", "dimensions", "storage_class", "is_calibration"], output_format)


@click.command("register-dataset-type")
@repo_argument
@click.argument("name")
@click.argument("storage_class")
@click.argument("dimensions", nargs=-1, metavar="[DIMENSIONS...]")
@click.option(
    "--is-calibration/--no-is-calibration",
    default=False,
    show_default=True,
    help="Whether datasets of this type can be certified into CALIBRATION collections.",
)
def register_dataset_type(
    repo: str, name: str, storage_class: str, dimensions: tuple[str, ...], is_calibration: bool
) -> None:
    """Register the dataset type NAME with a storage class and dimensions.

    STORAGE_CLASS must be one this Chamberlain can read and write (an
    unknown name is refused with the list of known ones). Registering an
    identical definition again is not an error; a different definition
    under the same name is.
    """
    with open_butler(repo, writeable=True) as butler:
        new = butler.register_dataset_type(name, dimensions, storage_class, is_calibration=is_calibration)
        dims = " ".join(butler.registry.get_dataset_type(name).dimensions.required) or "(no dimensions)"
    if new:
        click.echo(f"Registered dataset type {name!r}: {storage_class}, dimensions {dims}.")
    else:
        click.echo(f"Dataset type {name!r} is already registered with the same definition.")


@click.command("remove-dataset-type")
@repo_argument
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
def remove_dataset_type(repo: str, names: tuple[str, ...]) -> None:
    """Remove the dataset types NAMEs, which must have no datasets.

    NAMEs are exact names (no glob patterns, so nothing is removed by
    accident). A type that still has datasets is refused with their number;
    remove them first (prune-datasets, remove-runs). All or nothing: if one
    NAME is refused, none is removed.
    """
    unique = list(dict.fromkeys(names))
    with open_butler(repo, writeable=True) as butler:
        butler.remove_dataset_types(unique)
    click.echo(f"Removed {len(unique)} dataset type(s): {', '.join(unique)}.")
