"""Combining images for GetTemplate: the weighted mosaic, the HIGH_VARIANCE mask and the template PSF."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS

from chamberlain.image import Box, GaussianPsf, Image, Mask, MaskedImage, Psf

__all__ = ["PsfEntry", "high_variance_mask", "merge_masked_images", "template_psf"]

_NO_DATA = "NO_DATA"
_HIGH_VARIANCE = "HIGH_VARIANCE"


def _union_planes(images: Sequence[MaskedImage]) -> dict[str, int]:
    planes: dict[str, int] = {}
    for masked in images:
        for name, bit in masked.mask.planes.items():
            if name not in planes and bit not in planes.values():
                planes[name] = bit
    for masked in images:  # Names whose bit was taken by another name get a free bit.
        for name in masked.mask.planes:
            if name not in planes:
                free = next(b for b in range(32) if b not in planes.values())
                planes[name] = free
    if _NO_DATA not in planes:
        planes[_NO_DATA] = next(b for b in range(32) if b not in planes.values())
    return planes


def _remap(array: np.ndarray, source: Mapping[str, int], target: Mapping[str, int]) -> np.ndarray:
    if all(target.get(name) == bit for name, bit in source.items()):
        return array
    out = np.zeros_like(array)
    for name, bit in source.items():
        out[(array & np.uint32(1 << bit)) != 0] |= np.uint32(1 << target[name])
    return out


def merge_masked_images(images: Sequence[MaskedImage], bbox: Box) -> tuple[MaskedImage, int, list[int]]:
    """Weighted mosaic of masked images onto ``bbox`` (the reference's ``_merge``).

    Each input is clipped to ``bbox``. A pixel is used where its variance is
    finite and positive and its image is not NaN; its weight is
    ``variance ** -0.5`` (1/sigma, not inverse variance). Image and variance
    are weight-averaged, so ``var_out = sum(w var) / sum(w)`` (overlapping
    patches share input data, so the variances are not combined as
    independent). Mask bits of used pixels are OR-ed (by plane name);
    input mask bits never exclude pixels. Pixels with no weight get NO_DATA,
    image 0 and variance 0.

    Returns
    -------
    merged
        The float32 mosaic covering ``bbox``.
    n_good
        Number of pixels with some weight.
    included
        Indices of the inputs that contributed at least one pixel.
    """
    planes = _union_planes(images)
    image = np.zeros(bbox.shape, dtype=np.float64)
    variance = np.zeros(bbox.shape, dtype=np.float64)
    weight = np.zeros(bbox.shape, dtype=np.float64)
    mask = np.zeros(bbox.shape, dtype=np.uint32)
    included: list[int] = []
    for index, masked in enumerate(images):
        clip = masked.bbox.intersection(bbox)
        if clip.is_empty:
            continue
        sub = masked.subset(clip)
        img = sub.image.array.astype(np.float64)
        var = sub.variance.array.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            good = np.isfinite(var) & (var > 0) & ~np.isnan(img)
            if not good.any():
                continue
            w = np.where(good, var, 1.0) ** -0.5
        w[~good] = 0.0
        out = clip.slices(bbox.xy0)
        image[out] += np.where(good, img, 0.0) * w
        variance[out] += np.where(good, var, 0.0) * w
        weight[out] += w
        mask_array = _remap(sub.mask.array, sub.mask.planes, planes)
        mask[out] |= np.where(good, mask_array, np.uint32(0))
        included.append(index)
    covered = weight > 0
    image[covered] /= weight[covered]
    variance[covered] /= weight[covered]
    result = MaskedImage(
        Image(image.astype(np.float32), bbox.xy0),
        Mask(mask, bbox.xy0, planes),
        Image(variance.astype(np.float32), bbox.xy0),
    )
    result.mask.set_plane(_NO_DATA, ~covered)
    return result, int(covered.sum()), included


def _bin_medians(values: np.ndarray, good: np.ndarray, nx: int, ny: int) -> np.ndarray:
    height, width = values.shape
    xs = np.linspace(0, width, nx + 1).round().astype(int)
    ys = np.linspace(0, height, ny + 1).round().astype(int)
    medians = np.full((ny, nx), np.nan)
    for j in range(ny):
        for i in range(nx):
            cell = values[ys[j] : ys[j + 1], xs[i] : xs[i + 1]][good[ys[j] : ys[j + 1], xs[i] : xs[i + 1]]]
            if cell.size:
                medians[j, i] = np.median(cell)
    return medians


def _interpolate_bins(medians: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Linear interpolation of bin values (at bin centres) to every pixel, clamped at the edges."""
    height, width = shape
    ny, nx = medians.shape
    centres_x = (np.arange(nx) + 0.5) * width / nx - 0.5
    centres_y = (np.arange(ny) + 0.5) * height / ny - 0.5
    rows = np.array([np.interp(np.arange(width), centres_x, row) for row in medians])
    return np.array([np.interp(np.arange(height), centres_y, column) for column in rows.T]).T


def high_variance_mask(
    masked_image: MaskedImage,
    *,
    threshold: float,
    mask_fraction: float,
    ignored_planes: Sequence[str],
    bin_size: int = 32,
) -> bool:
    """Add the HIGH_VARIANCE plane and set it where the smoothed variance is unusually high.

    The variance of the pixels free of ``ignored_planes`` is median-binned in
    ``bin_size`` pixel cells and linearly interpolated (a smooth variance
    background); HIGH_VARIANCE is set wherever that background exceeds
    ``threshold`` times its median. Nothing is set (and False returned) when
    fewer than ``mask_fraction`` of the pixels are usable.
    """
    mask = masked_image.mask
    mask.add_plane(_HIGH_VARIANCE)
    known = [name for name in ignored_planes if name in mask.planes]
    variance = masked_image.variance.array
    good = ~mask.get_plane(known) if known else np.ones(variance.shape, dtype=bool)
    good &= np.isfinite(variance)
    if good.mean() < mask_fraction:
        return False
    ny = max(1, int(masked_image.height / bin_size + 0.5))
    nx = max(1, int(masked_image.width / bin_size + 0.5))
    medians = _bin_medians(variance, good, nx, ny)
    if np.all(np.isnan(medians)):
        return False
    medians[np.isnan(medians)] = np.nanmedian(medians)
    background = _interpolate_bins(medians, variance.shape)
    limit = threshold * float(np.nanmedian(background))
    mask.set_plane(_HIGH_VARIANCE, background > limit)
    return True


@dataclass(frozen=True)
class PsfEntry:
    """One input of the template PSF: a coadd patch's PSF in its tract frame.

    Attributes
    ----------
    psf
        The patch's PSF (tract pixels).
    wcs
        The tract WCS (parent pixels).
    bbox
        The patch box; the entry is valid inside it.
    """

    psf: Psf
    wcs: WCS
    bbox: Box


def _local_scale(wcs: WCS, out_wcs: WCS, x: float, y: float) -> float:
    """Output pixels per input pixel (square root of the Jacobian determinant) at input ``(x, y)``."""
    xs = np.array([x, x + 0.5, x - 0.5, x, x])
    ys = np.array([y, y, y, y + 0.5, y - 0.5])
    ra, dec = wcs.pixel_to_world_values(xs, ys)
    ox, oy = out_wcs.world_to_pixel_values(ra, dec)
    jacobian = np.array([[ox[1] - ox[2], ox[3] - ox[4]], [oy[1] - oy[2], oy[3] - oy[4]]])
    return math.sqrt(abs(float(np.linalg.det(jacobian))))


def template_psf(
    entries: Sequence[PsfEntry], out_wcs: WCS, position: tuple[float, float]
) -> GaussianPsf | None:
    """A round Gaussian PSF for the template, matching the coadd PSFs at ``position``.

    At the output pixel ``position`` the entries whose patch box contains the
    point are used (all entries if none does): each PSF's second moments are
    taken at the point in its tract frame, scaled into output pixels with the
    local Jacobian of the tract -> output mapping, and averaged (the second
    moments of the average of the warped PSFs). Returns `None` when no entry
    has a PSF.
    """
    entries = [e for e in entries if e.psf is not None]
    if not entries:
        return None
    ra, dec = out_wcs.pixel_to_world_values(position[0], position[1])
    located = []
    for entry in entries:
        tx, ty = entry.wcs.world_to_pixel_values(ra, dec)
        located.append((entry, float(tx), float(ty)))
    inside = [
        (e, x, y)
        for e, x, y in located
        if e.bbox.float_bounds()[0] <= x <= e.bbox.float_bounds()[2]
        and e.bbox.float_bounds()[1] <= y <= e.bbox.float_bounds()[3]
    ]
    chosen = inside or located
    second_moments = []
    for entry, x, y in chosen:
        sigma = entry.psf.compute_shape((x, y)).determinant_radius
        second_moments.append((sigma * _local_scale(entry.wcs, out_wcs, x, y)) ** 2)
    return GaussianPsf(math.sqrt(float(np.mean(second_moments))))
