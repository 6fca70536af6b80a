"""Friendly data IDs for the `~chamberlain.butler.Butler`, and the record cache its templates use.

Besides plain dimension values a butler data ID may hold

- an alternate key in place of a dimension's key: ``detector="R00_S00"`` (the
  detector's ``full_name``), ``visit="v42"``, ``exposure="OBS_1"``;
- ``element.field`` keys: ``{"exposure.obs_id": "OBS_1"}``;
- fields of a dimension whose value is missing: ``day_obs=20240301, seq_num=5``
  finds the exposure (or visit) with that day and sequence number.

These are resolved with one SELECT per element against the element's table.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from chamberlain.dimensions import DataCoordinate, DimensionGroup, DimensionUniverse
from chamberlain.errors import DataIdValueError, DimensionNameError, DimensionRecordError, format_choices
from chamberlain.registry import Registry

__all__ = ["DataIdRewriter", "RecordCache"]


class DataIdRewriter:
    """Turns friendly data IDs into plain dimension values.

    Parameters
    ----------
    registry
        Where the dimension records are.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        universe = registry.universe
        self._universe: DimensionUniverse = universe
        self._int_keys = {
            name: universe[name].primary_key.type == "int"  # type: ignore[attr-defined]
            for name in universe.dimension_names
        }

    def needs_rewrite(self, values: Mapping[str, Any]) -> bool:
        """False for data IDs made only of dimension names with values of the key's type (the fast path)."""
        int_keys = self._int_keys
        for key, value in values.items():
            is_int = int_keys.get(key)
            if is_int is None or (is_int and isinstance(value, str)):
                return True
        return False

    def plain_required(self, group: DimensionGroup, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """The values of ``group.required`` if ``values`` holds exactly those, each of its key's type; else None.

        Such a data ID needs neither rewriting nor normalising (the fast path of put and get).
        """
        required = group.required
        if len(values) != len(required):
            return None
        int_keys = self._int_keys
        out = []
        for name in required:
            value = values.get(name)
            is_int = int_keys.get(name)
            if is_int is None or type(value) is not (int if is_int else str):
                return None
            out.append(value)
        return tuple(out)

    def rewrite(self, group: DimensionGroup, values: Mapping[str, Any]) -> dict[str, Any]:
        """Plain dimension values for a data ID of ``group``.

        Raises
        ------
        DimensionNameError
            If a key is neither a dimension, an ``element.field``, nor a field of
            a dimension of ``group`` whose value is missing.
        DataIdValueError
            If no record (or more than one) matches.
        """
        universe = self._universe
        out: dict[str, Any] = {}
        constraints: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            element_name, dot, field = key.partition(".")
            if dot:
                if element_name not in universe or not universe[element_name].has_table:
                    raise DimensionNameError(
                        f"Data ID key {key!r} names no dimension element; elements are "
                        f"{format_choices(universe.dimension_names, limit=40)}."
                    )
                self._check_field(element_name, field, key)
                constraints.setdefault(element_name, {})[field] = value
            elif key in self._int_keys:
                dim: Any = universe[key]
                if self._int_keys[key] and isinstance(value, str):
                    alternates = [k.name for k in dim.alternate_keys if k.type == "string"]
                    if not alternates:
                        raise DimensionRecordError(
                            f"Data ID value {value!r} for {key!r} is a string, but {key!r} has integer keys "
                            "and no string alternate key."
                        )
                    constraints.setdefault(key, {})[alternates[0]] = value
                else:
                    out[key] = value
            else:
                targets = [
                    name
                    for name in group.names
                    if name not in values and universe[name].has_table and key in universe[name].field_names
                ]
                if not targets:
                    raise DimensionNameError(
                        f"Data ID key {key!r} is not a dimension, and no dimension of {group} without a value "
                        f"has a field called {key!r}."
                    )
                constraints.setdefault(targets[-1], {})[key] = value
        for name in [n for n in universe.dimension_names if n in constraints]:
            self._resolve(name, constraints[name], out)
        return out

    def _check_field(self, element: str, field: str, key: str) -> None:
        fields = self._universe[element].field_names
        if field not in fields or field in ("region", "timespan"):
            raise DimensionNameError(
                f"Data ID key {key!r}: {element!r} has no field {field!r}; fields are {format_choices(fields)}."
            )

    def _resolve(self, name: str, where: dict[str, Any], out: dict[str, Any]) -> None:
        dim: Any = self._universe[name]
        table = self._registry._tables[name]
        clauses = [table.c[column] == value for column, value in where.items()]
        for other in (*dim.required[:-1], *dim.implied):
            if other.name in out:
                clauses.append(table.c[other.name] == out[other.name])
        key_columns = [table.c[d.name] for d in dim.required[:-1]] + [table.c[dim.primary_key.name]]
        rows = self._registry._db.execute(sa.select(*key_columns).where(*clauses).limit(2)).all()
        described = ", ".join(f"{k}={v!r}" for k, v in where.items())
        if not rows:
            raise DataIdValueError(f"No {name!r} record has {described} (given {out or 'nothing else'}).")
        if len(rows) > 1:
            raise DataIdValueError(
                f"More than one {name!r} record has {described}; add more of its keys to the data ID."
            )
        row = rows[0]
        for d, value in zip(dim.required, row):
            previous = out.setdefault(d.name, value)
            if previous != value:
                raise DataIdValueError(
                    f"The {name!r} record with {described} has {d.name}={value!r}, but the data ID says "
                    f"{previous!r}."
                )


class RecordCache:
    """Dimension records by element and key, fetched once each (for file templates).

    Values come back as simple namespaces of the element's non-spatial
    columns; implied values of a data ID (a visit's ``day_obs``) are found
    through the record of the element that implies them, so no full data-ID
    expansion is needed.

    Parameters
    ----------
    registry
        Where the records are.
    limit
        Entries kept before the cache is cleared.
    """

    def __init__(self, registry: Registry, limit: int = 100_000) -> None:
        self._registry = registry
        self._universe = registry.universe
        self._cache: dict[tuple[str, tuple[Any, ...]], Any] = {}
        self._statements: dict[str, tuple[str, list[str], Any]] = {}
        self._owners: dict[tuple[DimensionGroup, str], str] = {}
        self._key_plans: dict[tuple[DimensionGroup, str], tuple[tuple[int, str], ...]] = {}
        self._limit = limit

    def value(self, name: str, data_id: DataCoordinate) -> Any:
        """The value of dimension ``name`` in ``data_id``, looking up implied values in records."""
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
        """The record of ``element`` for ``data_id`` (None if there is none)."""
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
            table = self._registry._tables[element]
            columns = [c for c in table.columns if c.name not in ("region", "timespan_begin", "timespan_end")]
            key_columns = [d.name for d in el.required[:-1]] + [
                el.primary_key.name if el.is_dimension else el.required[-1].name
            ]
            stmt = sa.select(*columns).where(
                *[table.c[c] == sa.bindparam(f"k{i}") for i, c in enumerate(key_columns)]
            )
            compiled = stmt.compile(dialect=self._registry._db.engine.dialect)
            found = (compiled.string, [c.name for c in columns], stmt)
            self._statements[element] = found
        sql, names, stmt = found
        db = self._registry._db
        if db.dialect == "sqlite":
            dbapi = db.connection.connection.dbapi_connection
            assert dbapi is not None
            row = dbapi.execute(sql, key).fetchone()
        else:
            row = db.execute(stmt, {f"k{i}": v for i, v in enumerate(key)}).first()
        if row is None:
            return None
        values = dict(zip(names, row))
        el2: Any = self._universe[element]
        if el2.is_dimension:
            values[el2.name] = values.get(el2.primary_key.name)
        return types.SimpleNamespace(**values)
