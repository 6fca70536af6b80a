"""Dataset types, dataset references and dataset ID generation.

These plain types sit below the registry and the datastore so both can use them.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import uuid_utils.compat

from .dimensions import DataCoordinate, DimensionGroup, DimensionUniverse, row_coordinate_class
from .errors import DatasetIdModeError, DatasetTypeError, DatasetUsageError
from .naming import validate_dataset_type_name

#: Namespace of deterministic dataset IDs; uuid5(DNS, "lsst.org"), as in the Rubin butler,
#: so that the same raw gets the same ID in both systems.
DATASET_ID_NAMESPACE = uuid.UUID("840b31d9-05cd-5161-b2c8-00d32b280d0f")


def _uuid_from_hex_fast(text: str) -> uuid.UUID:
    """Make a `uuid.UUID` from 32-digit hex text read back from the repository (not validated).

    Parameters
    ----------
    text : `str`
        32 hexadecimal digits, as SQLite stores dataset IDs.

    Returns
    -------
    id : `uuid.UUID`
        The UUID those digits spell.
    """
    # uuid.UUID.__init__ parses and validates its argument every time (~0.7 us);
    # IDs read back from our own tables are known-good 32-digit hex, so set
    # the UUID's two slots directly through their descriptors (~0.2 us).
    value = _new(_UUID)
    _set_int(value, int(text, 16))
    _set_is_safe(value, _UNKNOWN)
    return value


# The slot descriptors of `uuid.UUID` (its ``__setattr__`` refuses writes), looked up once.
_new = object.__new__
_UUID = uuid.UUID
_UNKNOWN = uuid.SafeUUID.unknown
try:
    _set_int = uuid.UUID.__dict__["int"].__set__
    _set_is_safe = uuid.UUID.__dict__["is_safe"].__set__
except (KeyError, AttributeError):  # a Python whose UUID has no slots: _pick_uuid_from_hex falls back
    _set_int = _set_is_safe = None


def _uuid_from_hex_checked(text: str) -> uuid.UUID:
    """Make a `uuid.UUID` from 32-digit hex text read back from the repository.

    Parameters
    ----------
    text
        As for `_uuid_from_hex_fast`.

    Returns
    -------
    uuid.UUID
        The same value `_uuid_from_hex_fast` gives, made by `uuid.UUID`.

    Raises
    ------
    ValueError
        If ``text`` is not a valid UUID hex string.
    """
    return uuid.UUID(hex=text)


def _pick_uuid_from_hex() -> Any:
    probe = "0a48762a844651b0b34d37f891b5295b"
    try:
        fast = _uuid_from_hex_fast(probe)
        if (
            fast == uuid.UUID(probe)
            and str(fast) == str(uuid.UUID(probe))
            and hash(fast) == hash(uuid.UUID(probe))
        ):
            return _uuid_from_hex_fast
    except (AttributeError, TypeError):  # a Python whose UUID is laid out differently
        pass
    return _uuid_from_hex_checked


#: A `uuid.UUID` from the 32-digit hex text SQLite stores (not validated: only for
#: values read back from the repository's own tables).
uuid_from_hex = _pick_uuid_from_hex()


def as_dataset_id(value: Any) -> uuid.UUID:
    """Convert a dataset ID read back from a table to a `uuid.UUID`.

    Parameters
    ----------
    value : `uuid.UUID` or `str`
        A `uuid.UUID` (PostgreSQL) or its 32-digit hex text (SQLite).

    Returns
    -------
    id : `uuid.UUID`
        ``value`` itself if it is a UUID, else the UUID its digits spell.
    """
    return value if isinstance(value, uuid.UUID) else uuid_from_hex(value)


class DatasetIdGenEnum(enum.Enum):
    """How `Registry.insert_datasets` makes dataset IDs."""

    UNIQUE = 0
    """A new time-ordered UUID (version 7) for every dataset."""
    DATAID_TYPE = 1
    """UUIDv5 of the dataset type and data ID: the same in every run and repository."""
    DATAID_TYPE_RUN = 2
    """UUIDv5 of the dataset type, run and data ID: the same in every repository."""


def make_dataset_id(
    mode: DatasetIdGenEnum, dataset_type: str, run: str, data_id: DataCoordinate
) -> uuid.UUID:
    """Make one dataset ID.

    Deterministic modes hash ``"dataset_type=<name>[,run=<run>],<dim>=<value>,..."``
    over the required dimensions sorted by name, exactly as the Rubin butler does.

    Parameters
    ----------
    mode : `DatasetIdGenEnum`
        `DatasetIdGenEnum.UNIQUE` for a new UUIDv7, or a deterministic mode.
    dataset_type : `str`
        The dataset type name.
    run : `str`
        The RUN collection (hashed only by ``DATAID_TYPE_RUN``).
    data_id : `DataCoordinate`
        The dataset's data ID (its required values are hashed).

    Returns
    -------
    id : `uuid.UUID`
        The dataset ID.
    """
    if mode is DatasetIdGenEnum.UNIQUE:
        return uuid_utils.compat.uuid7()
    return deterministic_id(mode, dataset_type, run, data_id.required)


def deterministic_id(
    mode: DatasetIdGenEnum, dataset_type: str, run: str, required: dict[str, Any]
) -> uuid.UUID:
    """Compute the UUIDv5 of a dataset in a deterministic mode, from its required data ID values.

    Parameters
    ----------
    mode : `DatasetIdGenEnum`
        ``DATAID_TYPE`` or ``DATAID_TYPE_RUN``.
    dataset_type : `str`
        The dataset type name.
    run : `str`
        The RUN collection (hashed only by ``DATAID_TYPE_RUN``).
    required : `dict` [`str`, `object`]
        The values of the required dimensions, by name.

    Returns
    -------
    id : `uuid.UUID`
        A UUIDv5 in `DATASET_ID_NAMESPACE`, the same as the Rubin butler's.

    Raises
    ------
    ValueError
        If ``mode`` is not a deterministic mode.
    """
    items = [f"dataset_type={dataset_type}"]
    if mode is DatasetIdGenEnum.DATAID_TYPE_RUN:
        items.append(f"run={run}")
    elif mode is not DatasetIdGenEnum.DATAID_TYPE:
        raise DatasetIdModeError(
            f"{mode} is not a deterministic ID mode; valid modes: DATAID_TYPE, DATAID_TYPE_RUN."
        )
    items += [f"{k}={required[k]}" for k in sorted(required)]
    return uuid.uuid5(DATASET_ID_NAMESPACE, ",".join(items))


class DatasetType:
    """A named kind of dataset: its dimensions, storage class and calibration flag.

    Parameters
    ----------
    name
        Letters, digits and underscores; a dot separates a component
        (``calexp.wcs``); at most 128 characters (see `chamberlain.naming`).
    dimensions
        A `DimensionGroup`, or dimension names together with ``universe``.
    storage_class
        Name of the storage class (resolved by the datastore).
    universe
        Needed when ``dimensions`` is not a `DimensionGroup`.
    is_calibration
        True if datasets of this type can be certified into CALIBRATION collections.

    Raises
    ------
    InvalidNameError
        If the name is malformed or too long.
    DatasetTypeError
        If the name is a governor dimension's name.
    """

    __slots__ = ("dimensions", "is_calibration", "name", "storage_class")

    def __init__(
        self,
        name: str,
        dimensions: DimensionGroup | Iterable[str],
        storage_class: str,
        universe: DimensionUniverse | None = None,
        *,
        is_calibration: bool = False,
    ) -> None:
        validate_dataset_type_name(name)
        if not isinstance(dimensions, DimensionGroup):
            if universe is None:
                raise DatasetUsageError(
                    f"DatasetType {name!r} needs a universe when its dimensions are given as names "
                    f"({dimensions!r}); pass universe= or a DimensionGroup."
                )
            dimensions = universe.conform(dimensions)
        if name.split(".")[0] in dimensions.universe and dimensions.universe[name.split(".")[0]].governor:
            raise DatasetTypeError(
                f"Dataset type name {name!r} is a governor dimension's name; choose another."
            )
        if not isinstance(storage_class, str) or not storage_class:
            raise DatasetTypeError(f"Storage class for dataset type {name!r} must be a non-empty name.")
        self.name = name
        self.dimensions = dimensions
        self.storage_class = storage_class
        self.is_calibration = bool(is_calibration)

    @property
    def is_component(self) -> bool:
        """True for component dataset types such as ``calexp.wcs``."""
        return "." in self.name

    @property
    def parent_name(self) -> str:
        """The composite's name (the name itself if not a component)."""
        return self.name.split(".", 1)[0]

    @property
    def component(self) -> str | None:
        """The component part of the name, if any."""
        return self.name.split(".", 1)[1] if self.is_component else None

    def describe(self) -> str:
        """Describe the dataset type on one line, naming every attribute (for error messages).

        Returns
        -------
        text : `str`
            ``name(dimensions; storage class S[, calibration])``.
        """
        cal = ", calibration" if self.is_calibration else ""
        return f"{self.name}({', '.join(self.dimensions.names)}; storage class {self.storage_class}{cal})"

    def _key(self) -> tuple[Any, ...]:
        return (self.name, self.dimensions, self.storage_class, self.is_calibration)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetType):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"DatasetType({self.name!r}, {list(self.dimensions.required)}, {self.storage_class!r}"
            f"{', is_calibration=True' if self.is_calibration else ''})"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class DatasetRef:
    """A resolved reference to one dataset: its type, data ID, RUN and UUID.

    Equality uses the dataset type, data ID and ID (not the run, which the ID
    determines).
    """

    dataset_type: DatasetType
    data_id: DataCoordinate
    run: str
    id: uuid.UUID

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetRef):
            return NotImplemented
        return (self.id, self.dataset_type, self.data_id) == (other.id, other.dataset_type, other.data_id)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"DatasetRef({self.dataset_type.name!r}, {self.data_id}, run={self.run!r}, id={self.id})"

    def replace(self, **kwargs: Any) -> DatasetRef:
        """Return a copy with some fields changed.

        Parameters
        ----------
        **kwargs
            New values of ``dataset_type``, ``data_id``, ``run`` or ``id``.

        Returns
        -------
        ref : `DatasetRef`
            A new plain `DatasetRef`.

        Raises
        ------
        TypeError
            If a keyword is not one of those fields; the message lists them.
        """
        values: dict[str, Any] = {
            "dataset_type": self.dataset_type,
            "data_id": self.data_id,
            "run": self.run,
            "id": self.id,
        }
        unknown = set(kwargs) - values.keys()
        if unknown:
            raise DatasetUsageError(f"DatasetRef has no field(s) {sorted(unknown)}; fields: {list(values)}.")
        values.update(kwargs)
        return DatasetRef(**values)


class RowRefLayout:
    """What the query-result rows of one dataset type look like (see `RowDatasetRef`).

    Rows hold the type's dimension values first, in ``dimensions.names``
    order (the `DataCoordinate.from_full_rows` layout), then the dataset ID
    (a `uuid.UUID` or its 32-digit hex form), then the RUN's collection ID.

    Parameters
    ----------
    dataset_type
        The dataset type of every row.
    run_names
        Collection ID to RUN name (a mapping that may compute missing names);
        a row whose collection ID is None belongs to ``run_names[None]``.
    coordinate_class
        The row-backed data ID class to use when some implied values are
        looked up rather than read from the row.
    """

    __slots__ = (
        "coordinate_class",
        "dataset_type",
        "id_index",
        "ref_class",
        "run_index",
        "run_names",
    )

    def __init__(
        self,
        dataset_type: DatasetType,
        run_names: Mapping[Any, str],
        coordinate_class: type[DataCoordinate] | None = None,
    ) -> None:
        self.dataset_type = dataset_type
        group = dataset_type.dimensions
        #: Row-backed data ID class (`chamberlain.dimensions.row_coordinate_class`).
        self.coordinate_class = coordinate_class or row_coordinate_class(group, {})
        self.id_index = len(group.names)
        self.run_index = self.id_index + 1
        self.run_names = run_names
        #: The `RowDatasetRef` subclass whose instances share this layout (a class
        #: attribute, so each ref holds only its row).
        self.ref_class: type[RowDatasetRef] = type(
            "DatasetRef",
            (RowDatasetRef,),
            {"__slots__": (), "__module__": __name__, "__qualname__": "DatasetRef", "_layout": self},
        )


class RowDatasetRef(DatasetRef):
    """A `DatasetRef` read from a query-result row, building its parts when first asked.

    Query results make one of these per row: holding the row and a shared
    `RowRefLayout` is all the work done up front, so reading thousands of
    refs costs little more than fetching the rows. The data ID and UUID are
    made on access; everything else behaves as a `DatasetRef` (equality,
    hashing, `replace`, pickling to a plain `DatasetRef`).
    """

    __slots__ = ("_row",)
    _layout: RowRefLayout  # a class attribute of each layout's subclass
    _row: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Make a plain `DatasetRef` when the class is called (as `dataclasses.replace` does).

        Query results make instances with ``object.__new__`` and set the row.
        """
        return DatasetRef(*args, **kwargs)

    @staticmethod
    def from_rows(layout: RowRefLayout, rows: Iterable[Any]) -> list[DatasetRef]:
        """Make one lazy ref per query-result row (no data ID or UUID is built yet).

        Parameters
        ----------
        layout : `RowRefLayout`
            The layout shared by the rows: data ID values, then dataset ID,
            then collection ID.
        rows : iterable
            The rows, as the query fetched them.

        Returns
        -------
        refs : `list` [`DatasetRef`]
            One `RowDatasetRef` per row, in order.
        """
        new = object.__new__
        cls = layout.ref_class
        set_row = _SET_ROW
        out: list[DatasetRef] = []
        append = out.append
        for row in rows:
            ref = new(cls)
            set_row(ref, row)
            append(ref)
        return out

    @property
    def dataset_type(self) -> DatasetType:
        """The dataset type (shared by every ref of the query)."""
        return self._layout.dataset_type

    @property
    def data_id(self) -> DataCoordinate:
        """The data ID, with implied values; reads its values from the row."""
        coord = object.__new__(self._layout.coordinate_class)
        coord._row = self._row  # type: ignore[attr-defined]
        return coord

    @property
    def run(self) -> str:
        """The RUN collection's name."""
        layout = self._layout
        return layout.run_names[self._row[layout.run_index]]

    @property
    def id(self) -> uuid.UUID:
        """The dataset's UUID (made from the row's value on each access)."""
        value = self._row[self._layout.id_index]
        return value if isinstance(value, _UUID) else uuid_from_hex(value)  # as_dataset_id, inlined

    def __reduce__(self) -> tuple[Any, ...]:
        return (DatasetRef, (self.dataset_type, self.data_id, self.run, self.id))


#: Sets a RowDatasetRef's row (the slot's descriptor, past the frozen dataclass's __setattr__).
_SET_ROW = RowDatasetRef.__dict__["_row"].__set__
