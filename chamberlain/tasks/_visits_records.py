"""The records `DefineVisitsTask` writes for one visit, and how they compare with stored ones.

Summary fields follow the Rubin ``DefineVisitsTask``; any member exposure with
a NULL input gives a NULL result (except where noted):

=====================  ===========================================================
``physical_filter``,   the common value; NULL if the exposures differ
``target_name``,
``science_program``
``observation_reason``  the common value; ``"various"`` if the exposures differ
``day_obs``, ``seq_num``  minimum
``exposure_time``       sum
``timespan``            ``[earliest begin, latest end)``
``zenith_angle``        arithmetic mean
``azimuth``             circular mean (phase of the mean unit complex number), in
                        ``[0, 360)`` degrees; a single value passes through unchanged
=====================  ===========================================================
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from typing import Any

import lsst.sphgeom as sg

from chamberlain.geometry import Timespan

from ._visits_grouping import ExposureRecord, VisitDefinition
from ._visits_regions import VisitRegions

__all__ = ["VisitRows", "differing_fields", "visit_record", "visit_rows"]

#: Visit record fields compared when deciding whether a stored visit is the same.
COMPARED_FIELDS = (
    "name",
    "physical_filter",
    "day_obs",
    "seq_num",
    "exposure_time",
    "target_name",
    "observation_reason",
    "science_program",
    "azimuth",
    "zenith_angle",
    "region",
    "timespan",
)


def _all(values: Sequence[Any], reduce: Callable[[Sequence[Any]], Any]) -> Any:
    if any(v is None for v in values):
        return None
    return reduce(values)


def _common(values: Sequence[Any], otherwise: Any = None) -> Any:
    first = values[0]
    return first if all(v == first for v in values) else otherwise


def _circular_mean(degrees: Sequence[float]) -> float:
    if len(degrees) == 1:
        return float(degrees[0])
    mean = sum(cmath.exp(1j * math.radians(d)) for d in degrees) / len(degrees)
    return math.degrees(cmath.phase(mean)) % 360.0


def _hull(timespans: Sequence[Timespan]) -> Timespan:
    begins = [t.begin for t in timespans]
    ends = [t.end for t in timespans]
    begin = None if any(b is None for b in begins) else min(b for b in begins if b is not None)
    end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return Timespan(begin, end)


def visit_record(visit: VisitDefinition, region: sg.Region) -> dict[str, Any]:
    """The ``visit`` record of a visit: summary fields over its exposures plus its region."""
    exps = visit.exposures
    return {
        "instrument": visit.instrument,
        "id": visit.id,
        "name": visit.name,
        "physical_filter": _common([e.physical_filter for e in exps]),
        "day_obs": _all([e.day_obs for e in exps], min),
        "seq_num": _all([e.seq_num for e in exps], min),
        "exposure_time": _all([e.exposure_time for e in exps], lambda v: float(sum(v))),
        "target_name": _common([e.target_name for e in exps]),
        "observation_reason": _common([e.observation_reason for e in exps], "various"),
        "science_program": _common([e.science_program for e in exps]),
        "azimuth": _all([e.azimuth for e in exps], _circular_mean),
        "zenith_angle": _all([e.zenith_angle for e in exps], lambda v: float(sum(v)) / len(v)),
        "region": region,
        "timespan": _all([e.timespan for e in exps], _hull),
    }


class VisitRows:
    """All the records of one visit, ready for ``insert_dimension_records``.

    Attributes
    ----------
    visit
        The ``visit`` record.
    definitions
        ``visit_definition`` records, one per exposure.
    memberships
        ``visit_system_membership`` records, one per visit system.
    detector_regions
        ``visit_detector_region`` records, one per detector.
    """

    __slots__ = ("definitions", "detector_regions", "memberships", "visit")

    def __init__(self, visit: VisitDefinition, regions: VisitRegions) -> None:
        instrument, visit_id = visit.instrument, visit.id
        self.visit = visit_record(visit, regions.region)
        self.definitions = [
            {"instrument": instrument, "visit": visit_id, "exposure": e.id} for e in visit.exposures
        ]
        self.memberships = [
            {"instrument": instrument, "visit": visit_id, "visit_system": s}
            for s in sorted(visit.visit_systems)
        ]
        self.detector_regions = [
            {"instrument": instrument, "visit": visit_id, "detector": d, "region": r}
            for d, r in regions.detector_regions.items()
        ]


def visit_rows(visits: Sequence[VisitDefinition], regions: Sequence[VisitRegions]) -> list[VisitRows]:
    """`VisitRows` for parallel sequences of visits and their regions."""
    return [VisitRows(v, r) for v, r in zip(visits, regions, strict=True)]


def _same(field: str, stored: Any, new: Any) -> bool:
    if field == "region":
        if stored is None or new is None:
            return stored is new
        return bool(stored.encode() == new.encode())
    if isinstance(stored, float) and isinstance(new, float):
        return stored == new or (math.isnan(stored) and math.isnan(new))
    return bool(stored == new)


def differing_fields(stored: ExposureRecord, new: dict[str, Any]) -> list[str]:
    """Names of the visit fields whose stored value differs from ``new``."""
    return [f for f in COMPARED_FIELDS if not _same(f, getattr(stored, f), new.get(f))]
