"""Vectorised zenithal FITS projections for tract WCSs.

A tract WCS is a plain FITS celestial WCS (``RA---xxx``/``DEC--xxx``, CD matrix,
CRVAL at the tract centre, FITS defaults for LONPOLE). Computing patch corners
for a whole skymap through astropy one tract at a time is dominated by per-call
overhead, so this module evaluates the same equations (Calabretta & Greisen 2002,
zenithal projections, native-to-celestial rotation) directly with numpy on unit
vectors. `ZenithalProjection.to_astropy` builds the equivalent astropy WCS, and the
tests check the two agree.

Pixel coordinates here are LSST 0-based pixel positions (pixel ``i`` centred at ``i``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from chamberlain.geometry.sky import FloatArray, lonlat_to_vectors, vectors_to_lonlat

if TYPE_CHECKING:
    from astropy.wcs import WCS

__all__ = ["FloatArray", "ZenithalProjection", "lonlat_to_vectors", "vectors_to_lonlat"]


@dataclass(frozen=True)
class ZenithalProjection:
    """A zenithal FITS projection with a CD matrix, evaluated with numpy.

    Parameters
    ----------
    ra, dec
        CRVAL (the tract centre), radians.
    crpix_x, crpix_y
        Reference pixel in LSST 0-based pixel coordinates (FITS CRPIX minus 1).
    pixel_scale_deg
        Pixel scale in degrees per pixel.
    rotation_deg
        Rotation of the pixel grid, degrees.
    code
        Projection code: ``TAN``, ``STG``, ``SIN``, ``ARC`` or ``ZEA``.
    """

    ra: float
    dec: float
    crpix_x: float
    crpix_y: float
    pixel_scale_deg: float
    rotation_deg: float
    code: str

    @property
    def cd(self) -> FloatArray:
        """CD matrix in degrees per pixel (East-left parity)."""
        s = self.pixel_scale_deg
        t = math.radians(self.rotation_deg)
        return np.array([[-s * math.cos(t), s * math.sin(t)], [s * math.sin(t), s * math.cos(t)]])

    @property
    def _lonpole_sign(self) -> float:
        # FITS default LONPOLE for zenithal projections: 0 if CRVAL2 >= 90 else 180 deg.
        # The equations only need cos(LONPOLE).
        return 1.0 if math.degrees(self.dec) >= 90.0 else -1.0

    def shifted(self, dx: float, dy: float) -> ZenithalProjection:
        """Return the same projection with pixel coordinates moved by ``(dx, dy)``."""
        return ZenithalProjection(
            self.ra,
            self.dec,
            self.crpix_x + dx,
            self.crpix_y + dy,
            self.pixel_scale_deg,
            self.rotation_deg,
            self.code,
        )

    # --- pixel -> sky ---------------------------------------------------------------

    def pixel_to_vectors(self, x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
        """Return unit vectors (shape ``(..., 3)``) of LSST pixel positions."""
        dx = np.asarray(x, dtype=np.float64) - self.crpix_x
        dy = np.asarray(y, dtype=np.float64) - self.crpix_y
        cd = np.radians(self.cd)
        xi = cd[0, 0] * dx + cd[0, 1] * dy
        eta = cd[1, 0] * dx + cd[1, 1] * dy
        r2 = xi * xi + eta * eta
        # g = cos(theta) / R_theta and sin(theta), R_theta in radians.
        if self.code == "TAN":
            g = 1.0 / np.sqrt(1.0 + r2)
            sin_t = g
        elif self.code == "STG":
            g = 1.0 / (1.0 + r2 / 4.0)
            sin_t = (1.0 - r2 / 4.0) * g
        elif self.code == "SIN":
            g = np.ones_like(r2)
            sin_t = np.sqrt(np.clip(1.0 - r2, 0.0, None))
        elif self.code == "ARC":
            r = np.sqrt(r2)
            g = np.sinc(r / np.pi)
            sin_t = np.cos(r)
        elif self.code == "ZEA":
            g = np.sqrt(np.clip(1.0 - r2 / 4.0, 0.0, None))
            sin_t = 1.0 - r2 / 2.0
        else:  # pragma: no cover - guarded by the config
            raise ValueError(self.code)
        k = self._lonpole_sign
        # Native frame: cos(theta) cos(phi - phi_p) and cos(theta) sin(phi - phi_p).
        p = -k * g * eta
        q = k * g * xi
        sd, cdp = math.sin(self.dec), math.cos(self.dec)
        a = sin_t * cdp - p * sd
        b = -q
        z = sin_t * sd + p * cdp
        sa, ca = math.sin(self.ra), math.cos(self.ra)
        return np.stack([a * ca - b * sa, a * sa + b * ca, z], axis=-1)

    # --- sky -> pixel ---------------------------------------------------------------

    def vectors_to_pixel(self, vectors: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """LSST pixel positions of unit vectors; NaN where the projection is undefined."""
        v = np.asarray(vectors, dtype=np.float64)
        sa, ca = math.sin(self.ra), math.cos(self.ra)
        sd, cdp = math.sin(self.dec), math.cos(self.dec)
        c = v[..., 0] * ca + v[..., 1] * sa
        s = -v[..., 0] * sa + v[..., 1] * ca
        sin_t = v[..., 2] * sd + c * cdp
        p = v[..., 2] * cdp - c * sd
        q = -s
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.code == "TAN":
                f = np.where(sin_t > 0, 1.0 / sin_t, np.nan)
            elif self.code == "STG":
                f = np.where(sin_t > -1, 2.0 / (1.0 + sin_t), np.nan)
            elif self.code == "SIN":
                f = np.where(sin_t >= 0, 1.0, np.nan)
            elif self.code == "ARC":
                cos_t = np.hypot(p, q)
                ang = np.arctan2(cos_t, sin_t)
                f = np.where(cos_t > 0, ang / np.where(cos_t > 0, cos_t, 1.0), 1.0)
            elif self.code == "ZEA":
                f = np.where(sin_t > -1, np.sqrt(2.0 / (1.0 + sin_t)), np.nan)
            else:  # pragma: no cover - guarded by the config
                raise ValueError(self.code)
        k = self._lonpole_sign
        xi = np.degrees(k * q * f)
        eta = np.degrees(-k * p * f)
        inv = np.linalg.inv(self.cd)
        px = inv[0, 0] * xi + inv[0, 1] * eta + self.crpix_x
        py = inv[1, 0] * xi + inv[1, 1] * eta + self.crpix_y
        return px, py

    def sky_to_pixel(self, ra: npt.ArrayLike, dec: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """LSST pixel positions of sky positions given in radians."""
        return self.vectors_to_pixel(lonlat_to_vectors(ra, dec))

    def pixel_to_sky(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Sky positions (RA in ``[0, 2 pi)``, Dec; radians) of LSST pixel positions."""
        return vectors_to_lonlat(self.pixel_to_vectors(x, y))

    # --- astropy ----------------------------------------------------------------------

    def to_astropy(self) -> WCS:
        """Return the equivalent astropy `~astropy.wcs.WCS` (FITS CRPIX = LSST reference pixel + 1).

        Its ``pixel_to_world_values`` (0-based) takes LSST pixel positions directly.
        """
        from astropy.wcs import WCS

        wcs = WCS(naxis=2)
        wcs.wcs.ctype = [f"RA---{self.code}", f"DEC--{self.code}"]
        wcs.wcs.crval = [math.degrees(self.ra), math.degrees(self.dec)]
        wcs.wcs.crpix = [self.crpix_x + 1.0, self.crpix_y + 1.0]
        wcs.wcs.cd = self.cd
        wcs.wcs.cunit = ["deg", "deg"]
        wcs.wcs.radesys = "ICRS"
        wcs.wcs.set()
        return wcs
