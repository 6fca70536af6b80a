"""The in-memory image model: boxes, images, masks, masked images and exposures, and their FITS files.

See `chamberlain.image.fits` for the on-disk layout.
"""

from __future__ import annotations

from chamberlain.image import fits
from chamberlain.image.box import Box
from chamberlain.image.exposure import COMPONENT_NAMES, Exposure
from chamberlain.image.filter_label import FilterLabel
from chamberlain.image.fits import *  # noqa: F403 (the FITS readers and writers: fits.__all__)
from chamberlain.image.image import IMAGE_DTYPES, Image
from chamberlain.image.mask import MASK_DTYPE, STANDARD_MASK_PLANES, Mask
from chamberlain.image.masked_image import MaskedImage
from chamberlain.image.photo_calib import AB_ZERO_POINT_NJY, PhotoCalib
from chamberlain.image.psf import GaussianPsf, Psf, PsfShape, get_psf_type
from chamberlain.image.visit_info import Observatory, RotType, VisitInfo, Weather

__all__ = [
    "AB_ZERO_POINT_NJY",
    "COMPONENT_NAMES",
    "IMAGE_DTYPES",
    "MASK_DTYPE",
    "STANDARD_MASK_PLANES",
    "Box",
    "Exposure",
    "FilterLabel",
    "GaussianPsf",
    "Image",
    "Mask",
    "MaskedImage",
    "Observatory",
    "PhotoCalib",
    "Psf",
    "PsfShape",
    "RotType",
    "VisitInfo",
    "Weather",
    "get_psf_type",
    *fits.__all__,
]
