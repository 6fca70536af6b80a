"""Sky regions (lsst.sphgeom) and time spans (TAI nanoseconds)."""

from __future__ import annotations

from .timespan import Timespan, ns_to_time, time_to_ns

__all__ = ["Timespan", "ns_to_time", "time_to_ns"]
