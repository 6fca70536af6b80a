"""Conversions between in-memory WCS (parent 0-based pixels) and FITS header WCS (1-based array indices)."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
from astropy.io.fits import Header
from astropy.wcs import WCS, FITSFixedWarning, Sip

from chamberlain.errors import FormatterError

__all__ = ["shift_wcs", "wcs_from_header", "wcs_to_cards"]

_SIP_KEY = re.compile(r"^(A|B|AP|BP)_(\d+)_(\d+)$")
_MATRIX_KEY = re.compile(r"^(PC|CD)(\d+)_(\d+)$")
_VECTOR_KEY = re.compile(r"^(CRPIX|CRVAL|CDELT)(\d+)$")


def shift_wcs(wcs: WCS, dx: float, dy: float) -> WCS:
    """Return a copy of ``wcs`` whose pixel coordinates are shifted: new(x, y) = old(x - dx, y - dy)."""
    result = wcs.deepcopy()
    if dx == 0 and dy == 0:
        return result
    crpix = result.wcs.crpix.copy()
    crpix[0] += dx
    crpix[1] += dy
    result.wcs.crpix = crpix
    if result.sip is not None:
        sip = result.sip
        result.sip = Sip(sip.a, sip.b, sip.ap, sip.bp, result.wcs.crpix)
    return result


def wcs_to_cards(wcs: WCS, xy0: tuple[int, int]) -> list[tuple[str, Any, str]]:
    """Header cards for a FITS HDU whose array starts at parent pixel ``xy0``.

    The header WCS refers to 1-based array indices, so CRPIX is shifted by
    ``-xy0``. Numeric values are taken from the WCS object itself, not from
    astropy's 14-digit header text, so they round-trip exactly.
    """
    file_wcs = shift_wcs(wcs, -xy0[0], -xy0[1])
    header = file_wcs.to_header(relax=True)
    prm = file_wcs.wcs
    vectors = {"CRPIX": prm.crpix, "CRVAL": prm.crval, "CDELT": prm.get_cdelt()}
    matrices = {"PC": prm.get_pc(), "CD": prm.cd if prm.has_cd() else None}
    sip = file_wcs.sip
    sips = {} if sip is None else {"A": sip.a, "B": sip.b, "AP": sip.ap, "BP": sip.bp}
    cards: list[tuple[str, Any, str]] = []
    for card in header.cards:
        key, value = card.keyword, card.value
        exact: Any = None
        if match := _VECTOR_KEY.match(key):
            exact = vectors[match[1]][int(match[2]) - 1]
        elif match := _MATRIX_KEY.match(key):
            matrix = matrices[match[1]]
            if matrix is not None:
                exact = matrix[int(match[2]) - 1, int(match[3]) - 1]
        elif match := _SIP_KEY.match(key):
            coefficients = sips.get(match[1])
            if coefficients is not None:
                exact = coefficients[int(match[2]), int(match[3])]
        elif key == "LONPOLE":
            exact = prm.lonpole
        elif key == "LATPOLE":
            exact = prm.latpole
        if exact is not None and isinstance(value, float) and np.isfinite(exact):
            value = float(exact)
        cards.append((key, value, card.comment))
    return cards


def wcs_from_header(header: Header, xy0: tuple[int, int], name: str) -> WCS | None:
    """Return the in-memory WCS (parent 0-based pixels) of an HDU whose array starts at ``xy0``; `None` if absent.

    Raises
    ------
    FormatterError
        If the header's WCS cannot be understood.
    """
    if "CTYPE1" not in header:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header, relax=True)
    except Exception as err:  # astropy raises several unrelated types for bad WCS headers.
        raise FormatterError(f"{name} has a WCS that cannot be read: {err}") from None
    return shift_wcs(wcs, xy0[0], xy0[1])
