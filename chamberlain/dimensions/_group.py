"""Dimension groups: sets of dimensions closed under their dependencies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._elements import Dimension, DimensionElement
    from ._universe import DimensionUniverse


class DimensionGroup:
    """An immutable set of dimension names, closed under required and implied dependencies.

    Build one with `DimensionUniverse.conform`; groups are cached per universe,
    so equal groups are usually the same object. A group behaves as a set of
    dimension names (``in``, iteration in `names` order, ``len``, ``<=``,
    ``>=``, ``|`` and ``&``) and is hashable.

    Parameters
    ----------
    universe : `DimensionUniverse`
        The universe the names belong to.
    names : `~collections.abc.Iterable` [`str`]
        Dimension names; the group also gets every dimension they require
        or imply.

    Attributes
    ----------
    universe : `DimensionUniverse`
        The universe of the group.
    names : `tuple` [`str`, ...]
        Every dimension, in universe (dependency) order.
    required : `tuple` [`str`, ...]
        Dimensions not implied by another member: the keys of a data ID.
    implied : `tuple` [`str`, ...]
        Dimensions whose values the required ones determine.
    elements : `tuple` [`str`, ...]
        Every element whose required dimensions are all in the group (includes
        combinations such as ``visit_detector_region`` for ``{visit, detector}``).

    Raises
    ------
    DimensionNameError
        If a name is not a dimension of ``universe``.
    """

    def __init__(self, universe: DimensionUniverse, names: Iterable[str]) -> None:
        self.universe = universe
        closed: set[str] = set()
        stack = list(names)
        while stack:
            n = stack.pop()
            if n in closed:
                continue
            closed.add(n)
            dim = universe.get_dimension(n)
            stack.extend(d.name for d in dim.required)
            stack.extend(d.name for d in dim.implied)
        ordered = sorted(closed, key=lambda n: (universe.sort_key(n), n))
        implied: set[str] = set()
        for n in ordered:
            implied.update(d.name for d in universe.get_dimension(n).implied)
        self.names: tuple[str, ...] = tuple(ordered)
        self.required: tuple[str, ...] = tuple(n for n in ordered if n not in implied)
        self.implied: tuple[str, ...] = tuple(n for n in ordered if n in implied)
        name_set = set(ordered)
        elements = [
            el.name
            for el in universe.elements
            if (el.is_dimension and el.name in name_set)
            or (not el.is_dimension and {d.name for d in el.required} <= name_set)
        ]
        elements += [n for n in ordered if n not in elements]  # skypix
        self.elements: tuple[str, ...] = tuple(elements)
        self._name_set = frozenset(ordered)
        self._required_index = {n: i for i, n in enumerate(self.required)}

    # --- set behaviour -----------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self._name_set

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DimensionGroup):
            return self._name_set == other._name_set
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._name_set)

    def __le__(self, other: DimensionGroup) -> bool:
        return self._name_set <= other._name_set

    def __ge__(self, other: DimensionGroup) -> bool:
        return self._name_set >= other._name_set

    def issubset(self, other: DimensionGroup) -> bool:
        """Test whether every dimension here is also in another group.

        Parameters
        ----------
        other : `DimensionGroup`
            The group to compare with.

        Returns
        -------
        issubset : `bool`
            True if ``self.names`` is a subset of ``other.names``.
        """
        return self._name_set <= other._name_set

    def issuperset(self, other: DimensionGroup) -> bool:
        """Test whether every dimension of another group is also here.

        Parameters
        ----------
        other : `DimensionGroup`
            The group to compare with.

        Returns
        -------
        issuperset : `bool`
            True if ``self.names`` is a superset of ``other.names``.
        """
        return self._name_set >= other._name_set

    def union(self, *others: DimensionGroup | Iterable[str]) -> DimensionGroup:
        """Return the smallest group containing this one and all of ``others``.

        Parameters
        ----------
        *others : `DimensionGroup` or `~collections.abc.Iterable` [`str`]
            Groups, or iterables of dimension names, to add.

        Returns
        -------
        group : `DimensionGroup`
            The (cached) group over every name, closed under dependencies.

        Raises
        ------
        DimensionNameError
            If a name in ``others`` is not a dimension of the universe.
        """
        names = set(self.names)
        for o in others:
            names.update(o.names if isinstance(o, DimensionGroup) else o)
        return self.universe.conform(names)

    def intersection(self, *others: DimensionGroup) -> DimensionGroup:
        """Return the group closed over the dimensions common to all groups.

        Parameters
        ----------
        *others : `DimensionGroup`
            Groups to intersect with this one.

        Returns
        -------
        group : `DimensionGroup`
            The group of the names present in every group (groups are closed
            under dependencies, so their common names are too).
        """
        names = set(self.names)
        for o in others:
            names &= set(o.names)
        return self.universe.conform(names)

    def __or__(self, other: DimensionGroup) -> DimensionGroup:
        return self.union(other)

    def __and__(self, other: DimensionGroup) -> DimensionGroup:
        return self.intersection(other)

    # --- derived information -------------------------------------------------------------

    def dimension(self, name: str) -> Dimension:
        """Return the `Dimension` object for a dimension name.

        Parameters
        ----------
        name : `str`
            A dimension name (normally a member of this group; not checked).

        Returns
        -------
        dimension : `Dimension`
            The universe's dimension of that name.

        Raises
        ------
        DimensionNameError
            If ``name`` is not a dimension of the universe.
        """
        return self.universe.get_dimension(name)

    def element_objects(self) -> list[DimensionElement]:
        """Return the element objects of `elements`.

        Returns
        -------
        elements : `list` [`DimensionElement`]
            The universe's element for each name of `elements`, in that order.
        """
        return [self.universe[n] for n in self.elements]

    @property
    def governors(self) -> tuple[str, ...]:
        """Member dimensions that are governors (instrument, skymap)."""
        return tuple(n for n in self.names if self.universe[n].governor)

    @property
    def skypix(self) -> tuple[str, ...]:
        """Member sky-pixelization dimensions."""
        return tuple(n for n in self.names if not self.universe[n].has_table and self.universe[n].spatial)

    def spatial_families(self) -> dict[str, str]:
        """Find, for each spatial family present, the finest member element in this group.

        Returns
        -------
        families : `dict` [`str`, `str`]
            Spatial family name (e.g. ``observation_regions``) to the name of
            the first element of that family (in the universe's topology order)
            that is in `elements`. Families with no member here are absent.
        """
        return self._families(self.universe.spatial_families)

    def temporal_families(self) -> dict[str, str]:
        """Find, for each temporal family present, the finest member element in this group.

        Returns
        -------
        families : `dict` [`str`, `str`]
            Temporal family name to the name of the first element of that
            family (in the universe's topology order) that is in `elements`.
            Families with no member here are absent.
        """
        return self._families(self.universe.temporal_families)

    def _families(self, families: dict[str, tuple[str, ...]]) -> dict[str, str]:
        result = {}
        for family, members in families.items():
            for m in members:
                if m in self.elements:
                    result[family] = m
                    break
        return result

    @property
    def lookup_order(self) -> tuple[str, ...]:
        """Elements with tables, in the order data ID expansion looks them up.

        Each element comes after its required dimensions and after the elements
        that imply it, so expansion learns implied values before using them.
        """
        cached = getattr(self, "_lookup_order", None)
        if cached is not None:
            return cached
        candidates = [n for n in self.elements if self.universe[n].has_table]
        prereq: dict[str, set[str]] = {}
        for n in candidates:
            el = self.universe[n]
            deps = {d.name for d in el.required if d.name != n}
            deps |= {m for m in candidates if n in {d.name for d in self.universe[m].implied}}
            prereq[n] = {d for d in deps if d in candidates}
        order: list[str] = []
        remaining = list(candidates)
        while remaining:
            for n in remaining:
                if prereq[n] <= set(order):
                    order.append(n)
                    remaining.remove(n)
                    break
            else:  # pragma: no cover - the universe loader rejects cycles
                raise AssertionError(f"Cannot order elements {remaining} for lookup.")
        self._lookup_order: tuple[str, ...] = tuple(order)
        return self._lookup_order

    def required_index(self, name: str) -> int:
        """Return the position of a required dimension in `required`.

        Parameters
        ----------
        name : `str`
            The name of a required dimension of this group.

        Returns
        -------
        index : `int`
            Its index in `required` (and in `DataCoordinate.required_values`).

        Raises
        ------
        KeyError
            If ``name`` is not a required dimension of this group.
        """
        return self._required_index[name]

    def __repr__(self) -> str:
        return "{" + ", ".join(self.names) + "}"

    def __str__(self) -> str:
        return repr(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_conform, (self.universe, self.names))


def _conform(universe: DimensionUniverse, names: tuple[str, ...]) -> DimensionGroup:
    return universe.conform(names)
