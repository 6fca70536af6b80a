"""Exact planar overlap of a detector footprint with patches, in a tract's pixel plane.

This is the task-level filter GetTemplate applies after the coarse registry join:
project the detector's sky corners into the tract pixel frame, make a planar polygon,
and keep the patches whose outer box intersects it with non-zero area.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry import Polygon, box

from ._coords import SkyCoordLike, as_vectors
from .patch import PatchInfo
from .tract import TractInfo

__all__ = [
    "detector_polygon_in_tract",
    "patch_overlap_area",
    "patch_overlaps_detector_box",
    "patches_overlapping",
]


def detector_polygon_in_tract(
    tract: TractInfo, detector_corners_sky: Iterable[SkyCoordLike], padding: float = 0.0
) -> Polygon | None:
    """The detector footprint as a planar polygon in ``tract``'s pixel frame.

    Parameters
    ----------
    tract
        The tract whose pixel plane to use.
    detector_corners_sky
        The detector's corners on the sky, in order around the detector.
    padding
        Tract pixels added on every side (mitred corners); 0 for none.

    Returns
    -------
    polygon
        The polygon, or `None` if a corner cannot be projected onto the tract plane.
    """
    px, py = tract.projection.vectors_to_pixel(as_vectors(detector_corners_sky))
    if len(px) < 3 or not (np.all(np.isfinite(px)) and np.all(np.isfinite(py))):
        return None
    polygon = Polygon(np.column_stack([px, py]))
    if not polygon.is_valid:
        polygon = shapely.convex_hull(polygon)
    if padding:
        polygon = polygon.buffer(padding, join_style="mitre")
    return polygon


def _outer_box(patch: PatchInfo) -> Polygon:
    return box(*patch.outer_bbox.float_edges)


def patch_overlap_area(patch: PatchInfo, polygon: Polygon | None) -> float:
    """Area (tract pixels squared) shared by the patch's outer box and a planar polygon."""
    if polygon is None or polygon.is_empty:
        return 0.0
    return float(_outer_box(patch).intersection(polygon).area)


def patch_overlaps_detector_box(
    tract: TractInfo,
    patch: PatchInfo,
    detector_corners_sky: Iterable[SkyCoordLike],
    padding: float = 0.0,
) -> bool:
    """Whether the patch's outer box overlaps the (padded) detector footprint with non-zero area."""
    return patch_overlap_area(patch, detector_polygon_in_tract(tract, detector_corners_sky, padding)) > 0.0


def patches_overlapping(
    tract: TractInfo,
    patches: Iterable[PatchInfo],
    detector_corners_sky: Iterable[SkyCoordLike],
    padding: float = 0.0,
) -> list[tuple[PatchInfo, float]]:
    """The patches (with overlap areas) whose outer box overlaps the detector footprint.

    The footprint is projected once; each patch costs one planar intersection.
    """
    polygon = detector_polygon_in_tract(tract, detector_corners_sky, padding)
    result = []
    for patch in patches:
        area = patch_overlap_area(patch, polygon)
        if area > 0.0:
            result.append((patch, area))
    return result
