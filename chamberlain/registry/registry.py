"""The `Registry`: the SQL database of dimensions, collections and datasets."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .._gc import collector_paused
from ..datasets import DatasetIdGenEnum, DatasetRef, DatasetType
from ..dimensions import DataCoordinate, DimensionGroup, DimensionRecord, DimensionUniverse
from ..errors import (
    CollectionTypeError,
    ConfigError,
    DatabaseError,
    DimensionRecordError,
    SchemaVersionError,
)
from ..geometry import Timespan
from ..schema import SCHEMA_VERSION, build_metadata, versioning
from ..schema.views import create_views
from ._database import Database
from ._registry_queries import RegistryQueries
from .associations import DatasetAssociation, query_associations
from .collections import CollectionManager, CollectionType
from .dataset_types import DatasetTypeManager
from .datasets import DatasetManager
from .dimension_records import DimensionRecordManager
from .overlaps import SpatialIndex
from .sql import grant_reader_role, reader_role_name


class Registry(RegistryQueries):
    """A dimension-aware SQL registry over one SQLAlchemy engine.

    Open an existing repository database with `Registry.open` and create a
    new one with `Registry.create`. Every method that writes runs in a
    transaction of its own, or joins the one opened by `transaction`.

    Parameters
    ----------
    db
        The database (use `open`/`create` rather than calling this directly).
    universe
        The repository's dimension universe.
    """

    def __init__(self, db: Database, universe: DimensionUniverse) -> None:
        self._db = db
        self.universe = universe
        self._metadata = build_metadata(universe)
        self._tables: dict[str, sa.Table] = dict(self._metadata.tables)
        self._spatial = SpatialIndex(db, universe, self._tables)
        self._dimensions = DimensionRecordManager(db, universe, self._tables, self._spatial)
        self._collections = CollectionManager(db, self._tables)
        self._dataset_types = DatasetTypeManager(db, universe, self._metadata, self._tables)
        self._datasets = DatasetManager(
            db, self._tables, self._dataset_types, self._collections, self._dimensions
        )
        #: Reusable pieces of query statements (see `queries._query.Query._dataset_rows`).
        self._query_cache: dict[tuple[Any, ...], Any] = {}

    # --- lifecycle -----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        url: str,
        *,
        namespace: str | None = None,
        universe: DimensionUniverse | None = None,
    ) -> Registry:
        """Create the schema in an empty database and open it.

        Everything runs in one transaction: if creation fails, nothing is left
        (a namespace created for it is rolled back; one that existed is kept).
        On PostgreSQL the analysts' read-only role is created and granted
        SELECT on the repository's tables (`chamberlain.registry.sql`), when the
        connecting user may create roles.

        Parameters
        ----------
        url
            ``sqlite:///PATH`` (the file is created) or a PostgreSQL URL.
        namespace
            PostgreSQL schema to create the tables in (created if missing);
            None means ``public``.
        universe
            Dimension universe; the one shipped with Chamberlain by default.

        Returns
        -------
        Registry
            The new, open registry.

        Raises
        ------
        SchemaVersionError
            If the database (or namespace) already holds a repository.
        DatabaseError
            If the database refuses a statement of the creation.
        """
        universe = universe or DimensionUniverse.default()
        db = Database(url, namespace=namespace, create=True)
        try:
            # One transaction: a failure leaves nothing behind, not even a new namespace
            # (a namespace that existed before is never dropped).
            with db.transaction() as conn:
                db.ensure_schema(conn)
                if versioning.current_revision(conn) is not None:
                    raise SchemaVersionError(f"{_where(db)} already holds a Chamberlain repository.")
                if db.namespace is not None:
                    others = sa.inspect(conn).get_table_names(schema=db.namespace)
                    if others:
                        raise ConfigError(
                            f"Cannot create a repository in namespace {db.namespace!r}: it already holds "
                            f"{len(others)} table(s) that are not a repository's ({', '.join(sorted(others)[:3])}"
                            f"{', ...' if len(others) > 3 else ''}); choose a new or empty namespace."
                        )
                if db.dialect == "postgresql":
                    _ensure_btree_gist(conn)
                versioning.upgrade(conn, universe)
                attrs = build_metadata(universe).tables["repository_attribute"]
                conn.execute(
                    attrs.insert(),
                    [
                        {"name": "schema_version", "value": SCHEMA_VERSION},
                        {"name": "universe", "value": json.dumps(universe.to_config())},
                        {"name": "universe_version", "value": f"{universe.namespace}:{universe.version}"},
                        {"name": "common_skypix", "value": universe.common_skypix.name},
                    ],
                )
                # Analyst views (schema/views.py); per-dataset-group views come with each dataset type.
                create_views(conn, build_metadata(universe).tables, universe)
                if db.dialect == "postgresql":
                    _grant_reader_role(conn, db)
        except sa.exc.DBAPIError as err:
            db.close()
            raise DatabaseError(
                f"Cannot create a repository in {_where(db)}: {_one_line(err.orig)}"
            ) from None
        except BaseException:
            db.close()
            raise
        return cls(db, universe)

    @classmethod
    def open(cls, url: str, *, namespace: str | None = None, writeable: bool = True) -> Registry:
        """Open an existing repository database.

        Parameters
        ----------
        url
            ``sqlite:///PATH`` or a PostgreSQL URL.
        namespace
            PostgreSQL schema holding the repository (None: ``public``); no
            other schema is searched.
        writeable
            If False, the connection cannot write.

        Returns
        -------
        Registry
            The open registry.

        Raises
        ------
        ConfigError
            If ``namespace`` names a schema that holds no repository.
        SchemaVersionError
            If the schema is older or newer than this Chamberlain (the message
            names the migrate command), the database holds no repository, its
            ``schema_version`` attribute differs from this Chamberlain's, or a
            repository attribute is missing or unreadable.
        DatabaseError
            If the database cannot be read (e.g. the SQLite file is not a
            database); the message names it.
        """
        db = Database(url, namespace=namespace, writeable=writeable)
        where = _where(db)
        try:
            with db.transaction(write=False) as conn:
                db.check_namespace(conn)
                versioning.check_revision(conn, where)
                rows = conn.execute(sa.text("SELECT name, value FROM repository_attribute"))
                attributes: dict[str, str] = {name: value for name, value in rows}
            universe = _stored_universe(attributes, where)
        except sa.exc.DBAPIError as err:
            db.close()
            what = "is not a readable SQLite database" if db.dialect == "sqlite" else "cannot be read"
            raise DatabaseError(f"Repository database {where} {what}: {_one_line(err.orig)}") from None
        except BaseException:
            db.close()
            raise
        return cls(db, universe)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> None:
        """Forget cached collections, dataset types and records (after another process changed them)."""
        self._collections.refresh()
        self._dataset_types.refresh()
        self._dimensions.clear_cache()
        self._query_cache.clear()

    @contextlib.contextmanager
    def transaction(self, *, savepoint: bool = False) -> Iterator[None]:
        """Group operations into one database transaction.

        Nested blocks join the outer transaction: an exception rolls back
        everything, unless a block asked for ``savepoint=True``, in which case
        an exception leaving that block rolls back only that block.

        Parameters
        ----------
        savepoint : `bool`, optional
            Open a SAVEPOINT for this block, so that an exception leaving it
            rolls back only the block's work.

        Yields
        ------
        None
            Control returns to the block; the transaction commits when the
            outermost block exits without an exception.
        """
        with self._db.transaction(savepoint=savepoint):
            yield

    # --- dimension records ---------------------------------------------------------------

    def insert_dimension_records(
        self,
        element: str,
        records: Iterable[DimensionRecord | Mapping[str, Any]],
        *,
        skip_existing: bool = False,
        replace: bool = False,
    ) -> int:
        """Insert records of one element in bulk (one transaction; all or nothing).

        Records may be `DimensionRecord` objects or mappings of field values.
        Spatial records are indexed and their exact overlaps with records of
        the other spatial family (visits/detectors against tracts/patches) are
        computed and stored.

        Parameters
        ----------
        element
            Element name, e.g. ``"exposure"``.
        records
            The records.
        skip_existing
            Keep existing records with the same keys instead of failing.
        replace
            Overwrite existing records with the same keys.

        Returns
        -------
        int
            The number of records given (after dropping existing ones with
            ``skip_existing`` on spatial elements).

        Raises
        ------
        DimensionRecordError
            A field is unknown, missing or of the wrong type or length.
        ConflictingRecordError
            A record with the same keys exists (and neither flag is set).
        DataIdValueError
            A record refers to a dimension value with no record.
        """
        with collector_paused():  # see chamberlain._gc
            return self._dimensions.insert(
                self.universe[element], records, skip_existing=skip_existing, replace=replace
            )

    def sync_dimension_record(
        self, element: str, record: DimensionRecord | Mapping[str, Any], update: bool = False
    ) -> bool | dict[str, Any]:
        """Insert a record, or verify it equals the stored one.

        Runs one read and at most one write, in one transaction.

        Parameters
        ----------
        element : `str`
            Element name, e.g. ``"instrument"``.
        record : `DimensionRecord` or `~collections.abc.Mapping`
            The record, or a mapping of its field values.
        update : `bool`, optional
            Overwrite a stored record whose fields differ, instead of failing.

        Returns
        -------
        inserted : `bool` or `dict`
            True if the record was inserted, False if an identical record
            existed; with ``update=True`` and a differing record, a dict of the
            old values of the changed fields.

        Raises
        ------
        ConflictingRecordError
            If the stored record differs (and ``update`` is False); the message
            names each differing field with both values.
        DimensionRecordError
            If a field is unknown, missing or of the wrong type.
        """
        return self._dimensions.sync(self.universe[element], record, update=update)

    def fetch_dimension_records(
        self,
        element: str,
        values: Iterable[Any] | None = None,
        *,
        fields: Sequence[str] | None = None,
    ) -> list[DimensionRecord]:
        """Return records of an element: all of them, or those matching many keys at once (bulk).

        Without ``values`` every record is returned (for large elements prefer
        the query API). With ``values`` the records whose ``fields`` take one of
        the given value tuples are returned, in no particular order; values
        that match nothing are left out. Runs one SELECT per chunk of values
        sized to the backend's parameter limit, never one per value.

        Parameters
        ----------
        element
            Element name, e.g. ``"exposure"``.
        values
            Value tuples, one value per name in ``fields`` (a bare value is
            accepted when there is one field). None: every record.
        fields
            Record fields the values are compared with; by default the
            element's key, e.g. ``("instrument", "id")`` for ``exposure``
            (the values of a data ID's ``instrument`` and ``exposure``).

        Returns
        -------
        list[DimensionRecord]
            The matching records, each once.

        Raises
        ------
        DimensionNameError
            If ``element`` names no element.
        DimensionRecordError
            If a field is not a column of the element (``region`` and
            ``timespan`` cannot be matched), a value tuple has the wrong
            length, or the element has no table.
        """
        el = self.universe[element]
        if values is None:
            if fields is not None:
                raise DimensionRecordError(f"fields={list(fields)!r} needs values to match them with.")
            return self._dimensions.fetch_all(el)
        names = list(fields) if fields is not None else self._dimensions.validator(el).key_fields
        columns = [c.name for c in el.columns()]
        bad = [f for f in names if f not in columns]
        if bad or not names:
            raise DimensionRecordError(
                f"Cannot match {element!r} records on field(s) {bad or names!r}; fields that can be matched: "
                f"{', '.join(columns)}."
            )
        keys: dict[tuple[Any, ...], None] = {}
        for v in values:
            key = tuple(v) if isinstance(v, (tuple, list)) else (v,)
            if len(key) != len(names):
                raise DimensionRecordError(
                    f"Value {v!r} does not match the fields {names!r} of {element!r} (one value per field)."
                )
            keys[key] = None
        return self._dimensions.fetch_matching(el, names, list(keys))

    def count_overlaps(self, element: str, other: str) -> int:
        """Return the number of stored exact overlaps between records of two spatial elements.

        Parameters
        ----------
        element, other
            Names of two elements of different spatial families whose
            overlaps are stored, e.g. ``"visit_detector_region"`` and
            ``"patch"`` (in either order).

        Returns
        -------
        int
            The number of overlapping record pairs (one SELECT count).

        Raises
        ------
        DimensionNameError
            If a name is not an element.
        DimensionRecordError
            If no overlaps are stored between the two; the message lists the
            pairs that are.
        """
        return self._spatial.count_overlaps(self.universe[element], self.universe[other])

    def get_dimension_record(
        self, element: str, data_id: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> DimensionRecord | None:
        """Return the record of one element identified by a data ID, or None.

        Records of small, cached elements (instruments, detectors, filters, ...)
        come from the registry's cache; others are read with one SELECT.

        Parameters
        ----------
        element : `str`
            Element name, e.g. ``"exposure"``.
        data_id : `~collections.abc.Mapping`, optional
            Values of the element's required dimensions.
        **kwargs
            More data ID values, merged with ``data_id``.

        Returns
        -------
        record : `DimensionRecord` or None
            The stored record, or None if there is none with those keys.

        Raises
        ------
        DimensionNameError
            If a required dimension of the element has no value.
        """
        el = self.universe[element]
        coord = DataCoordinate.standardize(data_id, dimensions=el.minimal_group, **kwargs)
        return self._dimensions.fetch_one(el, tuple(coord[d.name] for d in el.required))

    def lookup_dimension_record(self, element: str, data_id: DataCoordinate) -> Any:
        """Return the record of ``element`` for a (possibly unexpanded) data ID, from the registry's cache.

        Each record is fetched once (one SQL query by primary key) and kept
        in the registry's dimension-record cache, which `refresh` and every
        rollback clear. Implied values the element's key needs (a visit's
        ``day_obs``) are found through the record of the element implying
        them, so no full expansion runs. File templates naming record fields
        (``{exposure.obs_id}``) use this for every put.

        Parameters
        ----------
        element
            Element name, e.g. ``"exposure"``; it must have a table.
        data_id
            A data ID holding (or implying) the element's key dimensions.

        Returns
        -------
        types.SimpleNamespace or None
            The record's non-spatial, non-temporal fields as attributes (and
            the dimension's name for its primary key), or None if there is no
            such record.

        Raises
        ------
        DimensionNameError
            If the data ID lacks a dimension the element's key needs.
        """
        return self._dimensions.lookup(element, data_id)

    def expand_data_id(
        self,
        data_id: Mapping[str, Any] | None = None,
        *,
        dimensions: DimensionGroup | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> DataCoordinate:
        """Validate a data ID against the stored records and attach them.

        Implied values (e.g. a visit's physical_filter and band) are filled in.
        Runs SELECTs for records not in the cache.

        Parameters
        ----------
        data_id : `~collections.abc.Mapping`, optional
            Dimension values (a `DataCoordinate` or a mapping).
        dimensions : `DimensionGroup` or iterable of `str`, optional
            The dimensions the result should have; by default those the given
            keys identify.
        **kwargs
            More dimension values, merged with ``data_id``.

        Returns
        -------
        data_id : `DataCoordinate`
            The expanded data ID, with all implied values and a record for
            each element.

        Raises
        ------
        DimensionNameError
            A required dimension has no value, or a key names no dimension.
        DataIdValueError
            A value has no record (e.g. ``detector=999``).
        InconsistentDataIdError
            Values contradict each other (an implied value differs from the
            record's, or no relationship record links them).
        """
        group = None
        if dimensions is not None:
            group = self.universe.conform(dimensions)
        coord = DataCoordinate.standardize(data_id, dimensions=group, universe=self.universe, **kwargs)
        given = dict(data_id or {}) | kwargs
        implied = {n: given[n] for n in coord.dimensions.implied if n in given}
        return self._dimensions.expand(coord, coord.dimensions, implied)

    # --- collections ---------------------------------------------------------------------

    def register_collection(
        self, name: str, type: CollectionType | str = CollectionType.TAGGED, doc: str | None = None
    ) -> bool:
        """Register a collection (one INSERT unless it exists).

        Parameters
        ----------
        name : `str`
            The collection name.
        type : `CollectionType` or `str`, optional
            Its type (TAGGED by default); a name such as ``"CALIBRATION"`` is
            accepted.
        doc : `str`, optional
            A documentation string stored with it.

        Returns
        -------
        registered : `bool`
            True if the collection is new, False if it existed with the same type.

        Raises
        ------
        CollectionTypeError
            If it exists with a different type, or ``type`` names no type.
        InvalidNameError
            If ``name`` breaks the naming rules of `chamberlain.naming`.
        """
        return self._collections.register(name, CollectionType.from_name(type), doc)

    def register_run(self, name: str, doc: str | None = None) -> bool:
        """Register a RUN collection (one INSERT unless it exists).

        Parameters
        ----------
        name : `str`
            The run name.
        doc : `str`, optional
            A documentation string stored with it.

        Returns
        -------
        registered : `bool`
            True if the run is new, False if it existed.

        Raises
        ------
        CollectionTypeError
            If a collection of another type has that name.
        InvalidNameError
            If ``name`` breaks the naming rules of `chamberlain.naming`.
        """
        return self._collections.register(name, CollectionType.RUN, doc)

    def get_collection_type(self, name: str) -> CollectionType:
        """Return the type of a collection (from the cache; read once if unknown).

        Parameters
        ----------
        name : `str`
            The collection name.

        Returns
        -------
        type : `CollectionType`
            Its type.

        Raises
        ------
        MissingCollectionError
            If it does not exist; the message lists the existing collections.
        """
        return self._collections.get(name).type

    def get_collection_doc(self, name: str) -> str | None:
        """Return the documentation string of a collection.

        Parameters
        ----------
        name : `str`
            The collection name.

        Returns
        -------
        doc : `str` or None
            The string given when it was registered, or None.

        Raises
        ------
        MissingCollectionError
            If no collection has that name.
        """
        return self._collections.get(name).doc

    def get_collection_chain(self, parent: str) -> list[str]:
        """Return the direct children of a CHAINED collection, in search order.

        Parameters
        ----------
        parent : `str`
            The chain's name.

        Returns
        -------
        children : `list` [`str`]
            The children's names (chains among them are not expanded).

        Raises
        ------
        MissingCollectionError
            If ``parent`` does not exist.
        CollectionTypeError
            If ``parent`` is not a CHAINED collection.
        """
        return self._collections.children(parent)

    def set_collection_chain(self, parent: str, children: Sequence[str], *, flatten: bool = False) -> None:
        """Replace the children of a CHAINED collection (one transaction).

        Parameters
        ----------
        parent : `str`
            The chain's name.
        children : `~collections.abc.Sequence` [`str`]
            The new children, in search order.
        flatten : `bool`, optional
            Store the non-chained collections the children expand to instead
            of the children themselves.

        Raises
        ------
        MissingCollectionError
            If ``parent`` or a child does not exist.
        CollectionTypeError
            If ``parent`` is not a CHAINED collection.
        CollectionCycleError
            If the chain would contain itself.
        """
        self._collections.set_chain(parent, children, flatten=flatten)

    def extend_collection_chain(self, parent: str, children: Sequence[str] | str) -> None:
        """Append children to a chain (a child already present moves to the end).

        Reads the chain and stores the new one in one transaction; the errors
        are those of `set_collection_chain`.

        Parameters
        ----------
        parent : `str`
            The chain's name.
        children : `str` or `~collections.abc.Sequence` [`str`]
            The collection(s) to append.
        """
        self._collections.extend_chain(parent, children)

    def prepend_collection_chain(self, parent: str, children: Sequence[str] | str) -> None:
        """Insert children at the front of a chain (a child already present moves).

        Like `extend_collection_chain`, but the children go first, in the order
        given.

        Parameters
        ----------
        parent, children
            As for `extend_collection_chain`.
        """
        self._collections.prepend_chain(parent, children)

    def remove_from_collection_chain(self, parent: str, children: Sequence[str] | str) -> None:
        """Remove children from a chain (one transaction).

        Parameters
        ----------
        parent, children
            As for `extend_collection_chain`.

        Raises
        ------
        MissingCollectionError
            If ``parent`` does not exist or a name is not in the chain; the
            message lists the chain's children.
        CollectionTypeError
            If ``parent`` is not a CHAINED collection.
        """
        self._collections.remove_from_chain(parent, children)

    def get_collection_parent_chains(self, name: str) -> list[str]:
        """Return the chains that directly contain a collection (one SELECT).

        Parameters
        ----------
        name : `str`
            The collection name.

        Returns
        -------
        parents : `list` [`str`]
            Names of the CHAINED collections that list it as a child, sorted.

        Raises
        ------
        MissingCollectionError
            If it does not exist.
        """
        return self._collections.parents(name)

    def query_collections(
        self,
        pattern: str | Iterable[str] = "*",
        collection_types: Iterable[CollectionType | str] | None = None,
        *,
        flatten_chains: bool = False,
    ) -> list[str]:
        """Return the collection names that match glob pattern(s) and types.

        Reads the collection table once (then answers from the cache).

        Parameters
        ----------
        pattern : `str` or iterable of `str`, optional
            `fnmatch` glob pattern(s), case-sensitive; ``"*"`` matches all.
        collection_types : iterable of `CollectionType` or `str`, optional
            The types to keep; all types by default.
        flatten_chains : `bool`, optional
            List the children of matching chains (recursively, depth-first) in
            place of the chains.

        Returns
        -------
        names : `list` [`str`]
            Matching names, sorted by name (in search order with
            ``flatten_chains``).

        Raises
        ------
        CollectionTypeError
            If a type name is not a `CollectionType`.
        """
        return self._collections.query(pattern, collection_types, flatten_chains)

    def remove_collection(self, name: str) -> None:
        """Remove a collection (one DELETE).

        Removing a RUN removes its datasets from the registry; datasets that
        still have files must be removed through the Butler. Removing a TAGGED
        or CALIBRATION collection removes only its associations; removing a
        chain leaves its children.

        Parameters
        ----------
        name : `str`
            The collection name.

        Raises
        ------
        MissingCollectionError
            If it does not exist.
        OrphanedRecordError
            If the collection is in a chain, or its datasets still have files.
        """
        self._collections.remove(name)

    # --- dataset types -------------------------------------------------------------------

    def register_dataset_type(self, dataset_type: DatasetType) -> bool:
        """Register a dataset type (one transaction; creates its dimension group's tables if missing).

        Parameters
        ----------
        dataset_type : `DatasetType`
            The definition to register.

        Returns
        -------
        registered : `bool`
            True if new, False if an identical definition exists.

        Raises
        ------
        ConflictingDefinitionError
            If a different definition exists; the message shows both.
        DatasetTypeError
            If it is a component type (register the composite) or uses another
            dimension universe.
        """
        return self._dataset_types.register(dataset_type)

    def get_dataset_type(self, name: str) -> DatasetType:
        """Return the registered dataset type called ``name``.

        Answered from the cache; an unknown name reloads the cache once.

        Parameters
        ----------
        name : `str`
            The dataset type name.

        Returns
        -------
        dataset_type : `DatasetType`
            The registered definition.

        Raises
        ------
        MissingDatasetTypeError
            If no dataset type has that name; the message suggests close names.
        """
        return self._dataset_types.get(name).dataset_type

    def query_dataset_types(self, pattern: str | Iterable[str] = "*") -> list[DatasetType]:
        """Return the registered dataset types whose names match glob pattern(s).

        Reloads the dataset types (one SELECT).

        Parameters
        ----------
        pattern : `str` or iterable of `str`, optional
            `fnmatch` glob pattern(s), case-sensitive; ``"*"`` matches all.

        Returns
        -------
        dataset_types : `list` [`DatasetType`]
            The matching definitions, sorted by name.
        """
        return self._dataset_types.query(pattern)

    def remove_dataset_type(self, name: str) -> None:
        """Remove a dataset type that has no datasets (one transaction).

        Parameters
        ----------
        name : `str`
            The dataset type name.

        Raises
        ------
        MissingDatasetTypeError
            If no dataset type has that name.
        OrphanedRecordError
            If datasets of the type exist; the message gives their number.
        """
        self._dataset_types.remove(name)

    # --- datasets ------------------------------------------------------------------------

    def insert_datasets(
        self,
        dataset_type: str | DatasetType,
        data_ids: Iterable[DataCoordinate | Mapping[str, Any]],
        run: str,
        id_mode: DatasetIdGenEnum = DatasetIdGenEnum.UNIQUE,
    ) -> list[DatasetRef]:
        """Insert datasets in bulk (one transaction, all or nothing).

        Parameters
        ----------
        dataset_type : `str` or `DatasetType`
            A registered dataset type or its name.
        data_ids : iterable of `DataCoordinate` or `~collections.abc.Mapping`
            One data ID per dataset.
        run : `str`
            The RUN collection.
        id_mode : `DatasetIdGenEnum`, optional
            `DatasetIdGenEnum.UNIQUE` for time-ordered UUIDv7 IDs, or a
            deterministic UUIDv5 mode compatible with the Rubin butler.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            One resolved ref per data ID, in the order given.

        Raises
        ------
        MissingDatasetTypeError
            If the dataset type is not registered.
        MissingCollectionError
            If the run does not exist.
        CollectionTypeError
            If ``run`` is not a RUN collection.
        ConflictingDefinitionError
            A dataset with the same type and data ID exists in the run, or a
            data ID is given twice.
        DataIdValueError
            A data ID refers to a dimension value with no record.
        """
        with collector_paused():
            return self._datasets.insert(dataset_type, data_ids, run, id_mode)

    def import_datasets(self, refs: Sequence[DatasetRef]) -> list[DatasetRef]:
        """Insert datasets with IDs chosen elsewhere (for ingest and import).

        The refs are grouped by dataset type and run; all groups are inserted
        in one transaction.

        Parameters
        ----------
        refs : `~collections.abc.Sequence` [`DatasetRef`]
            Resolved refs whose IDs, runs and data IDs are stored as given.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            The inserted refs, grouped by (dataset type, run) in order of first
            appearance.

        Raises
        ------
        ConflictingDefinitionError
            If a dataset with the same type and data ID exists in its run.
        CollectionTypeError
            If a ref's run is not a RUN collection.
        """
        out: list[DatasetRef] = []
        groups: dict[tuple[str, str], list[DatasetRef]] = {}
        for r in refs:
            groups.setdefault((r.dataset_type.name, r.run), []).append(r)
        with collector_paused(), self.transaction():
            for (name, run), group in groups.items():
                out += self._datasets.insert(name, [r.data_id for r in group], run, ids=[r.id for r in group])
        return out

    def find_dataset(
        self,
        dataset_type: str | DatasetType,
        data_id: Mapping[str, Any] | None = None,
        *,
        collections: Sequence[str] | str,
        timespan: Timespan | None = None,
        **kwargs: Any,
    ) -> DatasetRef | None:
        """Find the first dataset of a type and data ID in an ordered collection search.

        Chains are searched depth-first. CALIBRATION collections are searched
        only when ``timespan`` is given; then a dataset whose validity range
        overlaps it is found. Runs one SELECT per kind of collection searched.

        Parameters
        ----------
        dataset_type : `str` or `DatasetType`
            The dataset type or its name.
        data_id : `~collections.abc.Mapping`, optional
            Values of the dataset type's required dimensions.
        collections : `str` or `~collections.abc.Sequence` [`str`]
            The collections to search, in order.
        timespan : `Timespan`, optional
            The time a calibration must be valid at; without it CALIBRATION
            collections are skipped.
        **kwargs
            More data ID values, merged with ``data_id``.

        Returns
        -------
        ref : `DatasetRef` or None
            The dataset found first, or None if nothing matches.

        Raises
        ------
        MissingDatasetTypeError
            If the dataset type is not registered.
        MissingCollectionError
            If a collection does not exist.
        DimensionNameError
            If a required dimension has no value.
        CalibrationLookupError
            If several validity ranges in one collection overlap ``timespan``.
        """
        if kwargs:
            data_id = dict(data_id or {}) | kwargs
        return self._datasets.find(dataset_type, data_id or {}, collections, timespan)

    def get_datasets(self, ids: Iterable[Any]) -> list[DatasetRef]:
        """Resolve dataset IDs to refs (bulk SELECTs, in chunks of 10,000 IDs).

        Parameters
        ----------
        ids : iterable of `uuid.UUID`
            Dataset IDs.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            A ref for each ID found, grouped by dataset type; unknown IDs are
            left out.
        """
        return self._datasets.get_refs(ids)

    def associate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Add datasets to a TAGGED collection (one transaction; present ones are skipped).

        Parameters
        ----------
        collection : `str`
            The TAGGED collection (`MissingCollectionError` if it does not exist,
            `CollectionTypeError` if it has another type).
        refs : iterable of `DatasetRef`
            Resolved refs of datasets in the registry.

        Raises
        ------
        ConflictingDefinitionError
            If the collection has a different dataset with the same type and data ID.
        """
        self._datasets.associate(collection, refs)

    def disassociate(self, collection: str, refs: Iterable[DatasetRef]) -> None:
        """Remove datasets from a TAGGED collection (one transaction; bulk DELETEs).

        Refs that are not in the collection are ignored; the datasets stay in
        their runs. The errors are those of `associate` for the collection.

        Parameters
        ----------
        collection, refs
            As for `associate`.
        """
        self._datasets.disassociate(collection, refs)

    def certify(self, collection: str, refs: Iterable[DatasetRef], timespan: Timespan) -> None:
        """Certify calibration datasets into a CALIBRATION collection over a validity range.

        Runs in one transaction. A dataset already certified in the collection
        over exactly ``timespan`` is left as it is.

        Parameters
        ----------
        collection : `str`
            The CALIBRATION collection.
        refs : iterable of `DatasetRef`
            Resolved refs of calibration datasets.
        timespan : `Timespan`
            The validity range.

        Raises
        ------
        MissingCollectionError
            If the collection does not exist.
        CollectionTypeError
            If it is not a CALIBRATION collection.
        DatasetTypeError
            If a dataset type was not registered with ``is_calibration=True``.
        ConflictingDefinitionError
            If a validity range for the same type and data ID would overlap.
        """
        self._datasets.certify(collection, refs, timespan)

    def decertify(
        self,
        collection: str,
        dataset_type: str | DatasetType,
        timespan: Timespan,
        *,
        data_ids: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        """Remove ``timespan`` from validity ranges in a CALIBRATION collection.

        Ranges that overlap ``timespan`` are deleted and what is left of them
        outside it is inserted again, so a range may be split in two; one
        transaction. The collection and dataset type are checked as by `certify`
        (same errors).

        Parameters
        ----------
        collection : `str`
            The CALIBRATION collection.
        dataset_type : `str` or `DatasetType`
            The calibration dataset type or its name.
        timespan : `Timespan`
            The time range to remove.
        data_ids : iterable of `~collections.abc.Mapping`, optional
            Limit the change to these data IDs; all data IDs by default.
        """
        self._datasets.decertify(collection, dataset_type, timespan, data_ids)

    def count_datasets(self, runs: Iterable[str]) -> dict[str, dict[str, int]]:
        """Return the number of datasets in RUN collections, per dataset type (one GROUP BY statement).

        Parameters
        ----------
        runs
            Names of RUN collections.

        Returns
        -------
        dict[str, dict[str, int]]
            ``{run: {dataset type name: count}}``, with every given run as a
            key (an empty dict for a run holding no datasets).

        Raises
        ------
        MissingCollectionError
            If a name is not a collection.
        CollectionTypeError
            If a collection is not a RUN.
        """
        records = [self._collections.get(name) for name in dict.fromkeys(runs)]
        for rec in records:
            if rec.type is not CollectionType.RUN:
                raise CollectionTypeError(
                    f"Collection {rec.name!r} is {rec.type.name}, not a RUN; datasets are counted per RUN."
                )
        return self._datasets.count_by_run(records)

    def query_dataset_associations(self, collections: Iterable[str]) -> list[DatasetAssociation]:
        """Return the datasets held by TAGGED and CALIBRATION collections, with validity ranges.

        Like the Rubin butler's ``queryDatasetAssociations``, but for every
        dataset type at once and giving dataset IDs (resolve them with
        `get_datasets`). Runs one SELECT per dataset-type table.

        Parameters
        ----------
        collections
            Names of TAGGED or CALIBRATION collections (chains are not
            followed).

        Returns
        -------
        list[DatasetAssociation]
            One entry per membership, in no particular order; a CALIBRATION
            membership carries its validity range.

        Raises
        ------
        MissingCollectionError
            If a name is not a collection.
        CollectionTypeError
            If a collection is neither TAGGED nor CALIBRATION.
        """
        return query_associations(self._db, self._collections, self._dataset_types, collections)

    def remove_datasets(self, refs: Iterable[DatasetRef]) -> None:
        """Remove datasets from the registry and every collection (bulk DELETEs, one transaction).

        Parameters
        ----------
        refs : iterable of `DatasetRef`
            The datasets to remove.

        Raises
        ------
        OrphanedRecordError
            If a dataset still has files in the datastore.
        """
        self._datasets.remove(refs)

    # --- maintenance ---------------------------------------------------------------------

    def analyze(self) -> None:
        """Refresh the database planner's statistics (run after bulk loads)."""
        self._db.analyze(list(self._tables))


def _where(db: Database) -> str:
    if db.dialect == "sqlite":
        return str(db.url.database)
    where = db.url.render_as_string(hide_password=True)
    return f"{where} (namespace {db.namespace})" if db.namespace else where


def _one_line(err: object) -> str:
    return " ".join(str(err).split())


def _stored_universe(attributes: Mapping[str, str], where: str) -> DimensionUniverse:
    """Return the universe recorded in ``repository_attribute``, after checking the schema version."""
    for name in ("schema_version", "universe"):
        if name not in attributes:
            raise SchemaVersionError(
                f"Repository {where} is damaged: its repository_attribute table has no {name!r} attribute."
            )
    stored = attributes["schema_version"]
    if stored != SCHEMA_VERSION:
        raise SchemaVersionError(
            f"Repository {where} records schema_version {stored!r}, but this Chamberlain uses "
            f"{SCHEMA_VERSION!r} (and its schema revision is this Chamberlain's): the attribute was "
            "changed by another program, or the repository needs the Chamberlain that wrote it."
        )
    try:
        return DimensionUniverse.from_config(json.loads(attributes["universe"]))
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise SchemaVersionError(
            f"Repository {where} is damaged: its 'universe' attribute cannot be read ({_one_line(err)})."
        ) from None


def _grant_reader_role(conn: sa.Connection, db: Database) -> None:
    """Create the analysts' read-only role (see `chamberlain.registry.sql`), if this user may.

    Without the privilege to create roles the repository is still created; ``chamberlain sql``
    then says the role is missing and how to create it.
    """
    role = reader_role_name(db.url, db.namespace)
    try:
        with conn.begin_nested():
            grant_reader_role(conn, db.schema, role)
    except sa.exc.DBAPIError as err:
        if getattr(err.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise


def _ensure_btree_gist(conn: sa.Connection) -> None:
    """Calibration exclusion constraints need the btree_gist extension."""
    present = conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")).first()
    if present is None:
        try:
            with conn.begin_nested():
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
        except sa.exc.DBAPIError as err:
            raise SchemaVersionError(
                "PostgreSQL repositories need the btree_gist extension; ask an administrator to run "
                f"'CREATE EXTENSION btree_gist' in this database ({' '.join(str(err.orig).split())})."
            ) from None
