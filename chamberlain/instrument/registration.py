"""Writing an instrument's dimension records into a registry.

`register_instrument` writes the ``instrument`` record and the instrument's
``detector`` and ``physical_filter`` records in one transaction. It is
idempotent: records already stored identically are left alone, missing ones
are inserted in bulk, and records that differ from the stored ones raise
`ConflictingRecordError` (or are overwritten with ``update=True``).

The registry is passed in by the caller; this module only uses the
`Registry` methods ``transaction``, ``fetch_dimension_records``,
``insert_dimension_records`` and ``sync_dimension_record``, so it does not
import the registry layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chamberlain.errors import ConflictingRecordError

from .base import Instrument
from .lookup import get_instrument

if TYPE_CHECKING:
    from chamberlain.registry import Registry

__all__ = ["InstrumentRegistration", "register_instrument"]

_ELEMENTS = ("instrument", "physical_filter", "detector")


@dataclasses.dataclass(frozen=True)
class InstrumentRegistration:
    """What `register_instrument` did, per dimension element.

    Attributes
    ----------
    instrument
        The instrument's name.
    inserted
        Element name -> number of records inserted.
    unchanged
        Element name -> number of records already stored identically.
    updated
        Element name -> number of stored records overwritten (``update=True``).
    """

    instrument: str
    inserted: Mapping[str, int]
    unchanged: Mapping[str, int]
    updated: Mapping[str, int]

    @property
    def changed(self) -> bool:
        """True if anything was inserted or updated."""
        return any(self.inserted.values()) or any(self.updated.values())

    def __str__(self) -> str:
        def part(counts: Mapping[str, int]) -> str:
            return ", ".join(f"{counts[e]} {e}" for e in _ELEMENTS if counts.get(e))

        pieces = []
        if any(self.inserted.values()):
            pieces.append(f"inserted {part(self.inserted)}")
        if any(self.updated.values()):
            pieces.append(f"updated {part(self.updated)}")
        if any(self.unchanged.values()):
            pieces.append(f"unchanged {part(self.unchanged)}")
        return f"{self.instrument}: " + ("; ".join(pieces) if pieces else "nothing to register")


def _differences(stored: Any, given: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        field: (getattr(stored, field), value)
        for field, value in given.items()
        if getattr(stored, field) != value
    }


def _key(element: str, record: Mapping[str, Any]) -> tuple[Any, ...]:
    if element == "instrument":
        return (record["name"],)
    if element == "physical_filter":
        return (record["instrument"], record["name"])
    return (record["instrument"], record["id"])


def _stored_key(element: str, stored: Any) -> tuple[Any, ...]:
    if element == "instrument":
        return (stored.name,)
    if element == "physical_filter":
        return (stored.instrument, stored.name)
    return (stored.instrument, stored.id)


def _records(instrument: Instrument) -> dict[str, Sequence[Mapping[str, Any]]]:
    return {
        "instrument": [instrument.instrument_record()],
        "physical_filter": instrument.physical_filter_records(),
        "detector": instrument.detector_records(),
    }


def register_instrument(
    registry: Registry, instrument_or_name: Instrument | str, update: bool = False
) -> InstrumentRegistration:
    """Write an instrument's ``instrument``, ``physical_filter`` and ``detector`` records.

    Runs in one registry transaction (all or nothing). The stored records of
    the instrument are read once per element; missing records are inserted in
    bulk. Calling it again with the same instrument changes nothing.

    Parameters
    ----------
    registry
        The registry to write to.
    instrument_or_name
        An `Instrument`, or a name or ``module.Class`` path for `get_instrument`.
    update
        Overwrite stored records that differ from the instrument's (for
        example after a detector was renamed) instead of failing.

    Returns
    -------
    InstrumentRegistration
        Counts of inserted, unchanged and updated records per element.

    Raises
    ------
    InstrumentError
        If the name is not a known instrument.
    ConflictingRecordError
        If a stored record differs from the instrument's and ``update`` is
        False; the message names the record, the fields and both values.
    """
    if isinstance(instrument_or_name, Instrument):
        instrument = instrument_or_name
    else:
        instrument = get_instrument(instrument_or_name)
    inserted: dict[str, int] = {}
    unchanged: dict[str, int] = {}
    updated: dict[str, int] = {}
    with registry.transaction():
        for element, records in _records(instrument).items():
            stored = {
                _stored_key(element, r): r
                for r in registry.fetch_dimension_records(element)
                if _stored_key(element, r)[0] == instrument.name
            }
            missing: list[Mapping[str, Any]] = []
            differing: list[Mapping[str, Any]] = []
            for record in records:
                existing = stored.get(_key(element, record))
                if existing is None:
                    missing.append(record)
                elif _differences(existing, record):
                    differing.append(record)
            if differing and not update:
                record = differing[0]
                diffs = _differences(stored[_key(element, record)], record)
                detail = "; ".join(f"{f}: stored {s!r}, instrument says {g!r}" for f, (s, g) in diffs.items())
                raise ConflictingRecordError(
                    f"{instrument.name}: {element} record {_key(element, record)} differs from the stored "
                    f"one ({detail}); {len(differing)} {element} record(s) differ in all. Pass update=True "
                    "(`chamberlain register-instrument --update`) to overwrite them."
                )
            for record in differing:
                registry.sync_dimension_record(element, record, update=True)
            if missing:
                registry.insert_dimension_records(element, missing)
            inserted[element] = len(missing)
            updated[element] = len(differing)
            unchanged[element] = len(records) - len(missing) - len(differing)
    return InstrumentRegistration(instrument.name, inserted, unchanged, updated)
