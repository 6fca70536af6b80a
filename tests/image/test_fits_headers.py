"""The one private fitsio call (chamberlain.image.fits_headers.append_header_records) still does what we rely on.

If a fitsio release renames or changes ``FITS._FITS.write_record``, this test fails before any
exposure is written wrongly; pyproject.toml bounds fitsio below 2 for the same reason.
"""

from __future__ import annotations

from pathlib import Path

import fitsio
import numpy as np
from astropy.io import fits as astropy_fits

from chamberlain.image.fits_headers import append_header_records, format_cards


def test_private_write_record_exists() -> None:
    assert callable(getattr(fitsio.fitslib.FITS, "__init__", None))
    assert hasattr(fitsio._fitsio_wrap.FITS, "write_record"), "fitsio dropped FITS._FITS.write_record"


def test_cards_are_written_exactly(tmp_path: Path) -> None:
    path = tmp_path / "cards.fits"
    value = 0.1 + 0.2  # 0.30000000000000004: fitsio's own header writer rounds it to 15 digits
    long_text = "x" * 150  # needs CONTINUE cards
    records = format_cards("EXACT", value, "round trip") + format_cards("LONGSTR", long_text, "")
    assert all(len(r) == 80 for r in records)
    with fitsio.FITS(str(path), "rw", clobber=True) as fits:
        fits.create_image_hdu(None)
        fits.create_image_hdu(np.zeros((2, 3), np.float32), extname="IMAGE")
        append_header_records(fits, 1, records)
        append_header_records(fits, 2, records[:1])
    with astropy_fits.open(path) as hdus:
        assert hdus[0].header["EXACT"] == value
        assert hdus[0].header["LONGSTR"] == long_text
        assert hdus[1].header["EXACT"] == value
        assert "LONGSTR" not in hdus[1].header
        raw = hdus[0].header.tostring()
    assert records[0] in raw
