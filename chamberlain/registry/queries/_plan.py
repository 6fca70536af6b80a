"""The join planner: which tables a query over some dimensions needs, and how they join.

For a dimension group the planner joins the fewest element tables that still
give a value (and a consistent one) for every dimension:

* one table per dimension that has one, except that a table whose columns are
  all provided by other joined tables is left out (``instrument`` when
  ``visit`` is joined: the foreign keys already guarantee the row exists);
* every ``always_join`` combination element whose dimensions are all present
  (``visit_definition`` for ``{exposure, visit}``, ``visit_system_membership``
  for ``{visit, visit_system}``);
* every element the query's ``where``/``order_by`` mentions;
* when dimensions of both spatial families are present, the stored exact
  overlap table between the finest member of each (``visit_detector_region``
  x ``patch`` for ``{visit, detector, tract, patch}``; ``visit_patch_overlap``
  for ``{visit, patch}``).

Every column naming the same dimension is equated with the first one, so
implied values (a visit's ``physical_filter``) must agree across tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...dimensions import DimensionElement, DimensionGroup
from ...errors import InvalidQueryError
from ...schema import overlap_table_name

__all__ = ["JoinPlan", "element_key_column"]


def element_key_column(element: DimensionElement, dimension: str) -> str:
    """Name of the column holding ``dimension``'s value in ``element``'s table."""
    if element.name == dimension and element.is_dimension:
        return element.primary_key.name  # type: ignore[attr-defined]
    return dimension


@dataclass
class JoinPlan:
    """The FROM clause of a query over a dimension group.

    Attributes
    ----------
    group
        All dimensions of the query (result dimensions plus those the
        constraints mention).
    elements
        Names of the element tables joined, in join order.
    overlap
        Name of the overlap table joined for a spatial join, or None.
    """

    group: DimensionGroup
    elements: list[str] = field(default_factory=list)
    overlap: str | None = None
    _tables: Mapping[str, sa.Table] = field(default_factory=dict, repr=False)
    _aliases: dict[str, sa.FromClause] = field(default_factory=dict, repr=False)
    _columns: dict[str, list[sa.ColumnElement]] = field(default_factory=dict, repr=False)
    _from: sa.FromClause | None = field(default=None, repr=False)
    #: Implied dimensions left out of the joins (see `Query.plan`).
    derived: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        group: DimensionGroup,
        tables: Mapping[str, sa.Table],
        extra_elements: Iterable[str] = (),
        provided: Iterable[str] = (),
        derived: Iterable[str] = (),
    ) -> JoinPlan:
        """Plan the joins for ``group`` plus the elements named in ``extra_elements``.

        Dimensions in ``provided`` come from other sources (dataset rows);
        those in ``derived`` need no column at all (their values are filled in
        after the query).

        Raises
        ------
        InvalidQueryError
            If the group contains a sky-pixel dimension (use a region OVERLAPS
            term instead).
        """
        universe = group.universe
        if group.skypix:
            raise InvalidQueryError(
                f"Sky-pixel dimension(s) {', '.join(group.skypix)} cannot be query dimensions; "
                "constrain regions with '<element>.region OVERLAPS ...' instead."
            )
        forced = [n for n in group.elements if not universe[n].is_dimension and universe[n].always_join]
        forced += [n for n in extra_elements if universe[n].has_table and n not in forced]
        candidates = [n for n in group.names if universe[n].has_table]
        kept = set(candidates) | set(forced)
        overlap = None
        families = group.spatial_families()
        if len(families) >= 2:
            members = list(families.values())
            a, b = universe[members[0]], universe[members[1]]
            if overlap_table_name(a, b) in tables:
                overlap = overlap_table_name(a, b)
        # Dimensions other sources (dataset rows, the overlap table) already give.
        external = set(provided) | set(derived)
        if overlap is not None:
            external |= {c.name for c in tables[overlap].columns}

        def provides(name: str) -> set[str]:
            el = universe[name]
            return {d.name for d in el.required} | {d.name for d in el.implied}

        for name in candidates:  # coarse first: instrument before visit
            if name in forced:
                continue
            others = set(external)
            for other in kept:
                if other != name:
                    others |= provides(other)
            if provides(name) <= others:
                kept.discard(name)
        covered = set(external)
        for name in kept:
            covered |= provides(name)
        for name in group.names:
            if name not in covered:
                target = getattr(universe[name], "implied_union_target", None)
                if target is None:
                    kept.add(name)
                else:
                    kept.add(target)
                covered |= provides(target or name)
        order = [n for n in universe.element_names if n in kept]
        return cls(group, order, overlap, tables)

    # --- FROM clause -------------------------------------------------------------------------

    def _join(self, table: sa.FromClause, mapping: Mapping[str, sa.ColumnElement], extra: Any = None) -> None:
        on = [col == self._columns[dim][0] for dim, col in mapping.items() if dim in self._columns]
        if extra is not None:
            on.append(extra)
        if self._from is None:
            self._from = table
        else:
            self._from = self._from.join(table, sa.and_(*on) if on else sa.true())
        for dim, col in mapping.items():
            self._columns.setdefault(dim, []).append(col)

    def finish(self) -> None:
        """Join the planned tables (after any `join_source` calls that should come first)."""
        universe = self.group.universe
        if self.overlap is not None:
            table = self._tables[self.overlap]
            self._join(table, {c.name: c for c in table.columns})
        # Finest elements first: each later table is then a primary-key lookup from the rows so
        # far, which is the plan we want even when the database's statistics are stale.
        for name in reversed(self.elements):
            element = universe[name]
            table = self._tables[name]
            self._aliases[name] = table
            mapping = {d.name: table.c[element_key_column(element, d.name)] for d in element.required}
            mapping.update({d.name: table.c[d.name] for d in element.implied})
            self._join(table, mapping)

    def join_source(
        self, source: sa.FromClause, mapping: Mapping[str, sa.ColumnElement], on: Any = None
    ) -> None:
        """Join another source (a dataset subquery) on the dimension columns it shares (and ``on``)."""
        self._join(source, mapping, on)

    @property
    def from_clause(self) -> sa.FromClause | None:
        """The joined tables (None for the empty dimension group without sources)."""
        return self._from

    def dimension(self, name: str) -> sa.ColumnElement:
        """Return the column giving dimension ``name``'s value."""
        try:
            return self._columns[name][0]
        except KeyError:
            raise InvalidQueryError(f"Dimension {name!r} is not part of this query ({self.group}).") from None

    def has_dimension(self, name: str) -> bool:
        """Tell whether some joined table has a column for ``name``."""
        return name in self._columns

    def table(self, element: str) -> sa.FromClause:
        """Return the joined table of an element (it must have been planned)."""
        return self._aliases[element]

    def has_element(self, element: str) -> bool:
        """Tell whether the element's table is joined."""
        return element in self._aliases
