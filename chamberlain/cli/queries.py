"""Query commands: ``query-datasets``, ``query-data-ids`` and ``query-dimension-records``.

Each is a thin wrapper over the `Butler` query methods (`Butler.query_datasets`,
`Butler.query_data_ids`, `Butler.query_dimension_records`); ``--limit`` means
what ``limit=`` means there (None for all; 0, negative or above 2**63 - 1 is an
error).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import click

from chamberlain.butler import Butler
from chamberlain.errors import InvalidQueryError
from chamberlain.registry.queries.results import QueryResults

from ._butler import (
    abbreviate,
    collections_option,
    expand_collections,
    explain,
    find_first_option,
    limit_option,
    note,
    open_butler,
    order_by_option,
    split_names,
    where_option,
)
from ._format import format_option, print_rows
from ._repo import repo_argument

__all__ = ["query_data_ids", "query_datasets", "query_dimension_records"]


def _report_empty_or_truncated(results: QueryResults[Any], n_rows: int, limit: int | None) -> None:
    """Notes on standard error: why nothing matched, or that --limit left rows out."""
    if n_rows == 0:
        note("no results" + explain(results.explain_no_results()))
    elif limit is not None and results.truncated:
        note(f"showing the first {limit} rows; more match (raise or drop --limit).")


def _stored_paths(butler: Butler, ids: Sequence[Any]) -> dict[Any, str]:
    """Absolute file path of each stored dataset (one query for all)."""
    root = str(butler.datastore.root)
    out: dict[Any, str] = {}
    for dataset_id, rows in butler.datastore.records.fetch_many(ids).items():
        paths = sorted(rows, key=lambda r: (r[1] is not None and r[1] != "", r[1] or ""))
        path = paths[0][2]
        out[dataset_id] = path if os.path.isabs(path) else os.path.join(root, path)
    return out


@click.command("query-datasets")
@repo_argument
@click.argument("dataset_types", nargs=-1, metavar="[DATASET_TYPE...]")
@collections_option(
    required=True,
    help_text="Collections to search, in order (repeatable or comma-separated; glob patterns "
    "expand to the matching names in sorted order).",
)
@where_option
@find_first_option(
    "Find-first (the default, like the Python API): for each data ID only the dataset in the "
    "first collection that has one. --no-find-first lists every match in every collection.",
)
@limit_option
@order_by_option
@format_option
def query_datasets(
    repo: str,
    dataset_types: tuple[str, ...],
    collections: tuple[str, ...],
    where: str,
    find_first: bool,
    limit: int | None,
    order_by: tuple[str, ...],
    output_format: str,
) -> None:
    """List datasets of the DATASET_TYPEs (glob patterns allowed; default all) in the collections.

    Columns: type, run, id, the data ID's dimensions, and path (the file,
    empty if the dataset is not stored).
    """
    with open_butler(repo) as butler:
        searched = expand_collections(butler, collections)
        results = butler.query_datasets(
            list(dataset_types) or "*",
            searched,
            where=where,
            find_first=find_first,
            order_by=split_names(order_by) or None,
            limit=limit,
        )
        refs = list(results)
        paths = _stored_paths(butler, [r.id for r in refs])
        dims: list[str] = []
        rows: list[dict[str, Any]] = []
        for ref in refs:
            row: dict[str, Any] = {"type": ref.dataset_type.name, "run": ref.run, "id": str(ref.id)}
            for key, value in ref.data_id.required.items():
                if key not in dims:
                    dims.append(key)
                row[key] = value
            row["path"] = paths.get(ref.id)
            rows.append(row)
        _report_empty_or_truncated(results, len(rows), limit)
    print_rows(rows, ["type", "run", "id", *dims, "path"], output_format)


@click.command("query-data-ids")
@repo_argument
@click.argument("dimensions", nargs=-1, required=True, metavar="DIMENSIONS...")
@where_option
@click.option(
    "--datasets",
    multiple=True,
    metavar="DATASET_TYPE[,...]",
    help="Only data IDs that have datasets of these types in --collections (repeatable or comma-separated).",
)
@collections_option(
    help_text="Collections searched for --datasets (repeatable or comma-separated; glob patterns "
    "allowed). Required with --datasets."
)
@limit_option
@order_by_option
@format_option
def query_data_ids(
    repo: str,
    dimensions: tuple[str, ...],
    where: str,
    datasets: tuple[str, ...],
    collections: tuple[str, ...],
    limit: int | None,
    order_by: tuple[str, ...],
    output_format: str,
) -> None:
    """List the data IDs of DIMENSIONS that satisfy the constraints.

    One column per dimension, including the dimensions the given ones imply
    (``visit`` brings ``physical_filter``, ``band``, ``day_obs``).
    """
    dataset_types = split_names(datasets)
    with open_butler(repo) as butler:
        searched = expand_collections(butler, collections) if collections else None
        if dataset_types and not searched:
            raise InvalidQueryError(
                f"--datasets {','.join(dataset_types)} needs --collections to say where to look for them."
            )
        if searched and not dataset_types:
            raise InvalidQueryError("--collections is only used with --datasets; give --datasets too.")
        results = butler.query_data_ids(
            split_names(dimensions),
            where=where,
            datasets=dataset_types or None,
            collections=searched,
            order_by=split_names(order_by) or None,
            limit=limit,
        )
        columns = list(butler.registry.universe.conform(split_names(dimensions)).names)
        rows = [dict(coord.items()) for coord in results]
        _report_empty_or_truncated(results, len(rows), limit)
    for row in rows:
        columns += [k for k in row if k not in columns]
    print_rows(rows, columns, output_format)


def _qualified(universe: Any, element: str, name: str) -> str:
    """``id`` -> ``exposure.id`` for a bare field of the element (``-`` prefix kept)."""
    sign, bare = ("-", name[1:]) if name.startswith("-") else ("", name)
    if "." not in bare and bare not in universe and bare in universe[element].field_names:
        return f"{sign}{element}.{bare}"
    return name


@click.command("query-dimension-records")
@repo_argument
@click.argument("element")
@where_option
@limit_option
@order_by_option
@format_option
def query_dimension_records(
    repo: str,
    element: str,
    where: str,
    limit: int | None,
    order_by: tuple[str, ...],
    output_format: str,
) -> None:
    """List the records of the dimension ELEMENT (e.g. exposure, visit, detector) that match.

    One column per record field; regions are abbreviated to their kind,
    vertex count and centre (RA, Dec in degrees). --order-by accepts the
    element's bare field names (id, obs_id) as well as dimensions.
    """
    with open_butler(repo) as butler:
        universe = butler.registry.universe
        if element in universe:
            order = [_qualified(universe, element, name) for name in split_names(order_by)]
        else:
            order = split_names(order_by)
        results = butler.query_dimension_records(element, where=where, order_by=order or None, limit=limit)
        fields = list(universe[element].field_names)
        rows: list[dict[str, Any]] = []
        for record in results:
            values = record.to_dict()
            for key in values:
                if key not in fields:
                    fields.append(key)
            rows.append({k: abbreviate(v) for k, v in values.items()})
        _report_empty_or_truncated(results, len(rows), limit)
    print_rows(rows, fields, output_format)
