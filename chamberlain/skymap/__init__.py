"""Sky tilings: rings and discrete skymaps, tracts with tangent-plane WCS, patches.

Behaviour follows the Rubin ``lsst.skymap`` package (rings ``version=1``, legacy and
cells tract builders): a skymap configured like a Rubin one has the same tract and
patch numbering, boxes, sky regions and hash.
"""

from __future__ import annotations

from .base import BaseSkyMap
from .boxes import PixelBox
from .config import PROJECTIONS, DiscreteSkyMapConfig, RingsSkyMapConfig, SkyMapConfig
from .config_file import SKYMAP_TYPES, load_skymap_config, skymap_from_config
from .discrete import DiscreteSkyMap
from .overlap import (
    detector_polygon_in_tract,
    patch_overlap_area,
    patch_overlaps_detector_box,
    patches_overlapping,
)
from .patch import PatchInfo
from .registration import register_skymap
from .rings import RingsSkyMap
from .tract import SkyMapLookupError, TractInfo

__all__ = [
    "PROJECTIONS",
    "SKYMAP_TYPES",
    "BaseSkyMap",
    "DiscreteSkyMap",
    "DiscreteSkyMapConfig",
    "PatchInfo",
    "PixelBox",
    "RingsSkyMap",
    "RingsSkyMapConfig",
    "SkyMapConfig",
    "SkyMapLookupError",
    "TractInfo",
    "detector_polygon_in_tract",
    "load_skymap_config",
    "patch_overlap_area",
    "patch_overlaps_detector_box",
    "patches_overlapping",
    "register_skymap",
    "skymap_from_config",
]
