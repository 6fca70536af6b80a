"""Collection commands: ``query-collections``, ``collection-chain``, ``certify-calibrations``,
``decertify`` and ``remove-collections``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from chamberlain.errors import (
    CollectionTypeError,
    ConfigError,
    DatasetNotFoundError,
    MissingCollectionError,
    OrphanedRecordError,
    format_choices,
)
from chamberlain.geometry import Timespan
from chamberlain.registry import CollectionType, Registry

from ._butler import note, open_butler
from ._data_id import data_id_option, parse_data_id
from ._format import format_option, print_rows
from ._repo import open_registry, parse_tai_date, repo_argument

__all__ = [
    "certify_calibrations",
    "collection_chain",
    "decertify",
    "query_collections",
    "remove_collections",
]

F = TypeVar("F", bound=Callable[..., Any])

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


def _date_range_options(what: str) -> Callable[[F], F]:
    """Decorator adding ``--begin-date`` and ``--end-date`` (TAI ISO dates, parsed by `_validity`)."""

    def decorate(function: F) -> F:
        function = click.option(
            "--end-date",
            metavar="ISO_DATE",
            help=f"End of {what}, exclusive (TAI, YYYY-MM-DD[THH:MM:SS]); default unbounded.",
        )(function)
        return click.option(
            "--begin-date",
            metavar="ISO_DATE",
            help=f"Start of {what} (TAI, YYYY-MM-DD[THH:MM:SS]); default unbounded.",
        )(function)

    return decorate


@click.command("certify-calibrations")
@repo_argument
@click.argument("input_run")
@click.argument("output_collection")
@click.argument("dataset_type")
@_date_range_options("the validity range")
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
    timespan = _validity(begin_date, end_date)
    with open_registry(repo) as registry, registry.transaction():
        kind = registry.get_collection_type(input_run)
        if kind is not CollectionType.RUN:
            raise CollectionTypeError(f"Input collection {input_run!r} is {kind.name}, not a RUN.")
        registry.get_dataset_type(dataset_type)  # MissingDatasetTypeError names the valid ones
        refs = list(registry.query_datasets(dataset_type, [input_run], find_first=False))
        if not refs:
            raise DatasetNotFoundError(f"RUN {input_run!r} holds no datasets of type {dataset_type!r}.")
        registry.register_collection(output_collection, CollectionType.CALIBRATION)
        registry.certify(output_collection, refs, timespan)
    click.echo(
        f"Certified {len(refs)} {dataset_type!r} dataset(s) from {input_run!r} into "
        f"{output_collection!r} over {timespan}."
    )


def _validity(begin_date: str | None, end_date: str | None) -> Timespan:
    begin = parse_tai_date(begin_date, "--begin-date")
    end = parse_tai_date(end_date, "--end-date")
    if begin is not None and end is not None and begin >= end:
        raise ConfigError(f"--end-date {end_date!r} must be after --begin-date {begin_date!r}.")
    return Timespan(begin, end)


@click.command("decertify")
@repo_argument
@click.argument("collection")
@click.argument("dataset_type")
@_date_range_options("the range to remove")
@data_id_option(
    "Only the validity ranges of this data ID (repeatable KEY=VALUE, e.g. --data-id instrument=SimCam "
    "--data-id detector=4; every dimension of DATASET_TYPE needs a value). Default: every data ID."
)
def decertify(
    repo: str,
    collection: str,
    dataset_type: str,
    begin_date: str | None,
    end_date: str | None,
    data_id: tuple[str, ...],
) -> None:
    """Remove [--begin-date, --end-date) from the validity ranges of DATASET_TYPE in COLLECTION.

    COLLECTION is a CALIBRATION collection. Ranges inside the removed time
    disappear, ranges that overlap it shrink, and a range that contains it is
    split in two; the datasets stay in their RUNs. With neither date every
    range (of the --data-id, if given) is removed.
    """
    timespan = _validity(begin_date, end_date)
    values = parse_data_id(data_id)
    with open_butler(repo, writeable=True) as butler:
        butler.decertify(collection, dataset_type, timespan, data_ids=[values] if values else None)
    which = f" for data ID {values}" if values else ""
    click.echo(f"Decertified {dataset_type!r} in {collection!r} over {timespan}{which}.")


def _matching_non_runs(registry: Registry, patterns: tuple[str, ...]) -> list[str]:
    kinds = [CollectionType.TAGGED, CollectionType.CALIBRATION, CollectionType.CHAINED]
    out: list[str] = []
    for pattern in patterns:
        matched = registry.query_collections(pattern, kinds)
        if not matched:
            runs = registry.query_collections(pattern, [CollectionType.RUN])
            if runs:
                raise CollectionTypeError(
                    f"Collection {runs[0]!r} (matched by {pattern!r}) is a RUN; remove RUN collections "
                    "with remove-runs, which also deletes their datasets and files."
                )
            raise MissingCollectionError(
                f"No TAGGED, CALIBRATION or CHAINED collection matches {pattern!r}; such collections: "
                f"{format_choices(registry.query_collections('*', kinds))}."
            )
        out += [m for m in matched if m not in out]
        runs = registry.query_collections(pattern, [CollectionType.RUN])
        if runs:
            note(
                f"{pattern!r} also matches RUN collection(s) {format_choices(runs, limit=5)}, which stay (remove-runs)."
            )
    return out


@click.command("remove-collections")
@repo_argument
@click.argument("patterns", nargs=-1, required=True, metavar="PATTERN...")
@click.option(
    "--unlink-from-chains",
    "--remove-from-parents",
    "unlink_from_chains",
    is_flag=True,
    help="Also take the collections out of the CHAINED collections that contain them (otherwise such "
    "a collection is refused). --remove-from-parents is the Rubin butler's name.",
)
@click.option("--no-confirm", is_flag=True, help="Remove without asking for confirmation (for scripts).")
def remove_collections(
    repo: str, patterns: tuple[str, ...], unlink_from_chains: bool, no_confirm: bool
) -> None:
    """Remove the TAGGED, CALIBRATION and CHAINED collections matching the glob PATTERNs.

    The datasets stay in their RUNs: only memberships, validity ranges and
    chain links go. RUN collections are refused (use remove-runs). Lists the
    collections (with the chains that contain them) and asks for
    confirmation before removing anything.
    """
    with open_butler(repo, writeable=True) as butler:
        registry = butler.registry
        names = _matching_non_runs(registry, patterns)
        rows: list[dict[str, Any]] = [
            {
                "collection": name,
                "type": registry.get_collection_type(name).name,
                "chains": registry.get_collection_parent_chains(name),
            }
            for name in names
        ]
        if not unlink_from_chains:
            for row in rows:
                outside = [c for c in row["chains"] if c not in names]
                if outside:
                    raise OrphanedRecordError(
                        f"Collection {row['collection']!r} is in the chain(s) {', '.join(map(repr, outside))}; "
                        "pass --unlink-from-chains to remove it from them too."
                    )
        click.echo("These collections will be removed:")
        print_rows(rows, ["collection", "type", "chains"], "table")
        if not no_confirm and not click.confirm(f"Remove {len(names)} collection(s)?", default=False):
            click.echo("Aborted; nothing was removed.")
            return
        butler.remove_collections(names, unlink_from_chains=unlink_from_chains)
    click.echo(f"Removed {len(names)} collection(s).")
