"""The query entry points behind `Registry.query_data_ids`, `query_datasets` and
`query_dimension_records` (plain functions, so a Butler can wrap them too), and
`QueryOptions`, the options the three share (declared and documented once here).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from ...datasets import DatasetType
from ...dimensions import DimensionGroup
from ...errors import DimensionNameError, InvalidQueryError, format_choices
from ._query import Query, QuerySpec
from .results import DataCoordinateQueryResults, DatasetQueryResults, DimensionRecordQueryResults

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = ["QueryOptions", "query_data_ids", "query_datasets", "query_dimension_records"]


class QueryOptions(TypedDict, total=False):
    """Keyword options shared by every ``query_*`` method of `Registry` and `Butler`.

    Any other keyword argument is a data ID value (``instrument="SimCam"``),
    merged over ``data_id``; type checkers only know the keys below, so typed
    code passes dimension values in ``data_id``.

    Attributes
    ----------
    where : str
        A ``where`` expression (see ``docs/queries.md``):
        ``"visit.day_obs = 20240301 AND band = 'r'"``. Region terms
        (``visit.region OVERLAPS CIRCLE(ra, dec, radius_deg)``) work under AND,
        OR and NOT. Default ``""`` (no constraint).
    bind : Mapping[str, Any] or None
        Values for ``:name`` placeholders in ``where``.
    data_id : Mapping[str, Any] or None
        Dimension values the rows must have.
    order_by : str, Iterable[str] or None
        Names to sort by; ``-name`` sorts descending.
    limit : int or None
        None (all rows) or an integer from 1 to 2**63 - 1; see
        `QueryResults.truncated`.
    """

    where: str
    bind: Mapping[str, Any] | None
    data_id: Mapping[str, Any] | None
    order_by: str | Iterable[str] | None
    limit: int | None


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _split(
    options: Mapping[str, Any],
) -> tuple[str, dict[str, Any], dict[str, Any], tuple[str, ...], int | None]:
    """``(where, bind, data ID values, order_by, limit)`` of `QueryOptions` (other keys are data ID values)."""
    values = dict(options)
    where = values.pop("where", "")
    bind = dict(values.pop("bind", None) or {})
    order_by = _names(values.pop("order_by", None))
    limit = values.pop("limit", None)
    data_id = dict(values.pop("data_id", None) or {})
    data_id.update(values)
    return where, bind, data_id, order_by, limit


def query_data_ids(
    registry: Registry,
    dimensions: DimensionGroup | Iterable[str] | str,
    *,
    datasets: str | Iterable[str] | None = None,
    collections: str | Iterable[str] | None = None,
    **options: Unpack[QueryOptions],
) -> DataCoordinateQueryResults:
    """See `Registry.query_data_ids`."""
    where, bind, data_id, order_by, limit = _split(options)
    try:
        group = registry.universe.conform([dimensions] if isinstance(dimensions, str) else dimensions)
    except (KeyError, DimensionNameError) as err:
        raise InvalidQueryError(str(err).strip("\"'")) from None
    spec = QuerySpec(
        group,
        where=where,
        bind=bind,
        data_id=data_id,
        datasets=tuple(d.name if isinstance(d, DatasetType) else d for d in _names(datasets)),
        collections=_names(collections),
    )
    return DataCoordinateQueryResults([Query(registry, spec)], order_by=order_by, limit=limit)


def query_datasets(
    registry: Registry,
    dataset_type: str | DatasetType | Iterable[str | DatasetType],
    collections: str | Iterable[str],
    *,
    find_first: bool = True,
    with_dimension_records: bool = False,
    **options: Unpack[QueryOptions],
) -> DatasetQueryResults:
    """See `Registry.query_datasets`."""
    where, bind, data_id, order_by, limit = _split(options)
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
            bind=dict(bind),
            data_id=dict(data_id),
            collections=_names(collections),
            result_dataset=name,
            find_first=find_first,
        )
        queries.append(Query(registry, spec))
    results = DatasetQueryResults(queries, order_by=order_by, limit=limit)
    return results.with_dimension_records() if with_dimension_records else results


def query_dimension_records(
    registry: Registry,
    element: str,
    *,
    datasets: str | Iterable[str] | None = None,
    collections: str | Iterable[str] | None = None,
    **options: Unpack[QueryOptions],
) -> DimensionRecordQueryResults:
    """See `Registry.query_dimension_records`."""
    where, bind, data_id, order_by, limit = _split(options)
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
        bind=bind,
        data_id=data_id,
        datasets=_names(datasets),
        collections=_names(collections),
        element=element,
    )
    return DimensionRecordQueryResults([Query(registry, spec)], order_by=order_by, limit=limit)
