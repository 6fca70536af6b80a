"""Simulated coadds for template tests and benchmarks: a known sky rendered on patch grids.

`TruthSky` is a smooth background plus round Gaussian stars at fixed sky
positions; it can be evaluated at the sky position of any pixel, so a coadd
made by rendering it on a tract's patch grid and a template warped from those
coadds can be compared with the same sky rendered on the detector grid.
`FileCoaddHandle` is a minimal deferred handle over an exposure FITS file that
reads only the requested cutout and counts the bytes it reads.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from astropy.wcs import WCS

from chamberlain.image import (
    Box,
    Exposure,
    FilterLabel,
    GaussianPsf,
    Image,
    MaskedImage,
    PhotoCalib,
    read_component,
    read_exposure,
    write_exposure,
)

__all__ = ["FileCoaddHandle", "TruthSky", "make_dcr_coadds", "make_patch_coadds", "tan_wcs"]

#: Bytes per pixel of an exposure on disk: float32 image, int32 mask, float32 variance.
_BYTES_PER_PIXEL = 12


def tan_wcs(ra: float, dec: float, crpix: tuple[float, float], scale: float, rotation: float = 0.0) -> WCS:
    """A TAN WCS over parent 0-based pixels: ``crpix`` is the (0-based) pixel at ``(ra, dec)``.

    ``scale`` is arcsec/pixel; ``rotation`` (degrees) turns the East-left frame
    as the Rubin skymap WCS does.
    """
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [crpix[0] + 1.0, crpix[1] + 1.0]
    s = scale / 3600.0
    t = math.radians(rotation)
    wcs.wcs.cd = [[-s * math.cos(t), s * math.sin(t)], [s * math.sin(t), s * math.cos(t)]]
    return wcs


@dataclass
class TruthSky:
    """A noiseless sky: background ``b0 + b1 * sin(...)`` plus Gaussian stars.

    Attributes
    ----------
    ra, dec, flux
        Star positions (degrees) and peak values.
    sigma
        Star Gaussian sigma, arcsec.
    background, ripple, ripple_scale
        Background level, amplitude and length scale (arcsec) of its ripple.
    """

    ra: np.ndarray
    dec: np.ndarray
    flux: np.ndarray
    sigma: float = 0.8
    background: float = 100.0
    ripple: float = 10.0
    ripple_scale: float = 40.0
    centre: tuple[float, float] = field(default=(0.0, 0.0))

    @classmethod
    def random(
        cls, ra: float, dec: float, radius: float, n_stars: int, seed: int = 1, sigma: float = 0.8
    ) -> TruthSky:
        """Stars spread uniformly within ``radius`` degrees (box) of ``(ra, dec)``."""
        rng = np.random.default_rng(seed)
        dra = rng.uniform(-radius, radius, n_stars) / math.cos(math.radians(dec))
        ddec = rng.uniform(-radius, radius, n_stars)
        return cls(ra + dra, dec + ddec, rng.uniform(50.0, 500.0, n_stars), sigma=sigma, centre=(ra, dec))

    def evaluate(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """The sky at positions in degrees."""
        cos_dec = math.cos(math.radians(self.centre[1]))
        x = (ra - self.centre[0]) * cos_dec * 3600.0
        y = (dec - self.centre[1]) * 3600.0
        values = self.background + self.ripple * np.sin(x / self.ripple_scale) * np.cos(y / self.ripple_scale)
        cut = (6.0 * self.sigma / 3600.0) ** 2
        for sra, sdec, flux in zip(self.ra, self.dec, self.flux):
            dx = (ra - sra) * math.cos(math.radians(sdec))
            dy = dec - sdec
            r2 = dx * dx + dy * dy
            near = r2 < cut
            if near.any():
                values[near] += flux * np.exp(-0.5 * r2[near] * 3600.0**2 / self.sigma**2)
        return values

    def render(self, bbox: Box, wcs: WCS) -> np.ndarray:
        """The sky sampled at the centres of the pixels of ``bbox`` (parent pixels of ``wcs``)."""
        ys, xs = np.mgrid[bbox.min_y : bbox.max_y + 1, bbox.min_x : bbox.max_x + 1]
        ra, dec = wcs.pixel_to_world_values(xs.astype(np.float64), ys.astype(np.float64))
        return self.evaluate(np.asarray(ra), np.asarray(dec))


def make_patch_coadds(
    sky: TruthSky,
    tract_wcs: WCS,
    *,
    n_patches: tuple[int, int] = (2, 2),
    inner: int = 300,
    border: int = 20,
    variance: float = 1.0,
    band: str = "r",
    tract: int = 0,
    photo_calib: PhotoCalib | None = None,
    psf_sigma: float = 4.0,
) -> list[tuple[Exposure, dict[str, Any]]]:
    """Noiseless coadds of ``sky`` on the overlapping outer boxes of a tract's patches.

    Patch ``(i, j)`` has inner box ``[i*inner, (i+1)*inner) x [j*inner, (j+1)*inner)``
    and outer box that grown by ``border`` (clipped to the tract); its id is
    ``j * nx + i``. Returns ``(exposure, data_id)`` pairs.
    """
    nx, ny = n_patches
    tract_box = Box.from_size(0, 0, nx * inner, ny * inner)
    calib = photo_calib if photo_calib is not None else PhotoCalib(1.0)
    result = []
    for j in range(ny):
        for i in range(nx):
            outer = Box.from_size(i * inner, j * inner, inner, inner).grown(border).intersection(tract_box)
            image = sky.render(outer, tract_wcs).astype(np.float32)
            masked = MaskedImage(
                Image(image, outer.xy0), None, Image(np.full(outer.shape, variance, np.float32), outer.xy0)
            )
            exposure = Exposure(
                masked,
                wcs=tract_wcs,
                photo_calib=calib,
                psf=GaussianPsf(psf_sigma),
                filter=FilterLabel(band, None),
            )
            data_id = {"skymap": "sim", "tract": tract, "patch": j * nx + i, "band": band}
            result.append((exposure, data_id))
    return result


def make_dcr_coadds(
    coadds: list[tuple[Exposure, dict[str, Any]]], weights: list[float]
) -> list[tuple[Exposure, dict[str, Any]]]:
    """Split each coadd into sub-filter coadds ``weight_k * image`` with variance ``variance / N``."""
    result = []
    n = len(weights)
    for exposure, data_id in coadds:
        for k, weight in enumerate(weights):
            masked = MaskedImage(
                Image((exposure.image.array * weight).astype(np.float32), exposure.xy0),
                exposure.mask.copy(),
                Image((exposure.variance.array / n).astype(np.float32), exposure.xy0),
            )
            sub = Exposure(
                masked,
                wcs=exposure.wcs,
                photo_calib=exposure.photo_calib,
                psf=exposure.psf,
                filter=exposure.filter,
            )
            result.append((sub, {**data_id, "subfilter": k}))
    return result


class FileCoaddHandle:
    """A deferred handle over an exposure FITS file: reads cutouts and components on demand.

    Attributes
    ----------
    bytes_read
        Pixel bytes of the cutouts read plus header bytes of component reads
        (an estimate of the I/O, 12 bytes per pixel).
    """

    def __init__(self, path: str | os.PathLike[str], data_id: Mapping[str, Any] | None = None) -> None:
        self.path = os.fspath(path)
        self.data_id = data_id
        self.bytes_read = 0
        self._header_bytes: int | None = None

    @classmethod
    def write(
        cls, directory: str | os.PathLike[str], exposure: Exposure, data_id: Mapping[str, Any]
    ) -> FileCoaddHandle:
        """Write ``exposure`` into ``directory`` (named after the data ID) and return its handle."""
        name = "_".join(f"{k}{v}" for k, v in data_id.items()) + ".fits"
        path = os.path.join(os.fspath(directory), name)
        write_exposure(path, exposure)
        return cls(path, data_id)

    @property
    def file_size(self) -> int:
        """Size of the file in bytes."""
        return os.path.getsize(self.path)

    def get(self, *, parameters: Mapping[str, Any] | None = None, component: str | None = None) -> Any:
        """Read the exposure (or the ``parameters["bbox"]`` cutout of it), or one component."""
        if component is not None:
            if self._header_bytes is None:
                box = read_component(self.path, "bbox")
                self._header_bytes = max(0, self.file_size - box.area * _BYTES_PER_PIXEL)
            self.bytes_read += self._header_bytes
            return read_component(self.path, component)
        bbox = (parameters or {}).get("bbox")
        exposure = read_exposure(self.path, bbox=bbox)
        self.bytes_read += exposure.bbox.area * _BYTES_PER_PIXEL
        return exposure

    def __repr__(self) -> str:
        return f"FileCoaddHandle({self.path!r})"
