"""Storage of datastore records and of the datastore trash, over the registry's database.

`DatastoreRecords` keeps the rows of the ``datastore_record`` table (one per
file, or per component file, of a dataset) and of the ``datastore_trash``
table (files whose records were deleted and that go once the deleting
transaction commits). It satisfies the datastore's ``RecordStorage`` protocol
by duck typing: the registry never imports the datastore.

It also holds the registry hook the butler's ``put`` uses: `insert_dataset`
inserts one dataset (its ``dataset`` and tags rows) with statements compiled
once, which is what makes a single put cheap on SQLite.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import astropy.time
import sqlalchemy as sa

from ..datasets import DatasetRef
from ..errors import ConflictingDefinitionError, ConstraintError, DataIdValueError
from ..geometry.timespan import time_to_ns
from .collections import CollectionType
from .registry import Registry

__all__ = ["DatastoreRecords"]

_COLUMNS = ("dataset_id", "component", "path", "formatter", "storage_class", "checksum", "file_size")
Row = tuple[uuid.UUID, str, str, str, str, str | None, int | None]

#: TAI - UTC in nanoseconds (37 s since 2017), measured once so that a put needs no astropy call.
_TAI_OFFSET_NS = round((time_to_ns(astropy.time.Time.now()) - time.time_ns()) / 1e9) * 1_000_000_000


class DatastoreRecords:
    """Datastore records and trash of one registry.

    Parameters
    ----------
    registry
        The registry whose database holds the tables.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._db = registry._db
        self._table = registry._tables["datastore_record"]
        self._trash = registry._tables["datastore_trash"]
        self._sqlite = self._db.dialect == "sqlite"
        table = self._table
        self._fetch = self._db.prepare(
            sa.select(*[table.c[c] for c in _COLUMNS]).where(table.c.dataset_id == sa.bindparam("id"))
        )

    # --- transactions ----------------------------------------------------------------------

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """Open a nestable registry transaction (the registry database's; joins an open one).

        Returns
        -------
        contextlib.AbstractContextManager
            As for ``RecordStorage.transaction`` of `chamberlain.datastore`.
        """
        return self._db.transaction()

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current outermost transaction commits.

        Parameters
        ----------
        callback
            Called with no arguments; `RuntimeError` if no transaction is open.
        """
        if not self._db.in_transaction:
            raise RuntimeError("on_commit needs an open transaction.")
        self._db.on_commit.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current outermost transaction rolls back.

        Parameters
        ----------
        callback
            As for `on_commit`.
        """
        if not self._db.in_transaction:
            raise RuntimeError("on_rollback needs an open transaction.")
        self._db.on_rollback.append(callback)

    # --- records -------------------------------------------------------------------------------

    def insert(self, rows: Sequence[Row], *, replace: bool = False) -> None:
        """Insert records; with ``replace`` rows with the same (dataset_id, component) are overwritten.

        One row inside a transaction on SQLite goes straight to the driver;
        more rows are inserted in bulk.

        Parameters
        ----------
        rows, replace
            As for ``RecordStorage.insert``: record tuples in the column order
            of ``datastore_record``, and whether to overwrite.
        """
        if not rows:
            return
        with self._db.transaction() as conn:
            if replace:
                self._db.insert_many(
                    conn, self._table, _COLUMNS, rows, on_conflict="update", keys=("dataset_id", "component")
                )
            else:
                self._db.insert_many(conn, self._table, _COLUMNS, rows)

    def fetch(self, dataset_id: uuid.UUID) -> list[Row]:
        """Return the records of one dataset (one indexed SELECT; the driver directly on SQLite).

        Parameters
        ----------
        dataset_id
            The dataset's `uuid.UUID`.

        Returns
        -------
        list [tuple]
            Its record rows; empty if it has none.
        """
        return self._db.fetch_tuples(self._fetch, {"id": dataset_id})

    def fetch_many(self, dataset_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
        """Return the records of many datasets, by dataset ID (IDs without records are left out).

        SELECTs in batches sized by the backend's parameter limit.

        Parameters
        ----------
        dataset_ids
            `uuid.UUID` values.

        Returns
        -------
        dict [uuid.UUID, list [tuple]]
            The record rows of each dataset that has some.
        """
        out: dict[uuid.UUID, list[Row]] = {}
        table = self._table
        with self._db.transaction(write=False) as conn:
            for chunk in self._db.batches(list(dataset_ids)):
                stmt = sa.select(*[table.c[c] for c in _COLUMNS]).where(table.c.dataset_id.in_(list(chunk)))
                for row in conn.execute(stmt):
                    out.setdefault(row[0], []).append(tuple(row))
        return out

    def all_records(self) -> Iterator[Row]:
        """Iterate over every record (read in one query before the first is yielded).

        Yields
        ------
        row : `tuple`
            A record row.
        """
        table = self._table
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(sa.select(*[table.c[c] for c in _COLUMNS])).all()
        for row in rows:
            yield tuple(row)

    def delete_records(self, keys: Iterable[tuple[uuid.UUID, str]]) -> None:
        """Delete records by (dataset_id, component) without trashing their files (a DELETE per key).

        Parameters
        ----------
        keys
            ``(dataset_id, component)`` pairs.
        """
        table = self._table
        with self._db.transaction() as conn:
            for dataset_id, component in keys:
                conn.execute(
                    sa.delete(table).where(table.c.dataset_id == dataset_id, table.c.component == component)
                )

    def paths_in_use(self, paths: Iterable[str]) -> set[str]:
        """Return those of ``paths`` that some record still names (SELECTs in batches by the parameter limit).

        Parameters
        ----------
        paths
            Recorded paths (duplicates are fine).

        Returns
        -------
        set [str]
            The paths still named by a record.
        """
        found: set[str] = set()
        table = self._table
        with self._db.transaction(write=False) as conn:
            for chunk in self._db.batches(sorted(set(paths))):
                stmt = sa.select(table.c.path).where(table.c.path.in_(list(chunk))).distinct()
                found.update(r[0] for r in conn.execute(stmt))
        return found

    # --- trash -----------------------------------------------------------------------------------

    def move_to_trash(self, dataset_ids: Iterable[uuid.UUID]) -> int:
        """Copy the datasets' records into the trash and delete them (in the current transaction).

        Parameters
        ----------
        dataset_ids
            `uuid.UUID` values, handled in batches by the parameter limit.

        Returns
        -------
        int
            The number of records deleted.
        """
        table, trash = self._table, self._trash
        count = 0
        with self._db.transaction() as conn:
            for chunk in self._db.batches(list(dataset_ids)):
                ids = list(chunk)
                select = sa.select(table.c.path, table.c.dataset_id).where(table.c.dataset_id.in_(ids))
                conn.execute(trash.insert().from_select(["path", "dataset_id"], select))
                count += conn.execute(sa.delete(table).where(table.c.dataset_id.in_(ids))).rowcount
        return count

    def trash(self) -> list[tuple[int, str, uuid.UUID | None]]:
        """Return every trash entry (one SELECT).

        Returns
        -------
        list [tuple [int, str, uuid.UUID or None]]
            ``(trash id, path, dataset_id)`` rows.
        """
        trash = self._trash
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(sa.select(trash.c.id, trash.c.path, trash.c.dataset_id)).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def delete_trash(self, trash_ids: Iterable[int]) -> None:
        """Delete trash entries (after their files are gone), in batches by the parameter limit.

        Parameters
        ----------
        trash_ids
            The entries' IDs, as `trash` gives them.
        """
        trash = self._trash
        with self._db.transaction() as conn:
            for chunk in self._db.batches(list(trash_ids)):
                conn.execute(sa.delete(trash).where(trash.c.id.in_(list(chunk))))

    # --- registry hook for put -----------------------------------------------------------------

    def insert_dataset(self, ref: DatasetRef) -> None:
        """Insert one resolved dataset into its RUN (must run inside a transaction).

        On SQLite the two rows go in through the database's fast path
        (statements compiled once per table); elsewhere, and to explain any
        failure, this goes through `Registry.import_datasets`.

        Parameters
        ----------
        ref : `DatasetRef`
            The resolved dataset (its ID, run and data ID are stored as given).

        Raises
        ------
        ConflictingDefinitionError
            If the run already has a dataset of this type and data ID, or the ID exists.
        DataIdValueError
            If a data ID value has no dimension record.
        """
        registry = self._registry
        if not self._sqlite:
            try:
                with registry.transaction(savepoint=True):
                    registry.import_datasets([ref])
            except ConflictingDefinitionError as err:
                raise self._explain(ref, err) from None
            return
        rec = registry._dataset_types.get(ref.dataset_type)
        run = registry._collections.get(ref.run)
        if run.type is not CollectionType.RUN:
            registry.import_datasets([ref])  # raises the registry's error
            return
        dims = rec.dataset_type.dimensions.required
        conn = self._db.connection
        dataset = registry._tables["dataset"]
        try:
            self._db.insert_many(
                conn,
                dataset,
                ("id", "dataset_type_id", "run_id", "ingest_date"),
                [(ref.id, rec.id, run.id, time.time_ns() + _TAI_OFFSET_NS)],
            )
        except ConstraintError as err:
            raise self._explain(ref, err) from None
        try:
            self._db.insert_many(
                conn,
                rec.tags,
                ("dataset_type_id", "dataset_id", "collection_id", *dims),
                [(rec.id, ref.id, run.id, *ref.data_id.required_values)],
            )
        except ConstraintError as err:
            conn.execute(sa.delete(dataset).where(dataset.c.id == ref.id))
            raise self._explain(ref, err) from None

    def _explain(self, ref: DatasetRef, err: Exception) -> Exception:
        """Return the user-facing error for a failed insert of ``ref`` (its own rows already removed)."""
        registry = self._registry
        existing = registry.find_dataset(ref.dataset_type, ref.data_id, collections=[ref.run])
        if existing is not None:
            return ConflictingDefinitionError(
                f"A {ref.dataset_type.name!r} dataset with data ID {ref.data_id} already exists in run "
                f"{ref.run!r} (id {existing.id}); one dataset per dataset type and data ID per run."
            )
        if registry.get_datasets([ref.id]):
            return ConflictingDefinitionError(f"Dataset ID {ref.id} is already used by another dataset.")
        try:
            registry.expand_data_id(ref.data_id)
        except DataIdValueError as exc:
            return DataIdValueError(
                f"Cannot insert {ref.dataset_type.name!r} dataset with data ID {ref.data_id}: {exc}"
            )
        return ConflictingDefinitionError(
            f"Inserting {ref.dataset_type.name!r} dataset {ref.id} failed: {' '.join(str(err).split())}"
        )

    def dataset_ids_in_run(self, run: str) -> list[uuid.UUID]:
        """Return the IDs of every dataset in a RUN collection (one SELECT).

        Parameters
        ----------
        run : `str`
            The run's name.

        Returns
        -------
        ids : `list` [`uuid.UUID`]
            The dataset IDs.

        Raises
        ------
        MissingCollectionError
            If the run does not exist.
        """
        rec = self._registry._collections.get(run)
        dataset = self._registry._tables["dataset"]
        with self._db.transaction(write=False) as conn:
            return [r[0] for r in conn.execute(sa.select(dataset.c.id).where(dataset.c.run_id == rec.id))]
