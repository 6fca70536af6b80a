"""Dimension records by element and key, fetched once each: the lookups of file templates.

Part of the registry's dimension-record cache (`DimensionRecordManager` owns
one `RecordLookup` and clears it with the rest of its cache, on
`Registry.refresh` and on rollback); reached through
`Registry.lookup_dimension_record`.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..errors import DimensionNameError

if TYPE_CHECKING:
    from ..dimensions import DataCoordinate, DimensionGroup, DimensionUniverse
    from ._database import Database, PreparedStatement

__all__ = ["RecordLookup"]


class RecordLookup:
    """Records of any element by key, as namespaces of their non-spatial columns, fetched once each.

    Implied values of a data ID (a visit's ``day_obs``) are found through the
    record of the element that implies them, so no full data-ID expansion is
    needed.

    Parameters
    ----------
    db, universe, tables
        The registry's database, dimension universe and tables by name.
    limit
        Entries kept before the cache is cleared.
    """

    def __init__(
        self, db: Database, universe: DimensionUniverse, tables: dict[str, sa.Table], limit: int = 100_000
    ) -> None:
        self._db = db
        self._universe = universe
        self._tables = tables
        self._cache: dict[tuple[str, tuple[Any, ...]], Any] = {}
        self._statements: dict[str, tuple[PreparedStatement, list[str]]] = {}
        self._owners: dict[tuple[DimensionGroup, str], str] = {}
        self._key_plans: dict[tuple[DimensionGroup, str], tuple[tuple[int, str], ...]] = {}
        self._limit = limit

    def clear(self) -> None:
        """Forget the cached records (the compiled statements stay)."""
        self._cache.clear()

    def value(self, name: str, data_id: DataCoordinate) -> Any:
        """Return the value of dimension ``name`` in ``data_id``, looking up implied values in records."""
        group = data_id.dimensions
        owner = self._owners.get((group, name))
        if owner is None:
            owner = ""
            if name not in group.required:
                for element in group.element_objects():
                    if element.is_dimension and any(d.name == name for d in element.implied):
                        owner = element.name
                        break
                else:
                    raise DimensionNameError(f"Dimension {name!r} is not in data ID {data_id}.")
            self._owners[(group, name)] = owner
        if not owner or data_id.has_full():
            return data_id[name]
        record = self(owner, data_id)
        return None if record is None else getattr(record, name)

    def __call__(self, element: str, data_id: DataCoordinate) -> Any:
        """Return the record of ``element`` for ``data_id`` (None if there is none)."""
        plan = self._key_plans.get((data_id.dimensions, element))
        if plan is None:
            group = data_id.dimensions
            plan = tuple(
                (group.required_index(d.name) if d.name in group.required else -1, d.name)
                for d in self._universe[element].required
            )
            self._key_plans[(group, element)] = plan
        values = data_id.required_values
        key = tuple([values[i] if i >= 0 else self.value(name, data_id) for i, name in plan])
        cache_key = (element, key)
        if cache_key in self._cache:
            return self._cache[cache_key]
        if len(self._cache) >= self._limit:
            self._cache.clear()
        record = self._fetch(element, key)
        self._cache[cache_key] = record
        return record

    def _fetch(self, element: str, key: tuple[Any, ...]) -> Any:
        found = self._statements.get(element)
        if found is None:
            el: Any = self._universe[element]
            table = self._tables[element]
            columns = [c for c in table.columns if c.name not in ("region", "timespan_begin", "timespan_end")]
            key_columns = [d.name for d in el.required[:-1]] + [
                el.primary_key.name if el.is_dimension else el.required[-1].name
            ]
            stmt = sa.select(*columns).where(
                *[table.c[c] == sa.bindparam(f"k{i}") for i, c in enumerate(key_columns)]
            )
            found = (self._db.prepare(stmt), [c.name for c in columns])
            self._statements[element] = found
        prepared, names = found
        rows = self._db.fetch_tuples(prepared, {f"k{i}": v for i, v in enumerate(key)})
        if not rows:
            return None
        row = rows[0]
        values = dict(zip(names, row))
        el2: Any = self._universe[element]
        if el2.is_dimension:
            values[el2.name] = values.get(el2.primary_key.name)
        return types.SimpleNamespace(**values)
