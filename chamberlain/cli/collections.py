"""Collection commands: ``query-collections``, ``collection-chain`` and ``certify-calibrations``."""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa

from chamberlain.errors import (
    CollectionTypeError,
    ConfigError,
    DatasetNotFoundError,
    MissingCollectionError,
)
from chamberlain.geometry import Timespan
from chamberlain.registry import CollectionType, Registry

from ._format import format_option, print_rows
from ._repo import open_registry, parse_tai_date, repo_argument

__all__ = ["certify_calibrations", "collection_chain", "query_collections"]

_TYPE_NAMES = [t.name for t in CollectionType]


@click.command("query-collections")
@repo_argument
@click.argument("patterns", nargs=-1, metavar="[PATTERN...]")
@click.option(
    "--collection-type",
    "--type",
    "collection_types",
    multiple=True,
    type=click.Choice(_TYPE_NAMES, case_sensitive=False),
    help="Only collections of this type (repeatable; default all types).",
)
@click.option(
    "--flatten",
    is_flag=True,
    help="List the collections inside matching chains (recursively, in search order) instead of the chains.",
)
@format_option
def query_collections(
    repo: str,
    patterns: tuple[str, ...],
    collection_types: tuple[str, ...],
    flatten: bool,
    output_format: str,
) -> None:
    """List collections whose names match glob PATTERNs (default: all).

    Columns: name, type, and for CHAINED collections their children in
    search order.
    """
    with open_registry(repo, writeable=False) as registry:
        names = registry.query_collections(
            list(patterns) or "*", collection_types or None, flatten_chains=flatten
        )
        rows: list[dict[str, Any]] = []
        for name in names:
            kind = registry.get_collection_type(name)
            children = registry.get_collection_chain(name) if kind is CollectionType.CHAINED else []
            rows.append({"name": name, "type": kind.name, "children": children})
    print_rows(rows, ["name", "type", "children"], output_format)


def _flattened(registry: Registry, children: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for child in children:
        registry.get_collection_type(child)  # MissingCollectionError for unknown names
        for name in registry.query_collections(child, flatten_chains=True):
            if name not in out:
                out.append(name)
    return out


@click.command("collection-chain")
@repo_argument
@click.argument("parent")
@click.argument("children", nargs=-1, metavar="[CHILDREN...]")
@click.option(
    "--mode",
    type=click.Choice(["redefine", "extend", "prepend", "remove"], case_sensitive=False),
    default="redefine",
    show_default=True,
    help="redefine: the chain becomes CHILDREN; extend: append them; prepend: put them first; "
    "remove: take them out.",
)
@click.option(
    "--flatten",
    is_flag=True,
    help="Add the collections inside child chains rather than the chains themselves.",
)
@click.option("--doc", help="Documentation string for PARENT, used when the chain is created.")
def collection_chain(
    repo: str, parent: str, children: tuple[str, ...], mode: str, flatten: bool, doc: str | None
) -> None:
    """Create or modify the CHAINED collection PARENT and print its children.

    PARENT is created if it does not exist (except with --mode remove). The
    resulting children are printed one per line, in search order.
    """
    mode = mode.lower()
    with open_registry(repo) as registry:
        with registry.transaction():
            try:
                registry.get_collection_type(parent)
            except MissingCollectionError:
                if mode == "remove":
                    raise
                registry.register_collection(parent, CollectionType.CHAINED, doc)
            members = _flattened(registry, children) if flatten and mode != "remove" else list(children)
            if mode == "redefine":
                registry.set_collection_chain(parent, members)
            elif mode == "extend":
                registry.extend_collection_chain(parent, members)
            elif mode == "prepend":
                registry.prepend_collection_chain(parent, members)
            else:
                registry.remove_from_collection_chain(parent, members)
        result = registry.get_collection_chain(parent)
    for name in result:
        click.echo(name)


def _dataset_ids(registry: Registry, run: str, dataset_type: str) -> list[Any]:
    dataset = registry.tables["dataset"]
    collection = registry.tables["collection"]
    type_table = registry.tables["dataset_type"]
    stmt = (
        sa.select(dataset.c.id)
        .join(collection, collection.c.collection_id == dataset.c.run_id)
        .join(type_table, type_table.c.id == dataset.c.dataset_type_id)
        .where(collection.c.name == run, type_table.c.name == dataset_type)
    )
    return list(registry.db.execute(stmt).scalars())


@click.command("certify-calibrations")
@repo_argument
@click.argument("input_run")
@click.argument("output_collection")
@click.argument("dataset_type")
@click.option(
    "--begin-date",
    metavar="ISO_DATE",
    help="Start of the validity range (TAI, YYYY-MM-DD[THH:MM:SS]); default unbounded.",
)
@click.option(
    "--end-date",
    metavar="ISO_DATE",
    help="End of the validity range, exclusive (TAI, YYYY-MM-DD[THH:MM:SS]); default unbounded.",
)
def certify_calibrations(
    repo: str,
    input_run: str,
    output_collection: str,
    dataset_type: str,
    begin_date: str | None,
    end_date: str | None,
) -> None:
    """Certify every DATASET_TYPE dataset of INPUT_RUN into OUTPUT_COLLECTION.

    OUTPUT_COLLECTION is a CALIBRATION collection (created if it does not
    exist); the datasets become valid over [--begin-date, --end-date).
    """
    begin = parse_tai_date(begin_date, "--begin-date")
    end = parse_tai_date(end_date, "--end-date")
    if begin is not None and end is not None and begin >= end:
        raise ConfigError(f"--end-date {end_date!r} must be after --begin-date {begin_date!r}.")
    timespan = Timespan(begin, end)
    with open_registry(repo) as registry, registry.transaction():
        kind = registry.get_collection_type(input_run)
        if kind is not CollectionType.RUN:
            raise CollectionTypeError(f"Input collection {input_run!r} is {kind.name}, not a RUN.")
        registry.get_dataset_type(dataset_type)  # MissingDatasetTypeError names the valid ones
        refs = registry.get_datasets(_dataset_ids(registry, input_run, dataset_type))
        if not refs:
            raise DatasetNotFoundError(f"RUN {input_run!r} holds no datasets of type {dataset_type!r}.")
        registry.register_collection(output_collection, CollectionType.CALIBRATION)
        registry.certify(output_collection, refs, timespan)
    click.echo(
        f"Certified {len(refs)} {dataset_type!r} dataset(s) from {input_run!r} into "
        f"{output_collection!r} over {timespan}."
    )
