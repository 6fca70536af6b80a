"""TAGGED collection commands: ``associate`` and ``disassociate``.

Thin glue over `Butler.query_datasets` (which datasets) and
`Butler.associate` / `Butler.disassociate` (one transaction each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetRef
from chamberlain.errors import DatasetNotFoundError, MissingDatasetTypeError, format_choices
from chamberlain.registry import CollectionType

from ._butler import collections_option, explain, find_first_option, open_butler, split_names, where_option
from ._repo import repo_argument

__all__ = ["associate", "disassociate"]

F = TypeVar("F", bound=Callable[..., Any])


def _dataset_query_options(function: F) -> F:
    """The options that select datasets: --collections, --datasets, --where, --find-first."""
    function = find_first_option(
        "For each data ID only the dataset in the first of --collections that has one (the "
        "default); --no-find-first takes every match.",
    )(function)
    function = where_option(function)
    function = click.option(
        "--datasets",
        "--dataset-type",
        "dataset_types",
        multiple=True,
        metavar="DATASET_TYPE[,...]",
        help="Dataset types (names or glob patterns; repeatable or comma-separated; default all).",
    )(function)
    return collections_option(
        required=True,
        help_text="Collections to search for the datasets, in order (repeatable or comma-separated; "
        "glob patterns expand to the matching names in sorted order).",
    )(function)


def _selected(
    butler: Butler,
    collections: tuple[str, ...],
    dataset_types: tuple[str, ...],
    where: str,
    find_first: bool,
) -> list[DatasetRef]:
    """The datasets the options select; none is an error naming why."""
    searched = split_names(collections)
    types: list[str] | str = split_names(dataset_types) or "*"
    for pattern in split_names(dataset_types):
        if set(pattern) & set("*?[") and not butler.registry.query_dataset_types(pattern):
            raise MissingDatasetTypeError(
                f"Dataset type pattern {pattern!r} matches no registered dataset type; registered: "
                f"{format_choices(t.name for t in butler.registry.query_dataset_types('*'))}."
            )
    results = butler.query_datasets(types, searched, where=where, find_first=find_first)
    refs = list(results)
    if not refs:
        raise DatasetNotFoundError(
            f"No datasets of type(s) {types!r} in collections {searched}"
            f"{f' match {where!r}' if where else ''}; nothing was changed"
            + explain(results.explain_no_results())
        )
    return refs


def _held(butler: Butler, collection: str, refs: list[DatasetRef]) -> int:
    """How many of ``refs`` the TAGGED ``collection`` holds (one query per dataset type)."""
    if not butler.registry.query_collections(collection, [CollectionType.TAGGED]):
        return 0  # missing, or not TAGGED (refused by the call that follows)
    types = sorted({r.dataset_type.name for r in refs})
    held = {r.id for r in butler.query_datasets(types, [collection], find_first=False)}
    return sum(r.id in held for r in refs)


@click.command("associate")
@repo_argument
@click.argument("collection")
@_dataset_query_options
def associate(
    repo: str,
    collection: str,
    collections: tuple[str, ...],
    dataset_types: tuple[str, ...],
    where: str,
    find_first: bool,
) -> None:
    """Add the selected datasets to the TAGGED collection COLLECTION.

    COLLECTION is created (as TAGGED) if it does not exist. The datasets are
    those `query-datasets` would list for the same --collections,
    --datasets and --where; datasets already in COLLECTION are left as they
    are. Nothing is changed if no dataset matches.
    """
    with open_butler(repo, writeable=True) as butler:
        refs = _selected(butler, collections, dataset_types, where, find_first)
        already = _held(butler, collection, refs)
        butler.associate(collection, refs)
    kept = f" ({already} already in it)" if already else ""
    click.echo(f"Associated {len(refs)} dataset(s) with {collection!r}{kept}.")


@click.command("disassociate")
@repo_argument
@click.argument("collection")
@_dataset_query_options
def disassociate(
    repo: str,
    collection: str,
    collections: tuple[str, ...],
    dataset_types: tuple[str, ...],
    where: str,
    find_first: bool,
) -> None:
    """Remove the selected datasets from the TAGGED collection COLLECTION.

    The datasets are selected as for `associate` (search COLLECTION itself
    with --collections COLLECTION to remove what it holds); they stay in
    their RUNs. Selected datasets that are not in COLLECTION are ignored.
    """
    with open_butler(repo, writeable=True) as butler:
        butler.registry.get_collection_type(collection)  # MissingCollectionError before the query
        refs = _selected(butler, collections, dataset_types, where, find_first)
        held = _held(butler, collection, refs)
        butler.disassociate(collection, refs)
    click.echo(
        f"Disassociated {held} dataset(s) from {collection!r} ({len(refs) - held} selected one(s) were not in it)."
    )
