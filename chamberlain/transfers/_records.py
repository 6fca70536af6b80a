"""Dimension records for transfers: bulk reads by key, dependency closure, and the file form.

In a Chamberlain export a record is a mapping of its table's columns with
``region`` as the hex of the sphgeom encoding, ``timespan`` as
``[begin_ns, end_ns]`` (TAI nanoseconds, null for unbounded) and hash columns
as hex strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import lsst.sphgeom as sg

from ..dimensions import DimensionElement, DimensionRecord, DimensionUniverse
from ..geometry import Timespan
from ..registry import Registry
from ._contents import ExportFormatError

__all__ = [
    "RecordCollector",
    "key_columns",
    "record_from_file",
    "record_to_row",
    "row_to_file",
    "rows_by_keys",
]


def key_columns(element: DimensionElement) -> list[str]:
    """The columns of an element's table that identify a record, in ``element.required`` order."""
    return [d.name if d is not element else d.primary_key.name for d in element.required]


def rows_by_keys(
    registry: Registry,
    element: DimensionElement,
    keys: Iterable[tuple[Any, ...]],
    *,
    by: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows of an element's table whose ``by`` columns (default: its key) take one of ``keys`` (bulk)."""
    names = by if by is not None else key_columns(element)
    records = registry.fetch_dimension_records(element.name, list(keys), fields=names)
    return [record_to_row(element, r) for r in records]


def record_to_row(element: DimensionElement, record: DimensionRecord) -> dict[str, Any]:
    """A record as its table row: ``region`` encoded, ``timespan`` as ``timespan_begin``/``timespan_end``."""
    row = {spec.name: getattr(record, spec.name) for spec in element.columns()}
    if element.spatial:
        region = record.region
        row["region"] = None if region is None else region.encode()
    if element.temporal:
        timespan = record.timespan
        row["timespan_begin"] = None if timespan is None else timespan.begin
        row["timespan_end"] = None if timespan is None else timespan.end
    return row


class RecordCollector:
    """Collects the records a set of data IDs needs: their own, implied ones and populated-by ones.

    Parameters
    ----------
    registry
        Where the records are read from (one SELECT per element and batch of keys).
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.universe: DimensionUniverse = registry.universe
        self.rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._pending: dict[str, set[tuple[Any, ...]]] = {}
        self._children: dict[str, list[DimensionElement]] = {}
        for e in self.universe.elements:
            if e.populated_by:
                self._children.setdefault(e.populated_by, []).append(e)

    def add_data_id(self, required: Mapping[str, Any]) -> None:
        """Ask for every record identified by the values of a data ID (required values suffice)."""
        for element in self.universe.elements:
            if element.has_table and all(d.name in required for d in element.required):
                self._want(element, tuple(required[d.name] for d in element.required))

    def add_all(self, element: DimensionElement) -> None:
        """Take every record of an element (one SELECT), and ask for what they depend on."""
        rows = [record_to_row(element, r) for r in self.registry.fetch_dimension_records(element.name)]
        have = self.rows.setdefault(element.name, {})
        names = key_columns(element)
        for row in rows:
            have[tuple(row[n] for n in names)] = row
            self._dependencies_of(element, row)

    def _want(self, element: DimensionElement, key: tuple[Any, ...]) -> None:
        if key in self.rows.get(element.name, {}):
            return
        self._pending.setdefault(element.name, set()).add(key)

    def _dependencies_of(self, element: DimensionElement, row: Mapping[str, Any]) -> None:
        for dep in (*element.required, *element.implied):
            if dep is element or not dep.has_table:
                continue
            key = tuple(row.get(d.name) for d in dep.required)
            if None not in key:
                self._want(dep, key)

    def collect(self) -> dict[str, list[dict[str, Any]]]:
        """Read everything asked for and what it depends on; rows by element, in universe order."""
        while self._pending:
            for element in self.universe.elements:
                keys = self._pending.pop(element.name, None)
                if not keys:
                    continue
                found = self.rows.setdefault(element.name, {})
                new_rows = rows_by_keys(self.registry, element, sorted(keys, key=repr))
                names = key_columns(element)
                for row in new_rows:
                    found[tuple(row[n] for n in names)] = row
                    self._dependencies_of(element, row)
                for child in self._children.get(element.name, ()):
                    by = [d.name for d in element.required]
                    child_rows = rows_by_keys(self.registry, child, keys, by=by)
                    have = self.rows.setdefault(child.name, {})
                    child_names = key_columns(child)
                    for row in child_rows:
                        have[tuple(row[n] for n in child_names)] = row
                        self._dependencies_of(child, row)
                break  # restart from the top: dependencies come earlier in universe order
        return {
            e.name: [self.rows[e.name][k] for k in sorted(self.rows[e.name], key=repr)]
            for e in self.universe.elements
            if self.rows.get(e.name)
        }


def row_to_file(element: DimensionElement, row: Mapping[str, Any]) -> dict[str, Any]:
    """A table row in the export file form (region hex, timespan pair, hashes hex)."""
    out: dict[str, Any] = {}
    hashes = {c.name for c in element.columns() if c.type == "hash"}
    for spec in element.columns():
        value = row[spec.name]
        out[spec.name] = value.hex() if spec.name in hashes and value is not None else value
    if element.spatial:
        region = row["region"]
        out["region"] = None if region is None else bytes(region).hex()
    if element.temporal:
        b, e = row["timespan_begin"], row["timespan_end"]
        out["timespan"] = None if b is None and e is None else [b, e]
    return out


def record_from_file(element: DimensionElement, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The record fields of a record in the export file form.

    Raises
    ------
    ExportFormatError
        If a region, timespan or hash cannot be read (the message says where).
    """
    out = dict(values)
    try:
        for spec in element.columns():
            if spec.type == "hash" and isinstance(out.get(spec.name), str):
                out[spec.name] = bytes.fromhex(out[spec.name])
        if element.spatial and isinstance(out.get("region"), str):
            out["region"] = sg.Region.decode(bytes.fromhex(out["region"]))
        if element.temporal and out.get("timespan") is not None:
            begin, end = out["timespan"]
            out["timespan"] = Timespan(begin, end)
    except (ValueError, TypeError, RuntimeError) as err:
        raise ExportFormatError(
            f"Cannot read {element.name!r} record {dict(values)!r} in {where}: {err}"
        ) from None
    return out
