"""Lazy query results: data IDs, datasets and dimension records.

A results object runs nothing until it is iterated, counted or asked
`any`. Iteration streams rows from the database in pages (a server-side
cursor on PostgreSQL), converting each page as it arrives. ``order_by`` and
``limit`` return new results objects; the original is unchanged.

``limit`` means the same everywhere: `None` for no limit, a positive integer
(up to `MAX_LIMIT`, 2**63 - 1) for at most that many rows. When a limit cuts
the result short, `truncated` is True: the query fetches one row more than the
limit to know. ``limit(0)`` is an error (it would run a query only to throw
its rows away; use `any` or `count` to ask whether rows exist), and so is a
negative limit: Rubin's butler reads one as "at most -limit rows, and warn if
there are more", which here is a positive limit and `truncated`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import lsst.sphgeom as sg
import sqlalchemy as sa

from ..._gc import collector_paused
from ...datasets import DatasetRef, RowDatasetRef, RowRefLayout, as_dataset_id
from ...dimensions import DataCoordinate, DimensionGroup, DimensionRecord, row_coordinate_class
from ...errors import InvalidQueryError
from ...geometry import Timespan

if TYPE_CHECKING:
    from ._query import Built, Query

__all__ = [
    "DataCoordinateQueryResults",
    "DatasetQueryResults",
    "DimensionRecordQueryResults",
    "MAX_LIMIT",
    "QueryResults",
    "check_limit",
]

T = TypeVar("T")
#: Rows fetched from the database per page while iterating.
PAGE_ROWS = 5_000


#: The largest ``limit``: the databases' signed 64-bit ``LIMIT``.
MAX_LIMIT = 2**63 - 1


def check_limit(limit: int | None) -> int | None:
    """Validate a ``limit`` argument.

    Parameters
    ----------
    limit
        `None` (no limit) or an integer from 1 to `MAX_LIMIT`.

    Returns
    -------
    int or None
        ``limit`` itself.

    Raises
    ------
    InvalidQueryError
        For 0, negatives (Rubin's "warn if there are more" meaning of a
        negative limit is `truncated` here), integers beyond `MAX_LIMIT`
        and non-integers.
    """
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise InvalidQueryError(f"limit must be None or a positive integer, not {limit!r}.")
    if limit <= 0:
        raise InvalidQueryError(
            f"limit={limit} is not allowed: use None for no limit or a positive integer for at most that "
            "many rows (to ask whether any rows exist, use .any(); to count them, use .count())."
        )
    if limit > MAX_LIMIT:
        raise InvalidQueryError(
            f"limit={limit} is out of range: a limit is None (no limit) or an integer from 1 to "
            f"{MAX_LIMIT} (2**63 - 1)."
        )
    return limit


class QueryResults(Generic[T]):
    """Base class of lazy results over one or more queries (one SQL statement each)."""

    _kind = "data_ids"

    def __init__(
        self, queries: Sequence[Query], *, order_by: Sequence[str] = (), limit: int | None = None
    ) -> None:
        self._queries = list(queries)
        self._order_by = tuple(order_by)
        self._limit = check_limit(limit)
        self._truncated: bool | None = None
        self._built: dict[int, Built] = {}
        self._row_classes: dict[int, type[DataCoordinate]] = {}
        self._layouts: dict[int, RowRefLayout] = {}

    def _copy(self, **changes: Any) -> Self:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._truncated = None
        new._built = {}
        new._row_classes = {}
        new._layouts = {}
        for k, v in changes.items():
            setattr(new, k, v)
        return new

    def order_by(self, *names: str) -> Self:
        """Results sorted by these names (``-name`` for descending): dimensions, ``element.field``,
        ``element.timespan.begin`` and, for datasets, ``ingest_date``/``run``."""
        return self._copy(_order_by=tuple(names))

    def limit(self, limit: int | None) -> Self:
        """Results with at most ``limit`` rows (None: all); see the module notes on `truncated`."""
        return self._copy(_limit=check_limit(limit))

    def _statement(self, i: int) -> Built:
        built = self._built.get(i)
        if built is None:
            built = self._queries[i].build(self._order_by, columns=self._kind)
            self._built[i] = built
        return built

    def _convert(self, i: int, built: Built, rows: Sequence[sa.Row]) -> list[T]:
        raise NotImplementedError

    def _coordinate_class(self, i: int, built: Built, group: DimensionGroup) -> type[DataCoordinate] | None:
        """Row-backed data ID class for query ``i``'s rows (None: the default for ``group``)."""
        if not built.derived:
            return None
        cached = self._row_classes.get(i)
        if cached is None:
            query = self._queries[i]
            manager = query.registry._dimensions
            derived = {
                dim: (keys, manager.implied_lookup(query.universe[element], dim))
                for dim, (element, keys) in built.derived.items()
            }
            cached = self._row_classes[i] = row_coordinate_class(group, derived)
        return cached

    def __iter__(self) -> Iterator[T]:
        # Items flow at C speed within a page; Python code runs once per page.
        return itertools.chain.from_iterable(self._pages())

    def _pages(self) -> Iterator[list[T]]:
        remaining = self._limit
        self._truncated = False
        for i, query in enumerate(self._queries):
            built = self._statement(i)
            stmt = built.statement
            if remaining is not None:
                stmt = stmt.limit(min(remaining + 1, MAX_LIMIT))  # one more, to know if there are more
            db = query.registry._db
            with db.transaction(write=False) as conn:
                if db.dialect == "postgresql":
                    # Server-side cursors are planned for the first 10% of rows by default,
                    # which picks nested loops; we read every row.
                    # And keep the join order the planner chose (fact rows, then key lookups):
                    # robust when statistics of recently loaded tables are stale. One round trip.
                    conn.exec_driver_sql(
                        "SELECT set_config('cursor_tuple_fraction', '1.0', true), "
                        "set_config('join_collapse_limit', '1', true)"
                    )
                close: Any
                raw = self._kind in _RAW_KINDS
                if db.dialect == "postgresql" or not raw:
                    stmt = stmt.execution_options(yield_per=PAGE_ROWS)  # a server-side cursor on PostgreSQL
                if raw:
                    # sqlite3 fetches lazily, and a server-side cursor fetches on demand: read pages
                    # of plain tuples straight from the driver's cursor, skipping SQLAlchemy's
                    # per-row processing (these columns are plain keys; psycopg gives UUIDs, and
                    # SQLite's hex is converted in _convert).
                    result = conn.execute(stmt)
                    pages: Iterator[Sequence[Any]] = _driver_pages(result)
                    close = result.close
                else:
                    result = conn.execute(stmt)
                    pages = result.partitions()
                    close = result.close
                exhausted = False
                while not exhausted:
                    with collector_paused():  # see chamberlain._gc
                        page = next(pages, None)
                        if page is None:
                            break
                        # A short page is the last: no need for another FETCH round trip.
                        exhausted = len(page) < PAGE_ROWS
                        if remaining is not None and len(page) > remaining:
                            page = page[:remaining]
                            self._truncated = True
                        converted = self._convert(i, built, page) if page else []
                    if converted:
                        yield converted
                    if remaining is not None:
                        remaining -= len(page)
                        if self._truncated:
                            close()
                            return
                close()
            if remaining == 0 and i + 1 < len(self._queries):
                if any(q_any for q_any in (self._any_from(j) for j in range(i + 1, len(self._queries)))):
                    self._truncated = True
                return

    def _any_from(self, i: int) -> bool:
        stmt = self._statement(i).statement.limit(1)
        return self._queries[i].registry._db.execute(stmt).first() is not None

    @property
    def truncated(self) -> bool:
        """True if ``limit`` cut the result short.

        Known for free after a full iteration; otherwise this runs the query
        (counting at most ``limit + 1`` rows).
        """
        if self._truncated is None:
            if self._limit is None:
                self._truncated = False
            else:
                self._truncated = self._count_upto(min(self._limit + 1, MAX_LIMIT)) > self._limit
        return self._truncated

    def _count_upto(self, cap: int | None) -> int:
        total = 0
        for i, query in enumerate(self._queries):
            stmt = self._statement(i).statement
            if cap is not None:
                stmt = stmt.limit(cap - total)
            count = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
            total += int(query.registry._db.execute(count).scalar_one())
            if cap is not None and total >= cap:
                break
        return total

    def count(self) -> int:
        """The number of rows iteration would give (respecting ``limit``); runs one COUNT per query."""
        return self._count_upto(self._limit)

    def any(self) -> bool:
        """True if there is at least one row (runs a LIMIT 1 query)."""
        return any(self._any_from(i) for i in range(len(self._queries)))

    def explain_no_results(self) -> list[str]:
        """Reasons the result is empty (an empty list if it is not, or no reason was found).

        Checks, in order: dimension values in the data ID or in ``dim = value``
        terms that have no record; collections with no datasets of the type
        searched; the joins on their own; then each top-level AND term of the
        ``where`` alone, naming the first one that matches nothing. Runs
        several small queries.
        """
        from ._explain import explain

        if self.any():
            return []
        reasons: list[str] = []
        for query in self._queries:
            reasons += [r for r in explain(query) if r not in reasons]
        return reasons

    def __repr__(self) -> str:
        limit = "" if self._limit is None else f", limit={self._limit}"
        return f"{type(self).__name__}({len(self._queries)} query(ies){limit})"


def _driver_pages(result: sa.CursorResult[Any]) -> Iterator[Sequence[Any]]:
    """Pages of up to `PAGE_ROWS` plain tuples, read from the driver's cursor under ``result``.

    A server-side cursor's first row is read ahead by SQLAlchemy (for the
    column descriptions) into the fetch strategy's buffer: it is taken from
    there first, so no row is lost (tests/registry/queries check every row).
    """
    strategy = result.cursor_strategy
    buffer = getattr(strategy, "_rowbuffer", None)
    held: list[Any] = list(buffer) if buffer else []
    if buffer:
        buffer.clear()
    fetch = result.cursor.fetchmany
    while True:
        page: Sequence[Any] = held + list(fetch(PAGE_ROWS - len(held))) if held else fetch(PAGE_ROWS)
        held = []
        if not page:
            return
        yield page


#: Result kinds whose rows are read from the driver cursor directly.
_RAW_KINDS = frozenset({"data_ids", "datasets"})


class DataCoordinateQueryResults(QueryResults[DataCoordinate]):
    """Data IDs (with implied values) from `Registry.query_data_ids`."""

    _kind = "data_ids"

    def _convert(self, i: int, built: Built, rows: Sequence[sa.Row]) -> list[DataCoordinate]:
        group = self._queries[i].spec.dimensions
        return DataCoordinate.from_full_rows(group, rows, self._coordinate_class(i, built, group))


class DatasetQueryResults(QueryResults[DatasetRef]):
    """Dataset refs from `Registry.query_datasets`; data IDs carry implied values."""

    _kind = "datasets"
    _records = False

    def with_dimension_records(self) -> DatasetQueryResults:
        """Results whose data IDs have their dimension records attached (fetched per page)."""
        return self._copy(_records=True)

    def _convert(self, i: int, built: Built, rows: Sequence[sa.Row]) -> list[DatasetRef]:
        query = self._queries[i]
        name = query.spec.result_dataset
        assert name is not None
        dt = query._types[name].dataset_type
        layout = self._layouts.get(i)
        if layout is None:
            run_names = _RunNames(query.registry._collections.by_id, built.run_id)
            coordinate_class = self._coordinate_class(i, built, dt.dimensions)
            layout = self._layouts[i] = RowRefLayout(dt, run_names, coordinate_class)
        if not self._records:
            # Refs that hold their row and build data ID and UUID on first access.
            return RowDatasetRef.from_rows(layout, rows)
        coords = attach_records(
            query, DataCoordinate.from_full_rows(dt.dimensions, rows, layout.coordinate_class)
        )
        return [
            DatasetRef(dt, c, layout.run_names[row[layout.run_index]], as_dataset_id(row[layout.id_index]))
            for c, row in zip(coords, rows)
        ]


class _RunNames(dict[int | None, str]):
    """RUN names by collection ID, looked up once each; None stands for ``run_id``."""

    def __init__(self, by_id: Any, run_id: int | None = None) -> None:
        super().__init__()
        self._by_id = by_id
        self._run_id = run_id

    def __missing__(self, key: int | None) -> str:
        collection_id = self._run_id if key is None else key
        if collection_id is None:
            raise KeyError("A row without a run, from a query that searched more than one collection.")
        name: str = self._by_id(collection_id).name
        self[key] = name
        return name


class DimensionRecordQueryResults(QueryResults[DimensionRecord]):
    """Dimension records of one element from `Registry.query_dimension_records`."""

    _kind = "records"

    def _convert(self, i: int, built: Built, rows: Sequence[sa.Row]) -> list[DimensionRecord]:
        query = self._queries[i]
        assert query.spec.element is not None
        element = query.universe[query.spec.element]
        return [row_to_record(element, dict(zip(built.columns, row))) for row in rows]


def row_to_record(element: Any, values: dict[str, Any]) -> DimensionRecord:
    """A record from a row of an element's table (region decoded, timespan assembled)."""
    fields = {f: values.get(f) for f in element.field_names if f not in ("region", "timespan")}
    if element.spatial:
        region = values.get("region")
        fields["region"] = sg.Region.decode(region) if region is not None else None
    if element.temporal:
        b, e = values.get("timespan_begin"), values.get("timespan_end")
        fields["timespan"] = None if b is None and e is None else Timespan(b, e)
    if element.is_dimension and element.primary_key.name in values:
        fields[element.primary_key.name] = values[element.primary_key.name]
    return element.RecordClass(**fields)


def attach_records(query: Query, coords: list[DataCoordinate]) -> list[DataCoordinate]:
    """Expanded copies of data IDs: one SELECT per element for the whole page."""
    if not coords:
        return coords
    from ._plan import element_key_column

    group = coords[0].dimensions
    universe = query.universe
    found: dict[str, dict[tuple[Any, ...], DimensionRecord]] = {}
    db = query.registry._db
    for name in group.elements:
        el = universe[name]
        if not el.has_table:
            continue
        keys = sorted({tuple(c[d.name] for d in el.required) for c in coords})
        table = query.registry._tables[name]
        cols = [table.c[element_key_column(el, d.name)] for d in el.required]
        records: dict[tuple[Any, ...], DimensionRecord] = {}
        for chunk in db.batches(keys, per_item=len(cols)):
            cond = cols[0].in_([k[0] for k in chunk]) if len(cols) == 1 else sa.tuple_(*cols).in_(chunk)
            for row in db.execute(sa.select(table).where(cond)):
                rec = row_to_record(el, dict(row._mapping))
                records[tuple(row._mapping[c.name] for c in cols)] = rec
        found[name] = records
    out = []
    for c in coords:
        recs: dict[str, DimensionRecord | None] = {}
        for name, records in found.items():
            el = universe[name]
            recs[name] = records.get(tuple(c[d.name] for d in el.required))
        out.append(c.expanded(recs))
    return out
