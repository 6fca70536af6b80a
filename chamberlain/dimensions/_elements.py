"""Dimension elements and the columns they carry.

An *element* is anything with a table of records: a *dimension* (has its own
key, such as ``detector``) or a *combination* (a relationship between
dimensions, such as ``visit_detector_region``). Sky-pixel dimensions (``htm7``)
are dimensions without tables.
"""

from __future__ import annotations

import builtins
import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._group import DimensionGroup
    from ._records import DimensionRecord
    from ._universe import DimensionUniverse

COLUMN_TYPES = ("int", "float", "bool", "string", "hash")


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One column of a dimension element's table.

    Attributes
    ----------
    name
        Column name.
    type
        One of ``int``, ``float``, ``bool``, ``string``, ``hash``.
    length
        Maximum length for strings.
    nbytes
        Maximum size for hashes.
    nullable
        Whether NULL is allowed (keys never are).
    doc
        What the column means.
    """

    name: str
    type: str
    length: int | None = None
    nbytes: int | None = None
    nullable: bool = True
    doc: str = ""

    @property
    def python_type(self) -> builtins.type:
        """The Python type values of this column have."""
        return {"int": int, "float": float, "bool": bool, "string": str, "hash": bytes}[self.type]

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML/JSON form of this spec.

        Returns
        -------
        spec : `dict` [`str`, `~typing.Any`]
            ``name`` and ``type``, plus ``length``, ``nbytes``, ``nullable`` and
            ``doc`` where they are set, as in a dimension configuration.
        """
        d: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.length is not None:
            d["length"] = self.length
        if self.nbytes is not None:
            d["nbytes"] = self.nbytes
        if not self.nullable:
            d["nullable"] = False
        if self.doc:
            d["doc"] = self.doc
        return d


class DimensionElement:
    """An element of the dimension universe: something records describe.

    Attributes are set by `DimensionUniverse`; do not construct directly.

    Parameters
    ----------
    name : `str`
        The element name (``visit``, ``visit_detector_region`` ...).
    doc : `str`, optional
        What the element stands for.
    """

    name: str
    doc: str
    universe: DimensionUniverse
    #: Dimensions whose values identify a record, in universe order; for a
    #: dimension this ends with the dimension itself.
    required: tuple[Dimension, ...]
    #: Dimensions whose values a record determines (non-key foreign keys).
    implied: tuple[Dimension, ...]
    metadata: tuple[ColumnSpec, ...]
    governor: bool
    always_join: bool
    populated_by: str | None
    spatial_family: str | None
    temporal_family: str | None

    def __init__(self, name: str, doc: str = "") -> None:
        self.name = name
        self.doc = doc
        self.required = ()
        self.implied = ()
        self.metadata = ()
        self.governor = False
        self.always_join = False
        self.populated_by = None
        self.spatial_family = None
        self.temporal_family = None
        self._record_class: type[DimensionRecord] | None = None

    # --- structure ---------------------------------------------------------------------

    @property
    def is_dimension(self) -> bool:
        """True for dimensions (elements with their own key)."""
        return False

    @property
    def has_table(self) -> bool:
        """True if records of this element are stored in a table named after it."""
        return True

    @property
    def spatial(self) -> bool:
        """True if records have a ``region``."""
        return self.spatial_family is not None

    @property
    def temporal(self) -> bool:
        """True if records have a ``timespan``."""
        return self.temporal_family is not None

    @property
    def defines_relationships(self) -> bool:
        """True if a missing record makes a data ID inconsistent, not just unknown."""
        return self.always_join or bool(self.implied)

    @property
    def key_dimensions(self) -> tuple[Dimension, ...]:
        """Required dimensions other than the element itself (foreign-key columns)."""
        return tuple(d for d in self.required if d is not self)

    @property
    def minimal_group(self) -> DimensionGroup:
        """The dimension group of this element's required dimensions."""
        return self.universe.conform(d.name for d in self.required)

    @property
    def group(self) -> DimensionGroup:
        """The dimension group of this element's required and implied dimensions."""
        return self.universe.conform([d.name for d in self.required] + [d.name for d in self.implied])

    def _own_key_columns(self) -> list[ColumnSpec]:
        """Columns of the element's own keys (none for a combination)."""
        return []

    def columns(self) -> list[ColumnSpec]:
        """List the table's non-region, non-timespan columns.

        Returns
        -------
        columns : `list` [`ColumnSpec`]
            The required dimensions' key columns (not nullable), the element's
            own key columns, the implied dimensions' key columns, then the
            metadata columns, in that order.
        """
        cols = [
            dataclasses.replace(d.primary_key, name=d.name, nullable=False, doc="")
            for d in self.key_dimensions
        ]
        cols += self._own_key_columns()
        cols += [
            dataclasses.replace(d.primary_key, name=d.name, nullable=False, doc="") for d in self.implied
        ]
        cols += list(self.metadata)
        return cols

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of every field of this element's records, in table order."""
        names = [c.name for c in self.columns()]
        if self.spatial:
            names.append("region")
        if self.temporal:
            names.append("timespan")
        return tuple(names)

    @property
    def RecordClass(self) -> type[DimensionRecord]:
        """The record class for this element."""
        if self._record_class is None:
            from ._records import make_record_class

            self._record_class = make_record_class(self)
        return self._record_class

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __str__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple[Any, ...]:
        from ._universe import _element_from_universe

        return (_element_from_universe, (self.universe, self.name))


class Dimension(DimensionElement):
    """A dimension: an element with its own primary key (and maybe alternate keys).

    Made by `DimensionUniverse`; do not construct directly.

    Parameters
    ----------
    name : `str`
        The dimension name (``instrument``, ``detector`` ...).
    doc : `str`, optional
        What the dimension stands for.
    """

    primary_key: ColumnSpec
    alternate_keys: tuple[ColumnSpec, ...]
    implied_union_target: str | None

    def __init__(self, name: str, doc: str = "") -> None:
        super().__init__(name, doc)
        self.alternate_keys = ()
        self.implied_union_target = None

    @property
    def is_dimension(self) -> bool:
        return True

    @property
    def has_table(self) -> bool:
        return self.implied_union_target is None

    def _own_key_columns(self) -> list[ColumnSpec]:
        return [dataclasses.replace(k, nullable=False) for k in (self.primary_key, *self.alternate_keys)]


class SkyPixDimension(Dimension):
    """A sky pixelization level, such as ``htm7``; no table, regions computed.

    Made by `DimensionUniverse` on first lookup of its name.

    Parameters
    ----------
    system : `str`
        The pixelization system (``htm``, ``healpix`` ...).
    level : `int`
        The level within the system.
    pixelization : `~typing.Any`
        The `lsst.sphgeom` pixelization object of that level.
    """

    def __init__(self, system: str, level: int, pixelization: Any) -> None:
        super().__init__(f"{system}{level}", f"Level {level} of the {system} sky pixelization.")
        self.system = system
        self.level = level
        self.pixelization = pixelization
        self.primary_key = ColumnSpec("id", "int", nullable=False)
        self.spatial_family = system

    @property
    def has_table(self) -> bool:
        return False
