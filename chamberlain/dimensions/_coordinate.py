"""Data IDs: validated dimension values over a dimension group."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, KeysView, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DimensionNameError, DimensionRecordError, DimensionUsageError
from ._group import DimensionGroup

if TYPE_CHECKING:
    from ..geometry import Timespan
    from ._records import DimensionRecord
    from ._universe import DimensionUniverse

DataIdValue = int | str
DataIdLike = Mapping[str, Any]


def _normalize_value(dimension: str, value: Any, want: type) -> DataIdValue:
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.str_):
        value = str(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DimensionRecordError(
            f"Data ID value for {dimension!r} must be an int or a str; got {value!r} "
            f"of type {type(value).__name__}."
        )
    return value


class DataCoordinate(Mapping[str, DataIdValue]):
    """A data ID: values for the dimensions of a `DimensionGroup`.

    A data ID knows at least its required values; it may also know the implied
    values (`has_full`) and the records of every element (`has_records`, made by
    `Registry.expand_data_id`). Equality and hashing use the group's required
    dimensions and values only. Iterating and indexing cover the known values.
    Data IDs are immutable and never run SQL themselves.

    Most code should not call the constructor: use `standardize` to validate
    user input, or `from_required_values` / `from_full_values` when the values
    are already known to be valid.

    Parameters
    ----------
    dimensions : `DimensionGroup`
        The dimensions this data ID identifies.
    required : `tuple` [`int` | `str`, ...]
        Values of ``dimensions.required``, in that order (not checked).
    full : `~collections.abc.Mapping` [`str`, `int` | `str`], optional
        Values of every dimension of the group, implied ones included; None if
        the implied values are not known.
    records : `~collections.abc.Mapping` [`str`, `DimensionRecord` | None], optional
        Record of each element of the group (None where the element has no
        record); None for a data ID that is not expanded.
    """

    __slots__ = ("_dimensions", "_full", "_records", "_required")

    def __init__(
        self,
        dimensions: DimensionGroup,
        required: tuple[DataIdValue, ...],
        full: Mapping[str, DataIdValue] | None = None,
        records: Mapping[str, DimensionRecord | None] | None = None,
    ) -> None:
        self._dimensions = dimensions
        self._required = required
        self._full = dict(full) if full is not None else None
        self._records = dict(records) if records is not None else None

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_required_values(
        cls, dimensions: DimensionGroup, values: tuple[DataIdValue, ...]
    ) -> DataCoordinate:
        """Build a data ID from the values of its required dimensions.

        Parameters
        ----------
        dimensions : `DimensionGroup`
            The dimensions of the data ID.
        values : `tuple` [`int` | `str`, ...]
            Values for ``dimensions.required``, in that order. They are not
            checked or normalised (use `standardize` for user input).

        Returns
        -------
        data_id : `DataCoordinate`
            The data ID; it `has_full` values only if the group has no implied
            dimensions.
        """
        if not dimensions.implied:
            return cls(dimensions, values, dict(zip(dimensions.required, values)))
        return cls(dimensions, values)

    @classmethod
    def from_full_values(
        cls, dimensions: DimensionGroup, values: Mapping[str, DataIdValue]
    ) -> DataCoordinate:
        """Build a data ID from values for every dimension of the group.

        Parameters
        ----------
        dimensions : `DimensionGroup`
            The dimensions of the data ID.
        values : `~collections.abc.Mapping` [`str`, `int` | `str`]
            A value for each name in ``dimensions.names``, implied dimensions
            included (not checked or normalised).

        Returns
        -------
        data_id : `DataCoordinate`
            A data ID for which `has_full` is True.

        Raises
        ------
        KeyError
            If ``values`` lacks a required dimension.
        """
        return cls(dimensions, tuple(values[n] for n in dimensions.required), values)

    @classmethod
    def from_full_rows(
        cls,
        dimensions: DimensionGroup,
        rows: Iterable[Sequence[Any]],
        row_class: type[DataCoordinate] | None = None,
    ) -> list[DataCoordinate]:
        """Build data IDs from rows whose first values are ``dimensions.names``, in that order.

        The fast path for query results: each data ID keeps a reference to
        its row and reads values from it by position, so building one costs a
        single small object (the row must not change afterwards; database
        rows are tuples). Extra trailing values in a row are ignored. Nothing
        is checked.

        Parameters
        ----------
        dimensions : `DimensionGroup`
            The dimensions of every data ID.
        rows : `~collections.abc.Iterable` [`~collections.abc.Sequence`]
            Rows holding a value for each of ``dimensions.names`` first, in
            that order.
        row_class : `type` [`DataCoordinate`], optional
            A class from `row_coordinate_class`, for rows that hold None for
            implied values found by lookup instead; by default the (cached)
            class for plain rows of ``dimensions``.

        Returns
        -------
        data_ids : `list` [`DataCoordinate`]
            One full data ID per row, in the order of ``rows``.
        """
        new = object.__new__
        if row_class is None:
            row_class = _row_class(dimensions)
        out: list[DataCoordinate] = []
        append = out.append
        for row in rows:
            coord = new(row_class)
            coord._row = row  # type: ignore[attr-defined]
            append(coord)
        return out

    @classmethod
    def make_empty(cls, universe: DimensionUniverse) -> DataCoordinate:
        """Return the data ID with no dimensions.

        Parameters
        ----------
        universe : `DimensionUniverse`
            The universe whose empty group the data ID has.

        Returns
        -------
        data_id : `DataCoordinate`
            An empty, full and expanded data ID (it is falsy).
        """
        return cls(universe.empty, (), {}, {})

    @classmethod
    def standardize(
        cls,
        mapping: Mapping[str, Any] | None = None,
        *,
        dimensions: DimensionGroup | None = None,
        universe: DimensionUniverse | None = None,
        defaults: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> DataCoordinate:
        """Validate and normalise a data ID.

        Parameters
        ----------
        mapping : `~collections.abc.Mapping` [`str`, `~typing.Any`], optional
            Dimension name to value (a `DataCoordinate` or any mapping).
        dimensions : `DimensionGroup`, optional
            The group the result should have; inferred from the keys if absent.
            Keys outside it are dropped.
        universe : `DimensionUniverse`, optional
            Needed when neither ``mapping`` is a `DataCoordinate` nor
            ``dimensions`` is given.
        defaults : `~collections.abc.Mapping` [`str`, `~typing.Any`], optional
            Values used for keys absent from ``mapping`` and ``kwargs`` (never
            used to infer the group).
        **kwargs
            More values; they win over ``mapping``.

        Returns
        -------
        data_id : `DataCoordinate`
            The data ID over ``dimensions`` (or the inferred group), with numpy
            scalars converted to `int` / `str`. It has full values when every
            implied value was given; it has no records. A `DataCoordinate`
            already over the wanted group is returned as it is.

        Raises
        ------
        DimensionNameError
            If a required dimension has no value, or a key names no dimension
            when the group is inferred.
        DimensionRecordError
            If a value is neither int nor str.
        TypeError
            If ``mapping`` is a plain mapping and neither ``dimensions`` nor
            ``universe`` is given.
        """
        if isinstance(mapping, DataCoordinate) and not kwargs and not defaults:
            if dimensions is None or dimensions == mapping._dimensions:
                return mapping
            if dimensions.issubset(mapping._dimensions):
                return mapping.subset(dimensions)
        values: dict[str, Any] = {}
        if mapping is not None:
            if isinstance(mapping, DataCoordinate):
                universe = mapping.universe
            values.update(mapping.items())
        values.update(kwargs)
        if dimensions is not None:
            universe = dimensions.universe
        if universe is None:
            raise DimensionUsageError(
                "DataCoordinate.standardize needs a universe or dimensions when given a plain mapping."
            )
        if dimensions is None:
            unknown = [k for k in values if k not in universe or not universe[k].is_dimension]
            if unknown:
                raise DimensionNameError(
                    f"Unknown dimension name(s) {unknown} in data ID; dimensions are: "
                    f"{', '.join(universe.dimension_names)}."
                )
            dimensions = universe.conform(values.keys())
        if defaults:
            for k, v in defaults.items():
                if k in dimensions and k not in values:
                    values[k] = v
        required = []
        for name in dimensions.required:
            if name not in values:
                raise DimensionNameError(
                    f"No value in data ID {_show(values)} for required dimension {name!r}; "
                    f"a data ID for {dimensions} needs {', '.join(dimensions.required)}."
                )
            required.append(_normalize_value(name, values[name], str))
        full: dict[str, DataIdValue] | None = None
        if all(n in values for n in dimensions.implied):
            full = dict(zip(dimensions.required, required))
            for name in dimensions.implied:
                full[name] = _normalize_value(name, values[name], str)
        return cls(dimensions, tuple(required), full)

    # --- state -------------------------------------------------------------------------

    @property
    def dimensions(self) -> DimensionGroup:
        """The dimension group of this data ID."""
        return self._dimensions

    @property
    def universe(self) -> DimensionUniverse:
        """The universe of the dimension group."""
        return self._dimensions.universe

    @property
    def required_values(self) -> tuple[DataIdValue, ...]:
        """Values of ``dimensions.required``, in that order."""
        return self._required

    @property
    def required(self) -> dict[str, DataIdValue]:
        """The required dimensions and their values."""
        return dict(zip(self._dimensions.required, self._required))

    def has_full(self) -> bool:
        """Report whether the implied values are known too.

        Returns
        -------
        has_full : `bool`
            True if indexing works for every dimension of the group, implied
            ones included.
        """
        return self._full is not None

    def has_records(self) -> bool:
        """Report whether the records of every element are attached.

        Returns
        -------
        has_records : `bool`
            True for an expanded data ID (`Registry.expand_data_id`), whose
            `records`, `region` and `timespan` are available.
        """
        return self._records is not None

    @property
    def records(self) -> Mapping[str, DimensionRecord | None]:
        """Records by element name (only for expanded data IDs)."""
        if self._records is None:
            raise AttributeError("This data ID has no records; expand it with Registry.expand_data_id first.")
        return self._records

    def _mapping(self) -> Mapping[str, DataIdValue]:
        return self._full if self._full is not None else self.required

    def __getitem__(self, key: str) -> DataIdValue:
        try:
            return self._mapping()[key]
        except KeyError:
            if key in self._dimensions:
                raise DimensionNameError(
                    f"Implied dimension {key!r} is not known in data ID {self}; expand it first."
                ) from None
            raise DimensionNameError(
                f"Dimension {key!r} is not in data ID {self} (dimensions: {self._dimensions})."
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __getattr__(self, name: str) -> Any:
        # Attribute access to records: data_id.exposure.day_obs.
        if name.startswith("_"):
            raise AttributeError(name)
        records = object.__getattribute__(self, "_records")
        if records is not None and name in records:
            return records[name]
        raise AttributeError(f"Data ID has no record attribute {name!r}.")

    # --- algebra ------------------------------------------------------------------------

    def subset(self, dimensions: DimensionGroup) -> DataCoordinate:
        """Restrict the data ID to a subgroup of its dimensions.

        Parameters
        ----------
        dimensions : `DimensionGroup`
            A subset of this data ID's dimensions.

        Returns
        -------
        data_id : `DataCoordinate`
            The data ID over ``dimensions`` (this one if the group is the same),
            keeping the known values and records that belong to the subgroup.

        Raises
        ------
        DimensionNameError
            If ``dimensions`` is not a subset of this data ID's dimensions, or a
            required dimension of the subgroup is implied here and not known.
        """
        if dimensions == self._dimensions:
            return self
        if not dimensions.issubset(self._dimensions):
            raise DimensionNameError(
                f"{dimensions} is not a subset of this data ID's dimensions {self._dimensions}."
            )
        mapping = self._mapping()
        values = {}
        for n in dimensions.names:
            if n in mapping:
                values[n] = mapping[n]
        required = (
            tuple(values[n] for n in dimensions.required)
            if all(n in values for n in dimensions.required)
            else None
        )
        if required is None:
            raise DimensionNameError(
                f"Cannot take subset {dimensions} of {self}: implied values are unknown."
            )
        full = values if all(n in values for n in dimensions.names) else None
        records = None
        if self._records is not None:
            records = {e: self._records[e] for e in dimensions.elements if e in self._records}
        return DataCoordinate(dimensions, required, full, records)

    def union(self, other: DataCoordinate) -> DataCoordinate:
        """Combine two data IDs.

        Parameters
        ----------
        other : `DataCoordinate`
            The data ID to combine with this one.

        Returns
        -------
        data_id : `DataCoordinate`
            A data ID over the union of both groups with the known values of
            both (no records).

        Raises
        ------
        InconsistentDataIdError
            If the two data IDs give different values for a shared dimension.
        DimensionNameError
            If a required dimension of the union has no value in either.
        """
        group = self._dimensions.union(other._dimensions)
        values = dict(self._mapping())
        for k, v in other._mapping().items():
            if k in values and values[k] != v:
                from ..errors import InconsistentDataIdError

                raise InconsistentDataIdError(f"Data IDs {self} and {other} disagree on {k!r}.")
            values[k] = v
        return DataCoordinate.standardize(values, dimensions=group)

    def expanded(self, records: Mapping[str, DimensionRecord | None]) -> DataCoordinate:
        """Return a copy with records attached (used by the registry).

        Parameters
        ----------
        records : `~collections.abc.Mapping` [`str`, `DimensionRecord` | None]
            The record of each element of the group, by element name; None for
            an element that has no record.

        Returns
        -------
        data_id : `DataCoordinate`
            The same values, with `has_records` True.
        """
        return DataCoordinate(self._dimensions, self._required, self._full, records)

    # --- region and timespan -------------------------------------------------------------

    @property
    def region(self) -> Any:
        """Intersection of the regions of this group's spatial families, or None."""
        if self._records is None:
            return None
        regions = []
        for element in self._dimensions.spatial_families().values():
            rec = self._records.get(element)
            if rec is None:
                return None
            regions.append(rec.region)
        if len(regions) == 1:
            return regions[0]
        return None

    @property
    def timespan(self) -> Timespan | None:
        """Intersection of the timespans of this group's temporal families, or None."""
        if self._records is None:
            return None
        spans = []
        for element in self._dimensions.temporal_families().values():
            rec = self._records.get(element)
            if rec is None or rec.timespan is None:
                return None
            spans.append(rec.timespan)
        if not spans:
            return None
        return spans[0].intersection(*spans[1:])

    # --- identity -----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DataCoordinate):
            return (
                self._dimensions.required == other._dimensions.required and self._required == other._required
            )
        if isinstance(other, Mapping):
            try:
                return self == DataCoordinate.standardize(other, universe=self.universe)
            except Exception:
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._dimensions.required, self._required))

    def __lt__(self, other: DataCoordinate) -> bool:
        return self._required < other._required

    def __bool__(self) -> bool:
        return bool(self._dimensions.names)

    def __repr__(self) -> str:
        return _show(self._mapping())

    def to_simple(self) -> dict[str, DataIdValue]:
        """Return the known values as a plain, JSON-friendly dict.

        Returns
        -------
        values : `dict` [`str`, `int` | `str`]
            Dimension name to value for the required dimensions, and for the
            implied ones too when `has_full`.
        """
        return dict(self._mapping())

    def __reduce__(self) -> tuple[Any, ...]:
        return (DataCoordinate, (self._dimensions, self._required, self._full, None))


class _RowDataCoordinate(DataCoordinate):
    """A full data ID that reads its values from a row (see `DataCoordinate.from_full_rows`).

    Each dimension group gets its own subclass (`_row_class`) whose class
    attributes (group, names, positions) shadow the base class's per-instance
    slots, so an instance holds nothing but its row.
    """

    __slots__ = ("_row",)
    _row: Sequence[Any]
    _names: tuple[str, ...]
    _index: dict[str, int]
    _required_of: Any

    @property
    def _required(self) -> tuple[DataIdValue, ...]:  # type: ignore[override]
        return self._required_of(self._row)

    @property
    def _full(self) -> dict[str, DataIdValue]:  # type: ignore[override]
        return self._mapping()

    def has_full(self) -> bool:
        return True

    def _mapping(self) -> dict[str, DataIdValue]:
        return dict(zip(self._names, self._row))

    def __getitem__(self, key: str) -> DataIdValue:
        try:
            return self._row[self._index[key]]
        except KeyError:
            return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def keys(self) -> KeysView[str]:
        # The class's name -> position dict has the keys in order: its view is set-like like
        # `Mapping.keys`, and `dict(data_id)` reads it at C speed.
        return self._index.keys()

    def __len__(self) -> int:
        return len(self._names)


class _DerivedRowDataCoordinate(_RowDataCoordinate):
    """A row-backed data ID whose row holds None for some implied values, found by lookup instead.

    ``_derived`` maps a row position to ``(key_of, lookup)``: the value is
    ``lookup[key_of(row)]``, ``key_of`` giving the tuple of the key values.
    """

    __slots__ = ()
    _derived: dict[int, tuple[Any, Mapping[tuple[Any, ...], DataIdValue]]]

    def _value(self, index: int) -> DataIdValue:
        value = self._row[index]
        if value is None and index in self._derived:
            key_of, lookup = self._derived[index]
            return lookup[key_of(self._row)]
        return value

    def _mapping(self) -> dict[str, DataIdValue]:
        return {name: self._value(i) for i, name in enumerate(self._names)}

    def __getitem__(self, key: str) -> DataIdValue:
        # `_value`, inlined: dict(data_id) calls this once per dimension.
        try:
            index = self._index[key]
        except KeyError:
            return DataCoordinate.__getitem__(self, key)
        row = self._row
        value = row[index]
        if value is None:
            derived = self._derived.get(index)
            if derived is not None:
                return derived[1][derived[0](row)]
        return value


_ROW_CLASSES: dict[DimensionGroup, type[_RowDataCoordinate]] = {}


def row_coordinate_class(
    dimensions: DimensionGroup, derived: Mapping[str, tuple[Sequence[str], Mapping[Any, Any]]]
) -> type[DataCoordinate]:
    """Make a class of row-backed data IDs whose rows hold None for some implied dimensions.

    Instances are made with ``object.__new__(cls)`` and their ``_row`` set, as
    `DataCoordinate.from_full_rows` does; the class is not cached.

    Parameters
    ----------
    dimensions : `DimensionGroup`
        The dimensions of the data IDs; rows start with a value for each of
        ``dimensions.names``, in that order.
    derived : `~collections.abc.Mapping` [`str`, `tuple`]
        Implied dimension name to ``(keys, lookup)``: ``keys`` are the
        dimensions whose values key it and ``lookup`` maps a tuple of those
        values to its value. A row holding None for the dimension gets the
        value from ``lookup``.

    Returns
    -------
    row_class : `type` [`DataCoordinate`]
        A `DataCoordinate` subclass to pass as ``row_class`` to
        `DataCoordinate.from_full_rows`; the plain cached row class when
        ``derived`` is empty.
    """
    base = _row_class(dimensions)
    if not derived:
        return base
    names = list(dimensions.names)
    table = {
        names.index(name): (_tuple_getter([names.index(k) for k in keys]), lookup)
        for name, (keys, lookup) in derived.items()
    }
    return type(
        "DataCoordinate",
        (_DerivedRowDataCoordinate, base),
        {"__slots__": (), "__module__": __name__, "__qualname__": "DataCoordinate", "_derived": table},
    )


def _tuple_getter(positions: Sequence[int]) -> Any:
    """Make a function giving ``tuple(row[p] for p in positions)``, at C speed where it can."""
    if len(positions) > 1:
        return operator.itemgetter(*positions)
    if positions:
        only = positions[0]
        return lambda row: (row[only],)
    return lambda row: ()


def _row_class(dimensions: DimensionGroup) -> type[_RowDataCoordinate]:
    """Return the (cached) `_RowDataCoordinate` subclass for rows over ``dimensions.names``."""
    row_class = _ROW_CLASSES.get(dimensions)
    if row_class is None:
        names = tuple(dimensions.names)
        required_of = staticmethod(_tuple_getter([names.index(n) for n in dimensions.required]))
        row_class = type(
            "DataCoordinate",
            (_RowDataCoordinate,),
            {
                "__slots__": (),
                "__module__": __name__,
                "__qualname__": "DataCoordinate",
                "_dimensions": dimensions,
                "_records": None,
                "_names": names,
                "_index": {n: i for i, n in enumerate(names)},
                "_required_of": required_of,
            },
        )
        _ROW_CLASSES[dimensions] = row_class
    return row_class


def _show(values: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in values.items()) + "}"
