"""Patches: the rectangular sub-areas of a tract."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import lsst.sphgeom as sphgeom
import numpy as np

from chamberlain.image.box import Box

from ._projection import ZenithalProjection

if TYPE_CHECKING:
    from astropy.wcs import WCS

__all__ = ["PatchInfo", "box_polygon"]


def box_polygon(box: Box, projection: ZenithalProjection) -> sphgeom.ConvexPolygon:
    """Return the sky polygon of a pixel box: its 4 outer pixel-edge corners joined by great circles.

    Parameters
    ----------
    box : `Box`
        The box, in the projection's pixel frame.
    projection : `ZenithalProjection`
        The tract projection mapping pixels to the sky.

    Returns
    -------
    polygon : `lsst.sphgeom.ConvexPolygon`
        The polygon through the four corners.
    """
    corners = np.array(box.float_corners())
    vectors = projection.pixel_to_vectors(corners[:, 0], corners[:, 1])
    return sphgeom.ConvexPolygon([sphgeom.UnitVector3d(*v) for v in vectors.tolist()])


class PatchInfo:
    """One patch of a tract (built on demand by `TractInfo`; holds no pixels).

    Parameters
    ----------
    index
        ``(x, y)`` column and row of the patch in its tract.
    sequential_index
        ``nx * y + x``, the registry ``patch`` value.
    inner_bbox
        The inner box; the inner boxes of a tract tile it exactly.
    outer_bbox
        The inner box grown by the patch border (clipped to the tract by the legacy builder).
    projection
        The tract's projection (pixel frame of both boxes).
    """

    def __init__(
        self,
        index: tuple[int, int],
        sequential_index: int,
        inner_bbox: Box,
        outer_bbox: Box,
        projection: ZenithalProjection,
    ) -> None:
        self.index = index
        self.sequential_index = sequential_index
        self.inner_bbox = inner_bbox
        self.outer_bbox = outer_bbox
        self._projection = projection

    @cached_property
    def inner_region(self) -> sphgeom.ConvexPolygon:
        """Sky polygon of the inner box (lazy, cached)."""
        return box_polygon(self.inner_bbox, self._projection)

    @cached_property
    def outer_region(self) -> sphgeom.ConvexPolygon:
        """Sky polygon of the outer box, the registry ``patch`` region (lazy, cached)."""
        return box_polygon(self.outer_bbox, self._projection)

    @property
    def wcs(self) -> WCS:
        """The tract's astropy WCS (patches share their tract's pixel frame)."""
        return self._projection.to_astropy()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PatchInfo):
            return NotImplemented
        return (
            self.index == other.index
            and self.inner_bbox == other.inner_bbox
            and self.outer_bbox == other.outer_bbox
            and self._projection == other._projection
        )

    def __hash__(self) -> int:
        return hash((self.index, self.inner_bbox, self.outer_bbox))

    def __repr__(self) -> str:
        return f"PatchInfo(index={self.index}, sequential_index={self.sequential_index})"
