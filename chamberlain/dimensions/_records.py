"""Dimension records: one row of a dimension element's table, as an object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import DimensionRecordError

if TYPE_CHECKING:
    from ._coordinate import DataCoordinate
    from ._elements import DimensionElement


class DimensionRecord:
    """Base class of the per-element record classes (``element.RecordClass``).

    Construct with keyword arguments named after the element's fields; for a
    dimension, the dimension's own name may stand for its primary key
    (``detector=3`` for ``id=3``). Missing fields are `None`. Records compare
    equal when all fields are equal and hash by data ID. Records are immutable.

    Parameters
    ----------
    **kwargs
        Field name -> value.

    Raises
    ------
    DimensionRecordError
        If a name is not a field of the element, or the element name and its
        primary key field are both given with different values.
    """

    __slots__ = ()
    element: ClassVar[DimensionElement]
    fields: ClassVar[tuple[str, ...]]
    _pk_name: ClassVar[str | None]

    def __init__(self, **kwargs: Any) -> None:
        pk = self._pk_name
        if pk is not None and self.element.name in kwargs:
            alias = kwargs.pop(self.element.name)
            if pk in kwargs and kwargs[pk] != alias:
                raise DimensionRecordError(
                    f"Record for {self.element.name!r} has {pk}={kwargs[pk]!r} but "
                    f"{self.element.name}={alias!r}; they must agree."
                )
            kwargs[pk] = alias
        unknown = set(kwargs) - set(self.fields)
        if unknown:
            raise DimensionRecordError(
                f"Invalid fields {sorted(unknown)} for a {self.element.name!r} record; "
                f"valid fields: {list(self.fields)}."
            )
        for f in self.fields:
            object.__setattr__(self, f, kwargs.get(f))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable.")

    if TYPE_CHECKING:  # fields are generated per element; tell type checkers they exist

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DimensionRecord:
        """Build a record from a mapping of field values.

        Parameters
        ----------
        mapping : `~collections.abc.Mapping` [`str`, `~typing.Any`]
            Field name to value; absent fields are None. The element's name may
            stand for its primary key field (``{"detector": 1}``).

        Returns
        -------
        record : `DimensionRecord`
            A record of this class's element.

        Raises
        ------
        DimensionRecordError
            If a key is not a field of the element, or the element name and
            primary key field are both given with different values.
        """
        return cls(**mapping)

    def to_dict(self) -> dict[str, Any]:
        """Return the record's fields as a dict.

        Returns
        -------
        fields : `dict` [`str`, `~typing.Any`]
            Field name to value, in field order; region and timespan objects are
            left as they are.
        """
        return {f: getattr(self, f) for f in self.fields}

    @property
    def data_id(self) -> DataCoordinate:
        """The data ID that identifies this record."""
        from ._coordinate import DataCoordinate

        by_name = {}
        for d in self.element.required:
            key = d.name if d is not self.element else d.primary_key.name
            by_name[d.name] = getattr(self, key)
        group = self.element.minimal_group  # its order can differ from the element's key order
        return DataCoordinate.from_required_values(group, tuple(by_name[n] for n in group.required))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.fields)

    def __hash__(self) -> int:
        return hash(self.data_id)

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields if f != "region")
        return f"{type(self).__name__}({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_record, (self.element, self.to_dict()))


def _make_record(element: DimensionElement, values: dict[str, Any]) -> DimensionRecord:
    return element.RecordClass(**values)


def make_record_class(element: DimensionElement) -> type[DimensionRecord]:
    """Create the record class of an element (called once per element, lazily)."""
    fields = element.field_names
    pk = element.primary_key.name if element.is_dimension else None  # type: ignore[attr-defined]
    name = "".join(p.capitalize() for p in element.name.split("_")) + "Record"
    return type(
        name,
        (DimensionRecord,),
        {"__slots__": fields, "element": element, "fields": fields, "_pk_name": pk},
    )
