"""The `Butler`: one object to create or open a repository, put, get, ingest and remove datasets.

A butler joins the `~chamberlain.registry.Registry` (what exists, in SQL) and
the `~chamberlain.datastore.FileDatastore` (the files, under the repository
root). Every write runs in one registry transaction that the datastore joins:
files written in a transaction that rolls back are deleted, and files removed
in one are deleted only after it commits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import uuid_utils.compat
import yaml

from chamberlain._butler_associations import ButlerAssociations
from chamberlain._butler_data_ids import DataIdRewriter, RecordCache
from chamberlain._butler_handles import DatasetExistence, DeferredDatasetHandle
from chamberlain._butler_queries import ButlerQueries
from chamberlain._butler_transfers import ButlerTransfers
from chamberlain.datasets import DatasetRef, DatasetType
from chamberlain.datastore import FileDataset, FileDatastore, VerifyReport, verify_datastore
from chamberlain.dimensions import DataCoordinate, DimensionGroup
from chamberlain.errors import (
    ChamberlainError,
    CollectionTypeError,
    ConflictingDefinitionError,
    DatasetNotFoundError,
    MissingCollectionError,
    ReadOnlyError,
)
from chamberlain.geometry import Timespan
from chamberlain.registry import CollectionType, Registry
from chamberlain.registry.datastore_records import DatastoreRecords
from chamberlain.repository import (
    CONFIG_NAME,
    SQLITE_NAME,
    RepositoryConfig,
    check_new_root,
    write_preexisting,
)

__all__ = ["Butler", "ButlerUsageError", "DatasetExistence", "DeferredDatasetHandle", "FileDataset"]

#: Optional datastore settings in the repository root: templates, formatters, checksum.
DATASTORE_CONFIG_NAME = "datastore.yaml"
_REPOSITORY_FILES = frozenset(
    {
        CONFIG_NAME,
        DATASTORE_CONFIG_NAME,
        SQLITE_NAME,
        *(SQLITE_NAME + s for s in ("-wal", "-shm", "-journal")),
    }
)


class ButlerUsageError(ChamberlainError, ValueError):
    """A butler method was called with options that do not fit together."""


class Butler(ButlerQueries, ButlerTransfers, ButlerAssociations):
    """A repository: registry plus datastore.

    Parameters
    ----------
    root
        The repository directory (made by `Butler.create`).
    collections
        Default collections searched by `get`, `find_dataset` and friends;
        ``[run]`` when only ``run`` is given.
    run
        Default RUN for `put` and `ingest`; registered if missing.
    writeable
        Open for writing; defaults to True when ``run`` is given, else False.
    **defaults
        Default data ID values (``instrument="SimCam"``).

    Raises
    ------
    ConfigError
        If ``root`` is not a repository.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        collections: str | Sequence[str] | None = None,
        run: str | None = None,
        writeable: bool | None = None,
        _registry: Registry | None = None,
        **defaults: Any,
    ) -> None:
        self.config = RepositoryConfig.load(root)
        if writeable is None:
            writeable = run is not None
        self.writeable = writeable
        self.registry = _registry or Registry.open(
            self.config.url, namespace=self.config.namespace, writeable=writeable
        )
        try:
            self._records = DatastoreRecords(self.registry)
            self._lookup = RecordCache(self.registry)
            self.datastore = FileDatastore(
                self.config.root,
                self._records,
                record_lookup=self._lookup,
                **_datastore_options(self.config.root),
            )
            self._rewriter = DataIdRewriter(self.registry)
            self.run = run
            if isinstance(collections, str):
                collections = [collections]
            self.collections: list[str] = (
                list(collections) if collections is not None else ([run] if run else [])
            )
            self.defaults = dict(defaults)
            if run is not None:
                self._check_writeable("register a run")
                self.registry.register_run(run)
        except BaseException:
            self.registry.close()
            raise

    @classmethod
    def create(
        cls,
        root: str | os.PathLike[str],
        db: str | None = None,
        namespace: str | None = None,
        *,
        templates: Mapping[str, str] | None = None,
        formatters: Mapping[str, str] | None = None,
        checksum: bool = False,
        run: str | None = None,
        allow_existing_files: bool = False,
    ) -> Butler:
        """Create a new repository at ``root`` and open it for writing.

        Parameters
        ----------
        root
            The directory (created if missing).
        db
            A PostgreSQL URL; by default a SQLite file inside ``root``.
        namespace
            PostgreSQL schema for the tables.
        templates, formatters, checksum
            Datastore settings, saved to ``datastore.yaml`` in the root: file
            templates and formatter names by dataset type or storage class
            name, and whether to record checksums.
        run
            Default run of the returned butler.
        allow_existing_files
            Accept a directory that already holds files: they are listed in
            ``chamberlain-preexisting.json`` as not owned, and `verify` never
            deletes them.

        Raises
        ------
        ConfigError
            If ``root`` is ``''``, already holds a repository, is inside one,
            or is not empty (without ``allow_existing_files``); see
            `~chamberlain.repository.check_new_root`.
        """
        existing = check_new_root(root, allow_existing_files=allow_existing_files)
        path = Path(root).absolute()
        config = RepositoryConfig(path, db, namespace)
        path.mkdir(parents=True, exist_ok=True)
        write_preexisting(path, existing)
        options: dict[str, Any] = {}
        if templates:
            options["templates"] = dict(templates)
        if formatters:
            options["formatters"] = dict(formatters)
        if checksum:
            options["checksum"] = True
        if options:
            (path / DATASTORE_CONFIG_NAME).write_text(yaml.safe_dump(options, sort_keys=False))
        registry = Registry.create(config.url, namespace=namespace)
        config.save()
        return cls(path, run=run, writeable=True, _registry=registry)

    def close(self) -> None:
        """Close the database connection."""
        self.registry.close()

    def __enter__(self) -> Butler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Butler({str(self.config.root)!r}, collections={self.collections}, run={self.run!r})"

    # --- helpers ---------------------------------------------------------------------------

    def _check_writeable(self, what: str) -> None:
        if not self.writeable:
            raise ReadOnlyError(f"Cannot {what}: the butler for {self.config.root} was opened read-only.")

    def _parent_type(self, dataset_type: str | DatasetType) -> tuple[DatasetType, str | None]:
        if isinstance(dataset_type, DatasetType):
            if dataset_type.is_component:
                return self.registry.get_dataset_type(dataset_type.parent_name), dataset_type.component
            return dataset_type, None
        parent, _, component = dataset_type.partition(".")
        return self.registry.get_dataset_type(parent), component or None

    def _data_id(
        self, group: DimensionGroup, data_id: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
    ) -> DataCoordinate:
        if isinstance(data_id, DataCoordinate) and not kwargs and data_id.dimensions == group:
            return data_id
        if type(data_id) is dict and not kwargs and not self.defaults:
            plain = self._rewriter.plain_required(group, data_id)
            if plain is not None:
                return DataCoordinate.from_required_values(group, plain)
        values = dict(data_id or {})
        values.update(kwargs)
        if self._rewriter.needs_rewrite(values):
            for key, value in self.defaults.items():
                values.setdefault(key, value)
            values = self._rewriter.rewrite(group, values)
        return DataCoordinate.standardize(values, dimensions=group, defaults=self.defaults)

    def _collections(self, collections: str | Sequence[str] | None) -> Sequence[str]:
        if collections is None:
            if not self.collections:
                raise MissingCollectionError(
                    "No collections given and the butler has no default collections; pass collections=..."
                )
            return self.collections
        return [collections] if isinstance(collections, str) else collections

    def _run(self, run: str | None) -> str:
        run = run or self.run
        if run is None:
            raise MissingCollectionError("No run given and the butler has no default run; pass run=...")
        return run

    # --- finding ---------------------------------------------------------------------------

    def find_dataset(
        self,
        dataset_type: str | DatasetType,
        data_id: Mapping[str, Any] | None = None,
        *,
        collections: str | Sequence[str] | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> DatasetRef | None:
        """The first dataset of a type and data ID in the collections, or None (one SQL query).

        A component name (``calexp.wcs``) finds the parent dataset.
        """
        parent, _ = self._parent_type(dataset_type)
        coord = self._data_id(parent.dimensions, data_id, kwargs)
        return self.registry.find_dataset(
            parent, coord, collections=self._collections(collections), timespan=timespan
        )

    def _resolve(
        self,
        dataset_type: str | DatasetType | DatasetRef,
        data_id: Mapping[str, Any] | None,
        collections: str | Sequence[str] | None,
        timespan: Timespan | None,
        kwargs: Mapping[str, Any],
    ) -> tuple[DatasetRef, str | None]:
        if isinstance(dataset_type, DatasetRef):
            return dataset_type, None
        parent, component = self._parent_type(dataset_type)
        coord = self._data_id(parent.dimensions, data_id, kwargs)
        searched = self._collections(collections)
        ref = self.registry.find_dataset(parent, coord, collections=searched, timespan=timespan)
        if ref is None:
            raise DatasetNotFoundError(
                f"No {parent.name!r} dataset with data ID {coord} in collections {list(searched)}"
                f"{'' if timespan is None else f' valid at {timespan}'}."
            )
        return ref, component

    def get(
        self,
        dataset_type: str | DatasetType | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        collections: str | Sequence[str] | None = None,
        storage_class: str | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> Any:
        """Find a dataset and read it (one SQL query for the dataset, one for its file record).

        ``calexp.wcs`` reads only the component; ``parameters={"bbox": box}``
        reads only the pixels in the box.

        Raises
        ------
        DatasetNotFoundError
            If no dataset matches.
        """
        ref, component = self._resolve(dataset_type, data_id, collections, timespan, kwargs)
        return self.datastore.get(
            ref, component=component, parameters=parameters, storage_class=storage_class
        )

    def get_deferred(
        self,
        dataset_type: str | DatasetType | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        collections: str | Sequence[str] | None = None,
        storage_class: str | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> DeferredDatasetHandle:
        """Find a dataset now (SQL), read nothing until the handle's ``get``.

        Raises
        ------
        DatasetNotFoundError
            If no dataset matches.
        """
        ref, component = self._resolve(dataset_type, data_id, collections, timespan, kwargs)
        return DeferredDatasetHandle(self, ref, component, parameters, storage_class)

    def exists(
        self,
        dataset_type: str | DatasetType | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        full_check: bool = True,
        collections: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> DatasetExistence:
        """How much of a dataset exists (see `DatasetExistence`); ``full_check`` also looks at the file."""
        try:
            ref, _ = self._resolve(dataset_type, data_id, collections, None, kwargs)
        except DatasetNotFoundError:
            return DatasetExistence.UNRECOGNIZED
        result = DatasetExistence.UNRECOGNIZED
        if isinstance(dataset_type, DatasetRef):
            if self.registry.get_datasets([ref.id]):
                result |= DatasetExistence.RECORDED
        else:
            result |= DatasetExistence.RECORDED
        if self.datastore.knows(ref):
            result |= DatasetExistence.DATASTORE
            if full_check and self.datastore.exists(ref):
                result |= DatasetExistence._ARTIFACT
        return result

    def get_uri(
        self,
        dataset_type: str | DatasetType | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        predict: bool = False,
        run: str | None = None,
        collections: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> str:
        """Absolute path of a dataset's file.

        With ``predict=True`` a dataset not yet stored gets the path a put into
        ``run`` would use, with ``#predicted`` appended.

        Raises
        ------
        DatasetNotFoundError
            If the dataset is not found (and ``predict`` is False).
        """
        try:
            ref, _ = self._resolve(dataset_type, data_id, collections, None, kwargs)
            if not predict or self.datastore.knows(ref):
                return self.datastore.uri(ref)
        except (DatasetNotFoundError, MissingCollectionError):
            if not predict:
                raise
            assert not isinstance(dataset_type, DatasetRef)
            parent, _ = self._parent_type(dataset_type)
            coord = self._data_id(parent.dimensions, data_id, kwargs)
            ref = DatasetRef(parent, coord, self._run(run), uuid.UUID(int=0))
        return f"{self.datastore.root}/{self.datastore.predict_path(ref)}#predicted"

    # --- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction over registry and datastore.

        If the block raises, the registry rolls back and files written in it
        are deleted; files removed in it are deleted only once it commits.
        """
        with self.registry.transaction():
            yield

    def put(
        self,
        obj: Any,
        dataset_type: str | DatasetType | DatasetRef,
        data_id: Mapping[str, Any] | None = None,
        *,
        run: str | None = None,
        **kwargs: Any,
    ) -> DatasetRef:
        """Store ``obj`` as a new dataset (registry row and file, in one transaction).

        Parameters
        ----------
        obj
            The object; its type must match the dataset type's storage class.
        dataset_type
            Registered dataset type (or name), or a resolved `DatasetRef` whose
            ID is kept.
        data_id, **kwargs
            The data ID (friendly forms accepted).
        run
            The RUN; the butler's default run if not given.

        Raises
        ------
        ConflictingDefinitionError
            If the run already has a dataset of this type and data ID.
        ReadOnlyError
            If the butler is read-only.
        FormatterError
            If ``obj`` has the wrong type for the storage class.
        """
        self._check_writeable("put")
        if isinstance(dataset_type, DatasetRef):
            ref = dataset_type
        else:
            parent, component = self._parent_type(dataset_type)
            if component is not None:
                raise ButlerUsageError(f"Cannot put component dataset type {dataset_type!r}; put the parent.")
            coord = self._data_id(parent.dimensions, data_id, kwargs)
            ref = DatasetRef(parent, coord, self._run(run), uuid_utils.compat.uuid7())
        with self._records.transaction():  # the registry's transaction
            self._records.insert_dataset(ref)
            self.datastore.put(obj, ref)
        return ref

    def ingest(
        self,
        *datasets: FileDataset,
        transfer: str | None = "auto",
        record_validation_info: bool = True,
        skip_existing: bool = False,
    ) -> list[DatasetRef]:
        """Ingest files that hold datasets, in one transaction (bulk inserts).

        Parameters
        ----------
        *datasets
            Files with the resolved refs they hold; their IDs are kept.
        transfer
            ``auto``, ``direct``, ``copy``, ``move``, ``hardlink``, ``symlink``,
            ``relsymlink``, ``link`` or None (see `FileDatastore.ingest`).
        record_validation_info
            Record file sizes (and checksums if enabled).
        skip_existing
            Leave out datasets whose IDs the datastore already knows.

        Raises
        ------
        ConflictingDefinitionError
            If a ref appears twice, or a dataset already exists (without ``skip_existing``).
        IngestError
            If a file is missing or cannot be transferred.
        """
        self._check_writeable("ingest")
        todo = list(datasets)
        refs = [r for d in todo for r in d.ref_list]
        seen: set[uuid.UUID] = set()
        for ref in refs:
            if ref.id in seen:
                raise ConflictingDefinitionError(f"Dataset {ref} appears more than once in one ingest.")
            seen.add(ref.id)
        if skip_existing:
            known = set(self._records.fetch_many(seen))
            todo = [d for d in todo if not all(r.id in known for r in d.ref_list)]
            refs = [r for d in todo for r in d.ref_list]
        for run in sorted({r.run for r in refs}):
            self.registry.register_run(run)
        with self.registry.transaction():
            self.registry.import_datasets(refs)
            self.datastore.ingest(todo, transfer, record_validation_info=record_validation_info)
        return refs

    # --- removal ---------------------------------------------------------------------------

    def remove_datasets(
        self,
        refs: Iterable[DatasetRef],
        *,
        disassociate: bool = False,
        unstore: bool = False,
        purge: bool = False,
        tags: Sequence[str] = (),
    ) -> None:
        """Remove datasets: from TAGGED collections, from the datastore, or entirely.

        Parameters
        ----------
        refs
            The datasets.
        disassociate
            Remove them from the TAGGED collections ``tags``.
        unstore
            Delete their files (after the transaction commits); registry entries stay.
        purge
            Delete files and registry entries (implies ``unstore``).
        tags
            TAGGED collections for ``disassociate``.

        Raises
        ------
        ButlerUsageError
            If no action is asked for, or ``disassociate`` has no ``tags``.
        """
        self._check_writeable("remove datasets")
        if not (disassociate or unstore or purge):
            raise ButlerUsageError("remove_datasets needs disassociate=True, unstore=True or purge=True.")
        if disassociate and not tags:
            raise ButlerUsageError(
                "disassociate=True needs the TAGGED collections to remove from (tags=...)."
            )
        refs = list(refs)
        with self.registry.transaction():
            for tag in tags:
                self.registry.disassociate(tag, refs)
            if unstore or purge:
                self.datastore.trash(refs)
            if purge:
                self.registry.remove_datasets(refs)

    def remove_runs(self, names: str | Iterable[str], *, unlink_from_chains: bool = False) -> None:
        """Remove RUN collections with their datasets and files (files go after commit).

        Raises
        ------
        CollectionTypeError
            If a name is not a RUN.
        OrphanedRecordError
            If a run is in a chain and ``unlink_from_chains`` is False.
        """
        self._check_writeable("remove runs")
        names = [names] if isinstance(names, str) else sorted(names)
        for name in names:
            kind = self.registry.get_collection_type(name)
            if kind is not CollectionType.RUN:
                raise CollectionTypeError(f"Collection {name!r} is {kind.name}, not a RUN.")
        with self.registry.transaction():
            for name in names:
                if unlink_from_chains:
                    for parent in self.registry.get_collection_parent_chains(name):
                        self.registry.remove_from_collection_chain(parent, name)
                ids = self._records.dataset_ids_in_run(name)
                self.datastore.trash([_IdOnly(i) for i in ids])  # type: ignore[misc]
                self.registry.remove_collection(name)

    # --- maintenance -----------------------------------------------------------------------

    def verify(self, *, fix: bool = False, checksums: bool = True) -> VerifyReport:
        """Compare the files under the root with the datastore records (see `verify_datastore`).

        Parameters
        ----------
        fix
            Repair what can be repaired; only files under the folders of the
            registered RUN collections (and stale temporary files) are deleted.
        checksums
            Recompute recorded checksums.
        """
        if fix:
            self._check_writeable("fix the datastore")
        runs = self.registry.query_collections("*", [CollectionType.RUN])
        return verify_datastore(
            self.datastore, fix=fix, checksums=checksums, ignore=_REPOSITORY_FILES, runs=runs
        )

    def empty_trash(self) -> list[str]:
        """Finish removals a crashed process left in the trash; returns the paths deleted."""
        self._check_writeable("empty the trash")
        return self.datastore.empty_trash()


@dataclasses.dataclass(frozen=True)
class _IdOnly:
    id: uuid.UUID


def _datastore_options(root: Path) -> dict[str, Any]:
    return RepositoryConfig.load(root).datastore_options()
