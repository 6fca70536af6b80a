"""Sky positions as unit vectors and back: the one implementation every layer uses.

Two spellings of the same conversion: `lonlat_to_vectors` / `vectors_to_lonlat` take and give
radians (the projection code works in radians), `radec_to_vectors` / `vectors_to_radec` degrees
(what WCS calls and catalogs use). Vectors have shape ``(..., 3)``; input vectors need not be
unit length.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "lonlat_to_vectors", "radec_to_vectors", "vectors_to_lonlat", "vectors_to_radec"]

FloatArray = npt.NDArray[np.float64]


def lonlat_to_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """Convert longitudes and latitudes in radians to unit vectors.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in radians (broadcast together).

    Returns
    -------
    numpy.ndarray
        Unit vectors, shape ``broadcast(lon, lat).shape + (3,)``.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    cos_lat = np.cos(lat_a)
    return np.stack([cos_lat * np.cos(lon_a), cos_lat * np.sin(lon_a), np.sin(lat_a)], axis=-1)


def vectors_to_lonlat(vectors: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Longitudes in ``[0, 2 pi)`` and latitudes, in radians, of vectors.

    Parameters
    ----------
    vectors
        Vectors of shape ``(..., 3)``, not necessarily unit length.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in radians, each of shape ``vectors.shape[:-1]``.
    """
    v = np.asarray(vectors, dtype=np.float64)
    lon = np.arctan2(v[..., 1], v[..., 0]) % (2 * np.pi)
    lon = np.where(lon >= 2 * np.pi, 0.0, lon)  # -0.0 % 2 pi rounds up to 2 pi
    lat = np.arctan2(v[..., 2], np.hypot(v[..., 0], v[..., 1]))
    return lon, lat


def radec_to_vectors(ra: npt.ArrayLike, dec: npt.ArrayLike) -> FloatArray:
    """Convert sky positions given in degrees to unit vectors.

    Parameters
    ----------
    ra, dec
        Right ascensions and declinations in degrees (broadcast together).

    Returns
    -------
    numpy.ndarray
        Unit vectors, shape ``broadcast(ra, dec).shape + (3,)``.
    """
    return lonlat_to_vectors(np.radians(np.asarray(ra, np.float64)), np.radians(np.asarray(dec, np.float64)))


def vectors_to_radec(vectors: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """RA in ``[0, 360)`` and Dec, in degrees, of vectors.

    Parameters
    ----------
    vectors
        Vectors of shape ``(..., 3)``, not necessarily unit length.

    Returns
    -------
    tuple of numpy.ndarray
        ``(ra, dec)`` in degrees, each of shape ``vectors.shape[:-1]``.
    """
    lon, lat = vectors_to_lonlat(vectors)
    ra = np.degrees(lon)
    return np.where(ra >= 360.0, 0.0, ra), np.degrees(lat)
