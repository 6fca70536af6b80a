"""Instruments as plug-ins: detectors with camera geometry, filters, raw-header translation.

`get_instrument` finds an instrument by name (entry-point group
``chamberlain.instruments``, then the built-in table holding `SimCam`).
`simulate_raws` writes SimCam raw files for demos, tests and benchmarks.
Real instruments' headers are translated by `chamberlain.instrument.translation`.
"""

from __future__ import annotations

from .base import EXPOSURE_FIELDS, Instrument, RawInfo, day_obs_from_tai_ns
from .camera import CameraGeometry, DetectorGeometry
from .lookup import ENTRY_POINT_GROUP, get_instrument, instrument_from_class_name, known_instruments
from .simcam import OBSERVATORY, SimCam
from .simulate import StarCatalog, simulate_headers, simulate_raws, star_catalog

__all__ = [
    "ENTRY_POINT_GROUP",
    "EXPOSURE_FIELDS",
    "OBSERVATORY",
    "CameraGeometry",
    "DetectorGeometry",
    "Instrument",
    "RawInfo",
    "SimCam",
    "StarCatalog",
    "day_obs_from_tai_ns",
    "get_instrument",
    "instrument_from_class_name",
    "known_instruments",
    "simulate_headers",
    "simulate_raws",
    "star_catalog",
]
