"""Exact planar overlap of a detector footprint with patches, in a tract's pixel plane.

This is the task-level filter GetTemplate applies after the coarse registry join:
project the detector's sky corners into the tract pixel frame once (through the
tract's projection, or the tract WCS a coadd header carries), make a planar polygon,
and keep the patches whose outer box intersects it with non-zero area. It is the one
implementation: `chamberlain.tasks.GetTemplateTask` and `patches_overlapping` both
call `pixel_polygon` and `box_overlap_area`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry import box as box_polygon

from chamberlain.image.box import Box

from ._coords import SkyCoordLike, as_vectors
from .patch import PatchInfo
from .tract import TractInfo

if TYPE_CHECKING:
    from astropy.wcs import WCS

__all__ = [
    "box_overlap_area",
    "detector_polygon_in_tract",
    "patch_overlap_area",
    "patch_overlaps_detector_box",
    "patches_overlapping",
    "pixel_polygon",
    "wcs_polygon",
]


def pixel_polygon(px: np.ndarray, py: np.ndarray, padding: float = 0.0) -> Polygon | None:
    """Return the planar polygon through projected vertices (their convex hull if they self-intersect).

    Parameters
    ----------
    px, py : `numpy.ndarray`
        The vertices' pixel coordinates, in order around the polygon.
    padding : `float`, optional
        Pixels added on every side (mitred corners); 0 for none.

    Returns
    -------
    polygon : `shapely.Polygon` or None
        The polygon, or `None` if there are fewer than 3 vertices or one did not
        project (is not finite).
    """
    if len(px) < 3 or not (np.all(np.isfinite(px)) and np.all(np.isfinite(py))):
        return None
    polygon = Polygon(np.column_stack([px, py]))
    if not polygon.is_valid:
        polygon = shapely.convex_hull(polygon)
    if padding:
        polygon = polygon.buffer(padding, join_style="mitre")
    return polygon


def wcs_polygon(wcs: WCS, ra: np.ndarray, dec: np.ndarray) -> Polygon | None:
    """Return a sky polygon as a planar polygon in the pixel frame of an astropy WCS.

    Parameters
    ----------
    wcs : `astropy.wcs.WCS`
        The WCS of the pixel frame (0-based pixels), e.g. a tract's.
    ra, dec : `numpy.ndarray`
        The polygon's vertices in degrees, in order around it.

    Returns
    -------
    polygon : `shapely.Polygon` or None
        As `pixel_polygon`; `None` for a polygon that does not project (the far
        side of the tangent plane).
    """
    with np.errstate(invalid="ignore"):
        px, py = wcs.world_to_pixel_values(ra, dec)
    return pixel_polygon(np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64))


def box_overlap_area(box: Box, polygon: Polygon | None) -> float:
    """Return the area (pixels squared) shared by a box's pixel-edge outline and a planar polygon.

    Parameters
    ----------
    box : `~chamberlain.image.Box`
        The box; its outline is ``box.float_bounds()``.
    polygon : `shapely.Polygon` or None
        A polygon in the same pixel frame; None counts as no overlap.

    Returns
    -------
    area : `float`
        The area of the intersection; 0 if none or if the box is empty.
    """
    if box.is_empty or polygon is None or polygon.is_empty:
        return 0.0
    return float(box_polygon(*box.float_bounds()).intersection(polygon).area)


def detector_polygon_in_tract(
    tract: TractInfo, detector_corners_sky: Iterable[SkyCoordLike], padding: float = 0.0
) -> Polygon | None:
    """Return the detector footprint as a planar polygon in ``tract``'s pixel frame.

    Parameters
    ----------
    tract : `TractInfo`
        The tract whose pixel plane to use.
    detector_corners_sky : `~collections.abc.Iterable` [`SkyCoordLike`]
        The detector's corners on the sky, in order around the detector.
    padding : `float`, optional
        Tract pixels added on every side (mitred corners); 0 for none.

    Returns
    -------
    polygon : `shapely.Polygon` or None
        The polygon, or `None` if a corner cannot be projected onto the tract plane.
    """
    px, py = tract.projection.vectors_to_pixel(as_vectors(detector_corners_sky))
    return pixel_polygon(px, py, padding)


def patch_overlap_area(patch: PatchInfo, polygon: Polygon | None) -> float:
    """Return the area (tract pixels squared) shared by the patch's outer box and a planar polygon.

    Parameters
    ----------
    patch : `PatchInfo`
        The patch; its outer box (pixel edges) is used.
    polygon : `shapely.Polygon` or None
        A polygon in the tract's pixel frame (from `detector_polygon_in_tract`);
        None counts as no overlap.

    Returns
    -------
    area : `float`
        The area of the intersection, in tract pixels squared; 0 if none.
    """
    return box_overlap_area(patch.outer_bbox, polygon)


def patch_overlaps_detector_box(
    tract: TractInfo,
    patch: PatchInfo,
    detector_corners_sky: Iterable[SkyCoordLike],
    padding: float = 0.0,
) -> bool:
    """Test whether the patch's outer box overlaps the (padded) detector footprint with non-zero area.

    Parameters
    ----------
    tract : `TractInfo`
        The tract holding ``patch``.
    patch : `PatchInfo`
        The patch to test.
    detector_corners_sky : `~collections.abc.Iterable` [`SkyCoordLike`]
        The detector's corners on the sky, in order around the detector.
    padding : `float`, optional
        Tract pixels added to the footprint on every side.

    Returns
    -------
    overlaps : `bool`
        True if the overlap area is positive; False also when the footprint
        cannot be projected onto the tract plane.
    """
    return patch_overlap_area(patch, detector_polygon_in_tract(tract, detector_corners_sky, padding)) > 0.0


def patches_overlapping(
    tract: TractInfo,
    patches: Iterable[PatchInfo],
    detector_corners_sky: Iterable[SkyCoordLike],
    padding: float = 0.0,
) -> list[tuple[PatchInfo, float]]:
    """Return the patches (with overlap areas) whose outer box overlaps the detector footprint.

    The footprint is projected once; each patch costs one planar intersection.

    Parameters
    ----------
    tract : `TractInfo`
        The tract holding the patches.
    patches : `~collections.abc.Iterable` [`PatchInfo`]
        The candidate patches.
    detector_corners_sky : `~collections.abc.Iterable` [`SkyCoordLike`]
        The detector's corners on the sky, in order around the detector.
    padding : `float`, optional
        Tract pixels added to the footprint on every side.

    Returns
    -------
    overlapping : `list` [`tuple` [`PatchInfo`, `float`]]
        ``(patch, area)`` for each patch with a positive overlap area (tract
        pixels squared), in the order of ``patches``.
    """
    polygon = detector_polygon_in_tract(tract, detector_corners_sky, padding)
    result = []
    for patch in patches:
        area = patch_overlap_area(patch, polygon)
        if area > 0.0:
            result.append((patch, area))
    return result
