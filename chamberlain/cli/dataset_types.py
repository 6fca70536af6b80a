"""Dataset type commands: ``query-dataset-types`` and ``register-dataset-type``."""

from __future__ import annotations

import click

from chamberlain.datasets import DatasetType

from ._format import format_option, print_rows
from ._repo import open_registry, repo_argument

__all__ = ["query_dataset_types", "register_dataset_type"]


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

    Registering an identical definition again is not an error; a different
    definition under the same name is.
    """
    with open_registry(repo) as registry:
        dataset_type = DatasetType(
            name, dimensions, storage_class, registry.universe, is_calibration=is_calibration
        )
        new = registry.register_dataset_type(dataset_type)
    dims = " ".join(dataset_type.dimensions.required) or "(no dimensions)"
    if new:
        click.echo(f"Registered dataset type {name!r}: {storage_class}, dimensions {dims}.")
    else:
        click.echo(f"Dataset type {name!r} is already registered with the same definition.")
