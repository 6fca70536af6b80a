"""Accept sky coordinates in the forms users have at hand."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import lsst.sphgeom as sphgeom
import numpy as np

from chamberlain.errors import SkyMapError

from ._projection import FloatArray, lonlat_to_vectors

__all__ = ["SkyCoordLike", "as_vector", "as_vectors"]

#: A single sky position: an astropy ``SkyCoord``, a sphgeom ``LonLat``,
#: ``UnitVector3d`` or ``Vector3d``, or an ``(ra, dec)`` pair in degrees.
SkyCoordLike = Any


def as_vector(coord: SkyCoordLike) -> FloatArray:
    """Return the unit vector (shape ``(3,)``) of one sky position."""
    vectors = _convert(coord)
    if vectors.shape != (1, 3):
        raise SkyMapError(f"Expected a single sky coordinate, got {coord!r}.")
    return vectors[0]


def as_vectors(coords: SkyCoordLike | Iterable[SkyCoordLike]) -> FloatArray:
    """Return unit vectors (shape ``(N, 3)``) of a sky position or an iterable of them.

    An ``(N, 2)`` array is read as ``(ra, dec)`` rows in degrees, an ``(N, 3)`` array as
    unit vectors.
    """
    if _is_single(coords):
        return _convert(coords)
    arr = coords if isinstance(coords, np.ndarray) else None
    if arr is not None and arr.ndim == 2 and arr.shape[1] == 2:
        return lonlat_to_vectors(np.radians(arr[:, 0]), np.radians(arr[:, 1]))
    if arr is not None and arr.ndim == 2 and arr.shape[1] == 3:
        return arr.astype(np.float64) / np.linalg.norm(arr, axis=1)[:, np.newaxis]
    if hasattr(coords, "frame") and hasattr(coords, "isscalar"):  # astropy SkyCoord array
        return _convert(coords)
    items = list(coords)
    if not items:
        return np.zeros((0, 3))
    return np.concatenate([_convert(c) for c in items], axis=0)


def _is_single(coord: Any) -> bool:
    if isinstance(coord, sphgeom.LonLat | sphgeom.UnitVector3d | sphgeom.Vector3d):
        return True
    if hasattr(coord, "frame") and hasattr(coord, "isscalar"):
        return bool(coord.isscalar)
    return isinstance(coord, tuple) and len(coord) == 2 and all(isinstance(v, int | float) for v in coord)


def _convert(coord: Any) -> FloatArray:
    if isinstance(coord, sphgeom.LonLat):
        return lonlat_to_vectors([coord.getLon().asRadians()], [coord.getLat().asRadians()])
    if isinstance(coord, sphgeom.UnitVector3d | sphgeom.Vector3d):
        v = np.array([[coord.x(), coord.y(), coord.z()]], dtype=np.float64)
        norm = np.linalg.norm(v)
        if norm == 0:
            raise SkyMapError(f"Zero vector {coord!r} is not a sky coordinate.")
        return v / norm
    if hasattr(coord, "frame") and hasattr(coord, "isscalar"):
        icrs = coord.icrs
        ra = np.atleast_1d(icrs.ra.radian)
        dec = np.atleast_1d(icrs.dec.radian)
        return lonlat_to_vectors(ra, dec)
    if isinstance(coord, tuple | list) and len(coord) == 2:
        try:
            ra_deg, dec_deg = float(coord[0]), float(coord[1])
        except (TypeError, ValueError):
            pass
        else:
            if not -90.0 <= dec_deg <= 90.0:
                raise SkyMapError(f"Declination {dec_deg!r} deg of {coord!r} is outside [-90, 90].")
            return lonlat_to_vectors([math.radians(ra_deg)], [math.radians(dec_deg)])
    raise SkyMapError(
        f"Cannot interpret {coord!r} as a sky coordinate; use an astropy SkyCoord, a sphgeom "
        "LonLat or UnitVector3d, or an (ra, dec) pair in degrees."
    )
