"""Friendly data IDs for the `~chamberlain.butler.Butler`.

Besides plain dimension values a butler data ID may hold

- an alternate key in place of a dimension's key: ``detector="R00_S00"`` (the
  detector's ``full_name``), ``visit="v42"``, ``exposure="OBS_1"``;
- ``element.field`` keys: ``{"exposure.obs_id": "OBS_1"}``;
- fields of a dimension whose value is missing: ``day_obs=20240301, seq_num=5``
  finds the exposure (or visit) with that day and sequence number.

These are resolved with one SELECT per element
(`~chamberlain.registry.Registry.fetch_dimension_records`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chamberlain.dimensions import DimensionGroup, DimensionUniverse
from chamberlain.errors import DataIdValueError, DimensionNameError, DimensionRecordError, format_choices
from chamberlain.registry import Registry

__all__ = ["DataIdRewriter"]


class DataIdRewriter:
    """Turns friendly data IDs into plain dimension values.

    Only `rewrite` runs SQL (one SELECT per element to resolve); the checks
    of the fast path are pure Python.

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
        """Tell whether a data ID needs `rewrite`.

        Parameters
        ----------
        values
            The data ID values by key.

        Returns
        -------
        bool
            False for data IDs made only of dimension names with values of
            the key's type (the fast path).
        """
        int_keys = self._int_keys
        for key, value in values.items():
            is_int = int_keys.get(key)
            if is_int is None or (is_int and isinstance(value, str)):
                return True
        return False

    def plain_required(self, group: DimensionGroup, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """Return the values of ``group.required`` if ``values`` holds exactly those, each of its key's type.

        Such a data ID needs neither rewriting nor normalising (the fast path of put and get).

        Parameters
        ----------
        group
            The dimensions of the data ID.
        values
            The data ID values by key.

        Returns
        -------
        tuple or None
            The required values in ``group.required`` order, or None.
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
        """Return plain dimension values for a data ID of ``group`` (one SQL SELECT per element resolved).

        Parameters
        ----------
        group
            The dimensions of the data ID.
        values
            The friendly data ID values by key.

        Returns
        -------
        dict
            Values by dimension name.

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
        fields = dict(where)
        contradicted = False
        for other in (*dim.required[:-1], *dim.implied):
            if other.name in out:
                contradicted |= fields.setdefault(other.name, out[other.name]) != out[other.name]
        records = (
            []
            if contradicted
            else self._registry.fetch_dimension_records(name, [tuple(fields.values())], fields=list(fields))
        )
        described = ", ".join(f"{k}={v!r}" for k, v in where.items())
        if not records:
            raise DataIdValueError(f"No {name!r} record has {described} (given {out or 'nothing else'}).")
        if len(records) > 1:
            raise DataIdValueError(
                f"More than one {name!r} record has {described}; add more of its keys to the data ID."
            )
        record = records[0]
        key_fields = [d.name for d in dim.required[:-1]] + [dim.primary_key.name]
        for d, field in zip(dim.required, key_fields):
            value = getattr(record, field)
            previous = out.setdefault(d.name, value)
            if previous != value:
                raise DataIdValueError(
                    f"The {name!r} record with {described} has {d.name}={value!r}, but the data ID says "
                    f"{previous!r}."
                )
