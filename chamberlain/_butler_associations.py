"""Collection and dataset-type maintenance of the `Butler` (a mixin).

The library calls behind ``chamberlain associate``, ``disassociate``,
``decertify``, ``remove-collections``, ``remove-dataset-type``,
``register-dataset-type``, ``ingest-files`` and ``config-dump``. Each checks
what it can before writing and writes in one registry transaction, so a
refused call changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .datasets import DatasetIdGenEnum, DatasetRef, DatasetType, make_dataset_id
from .datastore import (
    DEFAULT_TEMPLATES,
    FileDataset,
    get_formatter,
    get_storage_class,
    storage_class_names,
)
from .errors import (
    CollectionTypeError,
    ConfigError,
    DimensionNameError,
    IngestError,
    MissingCollectionError,
    OrphanedRecordError,
    format_choices,
)
from .registry import CollectionType

if TYPE_CHECKING:
    from .datastore import FileDatastore
    from .dimensions import DataCoordinate, DimensionGroup
    from .geometry import Timespan
    from .registry import Registry
    from .repository import RepositoryConfig

__all__ = ["ButlerAssociations", "read_file_table"]

#: The column of an ``ingest-files`` table that holds the file paths.
FILE_COLUMN = "file"


class ButlerAssociations:
    """Tagging, decertifying, removal, file-table ingest and configuration methods of every `Butler`."""

    registry: Registry
    datastore: FileDatastore
    config: RepositoryConfig

    # Provided by `Butler`.
    def _check_writeable(self, what: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def _data_id(
        self, group: DimensionGroup, data_id: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
    ) -> DataCoordinate:  # pragma: no cover
        raise NotImplementedError

    def ingest(
        self, *datasets: FileDataset, transfer: str | None = "auto", record_validation_info: bool = True,
        skip_existing: bool = False,
    ) -> list[DatasetRef]:  # pragma: no cover  # fmt: skip
        raise NotImplementedError

    # --- TAGGED collections ----------------------------------------------------------------

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

    # --- CALIBRATION collections -----------------------------------------------------------

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

    # --- removal ---------------------------------------------------------------------------

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

    # --- dataset types ---------------------------------------------------------------------

    def register_dataset_type(
        self,
        name: str,
        dimensions: Iterable[str],
        storage_class: str,
        *,
        is_calibration: bool = False,
    ) -> bool:
        """Register a dataset type whose storage class this Chamberlain knows.

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

    # --- ingest of a table of files --------------------------------------------------------

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

        Every data ID is resolved, and the run's type checked, before anything
        is written; dimension records are not created (they must exist).

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

    # --- configuration ---------------------------------------------------------------------

    def dump_config(self) -> dict[str, Any]:
        """The repository's configuration with the effective defaults filled in (reads two files).

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
        import sqlalchemy as sa

        root = self.config.root
        datastore_file = root / "datastore.yaml"
        options: dict[str, Any] = {}
        if datastore_file.is_file():
            try:
                options = yaml.safe_load(datastore_file.read_text()) or {}
            except yaml.YAMLError as err:
                raise ConfigError(f"{datastore_file} is not valid YAML: {err}") from None
        templates = dict(DEFAULT_TEMPLATES)
        templates.update(options.get("templates") or {})
        overrides = dict(options.get("formatters") or {})
        formatters = {
            name: overrides.get(name, get_storage_class(name).formatter) for name in storage_class_names()
        }
        formatters.update(overrides)
        url = sa.engine.make_url(self.config.url).render_as_string(hide_password=True)
        db = None if self.config.db is None else url
        return {
            "repository": {
                "root": str(root),
                "db": db,
                "namespace": self.config.namespace,
                "url": url,
            },
            "datastore": {
                "templates": templates,
                "formatters": dict(sorted(formatters.items())),
                "checksum": bool(options.get("checksum", False)),
            },
            "files": {
                "chamberlain.yaml": True,
                "datastore.yaml": datastore_file.is_file(),
            },
        }


def read_file_table(table: str | os.PathLike[str]) -> tuple[list[Path], list[dict[str, Any]]]:
    """Read an ``ingest-files`` table: file paths and one data ID mapping per row.

    Parameters
    ----------
    table
        An ECSV (``.ecsv``) or CSV file read with astropy, with a header
        row. The ``file`` column holds paths, absolute or relative to the
        table's directory; every other column is a data ID key.

    Returns
    -------
    tuple[list[pathlib.Path], list[dict]]
        Absolute paths and, for each, the data ID values of its row (numbers
        as Python ints or floats, text as str; empty cells left out).

    Raises
    ------
    ConfigError
        If the file cannot be read as a table, has no ``file`` column, or no rows.
    """
    import astropy.table
    import numpy as np

    path = Path(table)
    if not path.is_file():
        raise ConfigError(f"Table file {str(table)!r} does not exist.")
    fmt = "ascii.ecsv" if path.suffix.lower() == ".ecsv" else "ascii.csv"
    try:
        data = astropy.table.Table.read(path, format=fmt)
    except Exception as err:  # astropy raises many kinds of errors for malformed tables
        message = " ".join(str(err).split())
        raise ConfigError(f"Cannot read {str(table)!r} as an {fmt[6:].upper()} table: {message}") from None
    columns = list(data.colnames)
    if FILE_COLUMN not in columns:
        raise ConfigError(
            f"Table {str(table)!r} has no {FILE_COLUMN!r} column (its columns: {format_choices(columns)}); "
            f"it needs a {FILE_COLUMN!r} column of paths and one column per data ID key."
        )
    if len(data) == 0:
        raise ConfigError(f"Table {str(table)!r} has no rows.")
    base = path.absolute().parent
    paths: list[Path] = []
    rows: list[dict[str, Any]] = []
    masked = {c: np.ma.getmaskarray(data[c]) for c in columns}
    for i, row in enumerate(data):
        if masked[FILE_COLUMN][i] or not str(row[FILE_COLUMN]).strip():
            raise ConfigError(f"Row {i + 1} of table {str(table)!r} has an empty {FILE_COLUMN!r} cell.")
        paths.append(base / os.path.expanduser(str(row[FILE_COLUMN]).strip()))
        values: dict[str, Any] = {}
        for column in columns:
            if column == FILE_COLUMN or masked[column][i]:
                continue
            value = row[column]
            values[column] = value.item() if isinstance(value, np.generic) else value
        rows.append(values)
    return paths, rows
