"""Reading and writing images, masked images and exposures as FITS files.

Layout (the Rubin afw layout, minus the binary-table "archive")::

    HDU 0  primary, no data. Metadata cards, then the component cards:
           VisitInfo   EXPID EXPTIME DARKTIME DATE-AVG (TAI, ns) TIMESYS BORE-RA BORE-DEC
                       BORE-AZ BORE-ALT BORE-AIRMASS BORE-ROTANG ROTTYPE OBS-LONG OBS-LAT
                       OBS-ELEV AIRTEMP AIRPRESS HUMIDITY INSTRUMENT FOCUSZ OBSTYPE PROGRAM
                       REASON OBJECT SIMULATE  (ROTTYPE is always written when there is one)
           PhotoCalib  PHOTCALM (nJy per count), PHOTCALE
           FilterLabel FILTBAND, FILTPHYS
           Psf         PSFTYPE (class name, e.g. GaussianPsf) + the class's own keys
                       (GaussianPsf: PSFSIGMA, PSFWIDTH, PSFHGHT)
    HDU 1  EXTNAME=IMAGE     float32/float64 pixels
    HDU 2  EXTNAME=MASK      int32 on disk (uint32 in memory, same bits); ``MP_<PLANE> = bit``
    HDU 3  EXTNAME=VARIANCE  float32/float64

Every image HDU carries ``INHERIT = T``, the FITS WCS shifted to 1-based
array indices (in memory the WCS uses parent 0-based pixels; the file CRPIX is
the in-memory CRPIX minus xy0), ``LTV1/LTV2 = -x0/-y0`` and an alternate
linear WCS "A" (``CRVAL1A/CRVAL2A = x0/y0`` at ``CRPIX1A/CRPIX2A = 1``) from
which xy0 is read back. Floats are written with Python's shortest exact
representation, so every component round-trips exactly (dates to the
nanosecond). Metadata keys that collide with the component keys or FITS
structural keys are not written; keys that are not standard 8-character FITS
keywords are written as HIERARCH cards. FITS keywords are case-insensitive and
cfitsio stores them upper-case, so metadata keys come back upper-case; string
values lose trailing blanks (not significant in FITS); NaN and infinity cannot
be stored and raise `ImageError`.

Reading reads the headers as raw blocks (data is skipped with ``seek``), then
the pixels: plain (unscaled, uncompressed) HDUs straight into the final arrays,
and a ``bbox`` section through a memory map of the file, touching only the
pages that hold it (`chamberlain.image._fits_pixels`); anything else, such as
``BZERO``-scaled integers, with fitsio.
Component values read with an exposure are parsed from the headers only when
first used. `read_component` reads only the headers (and, for a pixel
component, only that HDU's data).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

import fitsio
import numpy as np

from chamberlain.errors import FormatterError, ImageError, UnknownComponentError, format_choices
from chamberlain.image import _fits_components as comp
from chamberlain.image._fits_pixels import read_sections, read_whole
from chamberlain.image._wcs import wcs_from_header, wcs_to_cards
from chamberlain.image.box import Box
from chamberlain.image.exposure import Exposure
from chamberlain.image.fits_headers import (
    HduHeader,
    append_header_records,
    format_cards,
    header_items,
    read_hdu_headers,
    read_image_hdu_headers,
)
from chamberlain.image.image import Image
from chamberlain.image.mask import MASK_DTYPE, Mask
from chamberlain.image.masked_image import MaskedImage

__all__ = [
    "EXPOSURE_COMPONENTS",
    "read_component",
    "read_exposure",
    "read_image",
    "read_masked_image",
    "write_exposure",
    "write_image",
    "write_masked_image",
]

PathLike = str | os.PathLike[str]

_EXTNAMES = ("IMAGE", "MASK", "VARIANCE")
_STRUCTURAL = frozenset(
    {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT"}
    | {"EXTNAME", "INHERIT", "BZERO", "BSCALE", "CHECKSUM", "DATASUM", "END"}
)

#: Components `read_component` accepts (Rubin camelCase spellings are accepted too).
EXPOSURE_COMPONENTS = (
    "image",
    "mask",
    "variance",
    "wcs",
    "psf",
    "photo_calib",
    "visit_info",
    "filter",
    "metadata",
    "bbox",
    "xy0",
    "dimensions",
)
_ALIASES = {"photoCalib": "photo_calib", "visitInfo": "visit_info"}
_PIXEL_HDUS = {"image": 1, "mask": 2, "variance": 3}


# --- writing ------------------------------------------------------------------------------


def _metadata_cards(metadata: Mapping[str, Any], reserved: set[str]) -> list[tuple[str, Any, str]]:
    cards = []
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise ImageError(f"Metadata keys must be non-empty strings, got {key!r}.")
        if key.upper() in reserved or key.upper() in _STRUCTURAL:
            continue
        cards.append((key, value, ""))
    return cards


def _hdu_cards(xy0: tuple[int, int], wcs_cards: list[tuple[str, Any, str]]) -> list[tuple[str, Any, str]]:
    x0, y0 = xy0
    return [
        ("INHERIT", True, "Inherit the primary header"),
        *wcs_cards,
        ("LTV1", -x0, "Parent pixel x0 = -LTV1"),
        ("LTV2", -y0, "Parent pixel y0 = -LTV2"),
        ("WCSNAMEA", "PHYSICAL", "Array index -> parent pixel"),
        ("CTYPE1A", "LINEAR", ""),
        ("CTYPE2A", "LINEAR", ""),
        ("CRPIX1A", 1.0, ""),
        ("CRPIX2A", 1.0, ""),
        ("CRVAL1A", x0, "x0 of the first pixel"),
        ("CRVAL2A", y0, "y0 of the first pixel"),
        ("CUNIT1A", "pixel", ""),
        ("CUNIT2A", "pixel", ""),
    ]


def _records(cards: list[tuple[str, Any, str]]) -> list[str]:
    records: list[str] = []
    for key, value, comment in cards:
        records.extend(format_cards(key, value, comment))
    return records


def _write_layout(
    path: PathLike,
    masked_image: MaskedImage | None,
    image: Image | None,
    wcs: Any,
    primary_cards: list[tuple[str, Any, str]],
) -> None:
    pixels = masked_image.image if masked_image is not None else image
    assert pixels is not None
    wcs_cards = [] if wcs is None else wcs_to_cards(wcs, pixels.xy0)
    common = _hdu_cards(pixels.xy0, wcs_cards)
    hdus: list[tuple[str, np.ndarray, list[tuple[str, Any, str]]]] = [("IMAGE", pixels.array, common)]
    if masked_image is not None:
        planes = sorted(masked_image.mask.planes.items(), key=lambda kv: kv[1])
        mask_cards = common + [(f"MP_{name}", bit, "Mask plane bit") for name, bit in planes]
        hdus.append(("MASK", masked_image.mask.array.view(np.int32), mask_cards))
        hdus.append(("VARIANCE", masked_image.variance.array, common))
    primary = _records(primary_cards)
    with fitsio.FITS(os.fspath(path), "rw", clobber=True) as fits:
        fits.create_image_hdu(None, header=primary)
        append_header_records(fits, 1, primary)
        for number, (extname, array, cards) in enumerate(hdus, start=2):
            records = _records(cards)
            fits.create_image_hdu(np.ascontiguousarray(array), extname=extname, header=records)
            append_header_records(fits, number, records)


def write_exposure(path: PathLike, exposure: Exposure) -> None:
    """Write ``exposure`` to a FITS file at ``path`` (replacing any file there).

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The file to write.
    exposure : `Exposure`
        The exposure; pixels go to HDUs IMAGE, MASK and VARIANCE, the WCS to
        the IMAGE header and the other components and metadata to the
        primary header.

    Raises
    ------
    ImageError
        If a metadata value cannot be stored in a FITS header.
    """
    cards: list[tuple[str, Any, str]] = []
    psf = exposure.psf
    reserved = set(comp.RESERVED_KEYS)
    if psf is not None:
        reserved.update(psf.header_keys())
    cards.extend(_metadata_cards(exposure.metadata, reserved))
    if exposure.visit_info is not None:
        cards.extend(comp.visit_info_cards(exposure.visit_info))
    if exposure.photo_calib is not None:
        cards.extend(comp.photo_calib_cards(exposure.photo_calib))
    if exposure.filter is not None:
        cards.extend(comp.filter_cards(exposure.filter))
    if psf is not None:
        cards.extend(comp.psf_cards(psf))
    _write_layout(path, exposure.masked_image, None, exposure.wcs, cards)


def write_masked_image(
    path: PathLike, masked_image: MaskedImage, metadata: Mapping[str, Any] | None = None
) -> None:
    """Write ``masked_image`` (HDUs IMAGE, MASK, VARIANCE) with optional primary-header ``metadata``.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The file to write (replaced if it exists).
    masked_image : `MaskedImage`
        The pixels to write.
    metadata : `~collections.abc.Mapping` [`str`, `~typing.Any`], optional
        Header keyword -> value cards for the primary header.

    Raises
    ------
    ImageError
        If a metadata value cannot be stored in a FITS header.
    """
    _write_layout(path, masked_image, None, None, _metadata_cards(metadata or {}, set()))


def write_image(path: PathLike, image: Image, metadata: Mapping[str, Any] | None = None) -> None:
    """Write ``image`` as HDU 1 (EXTNAME=IMAGE) with optional primary-header ``metadata``.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The file to write (replaced if it exists).
    image : `Image`
        The pixels to write.
    metadata : `~collections.abc.Mapping` [`str`, `~typing.Any`], optional
        Header keyword -> value cards for the primary header.

    Raises
    ------
    ImageError
        If a metadata value cannot be stored in a FITS header.
    """
    _write_layout(path, None, image, None, _metadata_cards(metadata or {}, set()))


# --- reading ---------------------------------------------------------------------------------


def _read_headers(path: PathLike, count: int) -> list[HduHeader]:
    name = os.fspath(path)
    with open(name, "rb", buffering=0) as stream:
        return read_hdu_headers(stream, count, name)


def _check_extnames(headers: list[HduHeader], path: PathLike, count: int) -> None:
    for number in range(1, count + 1):
        found = headers[number].get("EXTNAME")
        if found != _EXTNAMES[number - 1]:
            raise FormatterError(
                f"{os.fspath(path)}: HDU {number} has EXTNAME {found!r}; expected {_EXTNAMES[number - 1]!r} "
                f"(the layout is {', '.join(_EXTNAMES)} in HDUs 1-3)."
            )


def _xy0(header: HduHeader, path: PathLike) -> tuple[int, int]:
    try:
        if "CRVAL1A" in header and "CRVAL2A" in header:
            x0 = header.get("CRVAL1A") - (header.get("CRPIX1A", 1.0) - 1.0)
            y0 = header.get("CRVAL2A") - (header.get("CRPIX2A", 1.0) - 1.0)
            return round(x0), round(y0)
        return -round(header.get("LTV1", 0)), -round(header.get("LTV2", 0))
    except TypeError:
        raise FormatterError(
            f"{os.fspath(path)}: the image origin keys (CRVAL1A/2A, LTV1/2) are not numbers."
        ) from None


def _bbox(header: HduHeader, path: PathLike) -> Box:
    if header.get("NAXIS") != 2:
        raise FormatterError(
            f"{os.fspath(path)}: expected a 2-D image HDU, found NAXIS={header.get('NAXIS')!r}."
        )
    x0, y0 = _xy0(header, path)
    return Box.from_size(x0, y0, int(header.get("NAXIS1")), int(header.get("NAXIS2")))


def _section(full: Box, bbox: Box | None, path: PathLike) -> Box:
    if bbox is None:
        return full
    if not isinstance(bbox, Box):
        raise ImageError(f"bbox must be a Box, got {type(bbox).__name__} {bbox!r}.")
    if bbox.is_empty or not full.contains(bbox):
        raise ImageError(f"{bbox} is not inside the bounding box {full} of {os.fspath(path)}.")
    return bbox


def _read_pixels(fits: Any, number: int, full: Box, box: Box) -> np.ndarray:
    hdu = fits[number]
    if box == full:
        return hdu.read()
    return hdu[box.slices(full.xy0)]


def _as_float(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "f" and array.dtype.itemsize in (4, 8):
        return array
    return array.astype(np.float32)


def _as_mask(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.int32:
        return array.view(MASK_DTYPE)
    if array.dtype.kind not in "iu":
        raise FormatterError(f"A MASK HDU must hold integers, found {array.dtype}.")
    return array.astype(MASK_DTYPE)


def _planes(header: HduHeader) -> dict[str, int]:
    return {key[3:]: int(header.get(key)) for key in header.cards if key.startswith("MP_")}


def _read_arrays(
    path: PathLike, stream: io.FileIO, headers: list[HduHeader], numbers: tuple[int, ...], full: Box, box: Box
) -> list[np.ndarray]:
    """Return the pixels of HDUs ``numbers`` inside ``box``, read directly when they are plain (else by fitsio)."""
    plain = [headers[n] for n in numbers]
    shape = (full.height, full.width)
    if box == full:
        arrays = read_whole(stream, plain, shape)
    else:
        arrays = read_sections(stream, plain, shape, box.slices(full.xy0))
    if arrays is not None:
        return arrays
    with fitsio.FITS(os.fspath(path)) as fits:
        return [_read_pixels(fits, number, full, box) for number in numbers]


def _read_masked(
    path: PathLike, stream: io.FileIO, headers: list[HduHeader], bbox: Box | None
) -> MaskedImage:
    full = _bbox(headers[1], path)
    box = _section(full, bbox, path)
    image, mask, variance = _read_arrays(path, stream, headers, (1, 2, 3), full, box)
    xy0 = box.xy0
    return MaskedImage(
        Image(_as_float(image), xy0),
        Mask(_as_mask(mask), xy0, _planes(headers[2])),
        Image(_as_float(variance), xy0),
    )


class _FileComponents:
    """Parses exposure components from already-read headers, once each, when first asked."""

    __slots__ = ("_cache", "_image", "_name", "_primary", "_xy0")

    def __init__(self, primary: HduHeader, image: HduHeader, xy0: tuple[int, int], name: str) -> None:
        self._primary = primary
        self._image = image
        self._xy0 = xy0
        self._name = name
        self._cache: dict[str, Any] = {}

    def load(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = self._parse(name)
        return self._cache[name]

    def _parse(self, name: str) -> Any:
        primary = self._primary.header
        if name == "wcs":
            return wcs_from_header(self._image.header, self._xy0, self._name)
        if name == "visit_info":
            return comp.visit_info_from_header(primary, self._name)
        if name == "photo_calib":
            return comp.photo_calib_from_header(primary, self._name)
        if name == "filter":
            return comp.filter_from_header(primary, self._name)
        if name == "psf":
            return comp.psf_from_header(primary, self._name)
        if name == "metadata":
            return dict(header_items(primary, _STRUCTURAL | comp.reserved_keys(primary)))
        raise UnknownComponentError(f"Unknown exposure component {name!r}.")  # pragma: no cover


def read_exposure(path: PathLike, bbox: Box | None = None) -> Exposure:
    """Read an exposure, or only the pixels in ``bbox`` (parent coordinates).

    With ``bbox``, only the rows and columns inside it are read, and the
    result's xy0 is ``bbox.xy0``; its WCS is the file's (parent coordinates).
    Components are parsed from the headers on first access.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        A FITS file with the IMAGE/MASK/VARIANCE layout.
    bbox : `Box`, optional
        The pixels to read, in parent coordinates; None reads them all.

    Returns
    -------
    exposure : `Exposure`
        The exposure read.

    Raises
    ------
    FormatterError
        If the file is not FITS or does not have the IMAGE/MASK/VARIANCE layout.
    ImageError
        If ``bbox`` is not inside the stored image.
    """
    name = os.fspath(path)
    with open(name, "rb", buffering=0) as stream:
        headers = read_hdu_headers(stream, 4, name)
        _check_extnames(headers, path, 3)
        masked = _read_masked(path, stream, headers, bbox)
    source = _FileComponents(headers[0], headers[1], _bbox(headers[1], path).xy0, name)
    return Exposure._from_source(masked, source)


def read_masked_image(path: PathLike, bbox: Box | None = None) -> MaskedImage:
    """Read the IMAGE, MASK and VARIANCE HDUs of a file, or only the pixels in ``bbox``.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        A FITS file with the IMAGE/MASK/VARIANCE layout.
    bbox : `Box`, optional
        The pixels to read, in parent coordinates; None reads them all.

    Returns
    -------
    masked_image : `MaskedImage`
        The pixels read, with the mask planes stored in the file.

    Raises
    ------
    FormatterError, ImageError
        As for `read_exposure`.
    """
    name = os.fspath(path)
    with open(name, "rb", buffering=0) as stream:
        headers = read_hdu_headers(stream, 4, name)
        _check_extnames(headers, path, 3)
        return _read_masked(path, stream, headers, bbox)


def read_image(path: PathLike, bbox: Box | None = None) -> Image:
    """Read the image of a file: HDU 1 if the primary HDU has no data, else the primary HDU.

    Integer pixels are converted to float32.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        A FITS file.
    bbox : `Box`, optional
        The pixels to read, in parent coordinates; None reads them all.

    Returns
    -------
    image : `Image`
        The pixels read; xy0 from the header (or ``bbox.xy0``).

    Raises
    ------
    FormatterError
        If the file is not FITS or has no 2-D image.
    ImageError
        If ``bbox`` is not inside the stored image.
    """
    name = os.fspath(path)
    with open(name, "rb", buffering=0) as stream:
        headers, number = read_image_hdu_headers(stream, name)
        full = _bbox(headers[number], path)
        box = _section(full, bbox, path)
        (array,) = _read_arrays(path, stream, headers, (number,), full, box)
    return Image(_as_float(array), box.xy0)


def read_component(path: PathLike, component: str) -> Any:
    """Read one component of an exposure file, reading no more than it needs.

    Header components (``wcs``, ``psf``, ``photo_calib``, ``visit_info``,
    ``filter``, ``metadata``, ``bbox``, ``xy0``, ``dimensions``) read only
    headers; pixel components (``image``, ``mask``, ``variance``) also read
    that one HDU's data.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        A FITS file with the exposure layout.
    component : `str`
        One of `EXPOSURE_COMPONENTS` (or an accepted alias).

    Returns
    -------
    value : `~typing.Any`
        The component, as the matching `Exposure` attribute gives it (a
        `Box` for ``bbox``, an `Image` for ``image``, a `Psf` or None for
        ``psf``, ...).

    Raises
    ------
    UnknownComponentError
        If ``component`` is not one of `EXPOSURE_COMPONENTS`.
    FormatterError
        If the file is not FITS or lacks the exposure layout.
    """
    name = _ALIASES.get(component, component)
    if name not in EXPOSURE_COMPONENTS:
        raise UnknownComponentError(
            f"Unknown exposure component {component!r}; valid components are "
            f"{format_choices(EXPOSURE_COMPONENTS + tuple(_ALIASES), limit=30)}."
        )
    number = _PIXEL_HDUS.get(name, 1)
    headers = _read_headers(path, number + 1)
    _check_extnames(headers, path, number)
    full = _bbox(headers[1], path)
    if name == "bbox":
        return full
    if name == "xy0":
        return full.xy0
    if name == "dimensions":
        return full.dimensions
    if name in _PIXEL_HDUS:
        with fitsio.FITS(os.fspath(path)) as fits:
            array = fits[number].read()
        if name == "mask":
            return Mask(_as_mask(array), full.xy0, _planes(headers[2]))
        return Image(_as_float(array), full.xy0)
    return _FileComponents(headers[0], headers[1], full.xy0, os.fspath(path)).load(name)
