"""Inserting, finding, tagging, certifying and removing datasets."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import astropy.time
import sqlalchemy as sa

from ..datasets import (
    DatasetIdGenEnum,
    DatasetRef,
    DatasetType,
    as_dataset_id,
    deterministic_id,
)
from ..dimensions import DataCoordinate, DimensionGroup
from ..errors import (
    CalibrationLookupError,
    CollectionTypeError,
    ConflictingDefinitionError,
    ConstraintError,
    DataIdValueError,
    DatasetTypeError,
    OrphanedRecordError,
)
from ..geometry import Timespan, time_to_ns
from ._timespans import timespans_overlap
from .collections import CollectionRecord, CollectionType

if TYPE_CHECKING:
    from ._database import Database, PreparedStatement
    from .collections import CollectionManager
    from .dataset_types import DatasetTypeManager, DatasetTypeRecord
    from .dimension_records import DimensionRecordManager


def _uuid7() -> uuid.UUID:
    import uuid_utils.compat

    return uuid_utils.compat.uuid7()


#: Columns of a calibration association row before its data ID values.
_CALIB_COLUMNS = ("dataset_type_id", "dataset_id", "collection_id", "validity_begin", "validity_end")


class DatasetManager:
    """Dataset rows and their memberships in collections (the engine of `Registry`'s dataset methods).

    Parameters
    ----------
    db : `Database`
        The registry's database.
    tables : `dict` [`str`, `sqlalchemy.Table`]
        The registry's tables by name (``dataset`` is used directly).
    dataset_types : `DatasetTypeManager`
        Resolves dataset types and their tags/calibs tables.
    collections : `CollectionManager`
        Resolves and flattens collections.
    dimensions : `DimensionRecordManager`
        The dimension records.
    """

    def __init__(
        self,
        db: Database,
        tables: dict[str, sa.Table],
        dataset_types: DatasetTypeManager,
        collections: CollectionManager,
        dimensions: DimensionRecordManager,
    ) -> None:
        self._db = db
        self._dataset = tables["dataset"]
        self._types = dataset_types
        self._collections = collections
        self._dimensions = dimensions
        self._find_cache: dict[tuple[int, bool, int], PreparedStatement] = {}

    # --- inserting ---------------------------------------------------------------------

    @staticmethod
    def _standardize(group: DimensionGroup, data_id: DataCoordinate | Mapping[str, Any]) -> DataCoordinate:
        if isinstance(data_id, DataCoordinate) and data_id.dimensions == group:
            return data_id
        return DataCoordinate.standardize(data_id, dimensions=group)

    def insert(
        self,
        dataset_type: str | DatasetType,
        data_ids: Iterable[DataCoordinate | Mapping[str, Any]],
        run: str,
        id_mode: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE,
        ids: Sequence[uuid.UUID] | None = None,
    ) -> list[DatasetRef]:
        """Insert datasets in one batch; see `Registry.insert_datasets`, which documents the errors.

        Parameters
        ----------
        dataset_type, data_ids, run, id_mode
            As for `Registry.insert_datasets`.
        ids
            The IDs to use, one per data ID (for ingest and import); `ValueError`
            if the lengths differ.

        Returns
        -------
        list [DatasetRef]
            One resolved ref per data ID, in order.
        """
        rec = self._types.get(dataset_type)
        run_rec = self._collections.get(run)
        if run_rec.type is not CollectionType.RUN:
            raise CollectionTypeError(
                f"Datasets can only be inserted into RUN collections; {run!r} is {run_rec.type.name}."
            )
        dt = rec.dataset_type
        group = dt.dimensions
        coords = [self._standardize(group, d) for d in data_ids]
        if ids is not None and len(ids) != len(coords):
            raise ValueError(f"Got {len(ids)} IDs for {len(coords)} data IDs.")
        if ids is None:
            if id_mode is DatasetIdGenEnum.UNIQUE:
                ids = [_uuid7() for _ in coords]
            else:
                ids = [deterministic_id(id_mode, dt.name, run, c.required) for c in coords]
        seen: dict[tuple[Any, ...], DataCoordinate] = {}
        for c in coords:
            key = c.required_values
            if key in seen:
                raise ConflictingDefinitionError(
                    f"Data ID {c} appears more than once among the {dt.name!r} datasets being inserted into "
                    f"run {run!r}."
                )
            seen[key] = c
        now = time_to_ns(astropy.time.Time.now())
        dataset_rows = [(i, rec.id, run_rec.id, now) for i in ids]
        required = group.required
        tag_columns = ["dataset_type_id", "dataset_id", "collection_id", *required]
        tag_rows = [(rec.id, i, run_rec.id, *c.required_values) for i, c in zip(ids, coords)]
        try:
            # Nested in a caller's transaction, a savepoint makes a failed batch vanish whole.
            with self._db.transaction(savepoint=self._db.in_transaction) as conn:
                self._db.insert_many(
                    conn, self._dataset, ["id", "dataset_type_id", "run_id", "ingest_date"], dataset_rows
                )
                self._db.insert_many(conn, rec.tags, tag_columns, tag_rows)
        except ConstraintError as err:
            raise self._explain_insert_failure(rec, run_rec, coords, ids, err) from None
        return [DatasetRef(dt, c, run, i) for c, i in zip(coords, ids)]

    def _explain_insert_failure(
        self,
        rec: DatasetTypeRecord,
        run: CollectionRecord,
        coords: list[DataCoordinate],
        ids: Sequence[uuid.UUID],
        err: ConstraintError,
    ) -> Exception:
        text = err.detail
        group = rec.dataset_type.dimensions
        existing = self._existing(rec, [run], [c.required_values for c in coords])
        if existing:
            key, (dataset_id, _) = next(iter(existing.items()))
            return ConflictingDefinitionError(
                f"A {rec.dataset_type.name!r} dataset with data ID {dict(zip(group.required, key))} already exists "
                f"in run {run.name!r} (id {dataset_id}); one dataset per dataset type and data ID per run."
            )
        with self._db.transaction(write=False) as conn:
            taken = (
                conn.execute(sa.select(self._dataset.c.id).where(self._dataset.c.id.in_(list(ids)[:1000])))
                .scalars()
                .first()
            )
        if taken is not None:
            return ConflictingDefinitionError(f"Dataset ID {taken} is already used by another dataset.")
        for c in coords:
            try:
                self._dimensions.expand(c, group)
            except DataIdValueError as exc:
                return DataIdValueError(
                    f"Cannot insert {rec.dataset_type.name!r} dataset with data ID {c}: {exc}"
                )
        return ConflictingDefinitionError(f"Inserting {rec.dataset_type.name!r} datasets failed: {text}")

    def _existing(
        self, rec: DatasetTypeRecord, collections: Sequence[CollectionRecord], keys: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], tuple[uuid.UUID, int]]:
        """Existing (dataset_id, collection_id) in the given collections for data-ID keys."""
        tags = rec.tags
        dims = [tags.c[n] for n in rec.dataset_type.dimensions.required]
        out: dict[tuple[Any, ...], tuple[uuid.UUID, int]] = {}
        with self._db.transaction(write=False) as conn:
            for chunk in self._db.batches(keys, per_item=max(1, len(dims))):
                stmt = sa.select(*dims, tags.c.dataset_id, tags.c.collection_id).where(
                    tags.c.dataset_type_id == rec.id,
                    tags.c.collection_id.in_([c.id for c in collections]),
                )
                if dims:
                    stmt = stmt.where(sa.tuple_(*dims).in_(list(chunk)))
                for row in conn.execute(stmt):
                    out[tuple(row[: len(dims)])] = (row[-2], row[-1])
        return out

    # --- finding -----------------------------------------------------------------------

    def _find_statement(
        self, rec: DatasetTypeRecord, calibration: bool, n_collections: int
    ) -> PreparedStatement:
        """Return the find query for one dataset type and number of collections, compiled once."""
        key = (rec.id, calibration, n_collections)
        compiled = self._find_cache.get(key)
        if compiled is not None:
            return compiled
        table = rec.calibs if calibration else rec.tags
        assert table is not None
        dims = rec.dataset_type.dimensions.required
        cols = [table.c.dataset_id, table.c.collection_id, self._dataset.c.run_id]
        if calibration:
            cols += [table.c.validity_begin, table.c.validity_end]
        stmt = (
            sa.select(*cols)
            .select_from(table.join(self._dataset, self._dataset.c.id == table.c.dataset_id))
            .where(
                table.c.dataset_type_id == sa.bindparam("type_id"),
                table.c.collection_id.in_([sa.bindparam(f"c{i}") for i in range(n_collections)]),
                *[table.c[d] == sa.bindparam(f"dim_{d}") for d in dims],
            )
        )
        compiled = self._db.prepare(stmt)
        self._find_cache[key] = compiled
        return compiled

    def _run_find(self, compiled: PreparedStatement, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        # The hot path: the driver directly on SQLite, with SQL compiled once.
        return self._db.fetch_tuples(compiled, params)

    def find(
        self,
        dataset_type: str | DatasetType,
        data_id: DataCoordinate | Mapping[str, Any],
        collections: Sequence[str] | str,
        timespan: Timespan | None = None,
    ) -> DatasetRef | None:
        """Find-first search; see `Registry.find_dataset`, which documents the errors.

        Parameters
        ----------
        dataset_type, data_id, collections, timespan
            As for `Registry.find_dataset`.

        Returns
        -------
        DatasetRef or None
            The first match, or None.
        """
        rec = self._types.get(dataset_type)
        dt = rec.dataset_type
        coord = self._standardize(dt.dimensions, data_id)
        flat = self._collections.flatten(collections)
        if not flat:
            return None
        params: dict[str, Any] = {
            f"dim_{d}": v for d, v in zip(dt.dimensions.required, coord.required_values)
        }
        params["type_id"] = rec.id
        tag_ids = [c.id for c in flat if c.type is not CollectionType.CALIBRATION]
        calib_ids = (
            [c.id for c in flat if c.type is CollectionType.CALIBRATION]
            if timespan is not None and rec.calibs is not None
            else []
        )
        found: dict[int, list[tuple[Any, ...]]] = {}
        if tag_ids:
            params.update({f"c{i}": cid for i, cid in enumerate(tag_ids)})
            for row in self._run_find(self._find_statement(rec, False, len(tag_ids)), params):
                found.setdefault(row[1], []).append(row)
        if calib_ids:
            assert timespan is not None
            params.update({f"c{i}": cid for i, cid in enumerate(calib_ids)})
            for row in self._run_find(self._find_statement(rec, True, len(calib_ids)), params):
                if timespan.overlaps(Timespan(row[3], row[4])):
                    found.setdefault(row[1], []).append(row)
        if len(flat) == 1 or len(found) <= 1:
            order: Sequence[CollectionRecord] = [c for c in flat if c.id in found]
        else:
            order = flat
        for c in order:
            rows = found.get(c.id)
            if not rows:
                continue
            if len(rows) > 1:
                raise CalibrationLookupError(
                    f"Ambiguous calibration lookup for {dt.name!r} with data ID {coord} and timespan {timespan} "
                    f"in collection {c.name!r}: {len(rows)} validity ranges match; give a narrower time."
                )
            dataset_id, _, run_id = rows[0][:3]
            return DatasetRef(dt, coord, self._collections.by_id(run_id).name, dataset_id)
        return None

    def get_refs(self, ids: Iterable[uuid.UUID]) -> list[DatasetRef]:
        """Resolve dataset IDs to refs (IDs not found are skipped).

        Parameters
        ----------
        ids
            Dataset IDs (`uuid.UUID`).

        Returns
        -------
        list [DatasetRef]
            The refs found, grouped by dataset type.
        """
        ids = list(ids)
        out: list[DatasetRef] = []
        by_type: dict[int, list[tuple[uuid.UUID, int]]] = {}
        with self._db.transaction(write=False) as conn:
            for chunk in self._db.batches(ids):
                stmt = sa.select(
                    self._dataset.c.id, self._dataset.c.dataset_type_id, self._dataset.c.run_id
                ).where(self._dataset.c.id.in_(list(chunk)))
                for row in conn.execute(stmt):
                    by_type.setdefault(row.dataset_type_id, []).append((row.id, row.run_id))
            for type_id, pairs in by_type.items():
                rec = self._types.by_id(type_id)
                tags = rec.tags
                dims = rec.dataset_type.dimensions.required
                for batch in self._db.batches(pairs):
                    stmt = sa.select(tags.c.dataset_id, *[tags.c[d] for d in dims]).where(
                        tags.c.dataset_id.in_([p[0] for p in batch])
                    )
                    runs = dict(batch)
                    rows = {r[0]: tuple(r[1:]) for r in conn.execute(stmt)}
                    for dataset_id, values in rows.items():
                        coord = DataCoordinate.from_required_values(rec.dataset_type.dimensions, values)
                        run = self._collections.by_id(runs[dataset_id]).name
                        out.append(DatasetRef(rec.dataset_type, coord, run, dataset_id))
        return out

    # --- TAGGED ------------------------------------------------------------------------

    def associate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Add datasets to a TAGGED collection (already-present ones are skipped); see `Registry.associate`.

        Parameters
        ----------
        collection, refs
            The TAGGED collection and the datasets.
        """
        coll = self._collections.get(collection)
        if coll.type is not CollectionType.TAGGED:
            raise CollectionTypeError(
                f"Collection {collection!r} is {coll.type.name}; associate needs TAGGED."
            )
        by_type = _group_by_type(refs)
        with self._db.transaction():
            for name, type_refs in by_type.items():
                rec = self._types.get(name)
                keys = [r.data_id.required_values for r in type_refs]
                existing = self._existing(rec, [coll], keys)
                new_rows = []
                for r, key in zip(type_refs, keys):
                    present = existing.get(key)
                    if present is not None:
                        if present[0] != r.id:
                            raise ConflictingDefinitionError(
                                f"Collection {collection!r} already has a different {name!r} dataset "
                                f"(id {present[0]}) for data ID {r.data_id}; disassociate it first."
                            )
                        continue
                    existing[key] = (r.id, coll.id)
                    new_rows.append((rec.id, r.id, coll.id, *key))
                columns = [
                    "dataset_type_id",
                    "dataset_id",
                    "collection_id",
                    *rec.dataset_type.dimensions.required,
                ]
                self._db.insert_many(self._db.connection, rec.tags, columns, new_rows)

    def disassociate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Remove datasets from a TAGGED collection; see `Registry.disassociate`.

        Parameters
        ----------
        collection, refs
            As for `associate`.
        """
        coll = self._collections.get(collection)
        if coll.type is not CollectionType.TAGGED:
            raise CollectionTypeError(
                f"Collection {collection!r} is {coll.type.name}; disassociate needs TAGGED."
            )
        with self._db.transaction() as conn:
            for name, type_refs in _group_by_type(refs).items():
                tags = self._types.get(name).tags
                for chunk in self._db.batches([r.id for r in type_refs]):
                    conn.execute(
                        sa.delete(tags).where(
                            tags.c.collection_id == coll.id, tags.c.dataset_id.in_(list(chunk))
                        )
                    )

    # --- CALIBRATION -------------------------------------------------------------------

    def _calib_target(
        self, collection: str, name: str
    ) -> tuple[CollectionRecord, DatasetTypeRecord, sa.Table]:
        coll = self._collections.get(collection)
        if coll.type is not CollectionType.CALIBRATION:
            raise CollectionTypeError(f"Collection {collection!r} is {coll.type.name}, not CALIBRATION.")
        rec = self._types.get(name)
        if not rec.dataset_type.is_calibration or rec.calibs is None:
            raise DatasetTypeError(
                f"Dataset type {name!r} is not a calibration type; only types registered with "
                "is_calibration=True can be certified."
            )
        return coll, rec, rec.calibs

    def certify(self, collection: str, refs: Iterable[DatasetRef], timespan: Timespan) -> None:
        """Associate datasets with a CALIBRATION collection over a validity range.

        Validity ranges for the same dataset type and data ID may not overlap:
        on PostgreSQL an exclusion constraint enforces it; on SQLite the check
        runs while the database write lock is held. A dataset already
        certified in the collection over exactly ``timespan`` is left as it is
        (certifying it again changes nothing, so re-running an import works).
        `Registry.certify` documents the errors.

        Parameters
        ----------
        collection, refs, timespan
            As for `Registry.certify`.
        """
        with self._db.transaction() as conn:
            for name, type_refs in _group_by_type(refs).items():
                coll, rec, calibs = self._calib_target(collection, name)
                dims = rec.dataset_type.dimensions.required
                keys = [r.data_id.required_values for r in type_refs]
                if len(set(keys)) != len(keys):
                    raise ConflictingDefinitionError(
                        f"Certifying several {name!r} datasets with the same data ID over one validity range "
                        f"{timespan} would overlap."
                    )
                conflicts = self._overlapping(conn, calibs, rec.id, coll.id, dims, keys, timespan)
                # Rows certifying one of these very datasets over exactly this range: nothing to do.
                ids = {r.id for r in type_refs}
                done = [
                    c
                    for c in conflicts
                    if (c[2], c[3]) == (timespan.begin, timespan.end) and as_dataset_id(c[1]) in ids
                ]
                if done:
                    done_ids = {as_dataset_id(c[1]) for c in done}
                    conflicts = [c for c in conflicts if c not in done]
                    kept = [(r, k) for r, k in zip(type_refs, keys) if r.id not in done_ids]
                    type_refs, keys = [r for r, _ in kept], [k for _, k in kept]
                if conflicts:
                    first = conflicts[0]
                    raise ConflictingDefinitionError(
                        f"{len(conflicts)} validity range conflict(s) certifying {name!r} into {collection!r} "
                        f"over {timespan}: data ID {dict(zip(dims, first[0]))} is already certified over "
                        f"{Timespan(first[2], first[3])} (dataset {first[1]})."
                    )
                rows = [
                    (rec.id, r.id, coll.id, timespan.begin, timespan.end, *key)
                    for r, key in zip(type_refs, keys)
                ]
                try:
                    with self._db.transaction(savepoint=True) as inner:
                        self._db.insert_many(inner, calibs, _CALIB_COLUMNS + tuple(dims), rows)
                except ConstraintError as err:
                    raise ConflictingDefinitionError(
                        f"Validity range conflict certifying {name!r} into {collection!r} over {timespan}: "
                        f"{err.detail}"
                    ) from None

    def _overlapping(
        self,
        conn: sa.Connection,
        calibs: sa.Table,
        type_id: int,
        collection_id: int,
        dims: Sequence[str],
        keys: Sequence[tuple[Any, ...]] | None,
        timespan: Timespan,
    ) -> list[tuple[Any, ...]]:
        """Rows (key, dataset_id, begin, end, row id) whose validity overlaps ``timespan``."""
        base = sa.select(
            *[calibs.c[d] for d in dims],
            calibs.c.dataset_id,
            calibs.c.validity_begin,
            calibs.c.validity_end,
            calibs.c.id,
        ).where(
            calibs.c.dataset_type_id == type_id,
            calibs.c.collection_id == collection_id,
            timespans_overlap((calibs.c.validity_begin, calibs.c.validity_end), timespan),
        )
        out = []
        n = len(dims)
        if keys is None or not dims:
            batches: list[Any] = [None]
        else:
            batches = list(self._db.batches(list(keys), per_item=n))
        for batch in batches:
            stmt = base
            if batch is not None:
                stmt = stmt.where(sa.tuple_(*[calibs.c[d] for d in dims]).in_(list(batch)))
            for row in conn.execute(stmt):
                out.append((tuple(row[:n]), row[n], row[n + 1], row[n + 2], row[n + 3]))
        return out

    def decertify(
        self,
        collection: str,
        dataset_type: str | DatasetType,
        timespan: Timespan,
        data_ids: Iterable[DataCoordinate | Mapping[str, Any]] | None = None,
    ) -> None:
        """Remove a time range from the validity of certified datasets (punching holes).

        Parameters
        ----------
        collection, dataset_type, timespan, data_ids
            As for `Registry.decertify`, which documents the errors.
        """
        name = dataset_type if isinstance(dataset_type, str) else dataset_type.name
        with self._db.transaction() as conn:
            coll, rec, calibs = self._calib_target(collection, name)
            dims = rec.dataset_type.dimensions.required
            keys = None
            if data_ids is not None:
                keys = [self._standardize(rec.dataset_type.dimensions, d).required_values for d in data_ids]
            rows = self._overlapping(conn, calibs, rec.id, coll.id, dims, keys, timespan)
            if not rows:
                return
            conn.execute(sa.delete(calibs).where(calibs.c.id.in_([r[4] for r in rows])))
            new_rows = [
                (rec.id, as_dataset_id(dataset_id), coll.id, piece.begin, piece.end, *key)
                for key, dataset_id, begin, end, _ in rows
                for piece in Timespan(begin, end).difference(timespan)
            ]
            self._db.insert_many(conn, calibs, _CALIB_COLUMNS + tuple(dims), new_rows)

    # --- removal -----------------------------------------------------------------------

    def remove(self, refs: Iterable[DatasetRef]) -> None:
        """Delete datasets from the registry (and every collection); see `Registry.remove_datasets`.

        Parameters
        ----------
        refs
            The datasets.
        """
        ids = [r.id for r in refs]
        try:
            with self._db.transaction() as conn:
                for chunk in self._db.batches(ids):
                    conn.execute(sa.delete(self._dataset).where(self._dataset.c.id.in_(list(chunk))))
        except sa.exc.IntegrityError as err:
            raise OrphanedRecordError(
                f"Datasets still have files in the datastore ({' '.join(str(err.orig).split())}); remove them "
                "through the Butler (prune_datasets/remove_datasets), which deletes the files too."
            ) from None

    # --- counting ----------------------------------------------------------------------

    def count_by_run(self, runs: Sequence[CollectionRecord]) -> dict[str, dict[str, int]]:
        """Count the datasets of RUN collections per dataset type (one GROUP BY statement).

        Parameters
        ----------
        runs
            The RUN collections' records.

        Returns
        -------
        dict[str, dict[str, int]]
            ``{run: {dataset type: count}}`` (see `Registry.count_datasets`).
        """
        by_id = {r.id: r.name for r in runs}
        out: dict[str, dict[str, int]] = {r.name: {} for r in runs}
        if not by_id:
            return out
        d = self._dataset
        stmt = (
            sa.select(d.c.run_id, d.c.dataset_type_id, sa.func.count())
            .where(d.c.run_id.in_(list(by_id)))
            .group_by(d.c.run_id, d.c.dataset_type_id)
        )
        with self._db.transaction(write=False) as conn:
            for run_id, type_id, n in conn.execute(stmt):
                out[by_id[run_id]][self._types.by_id(type_id).dataset_type.name] = int(n)
        return out


def _group_by_type(refs: Iterable[DatasetRef]) -> dict[str, list[DatasetRef]]:
    out: dict[str, list[DatasetRef]] = {}
    for r in refs:
        out.setdefault(r.dataset_type.name, []).append(r)
    return out
