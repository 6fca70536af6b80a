"""Vectorised gnomonic (TAN) projection math on numpy arrays.

Standard coordinates ``(xi, eta)`` are in radians on the plane tangent to the
sphere at a boresight ``(ra0, dec0)``: ``xi`` grows towards East (increasing
RA) and ``eta`` towards North, exactly the intermediate world coordinates of a
FITS ``RA---TAN``/``DEC--TAN`` WCS (in radians instead of degrees).

All functions broadcast over leading axes, so one call handles many pointings
and many points at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chamberlain.geometry.sky import FloatArray

ARCSEC = np.pi / (180.0 * 3600.0)
"""One arcsecond in radians."""


def tangent_basis(
    ra0_deg: npt.ArrayLike, dec0_deg: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the boresight, East and North unit vectors (each ``(..., 3)``) at ``(ra0, dec0)``."""
    ra = np.radians(np.asarray(ra0_deg, dtype=np.float64))
    dec = np.radians(np.asarray(dec0_deg, dtype=np.float64))
    sin_ra, cos_ra = np.sin(ra), np.cos(ra)
    sin_dec, cos_dec = np.sin(dec), np.cos(dec)
    centre = np.stack([cos_dec * cos_ra, cos_dec * sin_ra, sin_dec], axis=-1)
    east = np.stack([-sin_ra, cos_ra, np.zeros_like(ra)], axis=-1)
    north = np.stack([-sin_dec * cos_ra, -sin_dec * sin_ra, cos_dec], axis=-1)
    return centre, east, north


def deproject(
    xi: FloatArray, eta: FloatArray, basis: tuple[FloatArray, FloatArray, FloatArray]
) -> FloatArray:
    """Return the unit vectors of standard coordinates ``xi``, ``eta`` (radians).

    ``basis`` comes from `tangent_basis`; its arrays must broadcast against
    ``xi[..., None]``.
    """
    centre, east, north = basis
    v = centre + xi[..., None] * east + eta[..., None] * north
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def project(
    vectors: FloatArray, basis: tuple[FloatArray, FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Project unit vectors to standard coordinates (radians), with a mask of those in front.

    Points on or behind the plane through the sphere's centre perpendicular to
    the boresight have no projection; they are flagged `False` in the mask and
    their coordinates are meaningless.
    """
    centre, east, north = basis
    w = np.sum(vectors * centre, axis=-1)
    front = w > 1e-12
    safe = np.where(front, w, 1.0)
    xi = np.sum(vectors * east, axis=-1) / safe
    eta = np.sum(vectors * north, axis=-1) / safe
    return xi, eta, front
