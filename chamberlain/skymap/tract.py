"""Tracts: square tangent-plane areas of a skymap, divided into patches."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING

import lsst.sphgeom as sphgeom
import numpy as np

from chamberlain.errors import SkyMapError, SkyMapLookupError
from chamberlain.image.box import Box

from ._coords import SkyCoordLike, as_vector, as_vectors
from ._projection import FloatArray, ZenithalProjection, lonlat_to_vectors, vectors_to_lonlat
from .config import SkyMapConfig
from .patch import PatchInfo, box_polygon

if TYPE_CHECKING:
    from astropy.coordinates import SkyCoord
    from astropy.wcs import WCS

__all__ = ["SkyMapLookupError", "TractInfo"]


def _offset_points(ra: float, dec: float, distance: float) -> FloatArray:
    """Points ``distance`` (rad) from the centre along great circles at bearings 0, 90, 180, 270 deg.

    Bearings follow lsst.geom: 0 = east, 90 = north, with east = (-sin ra, cos ra, 0) and
    north = centre x east, so the construction is defined at the poles too.
    """
    r = lonlat_to_vectors(ra, dec)
    east = np.array([-math.sin(ra), math.cos(ra), 0.0])
    north = np.cross(r, east)
    points = []
    for bearing in (0.0, 0.5 * math.pi, math.pi, 1.5 * math.pi):
        v = math.cos(bearing) * east + math.sin(bearing) * north
        points.append(math.cos(distance) * r + math.sin(distance) * v)
    return np.array(points)


class TractInfo:
    """A tract: centre, tangent-plane WCS, pixel box and patch layout.

    Built like the Rubin ``ExplicitTractInfo``: a square of half-size ``radius`` about
    ``(ra, dec)`` enlarged by the tract overlap, then grown to a whole number of patches.
    Patches are made on demand (``tract[i]``, iteration); nothing here touches files.

    Parameters
    ----------
    tract_id
        The tract number.
    ra, dec
        Centre (CRVAL) in radians.
    radius
        Half-size of the tract's inner square, radians.
    config
        The skymap config (overlap, pixel scale, projection, rotation, patch layout).
    inner_region
        Region the skymap assigns exclusively to this tract; by default the convex
        polygon of the final box's corners moved 0.001 px inwards.
    """

    def __init__(
        self,
        tract_id: int,
        ra: float,
        dec: float,
        radius: float,
        config: SkyMapConfig,
        inner_region: sphgeom.Region | None = None,
    ) -> None:
        self.tract_id = tract_id
        self.ctr_ra = ra
        self.ctr_dec = dec
        self.radius = radius
        self.tract_overlap = math.radians(config.tract_overlap)
        self.patch_inner_dimensions = config.patch_inner
        self.patch_border = config.effective_patch_border
        self._clip_outer = config.tract_builder == "legacy"
        initial = ZenithalProjection(
            ra, dec, 0.0, 0.0, config.pixel_scale / 3600.0, config.rotation, config.projection
        )
        px, py = initial.vectors_to_pixel(_offset_points(ra, dec, radius + self.tract_overlap))
        if not (np.all(np.isfinite(px)) and np.all(np.isfinite(py))):
            raise SkyMapError(
                f"Tract {tract_id} (radius {math.degrees(radius)} deg plus overlap "
                f"{config.tract_overlap} deg) does not fit the {config.projection} projection."
            )
        min_box = Box.from_float_bounds(px.min(), py.min(), px.max(), py.max(), touching=True)
        mins = [min_box.min_x, min_box.min_y]
        dims = [min_box.width, min_box.height]
        num = [0, 0]
        for axis, inner in enumerate(self.patch_inner_dimensions):
            num[axis] = -(-dims[axis] // inner)
            excess = num[axis] * inner - dims[axis]
            if excess > 0:
                dims[axis] = num[axis] * inner
                mins[axis] -= excess // 2
        self.num_patches: tuple[int, int] = (num[0], num[1])
        self.bbox = Box(0, 0, dims[0] - 1, dims[1] - 1)
        self.projection = initial.shifted(-mins[0], -mins[1])
        self._inner_region = inner_region

    # --- coordinates and regions --------------------------------------------------------

    @property
    def ctr_coord(self) -> SkyCoord:
        """The tract centre as an ICRS astropy ``SkyCoord``."""
        from astropy.coordinates import SkyCoord

        return SkyCoord(ra=math.degrees(self.ctr_ra), dec=math.degrees(self.ctr_dec), unit="deg")

    @property
    def ctr_vector(self) -> sphgeom.UnitVector3d:
        """The tract centre as a sphgeom unit vector."""
        return sphgeom.UnitVector3d(sphgeom.LonLat.fromRadians(self.ctr_ra, self.ctr_dec))

    @cached_property
    def wcs(self) -> WCS:
        """The final tract WCS as astropy ``WCS`` (0-based LSST pixels; FITS CRPIX = LSST + 1)."""
        return self.projection.to_astropy()

    @cached_property
    def vertex_list(self) -> list[sphgeom.LonLat]:
        """Sky positions of the final box corners moved 0.001 px inwards (Rubin ``vertex_list``)."""
        x0, y0, x1, y1 = self.bbox.float_bounds()
        xs = np.array([x0, x1, x1, x0]) + np.array([0.001, -0.001, -0.001, 0.001])
        ys = np.array([y0, y0, y1, y1]) + np.array([0.001, 0.001, -0.001, -0.001])
        lon, lat = self.projection.pixel_to_sky(xs, ys)
        return [sphgeom.LonLat.fromRadians(a, b) for a, b in zip(lon.tolist(), lat.tolist())]

    @property
    def inner_region(self) -> sphgeom.Region:
        """The region this tract owns exclusively (rings: a lon/lat ``Box``)."""
        if self._inner_region is None:
            self._inner_region = sphgeom.ConvexPolygon([sphgeom.UnitVector3d(ll) for ll in self.vertex_list])
        return self._inner_region

    @cached_property
    def outer_region(self) -> sphgeom.ConvexPolygon:
        """Sky polygon of the whole tract box, the registry ``tract`` region."""
        return box_polygon(self.bbox, self.projection)

    def contains(self, coord: SkyCoordLike) -> bool:
        """Test whether a sky position falls on a pixel of the tract box.

        Parameters
        ----------
        coord : `SkyCoordLike`
            One sky position (see `BaseSkyMap.find_tract`).

        Returns
        -------
        contains : `bool`
            True if the position projects onto a pixel of `bbox`.

        Raises
        ------
        SkyMapError
            If ``coord`` is not a single sky position.
        """
        return bool(self.contains_vectors(as_vector(coord)[np.newaxis, :])[0])

    def contains_vectors(self, vectors: FloatArray) -> np.ndarray:
        """Vectorised `contains` for unit vectors.

        Parameters
        ----------
        vectors : `numpy.ndarray`
            Unit vectors, shape ``(N, 3)``.

        Returns
        -------
        contains : `numpy.ndarray`
            Boolean array of shape ``(N,)``; False where a vector cannot be
            projected onto the tract plane.
        """
        px, py = self.projection.vectors_to_pixel(vectors)
        with np.errstate(invalid="ignore"):
            ix = np.floor(px + 0.5)
            iy = np.floor(py + 0.5)
            return (
                np.isfinite(px)
                & np.isfinite(py)
                & (ix >= 0)
                & (ix <= self.bbox.max_x)
                & (iy >= 0)
                & (iy <= self.bbox.max_y)
            )

    def sky_to_pixel(self, coords: SkyCoordLike | Iterable[SkyCoordLike]) -> tuple[FloatArray, FloatArray]:
        """Return the LSST pixel positions of sky positions (NaN where not projectable).

        Parameters
        ----------
        coords : `SkyCoordLike` or `~collections.abc.Iterable` [`SkyCoordLike`]
            A sky position or several (see `as_vectors` for the accepted arrays).

        Returns
        -------
        x, y : `numpy.ndarray`
            Pixel coordinates in the tract frame (0-based, pixel centres at
            integers), shape ``(N,)``.

        Raises
        ------
        SkyMapError
            If a position is not a sky coordinate.
        """
        return self.projection.vectors_to_pixel(as_vectors(coords))

    def pixel_to_sky(self, x: FloatArray | float, y: FloatArray | float) -> tuple[FloatArray, FloatArray]:
        """Return ``(ra, dec)`` in degrees of LSST pixel positions.

        Parameters
        ----------
        x, y : `numpy.ndarray` or `float`
            Pixel coordinates in the tract frame (broadcast together).

        Returns
        -------
        ra, dec : `numpy.ndarray`
            Right ascension in ``[0, 360)`` and declination, in degrees.
        """
        lon, lat = vectors_to_lonlat(self.projection.pixel_to_vectors(x, y))
        return np.degrees(lon), np.degrees(lat)

    # --- patches --------------------------------------------------------------------------

    def sequential_index(self, index: tuple[int, int]) -> int:
        """Return ``nx * y + x`` for a patch index ``(x, y)``.

        Parameters
        ----------
        index : `tuple` [`int`, `int`]
            The patch's column and row in the tract's patch grid (not checked).

        Returns
        -------
        sequential : `int`
            The sequential patch index (the ``patch`` dimension value).
        """
        return self.num_patches[0] * index[1] + index[0]

    def patch_index_pair(self, sequential_index: int) -> tuple[int, int]:
        """Return ``(x, y)`` of a sequential patch index.

        Parameters
        ----------
        sequential_index : `int`
            A sequential patch index (not checked).

        Returns
        -------
        x, y : `int`
            The patch's column and row in the tract's patch grid.
        """
        nx = self.num_patches[0]
        return (sequential_index % nx, sequential_index // nx)

    def __getitem__(self, index: int | tuple[int, int]) -> PatchInfo:
        """Return the patch with a sequential index or an ``(x, y)`` index."""
        nx, ny = self.num_patches
        if isinstance(index, int | np.integer):
            if not 0 <= index < nx * ny:
                raise SkyMapLookupError(
                    f"Patch {index} is not in tract {self.tract_id}; valid sequential indices are "
                    f"0..{nx * ny - 1}."
                )
            x, y = self.patch_index_pair(int(index))
        else:
            try:
                x, y = (int(v) for v in index)
            except (TypeError, ValueError):
                raise SkyMapLookupError(f"Patch index {index!r} must be an int or an (x, y) pair.") from None
            if not (0 <= x < nx and 0 <= y < ny):
                raise SkyMapLookupError(
                    f"Patch index {index!r} is not in tract {self.tract_id}; valid x is 0..{nx - 1}, "
                    f"y is 0..{ny - 1}."
                )
        ix, iy = self.patch_inner_dimensions
        inner = Box(x * ix, y * iy, (x + 1) * ix - 1, (y + 1) * iy - 1)
        outer = inner.grown(self.patch_border)
        if self._clip_outer:
            outer = outer.intersection(self.bbox)
        return PatchInfo((x, y), self.sequential_index((x, y)), inner, outer, self.projection)

    def __iter__(self) -> Iterator[PatchInfo]:
        """Patches row by row (x fastest), built lazily."""
        nx, ny = self.num_patches
        for y in range(ny):
            for x in range(nx):
                yield self[(x, y)]

    def __len__(self) -> int:
        return self.num_patches[0] * self.num_patches[1]

    def find_patch(self, coord: SkyCoordLike) -> PatchInfo:
        """Return the patch whose inner box holds a sky position.

        Parameters
        ----------
        coord : `SkyCoordLike`
            One sky position (see `BaseSkyMap.find_tract`).

        Returns
        -------
        patch : `PatchInfo`
            The patch.

        Raises
        ------
        SkyMapLookupError
            If the position is not on this tract.
        """
        px, py = self.projection.vectors_to_pixel(as_vector(coord)[np.newaxis, :])
        if not (np.isfinite(px[0]) and np.isfinite(py[0])):
            raise SkyMapLookupError(f"Coordinate {coord!r} cannot be projected onto tract {self.tract_id}.")
        ix, iy = math.floor(px[0] + 0.5), math.floor(py[0] + 0.5)
        if not self.bbox.contains((ix, iy)):
            raise SkyMapLookupError(f"Coordinate {coord!r} is not in tract {self.tract_id}.")
        return self[(ix // self.patch_inner_dimensions[0], iy // self.patch_inner_dimensions[1])]

    def find_patch_list(self, coords: Iterable[SkyCoordLike]) -> list[PatchInfo]:
        """Return the patches that may overlap the area bounded by sky positions (Rubin ``findPatchList``).

        The pixel bounding box of the projectable positions, grown by the patch border and
        clipped to the tract, selects every patch whose index range it spans; this is
        over-inclusive for areas not aligned with the tract grid.

        Parameters
        ----------
        coords : `~collections.abc.Iterable` [`SkyCoordLike`]
            Sky positions bounding the area (see `as_vectors`).

        Returns
        -------
        patches : `list` [`PatchInfo`]
            The patches, ordered x-major; empty if no position projects onto
            the tract or the box misses it.
        """
        px, py = self.projection.vectors_to_pixel(as_vectors(coords))
        ok = np.isfinite(px) & np.isfinite(py)
        if not ok.any():
            return []
        box = Box.from_float_bounds(px[ok].min(), py[ok].min(), px[ok].max(), py[ok].max(), touching=True)
        box = box.grown(self.patch_border).intersection(self.bbox)
        if box.is_empty:
            return []
        ix, iy = self.patch_inner_dimensions
        return [
            self[(x, y)]
            for x in range(box.min_x // ix, box.max_x // ix + 1)
            for y in range(box.min_y // iy, box.max_y // iy + 1)
        ]

    # --- bulk geometry for registration -------------------------------------------------

    def patch_outer_corner_vectors(self) -> FloatArray:
        """Return unit vectors of every patch's outer-box corners in one vectorised call.

        Returns
        -------
        vectors : `numpy.ndarray`
            Shape ``(ny, nx, 4, 3)``; corners in the order (minX,minY), (maxX,minY),
            (maxX,maxY), (minX,maxY) of the outer float box.
        """
        nx, ny = self.num_patches
        ix, iy = self.patch_inner_dimensions
        b = self.patch_border
        xmin = np.arange(nx) * ix - b
        xmax = (np.arange(nx) + 1) * ix - 1 + b
        ymin = np.arange(ny) * iy - b
        ymax = (np.arange(ny) + 1) * iy - 1 + b
        if self._clip_outer:
            xmin, xmax = np.maximum(xmin, 0), np.minimum(xmax, self.bbox.max_x)
            ymin, ymax = np.maximum(ymin, 0), np.minimum(ymax, self.bbox.max_y)
        x0, x1 = xmin - 0.5, xmax + 0.5
        y0, y1 = ymin - 0.5, ymax + 0.5
        xs = np.stack([x0, x1, x1, x0], axis=-1)[np.newaxis, :, :]  # (1, nx, 4)
        ys = np.stack([y0, y0, y1, y1], axis=-1)[:, np.newaxis, :]  # (ny, 1, 4)
        xs, ys = np.broadcast_arrays(xs, ys)
        return self.projection.pixel_to_vectors(xs, ys)

    def __repr__(self) -> str:
        return (
            f"TractInfo(tract_id={self.tract_id}, ctr=({math.degrees(self.ctr_ra):.8f}, "
            f"{math.degrees(self.ctr_dec):.8f}) deg, num_patches={self.num_patches})"
        )
