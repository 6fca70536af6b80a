"""Sky regions (lsst.sphgeom), sky position <-> unit vector conversions, and time spans (TAI nanoseconds)."""

from __future__ import annotations

from .sky import lonlat_to_vectors, radec_to_vectors, vectors_to_lonlat, vectors_to_radec
from .timespan import Timespan, ns_to_time, time_to_ns

__all__ = [
    "Timespan",
    "lonlat_to_vectors",
    "ns_to_time",
    "radec_to_vectors",
    "time_to_ns",
    "vectors_to_lonlat",
    "vectors_to_radec",
]
