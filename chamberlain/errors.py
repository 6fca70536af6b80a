"""The exceptions Chamberlain raises.

Every exception derives from `ChamberlainError`. Errors caused by what a user
passed in also derive from the matching built-in (`LookupError`, `ValueError`,
`TypeError`, ...) so generic handlers keep working. Messages name the value at
fault and, where there is a finite set, what would have been valid.
"""

from __future__ import annotations

from collections.abc import Iterable


def format_choices(choices: Iterable[object], limit: int = 12) -> str:
    """Format a collection of valid values for an error message.

    Parameters
    ----------
    choices
        The valid values.
    limit
        How many to show before summarising the rest as "and N more".

    Returns
    -------
    text : `str`
        The distinct values' reprs, sorted and comma-separated, or ``"(none)"``.
    """
    items = sorted({repr(c) for c in choices})
    if not items:
        return "(none)"
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", and {len(items) - limit} more"
    return ", ".join(items)


class ChamberlainError(Exception):
    """Root of every exception raised by Chamberlain.

    Never raised itself; catch it to handle any Chamberlain error.
    """


# --- configuration and schema -------------------------------------------------------


class ConfigError(ChamberlainError, ValueError):
    """A configuration file or value is invalid.

    Raised for a malformed ``chamberlain.yaml``/``datastore.yaml`` or task
    config, a database URL or PostgreSQL namespace that is not valid (or a
    namespace that holds tables but no repository), and bad CLI options.
    """


class SchemaVersionError(ChamberlainError, RuntimeError):
    """The repository's database schema does not match this version of Chamberlain.

    Raised by `Registry.open` (and so by opening a Butler) when the schema
    revision is older or newer than this Chamberlain's or repository
    attributes are missing or damaged, and by `Registry.create` when the
    database already holds a repository.
    """


class DatabaseError(ChamberlainError, RuntimeError):
    """The database rejected a statement; the message names the statement.

    Raised when a repository cannot be created, opened or connected to, and
    when an analyst SQL statement (`chamberlain.registry.sql`) fails.
    """


class ConstraintError(DatabaseError):
    """Rows broke a constraint of a table (unique key, foreign key, exclusion).

    Parameters
    ----------
    table
        The table the statement wrote to.
    statement
        The SQL that failed.
    detail
        The database's own message.
    """

    def __init__(self, table: str, statement: str, detail: str) -> None:
        detail = " ".join(detail.split())
        super().__init__(f"Table {table!r} refused the rows ({detail}); statement: {statement}")
        self.table = table
        self.statement = statement
        self.detail = detail

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.table, self.statement, self.detail))


class ReadOnlyError(ChamberlainError, PermissionError):
    """A write was attempted through a read-only connection or butler.

    Raised by writes to a repository opened with ``writeable=False``, and by
    `chamberlain.registry.sql` when a statement would write or the read-only
    role is missing or not read-only.
    """


# --- geometry: time spans and sky pixelization ---------------------------------------


class GeometryError(ChamberlainError, ValueError):
    """A time, time span or sky-pixel cover request is invalid or out of range.

    Raised by `Timespan` and `time_to_ns` (a time outside 1678-2262, an
    array where one time is expected, an invalid ``day_obs``) and by the
    HTM pixelization (`chamberlain.geometry.htm`).
    """


class TimespanTypeError(GeometryError, TypeError):
    """A time span bound has a type that is not a time (astropy Time, integer TAI ns or None).

    Raised when a `Timespan` is made with such a bound.
    """


# --- dimensions and data IDs --------------------------------------------------------


class DimensionError(ChamberlainError):
    """Base for problems with dimensions, data IDs and dimension records.

    Never raised itself; catch it to handle any of its subclasses.
    """


class DimensionNameError(DimensionError, KeyError):
    """A dimension or element name is unknown, or a required key is missing.

    Raised by `DimensionUniverse` lookups, `DataCoordinate.standardize` and
    everything that takes a data ID (`Registry.expand_data_id`,
    `Butler.get`, ...).
    """

    def __str__(self) -> str:  # KeyError would otherwise quote the message.
        return str(self.args[0]) if self.args else ""


class DataIdValueError(DimensionError, LookupError):
    """A data ID names a dimension value that has no record in the registry.

    Raised by `Registry.expand_data_id`, `Registry.insert_dimension_records`
    and `Registry.insert_datasets` (e.g. ``detector=999``).
    """


class InconsistentDataIdError(DimensionError, ValueError):
    """A data ID's values contradict each other (for example an implied value).

    Raised by `DataCoordinate.standardize` and `Registry.expand_data_id`.
    """


class DimensionUsageError(DimensionError, TypeError):
    """A dimension object was called with arguments it cannot work with (e.g. no universe)."""


class DimensionRecordError(DimensionError, ValueError):
    """A dimension record has a missing, unknown or badly typed field.

    Raised by `Registry.insert_dimension_records`,
    `Registry.sync_dimension_record` and `DimensionRecord` construction.
    """


class ConflictingRecordError(DimensionError, ValueError):
    """A record being synced differs from the one already stored.

    Raised by `Registry.sync_dimension_record` (the message names each
    differing field), by `Registry.insert_dimension_records` when a record
    with the same keys exists, and by instrument registration and imports.
    """


# --- collections, dataset types and datasets ---------------------------------------


class MissingCollectionError(ChamberlainError, LookupError):
    """A collection name is not registered.

    Raised by every registry and butler call that takes a collection name;
    the message lists the existing collections.
    """


class CollectionTypeError(ChamberlainError, TypeError):
    """A collection has the wrong type for the operation.

    Raised e.g. when datasets are inserted into a collection that is not a
    RUN, associated with one that is not TAGGED, certified into one that is
    not CALIBRATION, or a collection is registered again with another type.
    """


class CollectionCycleError(ChamberlainError, ValueError):
    """A chain definition would make a collection contain itself.

    Raised by `Registry.set_collection_chain` and the other chain edits.
    """


class OrphanedRecordError(ChamberlainError, RuntimeError):
    """A removal would leave other rows pointing at nothing.

    Raised by `Registry.remove_collection` (a collection still in a chain,
    or with datasets that have files), `Registry.remove_dataset_type` (it
    has datasets) and `Registry.remove_datasets` (a dataset has files).
    """


class MissingDatasetTypeError(ChamberlainError, LookupError):
    """A dataset type name is not registered.

    Raised by `Registry.get_dataset_type` and every call that takes a
    dataset type name; the message suggests close names.
    """


class DatasetTypeError(ChamberlainError, ValueError):
    """A dataset type definition is invalid or wrong for the operation.

    Raised by `DatasetType` construction, by `Registry.register_dataset_type`
    for a component type or another universe, and by `Registry.certify` for
    a type that is not a calibration type.
    """


class DatasetUsageError(ChamberlainError, TypeError):
    """A dataset type or ref was built or copied with arguments it does not take."""


class DatasetIdModeError(ChamberlainError, ValueError):
    """A dataset ID generation mode does not fit the operation (e.g. not a deterministic mode)."""


class ConflictingDefinitionError(ChamberlainError, ValueError):
    """A definition conflicts with one already stored (dataset type, dataset, validity range).

    Raised by `Registry.register_dataset_type`, by `Registry.insert_datasets`
    and puts when a run already has a dataset of that type and data ID, and
    by `Registry.associate` and `Registry.certify`.
    """


class DatasetNotFoundError(ChamberlainError, LookupError):
    """No dataset matches the dataset type, data ID and collections given.

    Raised by `Butler.get` and its relatives, and by the datastore when the
    registry knows a dataset but no file is stored for it.
    """


class CalibrationLookupError(ChamberlainError, LookupError):
    """A calibration lookup is ambiguous or lacks the time it needs.

    Raised by `Registry.find_dataset` and calibration queries when several
    validity ranges in one collection overlap the time given.
    """


class ButlerUsageError(ChamberlainError, ValueError):
    """A butler method was called with options that do not fit together."""


class InvalidNameError(ChamberlainError, ValueError):
    """A collection or dataset type name breaks the rules of `chamberlain.naming`.

    Raised when a collection or dataset type is registered or defined.
    """


# --- queries ------------------------------------------------------------------------


class InvalidQueryError(ChamberlainError, ValueError):
    """A query or `where` expression is invalid; the message shows where.

    Raised by the ``query_*`` methods of the registry and the butler and by
    `~chamberlain.registry.queries.expressions.parse_where`.
    """


# --- datastore, formatters and images ------------------------------------------------


class DatastoreError(ChamberlainError, RuntimeError):
    """A file could not be written, read, moved or removed.

    Raised by `FileDatastore` (e.g. a full disk, or a directory that
    resolves outside the datastore root) and by exports.
    """


class MissingFileError(DatastoreError, FileNotFoundError):
    """A record names a file that does not exist."""


class FileIntegrityError(DatastoreError):
    """A file's size or checksum differs from what the registry recorded.

    Raised by `FileDatastore.get` and by imports and ``verify``.
    """


class FormatterError(ChamberlainError, ValueError):
    """No formatter fits, or a formatter cannot read or write the object.

    Raised by `FileDatastore.put`/`get` and the formatters, and by
    `get_storage_class`/`get_formatter` for unknown names.
    """


class UnknownComponentError(ChamberlainError, KeyError):
    """A component name is not defined for the storage class.

    Raised by `StorageClass.component` (and so by reading a component);
    the message lists the valid ones.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FileTemplateError(ChamberlainError, ValueError):
    """A file-name template is malformed or not unique for its dataset type.

    Raised by `FileTemplate` validation and formatting (on a put or ingest).
    """


class ImageError(ChamberlainError, ValueError):
    """An image, mask or bounding box is inconsistent or out of range.

    Raised by the `chamberlain.image` types and their FITS reading and writing.
    """


# --- instruments, ingest, skymaps and tasks ------------------------------------------


class InstrumentError(ChamberlainError, LookupError):
    """An instrument is unknown or a header cannot be translated.

    Raised by `get_instrument`, `Instrument.translate_raw_header`, detector
    and filter lookups, and raw simulation with bad arguments.
    """


class IngestError(ChamberlainError, RuntimeError):
    """One or more files could not be ingested; the message lists them.

    Raised by raw ingest, `FileDatastore.ingest` (a missing file, a bad
    transfer mode) and imports.
    """


class RawHeaderError(ChamberlainError):
    """A raw file cannot be ingested; the message is the reason (the path is reported beside it)."""


class SkyMapError(ChamberlainError, ValueError):
    """A skymap configuration is invalid or conflicts with a registered one.

    Raised by skymap construction, configuration files and registration.
    """


class SkyMapLookupError(SkyMapError, IndexError):
    """A tract or patch index is out of range, or a position is not on a tract.

    Raised by skymap and tract lookups.
    """


class ExportFormatError(ChamberlainError, ValueError):
    """An export file is malformed, of an unknown version, or for an incompatible universe.

    Raised by `chamberlain.transfers` imports.
    """


class PipelineError(ConfigError):
    """A pipeline file, or a pipeline built from one, is invalid.

    Raised by `chamberlain.pipe.Pipeline` when a file is not YAML, has an
    unknown key, imports a missing file, or names a task class or config
    field that does not exist.
    """


class PipelineGraphError(PipelineError):
    """The tasks of a pipeline do not form a valid graph.

    Raised by `chamberlain.pipe.PipelineGraph` for a cycle, two producers of
    one dataset type, or a storage-class or dimension mismatch.
    """


class TaskError(ChamberlainError, RuntimeError):
    """A task was misconfigured or failed.

    Raised by the `chamberlain.pipe` framework (connections, quanta) and
    the tasks in `chamberlain.tasks`.
    """


class TaskMetadataError(TaskError, ValueError):
    """A metadata key or value is invalid (wrong type, mixed array, missing key).

    Raised by `chamberlain.pipe` task metadata.
    """


class NoWorkFound(ChamberlainError):
    """A task found nothing to do for its inputs; an expected outcome, not a failure.

    Raised by a task's ``run`` (or its connections) to skip a quantum.
    """
