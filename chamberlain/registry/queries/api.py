"""The query entry points behind `Registry.query_data_ids`, `query_datasets` and
`query_dimension_records` (plain functions, so a Butler can wrap them too)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ...datasets import DatasetType
from ...dimensions import DimensionGroup
from ...errors import DimensionNameError, InvalidQueryError, format_choices
from ._query import Query, QuerySpec
from .results import DataCoordinateQueryResults, DatasetQueryResults, DimensionRecordQueryResults

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = ["query_data_ids", "query_datasets", "query_dimension_records"]


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _data_id(data_id: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data_id or {})
    values.update(kwargs)
    return values


def _order(order_by: str | Iterable[str] | None) -> tuple[str, ...]:
    return _names(order_by)


def query_data_ids(
    registry: Registry,
    dimensions: DimensionGroup | Iterable[str] | str,
    *,
    where: str = "",
    bind: Mapping[str, Any] | None = None,
    data_id: Mapping[str, Any] | None = None,
    datasets: str | Iterable[str] | None = None,
    collections: str | Iterable[str] | None = None,
    order_by: str | Iterable[str] | None = None,
    limit: int | None = None,
    **kwargs: Any,
) -> DataCoordinateQueryResults:
    """See `Registry.query_data_ids`."""
    try:
        group = registry.universe.conform([dimensions] if isinstance(dimensions, str) else dimensions)
    except (KeyError, DimensionNameError) as err:
        raise InvalidQueryError(str(err).strip("\"'")) from None
    spec = QuerySpec(
        group,
        where=where,
        bind=dict(bind or {}),
        data_id=_data_id(data_id, kwargs),
        datasets=tuple(d.name if isinstance(d, DatasetType) else d for d in _names(datasets)),
        collections=_names(collections),
    )
    return DataCoordinateQueryResults([Query(registry, spec)], order_by=_order(order_by), limit=limit)


def query_datasets(
    registry: Registry,
    dataset_type: str | DatasetType | Iterable[str | DatasetType],
    collections: str | Iterable[str],
    *,
    where: str = "",
    bind: Mapping[str, Any] | None = None,
    data_id: Mapping[str, Any] | None = None,
    find_first: bool = True,
    with_dimension_records: bool = False,
    order_by: str | Iterable[str] | None = None,
    limit: int | None = None,
    **kwargs: Any,
) -> DatasetQueryResults:
    """See `Registry.query_datasets`."""
    if isinstance(dataset_type, str | DatasetType):
        wanted: list[str | DatasetType] = [dataset_type]
    else:
        wanted = list(dataset_type)
    names: list[str] = []
    for item in wanted:
        name = item.name if isinstance(item, DatasetType) else item
        if any(c in name for c in "*?["):
            names += [
                dt.name
                for dt in registry.query_dataset_types("*")
                if fnmatch.fnmatchcase(dt.name, name) and dt.name not in names
            ]
        elif name not in names:
            names.append(name)
    queries = []
    for name in names:
        dt = registry.get_dataset_type(name)
        spec = QuerySpec(
            dt.dimensions,
            where=where,
            bind=dict(bind or {}),
            data_id=_data_id(data_id, kwargs),
            collections=_names(collections),
            result_dataset=name,
            find_first=find_first,
        )
        queries.append(Query(registry, spec))
    results = DatasetQueryResults(queries, order_by=_order(order_by), limit=limit)
    return results.with_dimension_records() if with_dimension_records else results


def query_dimension_records(
    registry: Registry,
    element: str,
    *,
    where: str = "",
    bind: Mapping[str, Any] | None = None,
    data_id: Mapping[str, Any] | None = None,
    datasets: str | Iterable[str] | None = None,
    collections: str | Iterable[str] | None = None,
    order_by: str | Iterable[str] | None = None,
    limit: int | None = None,
    **kwargs: Any,
) -> DimensionRecordQueryResults:
    """See `Registry.query_dimension_records`."""
    if element not in registry.universe:
        from .expressions import suggest

        names = registry.universe.element_names
        close = suggest(element, names)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise InvalidQueryError(
            f"unknown dimension element {element!r}{hint}; known: {format_choices(names, limit=len(names))}"
        )
    el = registry.universe[element]
    spec = QuerySpec(
        el.minimal_group,
        where=where,
        bind=dict(bind or {}),
        data_id=_data_id(data_id, kwargs),
        datasets=_names(datasets),
        collections=_names(collections),
        element=element,
    )
    return DimensionRecordQueryResults([Query(registry, spec)], order_by=_order(order_by), limit=limit)
