"""Vectorised sync of imported dimension records against the ones already stored.

For each element the stored records with the incoming keys are read in bulk
and compared field by field. Identical records are skipped, new ones are
inserted in bulk, and any difference is refused with a message naming the
element, the key and every differing field with both values: an import never
silently keeps either version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..dimensions import DimensionElement
from ..errors import ConflictingRecordError, DimensionRecordError
from ..registry import Registry
from ._records import key_columns, rows_by_keys

__all__ = ["plan_records"]

#: How many conflicts one error message lists.
_SHOWN = 10


def _comparable(element: DimensionElement, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column name -> value in a form equal for equal records (regions as encoded bytes)."""
    out = {spec.name: fields.get(spec.name) for spec in element.columns()}
    for name, value in out.items():
        if isinstance(value, memoryview | bytearray):
            out[name] = bytes(value)
    if element.spatial:
        region = fields.get("region")
        out["region"] = None if region is None else region.encode()
    if element.temporal:
        ts = fields.get("timespan")
        out["timespan"] = None if ts is None else (ts.begin, ts.end)
    return out


def _stored_comparable(element: DimensionElement, row: Mapping[str, Any]) -> dict[str, Any]:
    out = {spec.name: row[spec.name] for spec in element.columns()}
    for name, value in out.items():
        if isinstance(value, memoryview | bytearray):
            out[name] = bytes(value)
    if element.spatial:
        out["region"] = None if row["region"] is None else bytes(row["region"])
    if element.temporal:
        b, e = row["timespan_begin"], row["timespan_end"]
        out["timespan"] = None if b is None and e is None else (b, e)
    return out


def _show(value: Any, field: str) -> str:
    if field == "region" and isinstance(value, bytes):
        return f"<region {value.hex()[:16]}...>"
    if field == "timespan" and isinstance(value, tuple):
        return f"[{value[0]}, {value[1]}) ns"
    return repr(value)


def plan_records(
    registry: Registry, records: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Split incoming records into those to insert and those already stored identically.

    Parameters
    ----------
    registry
        The target registry (read only here; one SELECT per element and batch of keys).
    records
        Incoming records by element name (field mappings).

    Returns
    -------
    to_insert, skipped
        Records to insert, by element, in the given element order; and how
        many were already stored identically (or repeated in the input).

    Raises
    ------
    ConflictingRecordError
        If any incoming record differs from a stored one, or two incoming
        records with the same key differ; the message lists up to ten
        conflicts with element, key and each differing field's two values.
    DimensionRecordError
        If a record names a field its element does not have.
    """
    universe = registry.universe
    to_insert: dict[str, list[dict[str, Any]]] = {}
    skipped = 0
    conflicts: list[str] = []
    n_conflicts = 0
    for name, incoming in records.items():
        element = universe[name]
        if not element.has_table:
            raise DimensionRecordError(f"{name!r} records cannot be imported: the element has no table.")
        names = key_columns(element)
        by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
        for values in incoming:
            fields = element.RecordClass(**values).to_dict()
            key = tuple(fields[n] for n in names)
            previous = by_key.get(key)
            if previous is not None:
                if _comparable(element, previous) != _comparable(element, fields):
                    n_conflicts += 1
                    conflicts.append(
                        f"{name} {dict(zip(names, key))} appears twice in the export with different values"
                    )
                skipped += 1
                continue
            by_key[key] = fields
        stored = {
            tuple(row[n] for n in names): _stored_comparable(element, row)
            for row in rows_by_keys(registry, element, list(by_key))
        }
        new: list[dict[str, Any]] = []
        for key, fields in by_key.items():
            existing = stored.get(key)
            if existing is None:
                new.append(fields)
                continue
            given = _comparable(element, fields)
            diffs = [f for f in given if given[f] != existing[f]]
            if not diffs:
                skipped += 1
                continue
            n_conflicts += 1
            if len(conflicts) < _SHOWN:
                detail = "; ".join(
                    f"{f}: repository {_show(existing[f], f)}, export {_show(given[f], f)}" for f in diffs
                )
                conflicts.append(f"{name} {dict(zip(names, key))} differs in {', '.join(diffs)} ({detail})")
        if new:
            to_insert[name] = new
    if n_conflicts:
        more = f"; and {n_conflicts - len(conflicts)} more" if n_conflicts > len(conflicts) else ""
        raise ConflictingRecordError(
            f"Import refused: {n_conflicts} dimension record(s) conflict with the repository's records "
            f"(nothing was written): {' | '.join(conflicts)}{more}. Fix the repository or the export file."
        )
    return to_insert, skipped
