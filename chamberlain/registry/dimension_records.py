"""Storing, syncing, fetching dimension records and expanding data IDs."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import lsst.sphgeom as sg
import numpy as np
import sqlalchemy as sa

from ..dimensions import DataCoordinate, DimensionElement, DimensionGroup, DimensionRecord, DimensionUniverse
from ..errors import (
    ConflictingRecordError,
    ConstraintError,
    DataIdValueError,
    DimensionRecordError,
    InconsistentDataIdError,
    format_choices,
)
from ..geometry import Timespan
from ._database import PARAMETER_HEADROOM
from ._record_lookup import RecordLookup

if TYPE_CHECKING:
    from ._database import Database
    from .overlaps import SpatialIndex

#: Elements whose records are cached in memory (small, read often).
CACHED_ELEMENTS = frozenset(
    {"instrument", "physical_filter", "detector", "skymap", "visit_system", "subfilter"}
)


class _Validator:
    """Converts user records of one element to table rows (lists in `columns` order), checking types."""

    def __init__(self, element: DimensionElement) -> None:
        self.element = element
        self.fields = element.field_names
        self.pk = element.primary_key.name if element.is_dimension else None  # type: ignore[attr-defined]
        self.accepted = frozenset(self.fields) | ({element.name} if self.pk else set())
        self.key_fields = [d.name for d in element.key_dimensions] + ([self.pk] if self.pk else [])
        specs = element.columns()
        #: Table columns, in the order `values` returns them.
        self.columns: list[str] = [c.name for c in specs]
        self.checks: list[tuple[int, str, type | tuple[type, ...], int | None, bool]] = []
        for i, spec in enumerate(specs):
            typ: type | tuple[type, ...] = spec.python_type
            if typ is float:
                typ = (float, int)
            self.checks.append((i, spec.name, typ, spec.length or spec.nbytes, spec.nullable))
        self.region_index = len(self.columns) if element.spatial else None
        if element.spatial:
            self.columns.append("region")
        if element.temporal:
            self.columns += ["timespan_begin", "timespan_end"]
        self.key_index = [self.columns.index(k) for k in self.key_fields]
        self._checked_columns = self.columns[: len(self.checks)]
        getter = operator.itemgetter(*self.key_index)
        #: Extracts a record's key tuple from its row.
        self.key_of: Any = getter if len(self.key_index) > 1 else (lambda row: (getter(row),))

    def _mapping(self, record: DimensionRecord | Mapping[str, Any]) -> Mapping[str, Any]:
        if isinstance(record, DimensionRecord):
            if record.element is not self.element:
                raise DimensionRecordError(
                    f"A {record.element.name!r} record was given where {self.element.name!r} records are expected."
                )
            return record.to_dict()
        if not record.keys() <= self.accepted:
            unknown = sorted(set(record) - self.accepted)
            raise DimensionRecordError(
                f"Invalid fields {unknown} for a {self.element.name!r} record; valid fields: {list(self.fields)}."
            )
        if self.pk is not None and self.element.name in record:
            values = dict(record)
            alias = values.pop(self.element.name)
            if self.pk in values and values[self.pk] != alias:
                raise DimensionRecordError(
                    f"{self.element.name!r} record has {self.pk}={values[self.pk]!r} but "
                    f"{self.element.name}={alias!r}; they must agree."
                )
            values[self.pk] = alias
            return values
        return record

    def values(self, record: DimensionRecord | Mapping[str, Any]) -> list[Any]:
        """Return the record's row: values in `columns` order (the region still a sphgeom object)."""
        mapping = self._mapping(record)
        get = mapping.get
        out = [get(name) for name in self._checked_columns]
        for i, name, typ, limit, nullable in self.checks:
            value = out[i]
            if value is None:
                if not nullable:
                    raise DimensionRecordError(
                        f"{self.element.name!r} record {_brief(mapping, self.key_fields)} has no value for "
                        f"required field {name!r}."
                    )
                continue
            if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
                if isinstance(value, np.generic) and isinstance(value.item(), typ):
                    out[i] = value.item()
                    continue
                expected = typ.__name__ if isinstance(typ, type) else "float"
                raise DimensionRecordError(
                    f"Field {name!r} of {self.element.name!r} record {_brief(mapping, self.key_fields)} must be "
                    f"{expected}; got {value!r}."
                )
            if limit is not None and len(value) > limit:  # type: ignore[arg-type]
                raise DimensionRecordError(
                    f"Field {name!r} of {self.element.name!r} record {_brief(mapping, self.key_fields)} is "
                    f"{len(value)} long; the limit is {limit}: {value!r}."  # type: ignore[arg-type]
                )
        if self.region_index is not None:
            region = get("region")
            if region is not None and not isinstance(region, sg.Region):
                raise DimensionRecordError(
                    f"Region of {self.element.name!r} record {_brief(mapping, self.key_fields)} must be an "
                    f"lsst.sphgeom.Region; got {type(region).__name__}."
                )
            out.append(region)
        if self.element.temporal:
            ts = get("timespan")
            if ts is not None and not isinstance(ts, Timespan):
                raise DimensionRecordError(
                    f"Timespan of {self.element.name!r} record {_brief(mapping, self.key_fields)} must be a "
                    f"chamberlain Timespan; got {type(ts).__name__}."
                )
            out += [None, None] if ts is None else [ts.begin, ts.end]
        return out

    def row(self, record: DimensionRecord | Mapping[str, Any]) -> dict[str, Any]:
        """Return the record's row as a dict keyed by column."""
        return dict(zip(self.columns, self.values(record)))


def _brief(values: Mapping[str, Any], keys: Sequence[str]) -> str:
    return "{" + ", ".join(f"{k}: {values.get(k)!r}" for k in keys) + "}"


class DimensionRecordManager:
    """Inserts, syncs and fetches dimension records; expands data IDs.

    Parameters
    ----------
    db
        The database.
    universe
        The dimension universe.
    tables
        The repository's tables by name.
    spatial
        Maintains the sky-pixel index and the overlap tables.
    """

    def __init__(
        self, db: Database, universe: DimensionUniverse, tables: dict[str, sa.Table], spatial: SpatialIndex
    ) -> None:
        self._db = db
        self._universe = universe
        self._tables = tables
        self._spatial = spatial
        self._validators: dict[str, _Validator] = {}
        self._cache: dict[str, dict[tuple[Any, ...], DimensionRecord]] = {}
        #: Records of any element by key, for file templates (`Registry.lookup_dimension_record`).
        self.lookup = RecordLookup(db, universe, tables)
        db.rollback_listeners.append(self.clear_cache)  # the cache may hold rolled-back rows

    def validator(self, element: DimensionElement) -> _Validator:
        """Return the (cached) record validator of an element.

        Parameters
        ----------
        element : `DimensionElement`
            The element.

        Returns
        -------
        validator : `_Validator`
            Checks records of the element and turns them into rows.
        """
        v = self._validators.get(element.name)
        if v is None:
            v = self._validators[element.name] = _Validator(element)
        return v

    def table(self, element: DimensionElement) -> sa.Table:
        """Return the table of an element; elements without tables (band, sky pixels) are an error.

        Parameters
        ----------
        element : `DimensionElement`
            An element with a table of its own.

        Returns
        -------
        table : `sqlalchemy.Table`
            Its table.

        Raises
        ------
        DimensionRecordError
            If the element has no table of its own.
        """
        if not element.has_table:
            raise DimensionRecordError(
                f"{element.name!r} has no table of its own (its values come from "
                f"{getattr(element, 'implied_union_target', None) or 'a sky pixelization'})."
            )
        return self._tables[element.name]

    # --- writing -----------------------------------------------------------------------

    def insert(
        self,
        element: DimensionElement,
        records: Iterable[DimensionRecord | Mapping[str, Any]],
        *,
        skip_existing: bool = False,
        replace: bool = False,
    ) -> int:
        """Insert records in bulk; see `Registry.insert_dimension_records`, which documents the errors.

        Parameters
        ----------
        element
            The `DimensionElement`.
        records, skip_existing, replace
            As for `Registry.insert_dimension_records` (`ValueError` if both flags are set).

        Returns
        -------
        int
            How many rows were given.
        """
        if skip_existing and replace:
            raise ValueError("skip_existing and replace cannot both be True.")
        table = self.table(element)
        validator = self.validator(element)
        rows = [validator.values(r) for r in records]
        if not rows:
            return 0
        key_cols = validator.key_fields
        key_index = validator.key_index
        regions: list[sg.Region | None] = []
        ri = validator.region_index
        if ri is not None:
            for row in rows:
                region = row[ri]
                regions.append(region)
                if region is not None:
                    row[ri] = region.encode()
        try:
            # Nested in a caller's transaction, a savepoint makes a failed batch vanish whole.
            with self._db.transaction(savepoint=self._db.in_transaction) as conn:
                if skip_existing and element.spatial:
                    rows, regions = self._drop_existing(conn, element, rows, regions, key_index, key_cols)
                if replace and element.spatial:  # before the stored regions change
                    self._spatial.delete(conn, element, [validator.key_of(r) for r in rows])
                self._db.insert_many(
                    conn,
                    table,
                    validator.columns,
                    rows,
                    on_conflict="update" if replace else "ignore" if skip_existing else "error",
                    keys=key_cols,
                )
                if element.spatial and rows:
                    keys = [validator.key_of(r) for r in rows]
                    assert ri is not None
                    self._spatial.insert(conn, element, keys, regions, [r[ri] for r in rows])
        except ConstraintError as err:
            raise self._explain_integrity(element, rows, validator, err) from None
        self._cache.pop(element.name, None)
        return len(rows)

    def _drop_existing(
        self,
        conn: sa.Connection,
        element: DimensionElement,
        rows: list[list[Any]],
        regions: list[sg.Region | None],
        key_index: list[int],
        key_cols: list[str],
    ) -> tuple[list[list[Any]], list[sg.Region | None]]:
        keys = [tuple(r[i] for i in key_index) for r in rows]
        existing = self._existing_keys(conn, element, keys, key_cols)
        keep = [i for i, k in enumerate(keys) if k not in existing]
        return [rows[i] for i in keep], [regions[i] for i in keep]

    def _existing_keys(
        self, conn: sa.Connection, element: DimensionElement, keys: list[tuple[Any, ...]], key_cols: list[str]
    ) -> set[tuple[Any, ...]]:
        table = self.table(element)
        return self._existing_in(conn, table, [table.c[c] for c in key_cols], keys)

    def _explain_integrity(
        self,
        element: DimensionElement,
        rows: list[list[Any]],
        validator: _Validator,
        err: ConstraintError,
    ) -> Exception:
        """Turn a database integrity error into a message naming the record at fault."""
        key_cols = validator.key_fields
        seen: set[tuple[Any, ...]] = set()
        for r in rows:
            k = tuple(r[i] for i in validator.key_index)
            if k in seen:
                return ConflictingRecordError(
                    f"{element.name!r} record {dict(zip(key_cols, k))} appears twice in the records inserted."
                )
            seen.add(k)
        text = err.detail
        if "UNIQUE" in text.upper() or "duplicate key" in text:
            return ConflictingRecordError(
                f"A {element.name!r} record with one of these keys already exists ({text}); "
                "use skip_existing=True to keep existing records or replace=True to overwrite them."
            )
        dict_rows = [dict(zip(validator.columns, r)) for r in rows]
        missing = self._missing_dependencies(element, dict_rows)
        if missing:
            return DataIdValueError(missing)
        return DataIdValueError(
            f"{element.name!r} records refer to a dimension value with no record ({text}); insert it first."
        )

    def _missing_dependencies(self, element: DimensionElement, rows: list[dict[str, Any]]) -> str | None:
        """Name the first dependency value that has no record (diagnostic path only)."""
        with self._db.transaction(write=False) as conn:
            for dep in [*element.key_dimensions, *element.implied]:
                if not dep.has_table:
                    continue
                dep_cols = [d.name for d in dep.required]
                values = {
                    tuple(r[c] for c in dep_cols) for r in rows if all(r.get(c) is not None for c in dep_cols)
                }
                table = self.table(dep)
                target = [table.c[d.name if d is not dep else dep.primary_key.name] for d in dep.required]
                found = self._existing_in(conn, table, target, list(values))
                for v in sorted(values - found, key=repr):
                    return (
                        f"{element.name!r} records refer to {dep.name} {dict(zip(dep_cols, v))}, which has no "
                        f"record; insert the {dep.name} record first."
                    )
        return None

    def _existing_in(
        self, conn: sa.Connection, table: sa.Table, cols: list[sa.Column], values: list[tuple[Any, ...]]
    ) -> set[tuple[Any, ...]]:
        found: set[tuple[Any, ...]] = set()
        for chunk in self._db.batches(values, per_item=len(cols)):
            found.update(
                tuple(r) for r in conn.execute(sa.select(*cols).where(sa.tuple_(*cols).in_(list(chunk))))
            )
        return found

    def sync(
        self, element: DimensionElement, record: DimensionRecord | Mapping[str, Any], update: bool = False
    ) -> bool | dict[str, Any]:
        """Insert a record, or check it equals the stored one; see `Registry.sync_dimension_record`.

        Parameters
        ----------
        element
            The `DimensionElement`.
        record, update
            As for `Registry.sync_dimension_record`.

        Returns
        -------
        bool or dict
            True if inserted, False if an identical record existed, or (with
            ``update``) a dict of the old values of fields that were changed.
        """
        validator = self.validator(element)
        row = validator.row(record)
        key_cols = validator.key_fields
        key = {c: row[c] for c in key_cols}
        with self._db.transaction():
            existing = self._fetch_rows(element, [tuple(key.values())], key_cols)
            if not existing:
                self.insert(element, [record])
                return True
            stored = existing[0]
            new = self._row_to_record(element, {**row, "region": row.get("region")}, from_db=False)
            diffs = {
                f: getattr(stored, f) for f in element.field_names if getattr(stored, f) != getattr(new, f)
            }
            if not diffs:
                return False
            if not update:
                detail = "; ".join(
                    f"{f}: stored {getattr(stored, f)!r}, given {getattr(new, f)!r}" for f in diffs
                )
                raise ConflictingRecordError(
                    f"{element.name!r} record {key} differs from the stored one in field(s) "
                    f"{', '.join(diffs)} ({detail})."
                )
            self.insert(element, [record], replace=True)
            return diffs

    # --- reading -----------------------------------------------------------------------

    def _row_to_record(self, element: DimensionElement, row: Any, from_db: bool = True) -> DimensionRecord:
        values = {f: row.get(f) for f in element.field_names if f not in ("region", "timespan")}
        if element.spatial:
            region = row.get("region")
            values["region"] = sg.Region.decode(region) if from_db and region is not None else region
        if element.temporal:
            b, e = row.get("timespan_begin"), row.get("timespan_end")
            values["timespan"] = None if b is None and e is None else Timespan(b, e)
        return element.RecordClass(**values)

    def _fetch_rows(
        self, element: DimensionElement, keys: list[tuple[Any, ...]], key_cols: list[str]
    ) -> list[DimensionRecord]:
        table = self.table(element)
        cols = [table.c[c] for c in key_cols]
        out: list[DimensionRecord] = []
        with self._db.transaction(write=False) as conn:
            for chunk in self._db.batches(keys, per_item=max(1, len(cols))):
                stmt = sa.select(table).where(sa.tuple_(*cols).in_(list(chunk)))
                out.extend(self._row_to_record(element, r._mapping) for r in conn.execute(stmt))
        return out

    def fetch_all(self, element: DimensionElement) -> list[DimensionRecord]:
        """Return every record of an element (one SELECT of its table).

        Parameters
        ----------
        element : `DimensionElement`
            An element with a table (cached elements are read too: this
            bypasses the cache).

        Returns
        -------
        records : `list` [`DimensionRecord`]
            Its records.
        """
        with self._db.transaction(write=False) as conn:
            return [
                self._row_to_record(element, r._mapping) for r in conn.execute(sa.select(self.table(element)))
            ]

    def fetch_matching(
        self, element: DimensionElement, fields: Sequence[str], values: Sequence[tuple[Any, ...]]
    ) -> list[DimensionRecord]:
        """Return the records whose ``fields`` take one of the ``values`` tuples (chunked by the parameter limit).

        Values are grouped by all but their last field, so the common case (one
        instrument, many IDs) is ``instrument = ? AND id IN (...)``; groups are
        OR-ed into one statement up to the parameter limit and 250 groups
        (SQLite's expression depth limit is 1,000; on PostgreSQL a long
        row-value ``IN`` list exhausts the server's stack instead).

        Parameters
        ----------
        element
            The element whose table is read.
        fields
            Column names the values are compared with.
        values
            Value tuples, one value per field.

        Returns
        -------
        list[DimensionRecord]
            The matching records.
        """
        table = self.table(element)
        *prefix_cols, last = [table.c[f] for f in fields]
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for v in values:
            groups.setdefault(tuple(v[:-1]), []).append(v[-1])
        budget = max(len(fields) + 1, self._db.max_parameters - PARAMETER_HEADROOM)
        statements: list[list[sa.ColumnElement[bool]]] = [[]]
        used = 0
        for prefix, lasts in groups.items():
            for chunk in self._db.batches(lasts, reserve=len(prefix)):
                cost = len(prefix) + len(chunk)
                if statements[-1] and (used + cost > budget or len(statements[-1]) >= 250):
                    statements.append([])
                    used = 0
                eqs = [c == p for c, p in zip(prefix_cols, prefix)]
                statements[-1].append(sa.and_(*eqs, last.in_(list(chunk))))
                used += cost
        make = self._record_maker(element)
        out: list[DimensionRecord] = []
        with self._db.transaction(write=False) as conn:
            for clauses in statements:
                if clauses:
                    out.extend(
                        make(r) for r in conn.execute(sa.select(table).where(sa.or_(*clauses))).mappings()
                    )
        return out

    def _record_maker(self, element: DimensionElement) -> Callable[[Any], DimensionRecord]:
        """Return a function turning a table row of ``element`` into its record (names looked up once, not per row)."""
        plain = [f for f in self.validator(element).fields if f not in ("region", "timespan")]
        spatial, temporal, record_class = element.spatial, element.temporal, element.RecordClass

        def make(row: Any) -> DimensionRecord:
            values = {f: row[f] for f in plain}
            if spatial:
                encoded = row["region"]
                values["region"] = None if encoded is None else sg.Region.decode(encoded)
            if temporal:
                begin, end = row["timespan_begin"], row["timespan_end"]
                values["timespan"] = None if begin is None and end is None else Timespan(begin, end)
            return record_class(**values)

        return make

    def _cached(self, element: DimensionElement) -> dict[tuple[Any, ...], DimensionRecord]:
        cache = self._cache.get(element.name)
        if cache is None:
            key_fields = self.validator(element).key_fields  # element key order, as fetch_one uses
            cache = {tuple(getattr(r, f) for f in key_fields): r for r in self.fetch_all(element)}
            self._cache[element.name] = cache
        return cache

    def fetch_one(self, element: DimensionElement, key: tuple[Any, ...]) -> DimensionRecord | None:
        """Return the record identified by the values of ``element.required``, or None.

        Records of cached elements come from the cache; a key it lacks (a
        record another connection added since) reloads it once.

        Parameters
        ----------
        element : `DimensionElement`
            The element.
        key : `tuple`
            The values of its required dimensions, in order.

        Returns
        -------
        record : `DimensionRecord` or None
            The record, or None if there is none.
        """
        if element.name in CACHED_ELEMENTS:
            record = self._cached(element).get(key)
            if record is None:
                record = self._reloaded(element).get(key)
            return record
        validator = self.validator(element)
        rows = self._fetch_rows(element, [key], validator.key_fields)
        return rows[0] if rows else None

    def implied_lookup(self, element: DimensionElement, dimension: str) -> Mapping[tuple[Any, ...], Any]:
        """Return ``{values of element.required: value of dimension}`` from the cached records of ``element``.

        The cache is dropped first if another connection committed since the
        last check (SQLite's ``data_version``). A key still missing from it
        (records added since) reloads it once; a key missing after that is a
        KeyError.

        Parameters
        ----------
        element : `DimensionElement`
            A cached element.
        dimension : `str`
            The implied dimension whose values to look up.

        Returns
        -------
        lookup : `~collections.abc.Mapping` [`tuple`, `object`]
            The lazily-filled mapping.

        Raises
        ------
        ValueError
            If the element's records are not cached.
        """
        if element.name not in CACHED_ELEMENTS:
            raise ValueError(
                f"{element.name!r} records are not cached; cached elements: {sorted(CACHED_ELEMENTS)}."
            )
        self._drop_if_changed_elsewhere()
        return _ImpliedLookup(self, element, dimension)

    def clear_cache(self) -> None:
        """Forget cached records (after another process changed them)."""
        self._cache.clear()
        self.lookup.clear()

    def _reloaded(self, element: DimensionElement) -> dict[tuple[Any, ...], DimensionRecord]:
        """Return the cache of ``element`` read afresh (after a miss: another connection may have added records)."""
        self._cache.pop(element.name, None)
        return self._cached(element)

    def _drop_if_changed_elsewhere(self) -> None:
        """Drop the cache if another connection committed since the last check (SQLite only)."""
        if self._cache and self._db.changed_elsewhere():
            self.clear_cache()

    # --- expansion ---------------------------------------------------------------------

    def expand(
        self, data_id: DataCoordinate, group: DimensionGroup, given: Mapping[str, Any] | None = None
    ) -> DataCoordinate:
        """Fill in implied values and attach records; see `Registry.expand_data_id`.

        Parameters
        ----------
        data_id, group
            The data ID and its dimensions.
        given
            Implied values the caller supplied; each is checked against the
            value the records imply.

        Returns
        -------
        DataCoordinate
            The expanded data ID, with records (errors as for `Registry.expand_data_id`).
        """
        self._drop_if_changed_elsewhere()
        values: dict[str, Any] = dict(data_id.items() if data_id.has_full() else data_id.required)
        if given:
            values.update(given)
        records: dict[str, DimensionRecord | None] = {}
        for name in group.lookup_order:
            element = self._universe[name]
            key = tuple(values[d.name] for d in element.required)
            record = self.fetch_one(element, key)
            if record is None:
                if element.is_dimension:
                    raise DataIdValueError(self._unknown_value_message(element, values))
                if element.defines_relationships:
                    raise InconsistentDataIdError(
                        f"Data ID {_show(values, group)} is inconsistent: no {element.name!r} record relates "
                        f"{', '.join(f'{d.name}={values[d.name]!r}' for d in element.required)}."
                    )
                records[name] = None
                continue
            records[name] = record
            for dep in element.implied:
                implied_value = getattr(record, dep.name)
                given = values.get(dep.name)
                if given is not None and given != implied_value:
                    raise InconsistentDataIdError(
                        f"Data ID {_show(values, group)} has {dep.name}={given!r}, but {element.name} "
                        f"{values[element.name]!r} implies {dep.name}={implied_value!r}."
                    )
                values[dep.name] = implied_value
        for name in group.elements:
            element = self._universe[name]
            if not element.has_table:  # band, sky pixels: records made from the value alone
                records[name] = element.RecordClass(**{element.primary_key.name: values[name]})  # type: ignore[attr-defined]
        full = {n: values[n] for n in group.names}
        return DataCoordinate(group, tuple(values[n] for n in group.required), full, records)

    def _unknown_value_message(self, element: DimensionElement, values: Mapping[str, Any]) -> str:
        key_desc = ", ".join(f"{d.name}={values[d.name]!r}" for d in element.required)
        message = f"Could not fetch record for dimension {element.name!r} with {key_desc}: no such record."
        if element.name in CACHED_ELEMENTS or element.governor:
            parent = {d.name: values[d.name] for d in element.key_dimensions}
            known = [
                r.data_id[element.name]
                for r in self._cached(element).values()
                if all(getattr(r, k) == v for k, v in parent.items())
            ]
            message += f" Known values: {format_choices(known)}."
        return message


def _show(values: Mapping[str, Any], group: DimensionGroup) -> str:
    return "{" + ", ".join(f"{k}: {values[k]!r}" for k in group.names if k in values) + "}"


class _ImpliedLookup(dict[tuple[Any, ...], Any]):
    """Values of one implied dimension by element key, filled from the record cache on demand."""

    def __init__(self, manager: DimensionRecordManager, element: DimensionElement, dimension: str) -> None:
        super().__init__()
        self._manager = manager
        self._element = element
        self._dimension = dimension
        self._fill(manager._cached(element))

    def _fill(self, records: Mapping[tuple[Any, ...], DimensionRecord]) -> None:
        name = self._dimension
        self.update({key: getattr(record, name) for key, record in records.items()})

    def __missing__(self, key: tuple[Any, ...]) -> Any:
        self._fill(self._manager._reloaded(self._element))
        if key not in self:
            raise KeyError(f"No {self._element.name!r} record {key!r} to give {self._dimension!r}.")
        return self[key]
