"""Geometry for GetTemplate: detector sky corners and warped boxes.

The patch overlap test itself is `chamberlain.skymap.overlap` (`wcs_polygon`,
`box_overlap_area`), shared with `chamberlain.skymap.patches_overlapping`.

Every WCS here is an astropy `~astropy.wcs.WCS` over *parent* 0-based pixel
coordinates (the `chamberlain.image` convention), so ``wcs.pixel_to_world_values(x, y)``
takes parent ``x, y`` directly.
"""

from __future__ import annotations

import numpy as np
from astropy.wcs import WCS

from chamberlain.image import Box

__all__ = ["box_edge_points", "detector_sky_corners", "warped_bbox"]


def box_edge_points(bbox: Box, per_edge: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Points on the pixel-edge outline of ``bbox``, counter-clockwise from the lower-left corner.

    Parameters
    ----------
    bbox
        The box; its outline is the float box ``[min - 0.5, max + 0.5]``.
    per_edge
        How many points per edge (1 gives just the four corners).
    """
    x0, y0, x1, y1 = bbox.float_bounds()
    t = np.arange(per_edge, dtype=np.float64) / per_edge
    xs = np.concatenate(
        [x0 + (x1 - x0) * t, np.full(per_edge, x1), x1 - (x1 - x0) * t, np.full(per_edge, x0)]
    )
    ys = np.concatenate(
        [np.full(per_edge, y0), y0 + (y1 - y0) * t, np.full(per_edge, y1), y1 - (y1 - y0) * t]
    )
    return xs, ys


def detector_sky_corners(bbox: Box, wcs: WCS) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec (degrees) of the four outer corners of ``bbox`` through ``wcs``."""
    xs, ys = box_edge_points(bbox)
    ra, dec = wcs.pixel_to_world_values(xs, ys)
    return np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64)


def warped_bbox(bbox: Box, wcs: WCS, target_wcs: WCS, grow: int = 0, per_edge: int = 8) -> Box:
    """The box, in ``target_wcs``'s pixel frame, holding ``bbox`` of ``wcs`` mapped through the sky.

    Points along the box outline are mapped (``per_edge`` per side, so mild
    distortion is followed), their bounding float box is converted to the
    integer box of every pixel it touches and grown by ``grow`` pixels.
    Returns the empty box if the outline does not map into the target frame.
    """
    xs, ys = box_edge_points(bbox, per_edge)
    ra, dec = wcs.pixel_to_world_values(xs, ys)
    with np.errstate(invalid="ignore"):
        tx, ty = target_wcs.world_to_pixel_values(ra, dec)
    tx, ty = np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64)
    if not (np.all(np.isfinite(tx)) and np.all(np.isfinite(ty))):
        return Box.empty()
    return Box.from_float_bounds(tx.min(), ty.min(), tx.max(), ty.max()).grown(grow)
