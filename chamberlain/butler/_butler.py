"""The `Butler`: one object to create or open a repository, put, get, ingest, query and remove datasets.

A butler joins the `~chamberlain.registry.Registry` (what exists, in SQL) and
the `~chamberlain.datastore.FileDatastore` (the files, under the repository
root). Every write runs in one registry transaction that the datastore joins:
files written in a transaction that rolls back are deleted, and files removed
in one are deleted only after it commits.

The class is one concept, a facade, and is kept in one file: each public
method is a short piece of orchestration over the registry and the
datastore. What is a concept of its own lives beside it: friendly data IDs
(``_data_ids.py``), what `exists` and `get_deferred` return (``_handles.py``),
the ``ingest-files`` table reader (``_file_table.py``) and the repository
settings files (``_config.py``). The shared query options are declared once,
by the registry (`~chamberlain.registry.queries.QueryOptions`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import lsst.sphgeom as sg
import uuid_utils.compat

from chamberlain.datasets import DatasetIdGenEnum, DatasetRef, DatasetType, make_dataset_id
from chamberlain.datastore import (
    FileDataset,
    FileDatastore,
    VerifyReport,
    get_formatter,
    get_storage_class,
    verify_datastore,
)
from chamberlain.dimensions import DataCoordinate, DimensionGroup
from chamberlain.errors import (
    ButlerUsageError,
    CollectionTypeError,
    ConflictingDefinitionError,
    DatasetNotFoundError,
    DimensionNameError,
    IngestError,
    MissingCollectionError,
    OrphanedRecordError,
    ReadOnlyError,
    format_choices,
)
from chamberlain.geometry import Timespan
from chamberlain.registry import CollectionType, Registry
from chamberlain.registry.datastore_records import DatastoreRecords
from chamberlain.registry.queries.api import QueryOptions
from chamberlain.repository import RepositoryConfig, check_new_root, write_preexisting

from ._config import REPOSITORY_FILES, effective_config, write_datastore_options
from ._data_ids import DataIdRewriter
from ._file_table import read_file_table
from ._handles import DatasetExistence, DeferredDatasetHandle

if TYPE_CHECKING:
    from chamberlain.registry.queries.results import (
        DataCoordinateQueryResults,
        DatasetQueryResults,
        DimensionRecordQueryResults,
    )
    from chamberlain.transfers import ExportSummary, ImportSummary

__all__ = ["Butler"]

_GLOB = frozenset("*?[")


class Butler:
    """A repository: registry plus datastore.

    Opening a butler reads ``chamberlain.yaml`` (and ``datastore.yaml`` if
    present) and opens the registry database; it runs the SQL that checks the
    schema version, and registers ``run`` if it is missing.

    The ``collections`` of the query methods (and the butler's default
    collections when they are used) may hold glob patterns (``*``, ``?``,
    ``[...]``), as on the command line: each pattern stands for the
    collections whose names match it, in sorted order, and a pattern that
    matches nothing is an error. Lookups of one dataset (`get`,
    `find_dataset`) take exact names only, since their search order must be
    explicit.

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

    Other Parameters
    ----------------
    _registry
        An open registry to use instead of opening one (for `create`).

    Attributes
    ----------
    config : RepositoryConfig
        Where the repository's database is.
    registry : Registry
        The SQL registry.
    datastore : FileDatastore
        The files.
    writeable : bool
        Whether writes are allowed.
    run : str or None
        The default RUN.
    collections : list[str]
        The default collections.
    defaults : dict
        Default data ID values.

    Raises
    ------
    ConfigError
        If ``root`` is not a repository, or its ``datastore.yaml`` is invalid.
    ReadOnlyError
        If ``run`` is given with ``writeable=False``.
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
            self.datastore = FileDatastore(
                self.config.root,
                self._records,
                record_lookup=self.registry.lookup_dimension_record,
                **self.config.datastore_options(),
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

    # --- lifecycle -------------------------------------------------------------------------

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

        Makes the directory, writes ``chamberlain.yaml`` (and
        ``datastore.yaml`` when datastore settings are given), and creates
        the registry schema in one transaction.

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

        Returns
        -------
        Butler
            The new repository, open for writing.

        Raises
        ------
        ConfigError
            If ``root`` is ``''``, already holds a repository, is inside one,
            or is not empty (without ``allow_existing_files``); see
            `~chamberlain.repository.check_new_root`.
        SchemaVersionError
            If the database (or namespace) already holds a repository.
        DatabaseError
            If the database refuses a statement of the creation.
        """
        existing = check_new_root(root, allow_existing_files=allow_existing_files)
        path = Path(root).absolute()
        config = RepositoryConfig(path, db, namespace)
        path.mkdir(parents=True, exist_ok=True)
        write_preexisting(path, existing)
        write_datastore_options(path, templates=templates, formatters=formatters, checksum=checksum)
        registry = Registry.create(config.url, namespace=namespace)
        config.save()
        return cls(path, run=run, writeable=True, _registry=registry)

    def close(self) -> None:
        """Close the database connection (the butler cannot be used afterwards)."""
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

    def _search_path(self, collections: str | Sequence[str] | None) -> list[str]:
        """Return the collection names to search, with glob patterns expanded (sorted, first occurrence kept)."""
        out: list[str] = []
        for name in self._collections(collections):
            if isinstance(name, str) and _GLOB & set(name):
                matched = self.registry.query_collections(name)
                if not matched:
                    raise MissingCollectionError(
                        f"Collection pattern {name!r} matches no collection; collections: "
                        f"{format_choices(self.registry.query_collections('*'))}."
                    )
                out += [m for m in matched if m not in out]
            elif name not in out:
                out.append(name)
        return out

    def _run(self, run: str | None) -> str:
        run = run or self.run
        if run is None:
            raise MissingCollectionError("No run given and the butler has no default run; pass run=...")
        return run

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

    # --- finding and reading ---------------------------------------------------------------

    def find_dataset(
        self,
        dataset_type: str | DatasetType,
        data_id: Mapping[str, Any] | None = None,
        *,
        collections: str | Sequence[str] | None = None,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> DatasetRef | None:
        """Find the first dataset of a type and data ID in the collections (one SQL query).

        A component name (``calexp.wcs``) finds the parent dataset. No file is
        touched.

        Parameters
        ----------
        dataset_type
            A registered dataset type or its name (``parent.component`` allowed).
        data_id, **kwargs
            The data ID; friendly forms (``detector="R00_S00"``,
            ``day_obs=..., seq_num=...``) cost one more SQL query each.
        collections
            Exact collection names searched in order; the butler's default
            collections if None.
        timespan
            Search CALIBRATION collections for a dataset valid over this range.

        Returns
        -------
        DatasetRef or None
            The dataset found first, or None.

        Raises
        ------
        MissingDatasetTypeError
            If the dataset type is not registered.
        MissingCollectionError
            If no collections are given and the butler has no defaults, or a
            collection does not exist.
        DimensionNameError, DataIdValueError
            If the data ID names an unknown key or a value with no record.
        CalibrationLookupError
            If several validity ranges in one collection overlap ``timespan``.
        """
        parent, _ = self._parent_type(dataset_type)
        coord = self._data_id(parent.dimensions, data_id, kwargs)
        return self.registry.find_dataset(
            parent, coord, collections=self._collections(collections), timespan=timespan
        )

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
        """Find a dataset and read it (one SQL query for the dataset, one for its file record, then the file).

        ``calexp.wcs`` reads only the component; ``parameters={"bbox": box}``
        reads only the pixels in the box.

        Parameters
        ----------
        dataset_type
            A dataset type or name (``parent.component`` reads a component),
            or a resolved `DatasetRef` (no registry search then).
        data_id, **kwargs
            The data ID (friendly forms accepted, see `find_dataset`).
        parameters
            Read parameters of the storage class (``bbox`` for a cutout).
        collections
            Exact collection names searched in order; the defaults if None.
        storage_class
            Storage class to convert the object to.
        timespan
            Search CALIBRATION collections for a dataset valid over this range.

        Returns
        -------
        object
            The dataset (or component), read from its file.

        Raises
        ------
        DatasetNotFoundError
            If no dataset matches, or the datastore has no record of its file.
        MissingCollectionError
            If no collections are given and the butler has no defaults.
        MissingFileError
            If the recorded file is gone.
        FileIntegrityError
            If the file's size differs from the recorded one.
        UnknownComponentError, FormatterError
            For an unknown component or read parameter.
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
        """Find a dataset now (SQL) and read nothing until the handle's `~DeferredDatasetHandle.get`.

        Parameters
        ----------
        dataset_type, data_id, collections, timespan, **kwargs
            What to find, as for `get`.
        parameters
            Read parameters the handle applies to every read.
        storage_class
            Storage class the handle converts to by default.

        Returns
        -------
        DeferredDatasetHandle
            A handle on the dataset found (lazy: no file is opened yet).

        Raises
        ------
        DatasetNotFoundError
            If no dataset matches.
        MissingCollectionError
            If no collections are given and the butler has no defaults.
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
        """Tell how much of a dataset exists: registry entry, datastore record, file.

        Runs one or two SQL queries; with ``full_check`` also checks the file
        exists (a ``stat``).

        Parameters
        ----------
        dataset_type
            A dataset type or name, or a `DatasetRef` (whose ID is then looked up).
        data_id, collections, **kwargs
            What to find, as for `get`.
        full_check
            Also look at the file.

        Returns
        -------
        DatasetExistence
            `~DatasetExistence.UNRECOGNIZED` if nothing matches; truthy for
            `~DatasetExistence.KNOWN` and `~DatasetExistence.VERIFIED`.

        Raises
        ------
        MissingCollectionError
            If no collections are given and the butler has no defaults.
        """
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
        """Return the absolute path of a dataset's file (SQL only; the file is not opened).

        Parameters
        ----------
        dataset_type, data_id, collections, **kwargs
            What to find, as for `get`.
        predict
            For a dataset not yet stored, return the path a put into ``run``
            would use, with ``#predicted`` appended.
        run
            The RUN of a predicted path; the butler's default run if None.

        Returns
        -------
        str
            The absolute path (``...#predicted`` for a prediction).

        Raises
        ------
        DatasetNotFoundError
            If the dataset is not found (and ``predict`` is False).
        MissingCollectionError
            If no collections (or, predicting, no run) are given and the
            butler has no defaults.
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
        """Open one transaction over registry and datastore.

        If the block raises, the registry rolls back and files written in it
        are deleted; files removed in it are deleted only once it commits.

        Yields
        ------
        None
            Inside the transaction.
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
        """Store ``obj`` as a new dataset: a registry row and a file, in one transaction.

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

        Returns
        -------
        DatasetRef
            The new dataset (with a new time-ordered UUID unless a ref was given).

        Raises
        ------
        ConflictingDefinitionError
            If the run already has a dataset of this type and data ID.
        ReadOnlyError
            If the butler is read-only.
        ButlerUsageError
            If ``dataset_type`` names a component.
        MissingCollectionError
            If no run is given and the butler has no default run.
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
        """Ingest files that hold datasets, in one transaction (bulk inserts, then file transfers).

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

        Returns
        -------
        list[DatasetRef]
            The refs ingested.

        Raises
        ------
        ConflictingDefinitionError
            If a ref appears twice, or a dataset already exists (without ``skip_existing``).
        IngestError
            If a file is missing or cannot be transferred.
        ReadOnlyError
            If the butler is read-only.
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

    def ingest_files(
        self,
        dataset_type: str | DatasetType,
        run: str,
        table: str | os.PathLike[str],
        *,
        data_id: Mapping[str, Any] | None = None,
        transfer: str | None = "auto",
        formatter: str | None = None,
        id_generation_mode: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE,
    ) -> list[DatasetRef]:
        """Ingest the files listed in a table as datasets of one type into a RUN (one transaction).

        Every data ID is resolved (SQL), and the run's type checked, before
        anything is written; dimension records are not created (they must
        exist). The library call behind ``chamberlain ingest-files``.

        Parameters
        ----------
        dataset_type
            A registered dataset type (or its name), of any storage class.
        run
            The RUN collection (registered if missing).
        table
            An ECSV or CSV file (see `read_file_table`): a ``file`` column of
            paths (relative ones start at the table's directory) and one column
            per data ID key.
        data_id
            Data ID values shared by every row (``instrument="SimCam"``);
            table columns override them.
        transfer
            How files get into the repository (see `Butler.ingest`); the
            datastore's file template decides where they go.
        formatter
            Formatter name for every file; the storage class's default if None.
        id_generation_mode
            `DatasetIdGenEnum.UNIQUE` for new time-ordered IDs, or a
            deterministic mode (the IDs the Rubin butler would give).

        Returns
        -------
        list[DatasetRef]
            The ingested datasets, in table order.

        Raises
        ------
        ConfigError
            If the table cannot be read or lacks the ``file`` column.
        DimensionNameError
            If a column names no dimension of the dataset type, or a dimension has no value.
        DataIdValueError
            If a data ID value has no dimension record.
        CollectionTypeError
            If ``run`` exists and is not a RUN.
        FormatterError
            If ``formatter`` is unknown.
        ConflictingDefinitionError
            If a dataset of the type and data ID already exists in ``run``.
        IngestError
            If a file is missing or cannot be transferred.
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("ingest files")
        parent = (
            dataset_type
            if isinstance(dataset_type, DatasetType)
            else self.registry.get_dataset_type(dataset_type)
        )
        if formatter is not None:
            get_formatter(formatter)
        try:
            kind = self.registry.get_collection_type(run)
        except MissingCollectionError:
            kind = CollectionType.RUN
        if kind is not CollectionType.RUN:
            raise CollectionTypeError(f"Collection {run!r} is {kind.name}, not a RUN; ingest needs a RUN.")
        paths, rows = read_file_table(table)
        group = parent.dimensions
        valid = set(group.names)
        for column in rows[0] if rows else {}:
            if column not in valid and "." not in column:
                raise DimensionNameError(
                    f"Column {column!r} of {str(table)!r} is not a dimension of dataset type "
                    f"{parent.name!r}; its dimensions: {format_choices(group.names)}."
                )
        datasets: list[FileDataset] = []
        for path, row in zip(paths, rows, strict=True):
            values = dict(data_id or {})
            values.update(row)
            coord = self.registry.expand_data_id(self._data_id(group, values, {}), dimensions=group)
            ref = DatasetRef(parent, coord, run, make_dataset_id(id_generation_mode, parent.name, run, coord))
            datasets.append(FileDataset(path, ref, formatter))
        missing = [d.path for d in datasets if not os.path.isfile(d.path)]
        if missing:
            raise IngestError(
                f"{len(missing)} file(s) listed in {str(table)!r} do not exist, the first {str(missing[0])!r}."
            )
        try:
            with self.registry.transaction():
                return self.ingest(*datasets, transfer=transfer)
        except BaseException:
            self.registry.refresh()  # a run registered in the rolled-back transaction is forgotten
            raise

    # --- queries ---------------------------------------------------------------------------

    def query_datasets(
        self,
        dataset_type: str | DatasetType | Iterable[str | DatasetType],
        collections: str | Sequence[str] | None = None,
        *,
        find_first: bool = True,
        with_dimension_records: bool = False,
        **options: Unpack[QueryOptions],
    ) -> DatasetQueryResults:
        """Query datasets of one or more types in the collections (lazy; one SQL statement per type).

        Parameters
        ----------
        dataset_type
            Dataset type(s) or names; glob patterns match registered names.
        collections
            Collections to search, in order; glob patterns expand to the
            matching names in sorted order. Defaults to the butler's default
            collections.
        find_first, with_dimension_records
            As for `Registry.query_datasets`.
        **options
            ``where``, ``bind``, ``data_id``, ``order_by``, ``limit`` and data
            ID values: see `~chamberlain.registry.queries.QueryOptions`.

        Returns
        -------
        DatasetQueryResults
            Lazy results; nothing runs until they are iterated.

        Raises
        ------
        MissingCollectionError
            If a collection does not exist or a pattern matches none (the
            patterns are expanded now, with one SQL query each).
        MissingDatasetTypeError
            If a named dataset type is not registered.
        InvalidQueryError
            For a bad expression, bind, data ID value or ``limit``.
        """
        return self.registry.query_datasets(
            dataset_type,
            self._search_path(collections),
            find_first=find_first,
            with_dimension_records=with_dimension_records,
            **options,
        )

    def query_data_ids(
        self,
        dimensions: DimensionGroup | Iterable[str] | str,
        *,
        datasets: str | Iterable[str] | None = None,
        collections: str | Sequence[str] | None = None,
        **options: Unpack[QueryOptions],
    ) -> DataCoordinateQueryResults:
        """Query data IDs of some dimensions satisfying the constraints (lazy); see `Registry.query_data_ids`.

        Parameters
        ----------
        dimensions
            The dimensions of the data IDs.
        datasets
            Keep only data IDs for which a dataset of each of these types exists.
        collections
            Where ``datasets`` are searched; glob patterns expand to the
            matching names in sorted order. When ``datasets`` is given and
            ``collections`` is not, the butler's default collections.
        **options
            ``where``, ``bind``, ``data_id``, ``order_by``, ``limit`` and data
            ID values: see `~chamberlain.registry.queries.QueryOptions`.

        Returns
        -------
        DataCoordinateQueryResults
            Lazy results; nothing runs until they are iterated.

        Raises
        ------
        MissingCollectionError
            If a collection does not exist or a pattern matches none.
        InvalidQueryError
            For a bad expression or unknown name, as for `Registry.query_data_ids`.
        """
        return self.registry.query_data_ids(
            dimensions, datasets=datasets, collections=self._dataset_search(datasets, collections), **options
        )

    def query_dimension_records(
        self,
        element: str,
        *,
        datasets: str | Iterable[str] | None = None,
        collections: str | Sequence[str] | None = None,
        **options: Unpack[QueryOptions],
    ) -> DimensionRecordQueryResults:
        """Query records of one element (lazy); see `Registry.query_dimension_records`.

        Parameters
        ----------
        element
            The element whose records are returned (``"exposure"``, ``"visit_detector_region"``).
        datasets, collections, **options
            As for `query_data_ids`.

        Returns
        -------
        DimensionRecordQueryResults
            Lazy results (regions decoded per row as they are read).

        Raises
        ------
        MissingCollectionError
            If a collection of ``collections`` does not exist, or one of its patterns matches none.
        InvalidQueryError
            For an unknown element or a bad expression.
        """
        return self.registry.query_dimension_records(
            element, datasets=datasets, collections=self._dataset_search(datasets, collections), **options
        )

    def _dataset_search(
        self, datasets: str | Iterable[str] | None, collections: str | Sequence[str] | None
    ) -> list[str] | None:
        """Return the collections a data ID or record query searches for ``datasets`` (expanded), if any."""
        if datasets is not None and collections is None:
            collections = self._collections(None)
        return None if collections is None else self._search_path(collections)

    def overlapping_patches(
        self,
        *,
        region: sg.Region | None = None,
        visit: int | None = None,
        detector: int | None = None,
        instrument: str | None = None,
        skymap: str | None = None,
        exact: bool = True,
    ) -> list[DataCoordinate]:
        """Find the (skymap, tract, patch) data IDs whose regions overlap a region or a visit's detector.

        For a stored visit (and detector) this reads the exact overlaps stored
        when the records were inserted (one SQL statement); for any other
        region it searches the sky-pixel index and tests candidates exactly.

        Parameters
        ----------
        region, visit, detector, instrument, skymap, exact
            See `chamberlain.registry.queries.spatial.overlapping_patches`.

        Returns
        -------
        list[DataCoordinate]
            Patch data IDs sorted by (skymap, tract, patch).

        Raises
        ------
        InvalidQueryError
            If neither a region nor a visit is given, or both are.
        """
        from chamberlain.registry.queries.spatial import overlapping_patches

        return overlapping_patches(
            self.registry,
            region=region,
            visit=visit,
            detector=detector,
            instrument=instrument,
            skymap=skymap,
            exact=exact,
        )

    # --- TAGGED and CALIBRATION collections ------------------------------------------------

    def associate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Add datasets to a TAGGED collection, registering the collection if it does not exist.

        Runs in one transaction (bulk inserts); datasets already in the
        collection are left as they are.

        Parameters
        ----------
        collection
            The TAGGED collection.
        refs
            The datasets, e.g. from `query_datasets`.

        Raises
        ------
        CollectionTypeError
            If ``collection`` exists and is not TAGGED.
        ConflictingDefinitionError
            If the collection already holds a different dataset of the same type and data ID.
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("associate datasets")
        refs = list(refs)
        with self.registry.transaction():
            self.registry.register_collection(collection, CollectionType.TAGGED)
            self.registry.associate(collection, refs)

    def disassociate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Remove datasets from a TAGGED collection (one transaction; the datasets themselves stay).

        Parameters
        ----------
        collection
            The TAGGED collection; it must exist.
        refs
            The datasets; those not in the collection are ignored.

        Raises
        ------
        MissingCollectionError
            If ``collection`` does not exist.
        CollectionTypeError
            If ``collection`` is not TAGGED.
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("disassociate datasets")
        self.registry.disassociate(collection, list(refs))

    def decertify(
        self,
        collection: str,
        dataset_type: str | DatasetType,
        timespan: Timespan,
        *,
        data_ids: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        """Remove a time range from the validity ranges of certified datasets (one transaction).

        A validity range that overlaps ``timespan`` loses the overlapping
        part: it shrinks, disappears, or is split in two when ``timespan`` lies
        inside it. The datasets themselves stay.

        Parameters
        ----------
        collection
            The CALIBRATION collection.
        dataset_type
            The calibration dataset type (or its name).
        timespan
            The time range to remove; `Timespan.unbounded` removes every range.
        data_ids
            Only the ranges of these data IDs (friendly forms accepted, butler
            defaults apply); default all data IDs.

        Raises
        ------
        MissingCollectionError
            If ``collection`` does not exist.
        CollectionTypeError
            If ``collection`` is not CALIBRATION.
        MissingDatasetTypeError
            If the dataset type is not registered.
        DatasetTypeError
            If the dataset type is not a calibration type.
        DimensionNameError
            If a data ID lacks one of the dataset type's dimensions.
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("decertify datasets")
        name = dataset_type.name if isinstance(dataset_type, DatasetType) else dataset_type
        kind = self.registry.get_collection_type(collection)
        if kind is not CollectionType.CALIBRATION:
            raise CollectionTypeError(
                f"Collection {collection!r} is {kind.name}; decertify needs a CALIBRATION collection."
            )
        parent = self.registry.get_dataset_type(name)
        coords = None
        if data_ids is not None:
            coords = [self._data_id(parent.dimensions, d, {}) for d in data_ids]
        self.registry.decertify(collection, parent, timespan, data_ids=coords)

    # --- dataset types ---------------------------------------------------------------------

    def register_dataset_type(
        self,
        name: str,
        dimensions: Iterable[str],
        storage_class: str,
        *,
        is_calibration: bool = False,
    ) -> bool:
        """Register a dataset type whose storage class this Chamberlain knows (one transaction).

        `Registry.register_dataset_type` accepts any storage class name (the
        registry does not read files); this call refuses names the datastore
        could not read or write.

        Parameters
        ----------
        name
            The dataset type name.
        dimensions
            Dimension names (implied ones are added).
        storage_class
            A registered storage class name (`storage_class_names`).
        is_calibration
            Whether datasets of the type can be certified into CALIBRATION collections.

        Returns
        -------
        bool
            True if registered, False if an identical definition existed.

        Raises
        ------
        FormatterError
            If the storage class is unknown; the message lists the known ones.
        ConflictingDefinitionError
            If a different definition is registered under ``name``.
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("register a dataset type")
        get_storage_class(storage_class)
        dataset_type = DatasetType(
            name, list(dimensions), storage_class, self.registry.universe, is_calibration=is_calibration
        )
        return self.registry.register_dataset_type(dataset_type)

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
        """Remove datasets: from TAGGED collections, from the datastore, or entirely (one transaction).

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
        ReadOnlyError
            If the butler is read-only.
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
        """Remove RUN collections with their datasets and files (one transaction; files go after commit).

        Parameters
        ----------
        names
            Exact RUN names.
        unlink_from_chains
            Also take the runs out of the chains that hold them.

        Raises
        ------
        MissingCollectionError
            If a name is not a collection.
        CollectionTypeError
            If a name is not a RUN.
        OrphanedRecordError
            If a run is in a chain and ``unlink_from_chains`` is False.
        ReadOnlyError
            If the butler is read-only.
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

    def remove_collections(self, names: str | Iterable[str], *, unlink_from_chains: bool = False) -> None:
        """Remove TAGGED, CALIBRATION and CHAINED collections (one transaction).

        The datasets stay in their RUNs: removing a TAGGED or CALIBRATION
        collection removes its memberships and validity ranges, removing a
        chain leaves its children. RUN collections are removed with
        `remove_runs`, which deletes their datasets and files too. Chains
        among ``names`` are removed before their children, so a chain and
        its members can go together.

        Parameters
        ----------
        names
            Exact collection names.
        unlink_from_chains
            Also take the collections out of chains that are not being
            removed; otherwise such a collection is refused.

        Raises
        ------
        MissingCollectionError
            If a name is not a collection.
        CollectionTypeError
            If a name is a RUN.
        OrphanedRecordError
            If a collection is in a chain not being removed (and ``unlink_from_chains`` is False).
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("remove collections")
        todo = [names] if isinstance(names, str) else list(dict.fromkeys(names))
        parents: dict[str, list[str]] = {}
        for name in todo:
            kind = self.registry.get_collection_type(name)
            if kind is CollectionType.RUN:
                raise CollectionTypeError(
                    f"Collection {name!r} is a RUN; remove RUN collections with remove_runs "
                    "(chamberlain remove-runs), which also deletes their datasets and files."
                )
            parents[name] = self.registry.get_collection_parent_chains(name)
        removing = set(todo)
        outside = {n: [p for p in ps if p not in removing] for n, ps in parents.items()}
        if not unlink_from_chains:
            for name, chains in outside.items():
                if chains:
                    raise OrphanedRecordError(
                        f"Collection {name!r} is in the chain(s) {', '.join(map(repr, chains))}; remove it "
                        "from them first or unlink it (unlink_from_chains=True, --unlink-from-chains)."
                    )
        with self.registry.transaction():
            for name, chains in outside.items():
                for chain in chains:
                    self.registry.remove_from_collection_chain(chain, name)
            left = list(todo)
            while left:
                # A collection can go once no chain still to be removed contains it.
                ready = [n for n in left if not any(p in left for p in parents[n])]
                for name in ready:
                    if self.registry.get_collection_type(name) is CollectionType.CHAINED:
                        self.registry.set_collection_chain(name, [])
                    self.registry.remove_collection(name)
                left = [n for n in left if n not in ready]

    def remove_dataset_types(self, names: str | Iterable[str]) -> None:
        """Remove dataset types that have no datasets (one transaction: all or none).

        Parameters
        ----------
        names
            Exact dataset type names.

        Raises
        ------
        MissingDatasetTypeError
            If a name is not a registered dataset type.
        OrphanedRecordError
            If datasets of a type exist; the message gives their number.
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("remove dataset types")
        todo = [names] if isinstance(names, str) else list(dict.fromkeys(names))
        for name in todo:
            self.registry.get_dataset_type(name)  # every name is checked before anything is removed
        try:
            with self.registry.transaction():
                for name in todo:
                    self.registry.remove_dataset_type(name)
        except BaseException:
            self.registry.refresh()  # the rolled-back removals left the dataset type cache behind
            raise

    # --- export and import -----------------------------------------------------------------

    def export(
        self,
        file: str | os.PathLike[str],
        *,
        collections: str | Sequence[str] | None = None,
        dataset_types: str | Iterable[str] | None = None,
        where: str | None = None,
        with_files: bool = True,
    ) -> ExportSummary:
        """Write the metadata of selected datasets to a YAML export file (see `export_repository`).

        Exports the datasets of ``dataset_types`` (all by default) in
        ``collections`` (all by default) that match ``where``, with the
        dimension records, collections, dataset types, memberships, validity
        ranges and file paths they need. Reads in bulk; copies no file.

        Parameters
        ----------
        file
            The YAML file to write (outside the repository).
        collections
            Collections whose datasets are exported; all by default.
        dataset_types
            Dataset type names or glob patterns; all by default.
        where
            A `where` expression the datasets' data IDs must satisfy.
        with_files
            Record the file paths (so an import can transfer the files).

        Returns
        -------
        ExportSummary
            What was exported.

        Raises
        ------
        MissingCollectionError
            If a collection does not exist.
        InvalidQueryError
            For a bad ``where``.
        """
        from chamberlain.transfers import export_repository

        return export_repository(
            self,
            file,
            collections=collections,
            dataset_types=dataset_types,
            where=where,
            with_files=with_files,
        )

    def import_(
        self,
        file: str | os.PathLike[str],
        *,
        directory: str | os.PathLike[str] | None = None,
        transfer: str | None = "auto",
        skip_dimensions: bool = False,
        without_datastore: bool = False,
    ) -> ImportSummary:
        """Import a Chamberlain or Rubin butler YAML export, all or nothing (see `import_repository`).

        Dimension records that differ from the stored ones are refused with a
        message naming the element, key and fields; datasets keep their IDs;
        files are transferred with ``transfer`` (``auto`` copies files from
        outside the repository).

        Parameters
        ----------
        file
            The export file.
        directory
            Where the exported files' relative paths start; the export file's
            directory by default.
        transfer
            How files get into the repository (see `Butler.ingest`).
        skip_dimensions
            Do not import dimension records (they must exist already).
        without_datastore
            Register the datasets without files.

        Returns
        -------
        ImportSummary
            What was imported.

        Raises
        ------
        ExportFormatError
            If the file is not a readable export.
        ConflictingRecordError
            If an exported dimension record differs from the stored one.
        IngestError
            If a file is missing or cannot be transferred.
        ReadOnlyError
            If the butler is read-only.
        """
        from chamberlain.transfers import import_repository

        return import_repository(
            self,
            file,
            directory=directory,
            transfer=transfer,
            skip_dimensions=skip_dimensions,
            without_datastore=without_datastore,
        )

    # --- maintenance -----------------------------------------------------------------------

    def verify(self, *, fix: bool = False, checksums: bool = True) -> VerifyReport:
        """Compare the files under the root with the datastore records (see `verify_datastore`).

        Walks the root and reads every file record (SQL); with ``checksums``
        reads every file.

        Parameters
        ----------
        fix
            Repair what can be repaired; only files under the folders of the
            registered RUN collections (and stale temporary files) are deleted.
        checksums
            Recompute recorded checksums.

        Returns
        -------
        VerifyReport
            What was found (and fixed).

        Raises
        ------
        ReadOnlyError
            If ``fix`` is asked of a read-only butler.
        """
        if fix:
            self._check_writeable("fix the datastore")
        runs = self.registry.query_collections("*", [CollectionType.RUN])
        return verify_datastore(
            self.datastore, fix=fix, checksums=checksums, ignore=REPOSITORY_FILES, runs=runs
        )

    def empty_trash(self) -> list[str]:
        """Finish removals a crashed process left in the trash (SQL, then file deletions).

        Returns
        -------
        list[str]
            The paths deleted.

        Raises
        ------
        ReadOnlyError
            If the butler is read-only.
        """
        self._check_writeable("empty the trash")
        return self.datastore.empty_trash()

    def dump_config(self) -> dict[str, Any]:
        """Return the repository's configuration with the effective defaults filled in (reads two files).

        Returns
        -------
        dict
            ``repository``: ``root``, ``db`` (None for SQLite inside the root),
            ``namespace`` and ``url`` (any password hidden) from
            ``chamberlain.yaml``; ``datastore``: ``templates`` (the defaults
            merged with ``datastore.yaml``'s), ``formatters`` (the formatter
            of each storage class, after ``datastore.yaml``'s overrides by
            storage class or dataset type) and ``checksum``; ``files``: which
            of the two files exist.

        Raises
        ------
        ConfigError
            If ``datastore.yaml`` is not valid YAML.
        """
        return effective_config(self.config)


@dataclasses.dataclass(frozen=True)
class _IdOnly:
    id: uuid.UUID
