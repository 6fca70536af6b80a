"""Tests for direct FITS pixel reads, whole and memory-mapped sections (chamberlain.image._fits_pixels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fitsio
import numpy as np
import pytest

from chamberlain.image import (
    Box,
    Exposure,
    Image,
    MaskedImage,
    _fits_pixels,
    read_exposure,
    read_image,
    write_exposure,
)
from chamberlain.image._fits_pixels import raw_dtype, read_sections, read_whole
from chamberlain.image.fits_headers import read_hdu_headers, read_image_hdu_headers

SHAPE = (37, 53)  # rows, columns: not a multiple of anything FITS blocks care about
SLICES = (slice(5, 30), slice(11, 50))


def _write(path: Path, array: np.ndarray | None, **header: Any) -> None:
    with fitsio.FITS(str(path), "rw", clobber=True) as fits:
        fits.write(None)
        fits.write(array, header=header or None)


def _headers(path: Path, count: int = 2) -> list[Any]:
    with open(path, "rb", buffering=0) as stream:
        return read_hdu_headers(stream, count, str(path))


def _direct(path: Path, numbers: tuple[int, ...] = (1,), shape: tuple[int, int] = SHAPE) -> Any:
    with open(path, "rb", buffering=0) as stream:
        headers = read_hdu_headers(stream, max(numbers) + 1, str(path))
        return read_sections(stream, [headers[n] for n in numbers], shape, SLICES)


def _whole(path: Path, numbers: tuple[int, ...] = (1,), shape: tuple[int, int] = SHAPE) -> Any:
    with open(path, "rb", buffering=0) as stream:
        headers = read_hdu_headers(stream, max(numbers) + 1, str(path))
        return read_whole(stream, [headers[n] for n in numbers], shape)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64, np.float32, np.float64])
def test_section_matches_fitsio(tmp_path: Path, dtype: Any) -> None:
    rng = np.random.default_rng(3)
    array = (rng.normal(0, 1000, SHAPE)).astype(dtype)
    if np.dtype(dtype).kind == "f":
        array[7, 20] = np.nan
    path = tmp_path / "img.fits"
    _write(path, array)
    (got,) = _direct(path)
    expected = fitsio.FITS(str(path))[1][SLICES]
    assert got.dtype == expected.dtype and got.dtype.isnative
    assert got.flags.c_contiguous and got.flags.writeable and got.base is None
    assert got.tobytes() == expected.tobytes()
    np.testing.assert_array_equal(got, array[SLICES])
    (whole,) = _whole(path)
    expected = fitsio.read(str(path), ext=1)
    assert whole.dtype == expected.dtype and whole.shape == SHAPE
    assert whole.flags.c_contiguous and whole.flags.writeable and whole.flags.owndata
    assert whole.tobytes() == expected.tobytes()


def test_whole_read_in_small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks that do not divide the data (nor hold a whole number of rows) must still fill it all.
    monkeypatch.setattr(_fits_pixels, "CHUNK", 4 * 97)
    array = np.arange(SHAPE[0] * SHAPE[1], dtype=np.float32).reshape(SHAPE) - 500.25
    path = tmp_path / "chunks.fits"
    _write(path, array)
    (whole,) = _whole(path)
    assert whole.tobytes() == array.tobytes()


def test_special_float_values_keep_their_bits(tmp_path: Path) -> None:
    # fitsio writes infinities as NaN, so write with astropy; reads must keep every bit as cfitsio does.
    from astropy.io import fits as afits

    array = np.ones(SHAPE, np.float32)
    array[5, 11], array[6, 12], array[7, 13] = np.inf, -np.inf, -0.0
    array[8, 14] = np.float32(1e-42)  # subnormal
    array[9, 15] = np.array([0x7FC00123], np.uint32).view(np.float32)[0]  # NaN with a payload
    path = tmp_path / "special.fits"
    afits.HDUList([afits.PrimaryHDU(), afits.ImageHDU(array)]).writeto(path)
    (got,) = _direct(path)
    assert got.tobytes() == array[SLICES].tobytes()
    assert got.tobytes() == fitsio.FITS(str(path))[1][SLICES].tobytes()


def test_several_hdus_in_one_map(tmp_path: Path) -> None:
    path = tmp_path / "three.fits"
    arrays = [np.arange(SHAPE[0] * SHAPE[1], dtype=t).reshape(SHAPE) * k for k, t in enumerate("fif", 1)]
    with fitsio.FITS(str(path), "rw", clobber=True) as fits:
        fits.write(None)
        for array in arrays:
            fits.write(array)
    got = _direct(path, (1, 2, 3))
    for array, section in zip(arrays, got, strict=True):
        assert section.dtype == array.dtype
        np.testing.assert_array_equal(section, array[SLICES])
    for array, whole in zip(arrays, _whole(path, (1, 2, 3)), strict=True):
        assert whole.dtype == array.dtype
        np.testing.assert_array_equal(whole, array)


@pytest.mark.parametrize(
    ("array", "header"),
    [
        (np.zeros(SHAPE, np.uint16), {}),  # stored as int16 with BZERO = 32768
        (np.zeros(SHAPE, np.int16), {"BSCALE": 2.0}),
        (np.zeros(SHAPE, np.int16), {"BLANK": -1}),
        (np.zeros((2, *SHAPE), np.float32), {}),  # 3-D
        (np.zeros((SHAPE[0], SHAPE[1] + 1), np.float32), {}),  # not the expected shape
    ],
    ids=["bzero", "bscale", "blank", "3d", "shape"],
)
def test_not_plain_falls_back(tmp_path: Path, array: np.ndarray, header: dict[str, Any]) -> None:
    path = tmp_path / "scaled.fits"
    _write(path, array, **header)
    assert raw_dtype(_headers(path)[1], SHAPE) is None
    assert _direct(path) is None
    assert _whole(path) is None


def test_table_and_truncated_file_fall_back(tmp_path: Path) -> None:
    table = tmp_path / "table.fits"
    with fitsio.FITS(str(table), "rw", clobber=True) as fits:
        fits.write(None)
        fits.write(np.zeros(SHAPE[0], dtype=[("a", "f4")] * 1))
    assert raw_dtype(_headers(table)[1], SHAPE) is None
    whole = tmp_path / "whole.fits"
    _write(whole, np.ones(SHAPE, np.float32))
    assert raw_dtype(_headers(whole)[1], SHAPE) == np.dtype(">f4")
    cut = tmp_path / "cut.fits"
    cut.write_bytes(whole.read_bytes()[: 2 * 2880 + 100])  # both headers, a little data
    assert _direct(cut) is None
    assert _whole(cut) is None
    unpadded = tmp_path / "unpadded.fits"  # data ends at the end of the file, no padding block
    unpadded.write_bytes(whole.read_bytes()[: 2 * 2880 + 4 * SHAPE[0] * SHAPE[1]])
    (array,) = _whole(unpadded)
    assert array.dtype == np.float32 and np.all(array == 1.0)


def test_scaled_image_cutout_goes_through_fitsio(tmp_path: Path) -> None:
    array = (np.arange(SHAPE[0] * SHAPE[1]) * 7 % 65535).astype(np.uint16).reshape(SHAPE)
    path = tmp_path / "raw.fits"
    _write(path, array)
    box = Box(11, 5, 49, 29)
    image = read_image(path, box)
    assert image.xy0 == (11, 5) and image.dtype == np.float32
    np.testing.assert_array_equal(image.array, array[SLICES].astype(np.float32))


def test_exposure_cutout_equals_slice_of_full_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    image = rng.normal(0, 1, SHAPE).astype(np.float64)
    image[3, 4] = np.nan
    mask = rng.integers(0, 2**32, SHAPE, dtype=np.uint64).astype(np.uint32)  # top bit set too
    masked = MaskedImage.from_arrays(image, mask, np.abs(image) + 1.0, xy0=(100, 200))
    path = tmp_path / "exp.fits"
    write_exposure(path, Exposure(masked))
    box = Box.from_size(111, 205, 39, 25)
    cut = read_exposure(path, bbox=box)
    full = read_exposure(path)
    assert cut.xy0 == box.xy0 and cut.image.dtype == np.float64 and cut.mask.array.dtype == np.uint32
    for got, whole in (
        (cut.image.array, full.image.array),
        (cut.mask.array, full.mask.array),
        (cut.variance.array, full.variance.array),
    ):
        assert got.tobytes() == whole[SLICES].tobytes()
    assert isinstance(cut.image, Image)


def test_read_image_hdu_headers_finds_the_image_in_hdu_1_or_the_primary(tmp_path: Path) -> None:
    pixels = np.arange(12, dtype=np.int16).reshape(3, 4)
    in_hdu1 = tmp_path / "extension.fits"
    _write(in_hdu1, pixels, OBJECT="x")
    in_primary = tmp_path / "primary.fits"
    with fitsio.FITS(str(in_primary), "rw", clobber=True) as fits:
        fits.write(pixels, header={"OBJECT": "y"})
    with open(in_hdu1, "rb") as stream:
        headers, number = read_image_hdu_headers(stream, str(in_hdu1))
    assert (len(headers), number) == (2, 1)
    assert (headers[1].get("NAXIS1"), headers[1].get("NAXIS2"), headers[1].get("OBJECT")) == (4, 3, "x")
    with open(in_primary, "rb") as stream:
        headers, number = read_image_hdu_headers(stream, str(in_primary))
    assert (len(headers), number) == (1, 0)
    assert (headers[0].get("NAXIS1"), headers[0].get("OBJECT")) == (4, "y")
