"""Registering dataset types and the per-dimension-group dataset tables they use."""

from __future__ import annotations

import dataclasses
import fnmatch
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..datasets import DatasetType
from ..dimensions import DimensionGroup, DimensionUniverse
from ..errors import (
    ConflictingDefinitionError,
    DatasetTypeError,
    MissingDatasetTypeError,
    OrphanedRecordError,
)
from ..schema import calibs_table, tags_table
from ..schema.views import create_dataset_view

if TYPE_CHECKING:
    from ._database import Database

_MAX_IDENTIFIER = 63


@dataclasses.dataclass(frozen=True)
class DatasetTypeRecord:
    """A registered dataset type with its database ID and tables."""

    dataset_type: DatasetType
    id: int
    tags: sa.Table
    calibs: sa.Table | None


def _table_name(prefix: str, group: DimensionGroup, group_id: int) -> str:
    name = f"{prefix}_{'_'.join(group.required)}" if group.required else f"{prefix}_empty"
    if len(name) > _MAX_IDENTIFIER - 16:  # leave room for constraint/index suffixes
        name = f"{prefix}_{group_id:05d}"
    return name


class DatasetTypeManager:
    """Registers and looks up dataset types; creates their tables on first use.

    The engine of `Registry`'s dataset-type methods.

    Parameters
    ----------
    db : `Database`
        The registry's database.
    universe : `DimensionUniverse`
        The repository's dimension universe.
    metadata : `sqlalchemy.MetaData`
        The registry's metadata; per-dimension-group tables are added to it.
    tables : `dict` [`str`, `sqlalchemy.Table`]
        The registry's tables by name.
    """

    def __init__(
        self, db: Database, universe: DimensionUniverse, metadata: sa.MetaData, tables: dict[str, sa.Table]
    ) -> None:
        self._db = db
        self._universe = universe
        self._metadata = metadata
        self._tables = tables
        self._records: dict[str, DatasetTypeRecord] = {}
        self._by_id: dict[int, DatasetTypeRecord] = {}

    def refresh(self) -> None:
        """Reload every dataset type from the database."""
        table = self._tables["dataset_type"]
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(sa.select(table)).all()
        self._records.clear()
        self._by_id.clear()
        for r in rows:
            self._remember(r)

    def _remember(self, row: sa.Row) -> DatasetTypeRecord:
        group = self._universe.conform(row.dimensions.split())
        dt = DatasetType(row.name, group, row.storage_class, is_calibration=row.is_calibration)
        tags = tags_table(self._metadata, row.tag_table, group)
        calibs = (
            calibs_table(self._metadata, row.calib_table, group, self._db.dialect == "postgresql")
            if row.calib_table
            else None
        )
        rec = DatasetTypeRecord(dt, row.id, tags, calibs)
        self._records[dt.name] = rec
        self._by_id[rec.id] = rec
        return rec

    def get(self, name: str | DatasetType) -> DatasetTypeRecord:
        """Return the registered dataset type called ``name`` (reloading once if unknown).

        Parameters
        ----------
        name
            The name, or a `DatasetType` whose name is used.

        Returns
        -------
        DatasetTypeRecord
            The dataset type with its ID and tables (`MissingDatasetTypeError`,
            suggesting close names, if none).
        """
        if isinstance(name, DatasetType):
            name = name.name
        rec = self._records.get(name)
        if rec is None:
            self.refresh()
            rec = self._records.get(name)
            if rec is None:
                import difflib

                close = difflib.get_close_matches(name, list(self._records), n=3)
                hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                raise MissingDatasetTypeError(f"Dataset type {name!r} is not registered.{hint}")
        return rec

    def by_id(self, dataset_type_id: int) -> DatasetTypeRecord:
        """Return the registered dataset type with a database ID (reloading on a miss).

        Parameters
        ----------
        dataset_type_id : `int`
            The ``dataset_type.id`` value.

        Returns
        -------
        record : `DatasetTypeRecord`
            The dataset type with its ID and tables.
        """
        rec = self._by_id.get(dataset_type_id)
        if rec is None:
            self.refresh()
            rec = self._by_id[dataset_type_id]
        return rec

    def query(self, pattern: str | Iterable[str] = "*") -> list[DatasetType]:
        """Return the registered dataset types whose names match glob pattern(s), sorted by name.

        Reloads the dataset types first (one SELECT).

        Parameters
        ----------
        pattern
            As for `Registry.query_dataset_types`.

        Returns
        -------
        list [DatasetType]
            The matching definitions.
        """
        self.refresh()
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        return [
            r.dataset_type
            for n, r in sorted(self._records.items())
            if any(fnmatch.fnmatchcase(n, p) for p in patterns)
        ]

    def all(self) -> list[DatasetTypeRecord]:
        """Return every registered dataset type record (after a reload).

        Returns
        -------
        records : `list` [`DatasetTypeRecord`]
            All registered dataset types.
        """
        self.refresh()
        return list(self._records.values())

    def register(self, dataset_type: DatasetType) -> bool:
        """Register a dataset type; True if new, False if an identical one existed.

        Creates the tags (and calibs) table and analyst view of its dimension
        group if missing, under a registration lock, in one transaction.
        `Registry.register_dataset_type` documents the errors.

        Parameters
        ----------
        dataset_type
            The definition.

        Returns
        -------
        bool
            True if this call registered it.
        """
        if dataset_type.is_component:
            raise DatasetTypeError(
                f"Component dataset type {dataset_type.name!r} cannot be registered; register "
                f"{dataset_type.parent_name!r} instead."
            )
        if dataset_type.dimensions.universe != self._universe:
            raise DatasetTypeError(f"Dataset type {dataset_type.name!r} uses a different dimension universe.")
        table = self._tables["dataset_type"]
        by_name = sa.select(table).where(table.c.name == dataset_type.name)
        with self._db.transaction() as conn:
            row = conn.execute(by_name).first()
            if row is None:
                # Another process may be registering the same type (or another type of the same
                # dimension group, whose table and view this one shares) right now: take the
                # registration lock, then look again.
                self._lock_registrations(conn)
                row = conn.execute(by_name).first()
            if row is not None:
                self._check_same(dataset_type, self._remember(row).dataset_type)
                return False
            group = dataset_type.dimensions
            group_id = self._group_id(conn, group)
            tag_name = _table_name("dataset_tags", group, group_id)
            calib_name = (
                _table_name("dataset_calibs", group, group_id) if dataset_type.is_calibration else None
            )
            tags = tags_table(self._metadata, tag_name, group)
            tags.create(conn, checkfirst=True)
            # Analyst view over this dimension group's table (schema/views.py; docs/sql.md).
            create_dataset_view(conn, self._metadata.tables, tags)
            if calib_name is not None:
                calibs_table(self._metadata, calib_name, group, self._db.dialect == "postgresql").create(
                    conn, checkfirst=True
                )
            inserted = conn.execute(
                self._db.insert(table)
                .values(
                    name=dataset_type.name,
                    storage_class=dataset_type.storage_class,
                    dimension_group_id=group_id,
                    dimensions=" ".join(group.names),
                    is_calibration=dataset_type.is_calibration,
                    tag_table=tag_name,
                    calib_table=calib_name,
                )
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(table.c.id)
            ).scalar()
            rec = self._remember(conn.execute(by_name).one())
            if inserted is None:  # registered by another connection after all
                self._check_same(dataset_type, rec.dataset_type)
                return False
        return True

    @staticmethod
    def _check_same(given: DatasetType, existing: DatasetType) -> None:
        if existing != given:
            raise ConflictingDefinitionError(
                f"Dataset type {given.describe()} conflicts with the registered definition "
                f"{existing.describe()}."
            )

    def _lock_registrations(self, conn: sa.Connection) -> None:
        """Serialise dataset-type registrations across processes until the transaction ends.

        Registering creates tables and views (DDL), which PostgreSQL cannot
        make idempotent under concurrency by row-level conflict handling, so
        registrations in one schema take a transaction-scoped advisory lock:
        a second process waits for the first to commit, then finds its rows.
        SQLite needs nothing: writers already hold the database lock from
        ``BEGIN IMMEDIATE``.

        Parameters
        ----------
        conn
            The connection of the current (write) transaction.
        """
        if self._db.dialect != "postgresql":
            return
        key = zlib.crc32(f"chamberlain.dataset_type:{self._db.namespace or ''}".encode())
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.literal(key, sa.BigInteger()))))

    def _group_id(self, conn: sa.Connection, group: DimensionGroup) -> int:
        table = self._tables["dimension_group"]
        key = " ".join(group.required)
        select = sa.select(table.c.id).where(table.c.names == key)
        found = conn.execute(select).scalar()
        if found is None:
            # Insert-or-read: a concurrent insert of the same group is skipped, not an error.
            conn.execute(
                self._db.insert(table).values(names=key).on_conflict_do_nothing(index_elements=["names"])
            )
            found = conn.execute(select).scalar_one()
        return int(found)

    def remove(self, name: str) -> None:
        """Remove a dataset type that has no datasets; see `Registry.remove_dataset_type`.

        Parameters
        ----------
        name
            The dataset type name.
        """
        rec = self.get(name)
        dataset = self._tables["dataset"]
        with self._db.transaction() as conn:
            n = conn.execute(
                sa.select(sa.func.count()).select_from(dataset).where(dataset.c.dataset_type_id == rec.id)
            ).scalar()
            if n:
                raise OrphanedRecordError(
                    f"Dataset type {name!r} still has {n} dataset(s); remove them before the dataset type."
                )
            conn.execute(
                sa.delete(self._tables["dataset_type"]).where(self._tables["dataset_type"].c.id == rec.id)
            )
        self._records.pop(name, None)
        self._by_id.pop(rec.id, None)
