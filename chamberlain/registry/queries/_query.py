"""One query: its constraints, its join plan, and the single SQL statement it becomes."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import lsst.sphgeom as sg
import sqlalchemy as sa

from ...dimensions import DataCoordinate, DimensionGroup
from ...errors import InvalidQueryError
from ..collections import CollectionRecord, CollectionType
from ..dimension_records import CACHED_ELEMENTS
from ..overlaps import regions_overlap
from ._compile import WhereCompiler
from ._dataset_sources import DatasetSources
from ._plan import JoinPlan, element_key_column
from ._resolve import Ref, Resolver
from .expressions import Identifier, Node, parse_where, walk
from .expressions._literals import INT64_MAX, INT64_MIN

if TYPE_CHECKING:
    from ..dataset_types import DatasetTypeRecord
    from ..registry import Registry

__all__ = ["Query", "QuerySpec", "check_data_id_value"]

_counter = itertools.count()

#: Above this many keys a region term's exact matches go to a temporary table.
_TEMP_TABLE_KEYS = 5_000


@dataclass(frozen=True)
class QuerySpec:
    """Everything a query was asked (immutable; results copy it with changes).

    Attributes
    ----------
    dimensions
        The dimensions of the result rows.
    where
        The `where` expression text.
    bind
        Bind parameter values.
    data_id
        Dimension values the rows must have.
    datasets
        Dataset types whose existence (in ``collections``) constrains the rows.
    collections
        Collections searched for ``datasets`` and ``result_dataset``.
    result_dataset
        The dataset type returned (`Registry.query_datasets`), or None.
    find_first
        Keep only the first dataset per data ID in collection order.
    element
        The element whose records are returned (`Registry.query_dimension_records`).
    """

    dimensions: DimensionGroup
    where: str = ""
    bind: Mapping[str, Any] = field(default_factory=dict)
    data_id: Mapping[str, Any] = field(default_factory=dict)
    datasets: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    result_dataset: str | None = None
    find_first: bool = True
    element: str | None = None


def check_data_id_value(key_type: str, key: str, value: Any) -> None:
    """Refuse a data ID value of the wrong type for its dimension, as the `where` compiler does.

    Parameters
    ----------
    key_type
        The type of the dimension's key (``int`` or ``string``; other types are not checked).
    key
        The dimension's name, for the message.
    value
        The value given; `None` passes.

    Raises
    ------
    InvalidQueryError
        If an integer key gets a non-integer or one beyond 64 bits, or a
        string key a non-string or one with a NUL character.
    """
    if value is None:
        return
    if key_type == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InvalidQueryError(
                f"Data ID value {key}={value!r} is not an integer; {key} takes an integer."
            )
        if not INT64_MIN <= int(value) <= INT64_MAX:
            raise InvalidQueryError(
                f"Data ID value {key}={value!r} is out of range; integers must lie between {INT64_MIN} and "
                f"{INT64_MAX} (signed 64-bit)."
            )
    elif key_type == "string":
        if not isinstance(value, str):
            raise InvalidQueryError(f"Data ID value {key}={value!r} is not a string; {key} takes a string.")
        if "\x00" in value:
            raise InvalidQueryError(
                f"Data ID value {key}={value!r} contains a NUL character (\\x00), which the databases "
                "cannot store."
            )


@dataclass
class Built:
    """A compiled statement and the labels of its output columns."""

    statement: sa.Select
    columns: list[str]
    group: DimensionGroup
    #: Implied dimensions whose output column is NULL: their values come from the
    #: records of a cached element (dimension -> (that element, its key dimensions)).
    derived: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: The collection ID of every row's run when the ``_run_id`` column is NULL.
    run_id: int | None = None


class Query(DatasetSources):
    """Builds statements for one `QuerySpec` (parsing once; planning per statement).

    Parameters
    ----------
    registry
        The registry queried.
    spec
        What is asked.
    """

    def __init__(self, registry: Registry, spec: QuerySpec) -> None:
        self.registry = registry
        self.spec = spec
        self.universe = registry.universe
        self.tree = parse_where(spec.where)
        self._key_cache: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
        unknown = [k for k in spec.data_id if k not in self.universe or not self.universe[k].is_dimension]
        if unknown:
            raise InvalidQueryError(
                f"Data ID key(s) {', '.join(map(repr, unknown))} name no dimension; dimensions are "
                f"{', '.join(self.universe.dimension_names)}."
            )
        for key, value in spec.data_id.items():
            check_data_id_value(self.universe[key].primary_key.type, key, value)  # type: ignore[attr-defined]
        self._types: dict[str, DatasetTypeRecord] = {
            name: registry._dataset_types.get(name)
            for name in (*spec.datasets, *([spec.result_dataset] if spec.result_dataset else []))
        }
        self.collections: tuple[CollectionRecord, ...] = ()
        if self._types:
            if not spec.collections:
                raise InvalidQueryError(
                    f"Searching for datasets of type(s) {', '.join(map(repr, self._types))} needs collections."
                )
            self.collections = registry._collections.flatten(list(spec.collections))
        self.resolver = Resolver(
            self.universe,
            spec.dimensions.names,
            datasets=spec.datasets,
            result_dataset=spec.result_dataset,
            binds=spec.bind.keys(),
            text=spec.where,
        )

    def with_where(self, tree: Node | None) -> Query:
        """Return a copy of this query with another where tree (for explain_no_results)."""
        copy = Query.__new__(Query)
        copy.__dict__.update(self.__dict__)
        copy.tree = tree
        return copy

    def with_spec(self, **changes: Any) -> Query:
        """Return a new query with some spec fields changed."""
        return Query(self.registry, replace(self.spec, **changes))

    # --- planning ----------------------------------------------------------------------------

    def _refs(self, order_by: Sequence[str]) -> list[Ref]:
        refs: list[Ref] = []
        if self.tree is not None:
            for node in walk(self.tree):
                if isinstance(node, Identifier):
                    refs.append(self.resolver.resolve(node))
        for name in order_by:
            refs.append(self._order_ref(name))
        return refs

    def _order_ref(self, name: str) -> Ref:
        text = name[1:] if name.startswith("-") else name
        resolver = Resolver(
            self.universe,
            self.spec.dimensions.names,
            datasets=self.spec.datasets,
            result_dataset=self.spec.result_dataset,
            text=text,
        )
        return resolver.resolve(Identifier(parts=tuple(text.split(".")), start=0, end=len(text)))

    def plan(
        self, order_by: Sequence[str] = (), *, derive_for: DimensionGroup | None = None
    ) -> tuple[JoinPlan, list[Ref]]:
        """Plan the joins covering the result, the constraints and ``order_by``.

        With ``derive_for`` (the output's dimensions), implied dimensions of
        the output that nothing else needs and that a cached element gives
        (``band`` from ``physical_filter``) are left out of the joins; the
        plan's ``derived`` lists them as ``{dimension: (element, keys)}``.
        """
        refs = self._refs(order_by)
        dims, elements = self.resolver.elements_needed(refs)
        names = set(self.spec.dimensions.names) | dims | set(self.spec.data_id)
        for rec in self._types.values():
            names |= set(rec.dataset_type.dimensions.names)
        if self.spec.element is not None:
            el = self.universe[self.spec.element]
            names |= {d.name for d in el.required} | {d.name for d in el.implied}
            if el.has_table:
                elements.add(el.name)
        group = self.universe.conform(names)
        if self._needs_temporal_anchor():
            anchor = group.temporal_families().get("observation_timespans")
            if anchor is not None:
                elements.add(anchor)
        provided: set[str] = set()
        if self.spec.result_dataset is not None:
            provided = set(self._types[self.spec.result_dataset].dataset_type.dimensions.required)
        derived: dict[str, tuple[str, tuple[str, ...]]] = {}
        # Only where the record cache can tell cheaply that it is current (SQLite's data_version).
        if derive_for is not None and self.registry._db.dialect == "sqlite":
            pinned = dims | set(self.spec.data_id) | provided
            for rec in self._types.values():
                pinned |= set(rec.dataset_type.dimensions.required)
            for name in group.elements:
                element = self.universe[name]
                if name not in CACHED_ELEMENTS or name in elements or not element.has_table:
                    continue
                keys = tuple(d.name for d in element.required)
                for dim in element.implied:
                    if (
                        dim.name in derive_for.implied
                        and dim.name in group.implied
                        and dim.name not in pinned
                        and set(keys) <= set(derive_for.names)
                    ):
                        derived[dim.name] = (name, keys)
        plan = JoinPlan.build(group, self.registry._tables, elements, provided, derived=derived)
        # An element joined anyway gives its implied values itself.
        plan.derived = {d: v for d, v in derived.items() if v[0] not in plan.elements}
        return plan, refs

    # --- compiler callbacks ------------------------------------------------------------------

    def column(self, ref: Ref) -> sa.ColumnElement:
        """Return the SQL column for a resolved name (a `Sources` callback)."""
        plan = self._plan
        if ref.kind == "dimension":
            return plan.dimension(ref.name)
        if ref.kind == "field":
            assert ref.element is not None
            return plan.table(ref.element).c[ref.name]
        if ref.kind == "bound":
            assert ref.element is not None
            return plan.table(ref.element).c[f"timespan_{ref.name}"]
        if ref.kind == "dataset":
            assert ref.element is not None
            rows = self._dataset_sources.get(ref.element)
            if rows is None:
                raise InvalidQueryError(
                    f"Dataset fields of {ref.element!r} are only available in query_datasets."
                )
            dataset = self._dataset_table
            if ref.name == "dataset_id":
                return rows.c.dataset_id
            if ref.name == "ingest_date":
                return dataset.c.ingest_date
            if ref.name == "run":
                coll = self.registry._tables["collection"]
                return (
                    sa.select(coll.c.name).where(coll.c.collection_id == dataset.c.run_id).scalar_subquery()
                )
            if ref.name == "collection":
                coll = self.registry._tables["collection"]
                return (
                    sa.select(coll.c.name)
                    .where(coll.c.collection_id == rows.c.collection_id)
                    .scalar_subquery()
                )
        raise InvalidQueryError(f"{ref.name!r} cannot be used as a value here.")

    def timespan(self, ref: Ref) -> tuple[sa.ColumnElement, sa.ColumnElement]:
        """Begin/end columns of a timespan (a `Sources` callback)."""
        if ref.kind == "dataset":
            rows = self._dataset_sources.get(ref.element or "")
            if rows is None:
                raise InvalidQueryError(
                    f"Dataset fields of {ref.element!r} are only available in query_datasets."
                )
            return rows.c.validity_begin, rows.c.validity_end
        assert ref.element is not None
        table = self._plan.table(ref.element)
        return table.c.timespan_begin, table.c.timespan_end

    def region_keys(self, element: str, region: sg.Region | sg.LonLat) -> list[tuple[Any, ...]]:
        """Keys of ``element`` records whose region overlaps ``region`` exactly.

        One SQL statement finds the candidates through the sky-pixel index
        (pixels of the common pixelization in ``region``'s envelope); one
        Python pass tests each candidate region exactly.
        """
        cache_key = (element, id(region))
        cached = self._key_cache.get(cache_key)
        if cached is not None:
            return cached
        el = self.universe[element]
        table = self.registry._tables[element]
        skypix = self.registry._tables[f"{element}_skypix"]
        pixelization = self.universe.common_skypix.pixelization
        if isinstance(region, sg.LonLat):
            vector = sg.UnitVector3d(region)
            pixel = pixelization.index(vector)
            cond: sa.ColumnElement[bool] = skypix.c.skypix == pixel

            def test(r: sg.Region) -> bool:
                return bool(r.contains(vector))
        else:
            ranges = pixelization.envelope(region).ranges()
            cond = sa.or_(*[skypix.c.skypix.between(b, e - 1) for b, e in ranges]) if ranges else sa.false()

            def test(r: sg.Region) -> bool:
                return regions_overlap(r, region)

        key_names = [d.name for d in el.required]
        table_keys = [table.c[element_key_column(el, n)] for n in key_names]
        candidates = sa.select(*[skypix.c[n] for n in key_names]).where(cond).distinct().subquery()
        stmt = sa.select(*table_keys, table.c.region).join_from(
            table, candidates, sa.and_(*[tc == candidates.c[n] for tc, n in zip(table_keys, key_names)])
        )
        for n in key_names:
            if n in self.spec.data_id and self.universe[n].governor:
                stmt = stmt.where(table.c[element_key_column(el, n)] == self.spec.data_id[n])
        decode = sg.Region.decode
        keys = [
            tuple(row[:-1])
            for row in self.registry._db.execute(stmt)
            if row[-1] is not None and test(decode(row[-1]))
        ]
        self._key_cache[cache_key] = keys
        return keys

    def region_predicate(self, element: str, region: sg.Region | sg.LonLat) -> sa.ColumnElement[bool]:
        """Build a plain SQL predicate: the row's ``element`` keys are among the exact matches."""
        keys = self.region_keys(element, region)
        if not keys:
            return sa.false()
        names = [d.name for d in self.universe[element].required]
        cols = [self._plan.dimension(n) for n in names]
        terms: list[sa.ColumnElement[bool]] = []
        keep = []
        for i, col in enumerate(cols):  # constant columns (the instrument) become one equality
            values = {k[i] for k in keys}
            if len(values) == 1 and len(cols) > 1:
                terms.append(col == next(iter(values)))
            else:
                keep.append(i)
        if keep:
            rows = sorted({tuple(k[i] for i in keep) for k in keys})
            kept_cols = [cols[i] for i in keep]
            if len(rows) > _TEMP_TABLE_KEYS:
                terms.append(self._temp_keys(kept_cols, [names[i] for i in keep], rows))
            elif len(kept_cols) == 1:
                terms.append(kept_cols[0].in_([r[0] for r in rows]))
            else:
                terms.append(sa.tuple_(*kept_cols).in_(rows))
        return sa.and_(*terms)

    def _temp_keys(
        self, cols: list[sa.ColumnElement], names: list[str], rows: list[tuple[Any, ...]]
    ) -> sa.ColumnElement[bool]:
        """Load many exact-match keys into a temporary table; return ``cols IN (SELECT ...)``."""
        name = f"chamberlain_keys_{next(_counter)}"
        temp = sa.Table(
            name,
            sa.MetaData(),
            *[sa.Column(n, c.type) for n, c in zip(names, cols)],
            prefixes=["TEMPORARY"],
        )
        conn = self.registry._db.connection
        temp.create(conn)
        conn.execute(temp.insert(), [dict(zip(names, r)) for r in rows])
        sub = sa.select(*temp.c)
        if len(cols) == 1:
            return cols[0].in_(sub)
        return sa.tuple_(*cols).in_(sub)

    def region_join(self, a: str, b: str) -> sa.ColumnElement[bool] | None:
        """EXISTS over the stored overlaps between elements ``a`` and ``b``, if they are stored."""
        for x, y in ((a, b), (b, a)):
            table = self.registry._tables.get(f"{x}_{y}_overlap")
            if table is not None:
                return sa.exists().where(
                    *[table.c[c.name] == self._plan.dimension(c.name) for c in table.columns]
                )
        return None

    # --- statements --------------------------------------------------------------------------

    def build(self, order_by: Sequence[str] = (), *, columns: str = "data_ids") -> Built:
        """Build the SELECT for this query.

        Parameters
        ----------
        order_by
            Names to sort by (``-name`` for descending).
        columns
            ``data_ids``, ``datasets`` or ``records``: what the rows hold.
        """
        result_rec = self._types.get(self.spec.result_dataset) if self.spec.result_dataset else None
        derive_for = self._result_group(columns, result_rec) if columns in ("data_ids", "datasets") else None
        plan, refs = self.plan(order_by, derive_for=derive_for)
        self._plan = plan
        self._dataset_sources: dict[str, sa.Subquery] = {}
        self._dataset_table = self.registry._tables["dataset"].alias("dataset")
        self._run_from_rows = False
        self._single_run_id: int | None = None  # set when every row's run is this one RUN
        self._subquery_numbers = itertools.count()
        spec = self.spec
        where: list[Any] = []
        rank_col = None
        rows: sa.Subquery | None = None
        if result_rec is not None:
            ranked = spec.find_first and len(self.collections) > 1
            rows = self._dataset_rows(result_rec, ranked)
            dims = result_rec.dataset_type.dimensions.required
            plan.join_source(rows, {d: rows.c[d] for d in dims})
            # In a RUN, a dataset's collection is its run: the dataset table is only
            # needed for TAGGED/CALIBRATION searches and the ingest_date/run fields.
            self._run_from_rows = all(c.type is CollectionType.RUN for c in self.collections) and not any(
                r.kind == "dataset" and r.name in ("ingest_date", "run") for r in refs
            )
            if not self._run_from_rows:
                plan.join_source(self._dataset_table, {}, on=self._dataset_table.c.id == rows.c.dataset_id)
            elif len(self.collections) == 1:
                self._single_run_id = self.collections[0].id
        plan.finish()
        if result_rec is not None and rows is not None:
            self._dataset_sources[result_rec.dataset_type.name] = rows
            where += self._temporal(plan, rows, result_rec)
            if ranked:
                rank_col = rows.c.rank
        for name in spec.datasets:
            rec = self._types[name]
            rows = self._dataset_rows(rec, False)
            dims = rec.dataset_type.dimensions.required
            where.append(
                sa.exists().where(
                    *[rows.c[d] == plan.dimension(d) for d in dims], *self._temporal(plan, rows, rec)
                )
            )
        for key, value in spec.data_id.items():
            where.append(plan.dimension(key) == value)
        if self.tree is not None:
            compiler = WhereCompiler(self.resolver, self, spec.bind, spec.where, self.registry._db.dialect)
            where.append(compiler.compile(self.tree))
        out_cols, labels = self._output(plan, columns, result_rec)
        order_cols: list[Any] = []
        for i, name in enumerate(order_by):
            ref = self._order_ref(name)
            col = self.column(ref) if ref.kind != "timespan" else self.timespan(ref)[0]
            order_cols.append((f"_order{i}", col, name.startswith("-")))
        from_clause = plan.from_clause
        select_cols = [c.label(n) for n, c in zip(labels, out_cols)] + [c.label(n) for n, c, _ in order_cols]
        if from_clause is None:
            stmt = sa.select(*select_cols)
        else:
            stmt = sa.select(*select_cols).select_from(from_clause)
        if where:
            stmt = stmt.where(*where)
        if rank_col is not None:
            partition = [plan.dimension(d) for d in plan.group.required]
            rn = sa.func.row_number().over(partition_by=partition, order_by=rank_col).label("_rn")
            inner = stmt.add_columns(rn).subquery("first_found")
            stmt = sa.select(*[inner.c[n] for n in labels], *[inner.c[n] for n, _, _ in order_cols]).where(
                inner.c._rn == 1
            )
            order_exprs = [inner.c[n].desc() if desc else inner.c[n] for n, _, desc in order_cols]
        else:
            order_exprs = [
                sa.desc(sa.literal_column(n)) if desc else sa.literal_column(n) for n, _, desc in order_cols
            ]
        needs_distinct = plan.group != self._result_group(columns, result_rec) or bool(spec.datasets)
        if needs_distinct or rank_col is not None:
            stmt = stmt.distinct()
        if order_exprs:
            stmt = stmt.order_by(*order_exprs)
        return Built(stmt, labels, plan.group, dict(plan.derived), self._single_run_id)

    def _result_group(self, columns: str, result_rec: DatasetTypeRecord | None) -> DimensionGroup:
        if columns == "datasets" and result_rec is not None:
            return result_rec.dataset_type.dimensions
        if columns == "records" and self.spec.element is not None:
            return self.universe[self.spec.element].group
        return self.spec.dimensions

    def _output(
        self, plan: JoinPlan, columns: str, result_rec: DatasetTypeRecord | None
    ) -> tuple[list[Any], list[str]]:
        if columns == "records":
            assert self.spec.element is not None
            el = self.universe[self.spec.element]
            if not el.has_table:
                return [plan.dimension(el.name)], [el.primary_key.name]  # type: ignore[attr-defined]
            table = plan.table(el.name)
            return list(table.columns), [c.name for c in table.columns]
        group = self._result_group(columns, result_rec)
        cols = [sa.null() if n in plan.derived else plan.dimension(n) for n in group.names]
        labels = list(group.names)
        if columns == "datasets":
            assert result_rec is not None
            rows = self._dataset_sources.get(result_rec.dataset_type.name)
            if rows is None:
                cols += [sa.null().cast(sa.Uuid()), sa.null().cast(sa.BigInteger())]
            else:
                run: Any = rows.c.collection_id if self._run_from_rows else self._dataset_table.c.run_id
                if self._single_run_id is not None:
                    run = sa.null()  # every row's run is that one (Built.run_id)
                cols += [rows.c.dataset_id, run]
            labels += ["_dataset_id", "_run_id"]
        return cols, labels

    def coordinate(self, group: DimensionGroup, row: Sequence[Any]) -> DataCoordinate:
        """Make a data ID from the first ``len(group.names)`` values of a row."""
        return DataCoordinate.from_full_values(group, dict(zip(group.names, row)))
