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
    """
    items = sorted({repr(c) for c in choices})
    if not items:
        return "(none)"
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", and {len(items) - limit} more"
    return ", ".join(items)


class ChamberlainError(Exception):
    """Root of every exception raised by Chamberlain."""


# --- configuration and schema -------------------------------------------------------


class ConfigError(ChamberlainError, ValueError):
    """A configuration file or value is invalid."""


class SchemaVersionError(ChamberlainError, RuntimeError):
    """The repository's database schema does not match this version of Chamberlain."""


class DatabaseError(ChamberlainError, RuntimeError):
    """The database rejected a statement; the message names the statement."""


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
    """A write was attempted through a read-only connection or butler."""


# --- geometry: time spans and sky pixelization ---------------------------------------


class GeometryError(ChamberlainError, ValueError):
    """A time, time span or sky-pixel cover request is invalid or out of range."""


class TimespanTypeError(GeometryError, TypeError):
    """A time span bound has a type that is not a time (astropy Time, integer TAI ns or None)."""


# --- dimensions and data IDs --------------------------------------------------------


class DimensionError(ChamberlainError):
    """Base for problems with dimensions, data IDs and dimension records."""


class DimensionNameError(DimensionError, KeyError):
    """A dimension or element name is unknown, or a required key is missing."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message.
        return str(self.args[0]) if self.args else ""


class DataIdValueError(DimensionError, LookupError):
    """A data ID names a dimension value that has no record in the registry."""


class InconsistentDataIdError(DimensionError, ValueError):
    """A data ID's values contradict each other (for example an implied value)."""


class DimensionRecordError(DimensionError, ValueError):
    """A dimension record has a missing, unknown or badly typed field."""


class ConflictingRecordError(DimensionError, ValueError):
    """A record being synced differs from the one already stored."""


# --- collections, dataset types and datasets ---------------------------------------


class MissingCollectionError(ChamberlainError, LookupError):
    """A collection name is not registered."""


class CollectionTypeError(ChamberlainError, TypeError):
    """A collection has the wrong type for the operation."""


class CollectionCycleError(ChamberlainError, ValueError):
    """A chain definition would make a collection contain itself."""


class OrphanedRecordError(ChamberlainError, RuntimeError):
    """A removal would leave other rows pointing at nothing."""


class MissingDatasetTypeError(ChamberlainError, LookupError):
    """A dataset type name is not registered."""


class DatasetTypeError(ChamberlainError, ValueError):
    """A dataset type definition is invalid or wrong for the operation."""


class ConflictingDefinitionError(ChamberlainError, ValueError):
    """A definition conflicts with one already stored (dataset type, dataset, validity range)."""


class DatasetNotFoundError(ChamberlainError, LookupError):
    """No dataset matches the dataset type, data ID and collections given."""


class CalibrationLookupError(ChamberlainError, LookupError):
    """A calibration lookup is ambiguous or lacks the time it needs."""


class InvalidNameError(ChamberlainError, ValueError):
    """A collection or dataset type name breaks the rules of `chamberlain.naming`."""


# --- queries ------------------------------------------------------------------------


class InvalidQueryError(ChamberlainError, ValueError):
    """A query or `where` expression is invalid; the message shows where."""


# --- datastore, formatters and images ------------------------------------------------


class DatastoreError(ChamberlainError, RuntimeError):
    """A file could not be written, read, moved or removed."""


class FileIntegrityError(DatastoreError):
    """A file's size or checksum differs from what the registry recorded."""


class FormatterError(ChamberlainError, ValueError):
    """No formatter fits, or a formatter cannot read or write the object."""


class UnknownComponentError(ChamberlainError, KeyError):
    """A component name is not defined for the storage class."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FileTemplateError(ChamberlainError, ValueError):
    """A file-name template is malformed or not unique for its dataset type."""


class ImageError(ChamberlainError, ValueError):
    """An image, mask or bounding box is inconsistent or out of range."""


# --- instruments, ingest, skymaps and tasks ------------------------------------------


class InstrumentError(ChamberlainError, LookupError):
    """An instrument is unknown or a header cannot be translated."""


class IngestError(ChamberlainError, RuntimeError):
    """One or more files could not be ingested; the message lists them."""


class SkyMapError(ChamberlainError, ValueError):
    """A skymap configuration is invalid or conflicts with a registered one."""


class SkyMapLookupError(SkyMapError, IndexError):
    """A tract or patch index is out of range, or a position is not on a tract."""


class ExportFormatError(ChamberlainError, ValueError):
    """An export file is malformed, of an unknown version, or for an incompatible universe."""


class TaskError(ChamberlainError, RuntimeError):
    """A task was misconfigured or failed."""


class TaskMetadataError(TaskError, ValueError):
    """A metadata key or value is invalid (wrong type, mixed array, missing key)."""


class NoWorkFound(ChamberlainError):
    """A task found nothing to do for its inputs; an expected outcome, not a failure."""
