"""The ``fits_raw`` formatter: single-HDU raw FITS files (primary header + 2-D image) as `Exposure`.

Raw files from telescopes, and those `chamberlain.instrument.simulate_raws`
writes, hold one image in the primary HDU (or, when the primary HDU has no
data, in HDU 1). Reading one gives an `~chamberlain.image.Exposure` whose
image is the pixels as float32 (integer raws are converted), whose mask is
clear and variance zero, whose WCS comes from the header and whose metadata
is the header.

Components ``wcs``, ``metadata``, ``bbox``, ``xy0`` and ``dimensions`` read
only the header blocks; ``image`` (and the whole exposure) with the ``bbox``
parameter read only the rows and columns inside it. Components a raw does
not have (``psf``, ``photo_calib``, ``visit_info``, ``filter``) are `None`.
Raws are ingested, never written by the datastore.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import fitsio
import numpy as np

from chamberlain.datastore.formatters import Formatter
from chamberlain.errors import FormatterError, ImageError
from chamberlain.image import Box, Exposure, Image, Mask, MaskedImage
from chamberlain.image._wcs import wcs_from_header
from chamberlain.image.fits_headers import HduHeader, header_items, read_image_hdu_headers

__all__ = ["FitsRawFormatter"]

_STRUCTURAL = frozenset(
    {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT"}
)
_ABSENT = frozenset({"psf", "photo_calib", "visit_info", "filter"})


def _image_hdu(path: str) -> tuple[HduHeader, HduHeader, int]:
    """Read the primary header, the header of the HDU holding the image, and that HDU's number."""
    with open(path, "rb", buffering=0) as stream:
        headers, number = read_image_hdu_headers(stream, path)
    image = headers[number]
    if image.get("NAXIS") != 2:
        raise FormatterError(
            f"{path}: a raw must hold a 2-D image in its primary HDU (or HDU 1); "
            f"found NAXIS={image.get('NAXIS')!r}."
        )
    return headers[0], image, number


def _bbox(header: HduHeader) -> Box:
    return Box.from_size(0, 0, int(header.get("NAXIS1")), int(header.get("NAXIS2")))


def _pixels(path: str, number: int, full: Box, bbox: Any) -> tuple[np.ndarray, Box]:
    box = full
    if bbox is not None:
        if not isinstance(bbox, Box):
            raise ImageError(f"bbox must be a Box, got {type(bbox).__name__} {bbox!r}.")
        if bbox.is_empty or not full.contains(bbox):
            raise ImageError(f"{bbox} is not inside the bounding box {full} of {path}.")
        box = bbox
    with fitsio.FITS(path) as fits:
        hdu = fits[number]
        array = hdu.read() if box == full else hdu[box.slices(full.xy0)]
    if not (array.dtype.kind == "f" and array.dtype.itemsize in (4, 8)):
        array = array.astype(np.float32)
    return np.ascontiguousarray(array), box


class FitsRawFormatter(Formatter):
    """Single-HDU raw FITS files as `Exposure` (read only; see the module docstring)."""

    name = "fits_raw"
    extension = ".fits"

    def write(self, obj: Any, path: str) -> None:
        raise FormatterError(
            f"The {self.name} formatter only reads raw files (which are ingested); it cannot write {path}."
        )

    def read(
        self, path: str, *, component: str | None = None, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        path = os.fspath(path)
        primary, image_header, number = _image_hdu(path)
        full = _bbox(image_header)
        if component in ("bbox", "xy0", "dimensions"):
            return full if component == "bbox" else full.xy0 if component == "xy0" else full.dimensions
        if component == "wcs":
            return wcs_from_header(image_header.header, (0, 0), path)
        if component == "metadata":
            return self._metadata(primary)
        if component in _ABSENT:
            return None
        bbox = (parameters or {}).get("bbox")
        array, box = _pixels(path, number, full, bbox)
        image = Image(array, box.xy0)
        if component == "image":
            return image
        if component == "mask":
            return Mask(np.zeros(array.shape, dtype=np.uint32), box.xy0)
        if component == "variance":
            return Image(np.zeros_like(array), box.xy0)
        if component is not None:
            raise FormatterError(f"The {self.name} formatter cannot read component {component!r}.")
        return Exposure(
            MaskedImage(image),
            wcs=wcs_from_header(image_header.header, (0, 0), path),
            metadata=self._metadata(primary),
        )

    @staticmethod
    def _metadata(primary: HduHeader) -> dict[str, Any]:
        return dict(header_items(primary.header, _STRUCTURAL))
