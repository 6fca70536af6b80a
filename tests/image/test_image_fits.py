"""Tests for the FITS layout of images, masked images and exposures (chamberlain.image.fits)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import astropy.time
import fitsio
import numpy as np
import pytest
from astropy.io import fits as afits
from astropy.wcs import WCS, Sip

from chamberlain.errors import FormatterError, ImageError, UnknownComponentError
from chamberlain.image import (
    EXPOSURE_COMPONENTS,
    Box,
    Exposure,
    FilterLabel,
    GaussianPsf,
    Image,
    MaskedImage,
    Observatory,
    PhotoCalib,
    RotType,
    VisitInfo,
    Weather,
    read_component,
    read_exposure,
    read_image,
    read_masked_image,
    write_exposure,
    write_image,
    write_masked_image,
)

XY0 = (1000, 2000)
SHAPE = (96, 128)  # rows, columns


def make_wcs() -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    wcs.wcs.crval = [150.123456789012345, 2.20987654321098765]
    wcs.wcs.crpix = [1064.3333333333333, 2048.7777777777777]
    wcs.wcs.cd = np.array([[-5.123456789012345e-5, 1.1e-6], [1.3e-6, 5.000000000001e-5]])
    a = np.zeros((3, 3))
    a[2, 0] = 1.2345678901234567e-7
    b = np.zeros((3, 3))
    b[0, 2] = -3.333333333333333e-7
    wcs.sip = Sip(a, b, None, None, wcs.wcs.crpix)
    return wcs


def make_exposure(dtype: Any = np.float32, shape: tuple[int, int] = SHAPE) -> Exposure:
    rng = np.random.default_rng(42)
    image = rng.normal(100.0, 10.0, shape).astype(dtype)
    mask = rng.integers(0, 2**32, shape, dtype=np.uint64).astype(np.uint32)
    variance = rng.uniform(1.0, 2.0, shape).astype(dtype)
    masked = MaskedImage.from_arrays(image, mask, variance, xy0=XY0)
    masked.mask.add_plane("HIGH_VARIANCE")
    masked.mask.add_plane("STREAK")
    info = VisitInfo(
        id=2025030400123,
        exposure_time=30.0,
        dark_time=30.5,
        date=astropy.time.Time("2025-03-04T05:06:07.123456789", scale="tai"),
        boresight_ra=150.1,
        boresight_dec=2.2,
        boresight_az=123.4,
        boresight_alt=65.4321,
        boresight_airmass=1.1037,
        boresight_rot_angle=-12.5,
        rot_type=RotType.SKY,
        observatory=Observatory(-70.749417, -30.244639, 2663.0),
        weather=Weather(11.5, 74300.0, 21.0),
        instrument_label="SimCam",
        focus_z=0.1,
        observation_type="science",
        science_program="survey",
        observation_reason="wide",
        object="COSMOS",
        has_simulated_content=True,
    )
    return Exposure(
        masked,
        wcs=make_wcs(),
        photo_calib=PhotoCalib(0.1 + 0.2, 1.0 / 3.0),
        psf=GaussianPsf(1.7, 15, 17),
        visit_info=info,
        filter=FilterLabel("r", "SIM-R"),
        metadata={
            "BUNIT": "adu",
            "GAIN": 1.0000000000000002,
            "NCOMBINE": 3,
            "FLAG": False,
            "EMPTY": None,
            "failure.message": "a long message, " * 7 + "the end",
        },
    )


def assert_same_sky(wcs_a: WCS, wcs_b: WCS, x: np.ndarray, y: np.ndarray) -> None:
    ra_a, dec_a = wcs_a.all_pix2world(x, y, 0)
    ra_b, dec_b = wcs_b.all_pix2world(x, y, 0)
    np.testing.assert_array_equal(ra_a, ra_b)
    np.testing.assert_array_equal(dec_a, dec_b)


def grid(box: Box) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.linspace(box.min_x, box.max_x, 7), np.linspace(box.min_y, box.max_y, 5))
    return xs.ravel(), ys.ravel()


@pytest.fixture(scope="module")
def exposure() -> Exposure:
    return make_exposure()


@pytest.fixture(scope="module")
def exposure_path(tmp_path_factory: pytest.TempPathFactory, exposure: Exposure) -> Path:
    path = tmp_path_factory.mktemp("fits") / "exposure.fits"
    write_exposure(path, exposure)
    return path


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exposure_round_trip(tmp_path: Path, dtype: Any) -> None:
    original = make_exposure(dtype)
    path = tmp_path / "e.fits"
    write_exposure(path, original)
    read = read_exposure(path)
    assert read.bbox == original.bbox and read.xy0 == XY0
    assert read.image.dtype == dtype and read.variance.dtype == dtype
    np.testing.assert_array_equal(read.image.array, original.image.array)
    np.testing.assert_array_equal(read.mask.array, original.mask.array)
    np.testing.assert_array_equal(read.variance.array, original.variance.array)
    assert read.mask.array.dtype == np.uint32
    assert dict(read.mask.planes) == dict(original.mask.planes)
    assert read.photo_calib == original.photo_calib
    assert read.psf == original.psf
    assert read.visit_info == original.visit_info
    assert read.filter == original.filter
    assert read.metadata == {key.upper(): value for key, value in original.metadata.items()}
    # WCS: exactly the same parameters and the same sky positions at parent pixels.
    assert read.wcs is not None and original.wcs is not None
    np.testing.assert_array_equal(read.wcs.wcs.crpix, original.wcs.wcs.crpix)
    np.testing.assert_array_equal(read.wcs.wcs.crval, original.wcs.wcs.crval)
    np.testing.assert_array_equal(read.wcs.sip.a, original.wcs.sip.a)
    assert_same_sky(read.wcs, original.wcs, *grid(original.bbox))


def test_metadata_keys(exposure_path: Path, exposure: Exposure) -> None:
    metadata = read_exposure(exposure_path).metadata
    # FITS keywords are case-insensitive: keys are stored (and come back) upper-case.
    assert list(metadata) == ["BUNIT", "GAIN", "NCOMBINE", "FLAG", "EMPTY", "FAILURE.MESSAGE"]
    assert metadata["GAIN"] == 1.0000000000000002
    assert metadata["FAILURE.MESSAGE"] == exposure.metadata["failure.message"]
    assert metadata["FLAG"] is False and metadata["EMPTY"] is None


def test_reserved_metadata_keys_are_not_written(tmp_path: Path) -> None:
    exposure = make_exposure(shape=(4, 4))
    exposure.metadata["EXPTIME"] = 999.0  # belongs to VisitInfo
    exposure.metadata["NAXIS"] = 5  # structural
    path = tmp_path / "e.fits"
    write_exposure(path, exposure)
    read = read_exposure(path)
    assert "EXPTIME" not in read.metadata and "NAXIS" not in read.metadata
    assert read.visit_info is not None and read.visit_info.exposure_time == 30.0


def test_exposure_without_components(tmp_path: Path) -> None:
    exposure = Exposure(MaskedImage.zeros(Box(0, 0, 9, 4)))
    path = tmp_path / "plain.fits"
    write_exposure(path, exposure)
    read = read_exposure(path)
    assert read.wcs is None and read.psf is None and read.photo_calib is None
    assert read.visit_info is None and read.filter is None and read.metadata == {}
    assert read.bbox == Box(0, 0, 9, 4)


def test_masked_image_and_image_round_trip(tmp_path: Path, exposure: Exposure) -> None:
    path = tmp_path / "mi.fits"
    write_masked_image(path, exposure.masked_image, metadata={"BUNIT": "adu"})
    masked = read_masked_image(path)
    assert masked.bbox == exposure.bbox
    np.testing.assert_array_equal(masked.mask.array, exposure.mask.array)
    assert masked.mask.get_plane_bit("STREAK") == exposure.mask.get_plane_bit("STREAK")
    assert read_component(path, "metadata") == {"BUNIT": "adu"}
    image_path = tmp_path / "image.fits"
    write_image(image_path, exposure.image)
    image = read_image(image_path)
    assert image.xy0 == XY0
    np.testing.assert_array_equal(image.array, exposure.image.array)
    cut = read_image(image_path, Box(1010, 2010, 1019, 2014))
    np.testing.assert_array_equal(cut.array, exposure.image[Box(1010, 2010, 1019, 2014)].array)


def test_read_image_from_primary_hdu_converts_integers(tmp_path: Path) -> None:
    path = tmp_path / "raw.fits"
    fitsio.write(str(path), np.arange(12, dtype=np.int16).reshape(3, 4))
    image = read_image(path)
    assert image.dtype == np.float32 and image.array[2, 3] == 11.0 and image.xy0 == (0, 0)


# --- file layout ---------------------------------------------------------------------------------


def test_layout_with_astropy(exposure_path: Path, exposure: Exposure) -> None:
    with afits.open(exposure_path) as hdus:
        assert [hdu.name for hdu in hdus] == ["PRIMARY", "IMAGE", "MASK", "VARIANCE"]
        assert hdus[0].data is None
        assert hdus[0].header["EXPTIME"] == 30.0 and hdus[0].header["PSFTYPE"] == "GaussianPsf"
        mask_header = hdus[2].header
        planes = {key[3:]: mask_header[key] for key in mask_header if key.startswith("MP_")}
        assert planes == dict(exposure.mask.planes)
        for hdu in hdus[1:]:
            assert hdu.header["INHERIT"] is True
            assert (hdu.header["LTV1"], hdu.header["LTV2"]) == (-XY0[0], -XY0[1])
            assert (hdu.header["CRVAL1A"], hdu.header["CRVAL2A"]) == XY0
        np.testing.assert_array_equal(hdus[1].data, exposure.image.array)
        np.testing.assert_array_equal(hdus[2].data.astype(np.int32).view(np.uint32), exposure.mask.array)
        # The header WCS is in 1-based array indices: astropy reading it directly (origin 0)
        # at array index (i, j) sees the sky at parent pixel (i + x0, j + y0).
        file_wcs = WCS(hdus[1].header)
        i, j = np.array([0.0, 10.0, 127.0]), np.array([0.0, 50.0, 95.0])
        ra_f, dec_f = file_wcs.all_pix2world(i, j, 0)
        ra_m, dec_m = exposure.wcs.all_pix2world(i + XY0[0], j + XY0[1], 0)  # type: ignore[union-attr]
        np.testing.assert_allclose(ra_f, ra_m, rtol=0, atol=1e-12)
        np.testing.assert_allclose(dec_f, dec_m, rtol=0, atol=1e-12)
        # The alternate WCS "A" maps array indices to parent pixels.
        physical = WCS(hdus[1].header, key="A")
        np.testing.assert_allclose(physical.all_pix2world([[0.0, 0.0], [5.0, 7.0]], 0), [XY0, (1005, 2007)])


def test_layout_with_fitsio(exposure_path: Path, exposure: Exposure) -> None:
    with fitsio.FITS(str(exposure_path)) as fits:
        assert [fits[n].get_extname() for n in (1, 2, 3)] == ["IMAGE", "MASK", "VARIANCE"]
        assert fits[2].read_header()["MP_STREAK"] == exposure.mask.get_plane_bit("STREAK")
        np.testing.assert_array_equal(fits[3].read(), exposure.variance.array)


# --- cutouts and sub-images ---------------------------------------------------------------------


def test_bbox_read(exposure_path: Path, exposure: Exposure) -> None:
    box = Box.from_size(1017, 2031, 40, 25)
    cut = read_exposure(exposure_path, bbox=box)
    assert cut.bbox == box and cut.xy0 == box.xy0
    expected = exposure[box]
    np.testing.assert_array_equal(cut.image.array, expected.image.array)
    np.testing.assert_array_equal(cut.mask.array, expected.mask.array)
    np.testing.assert_array_equal(cut.variance.array, expected.variance.array)
    assert dict(cut.mask.planes) == dict(exposure.mask.planes)
    # The WCS stays in parent coordinates: the same sky at the same parent pixels.
    assert cut.wcs is not None and exposure.wcs is not None
    assert_same_sky(cut.wcs, exposure.wcs, *grid(box))
    assert cut.visit_info == exposure.visit_info
    masked = read_masked_image(exposure_path, bbox=box)
    np.testing.assert_array_equal(masked.image.array, expected.image.array)


def test_sub_exposure_written_and_read(tmp_path: Path, exposure: Exposure) -> None:
    box = Box.from_size(1050, 2040, 30, 20)
    sub = exposure[box]
    assert np.shares_memory(sub.image.array, exposure.image.array)
    path = tmp_path / "sub.fits"
    write_exposure(path, sub)
    read = read_exposure(path)
    assert read.bbox == box
    np.testing.assert_array_equal(read.image.array, sub.image.array)
    assert read.wcs is not None and exposure.wcs is not None
    assert_same_sky(read.wcs, exposure.wcs, *grid(box))
    assert read_component(path, "xy0") == box.xy0


# --- components ------------------------------------------------------------------------------------


def test_components(exposure_path: Path, exposure: Exposure) -> None:
    assert read_component(exposure_path, "bbox") == exposure.bbox
    assert read_component(exposure_path, "dimensions") == (SHAPE[1], SHAPE[0])
    assert read_component(exposure_path, "psf") == exposure.psf
    assert read_component(exposure_path, "photo_calib") == exposure.photo_calib
    assert read_component(exposure_path, "photoCalib") == exposure.photo_calib
    assert read_component(exposure_path, "visitInfo") == exposure.visit_info
    assert read_component(exposure_path, "filter") == exposure.filter
    assert read_component(exposure_path, "metadata")["BUNIT"] == "adu"
    wcs = read_component(exposure_path, "wcs")
    assert_same_sky(wcs, exposure.wcs, *grid(exposure.bbox))  # type: ignore[arg-type]
    mask = read_component(exposure_path, "mask")
    assert mask.xy0 == XY0 and dict(mask.planes) == dict(exposure.mask.planes)
    np.testing.assert_array_equal(mask.array, exposure.mask.array)
    for name in ("image", "variance"):
        part = read_component(exposure_path, name)
        assert isinstance(part, Image) and part.xy0 == XY0
        np.testing.assert_array_equal(part.array, getattr(exposure, name).array)
    assert set(EXPOSURE_COMPONENTS) >= {
        "wcs",
        "bbox",
        "visit_info",
        "photo_calib",
        "psf",
        "metadata",
        "filter",
    }


def _rchar() -> int:
    with open("/proc/self/io") as stream:
        for line in stream:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")  # pragma: no cover


def _bytes_read(function: Callable[[], Any]) -> int:
    before = _rchar()
    function()
    return _rchar() - before


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc/self/io")
def test_reads_only_what_is_needed(tmp_path: Path) -> None:
    exposure = make_exposure(shape=(1024, 1024))
    path = tmp_path / "big.fits"
    write_exposure(path, exposure)
    size = path.stat().st_size
    hdu_bytes = 1024 * 1024 * 4
    full = _bytes_read(lambda: read_exposure(path))
    assert full >= 3 * hdu_bytes
    for component in ("wcs", "bbox", "visit_info", "photo_calib", "psf", "metadata", "filter"):
        used = _bytes_read(lambda component=component: read_component(path, component))
        assert used < 100_000, (component, used)  # headers only, file is ~12.6 MB
    variance = _bytes_read(lambda: read_component(path, "variance"))
    assert hdu_bytes <= variance < hdu_bytes + 200_000
    cutout = _bytes_read(lambda: read_exposure(path, bbox=Box.from_size(1300, 2500, 100, 100)))
    # cfitsio reads whole 2880-byte records, so each of the 100 rows costs at most
    # its own bytes plus two records, in each of the three HDUs, plus the headers.
    assert cutout <= 3 * 100 * (1024 * 4 + 2 * 2880) + 100_000
    assert cutout < 0.15 * size
    assert cutout < 0.15 * full


# --- bad input ------------------------------------------------------------------------------------


def test_bbox_outside(exposure_path: Path) -> None:
    box = Box.from_size(1100, 2000, 40, 10)  # runs past max_x = 1127
    with pytest.raises(ImageError, match=r"Box\(min=\(1100, 2000\), max=\(1139, 2009\)\).*exposure.fits"):
        read_exposure(exposure_path, bbox=box)
    with pytest.raises(ImageError, match=r"not inside"):
        read_masked_image(exposure_path, bbox=Box.from_size(0, 0, 5, 5))
    with pytest.raises(ImageError, match=r"must be a Box"):
        read_exposure(exposure_path, bbox=(0, 0, 5, 5))  # type: ignore[arg-type]


def test_unknown_component(exposure_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match=r"'apCorrMap'.*'bbox'.*'wcs'"):
        read_component(exposure_path, "apCorrMap")
    with pytest.raises(KeyError):
        read_component(exposure_path, "nope")


def test_not_fits(tmp_path: Path) -> None:
    path = tmp_path / "notes.fits"
    path.write_text("this is not a FITS file\n" * 200)
    for reader in (read_exposure, read_masked_image, read_image):
        with pytest.raises(FormatterError, match=r"notes.fits is not a FITS file"):
            reader(path)
    with pytest.raises(FormatterError, match=r"not a FITS file"):
        read_component(path, "wcs")


def test_truncated_and_wrong_layout(tmp_path: Path, exposure_path: Path) -> None:
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(exposure_path.read_bytes()[:3000])
    with pytest.raises(FormatterError, match=r"truncated"):
        read_exposure(truncated)
    image_only = tmp_path / "image_only.fits"
    write_image(image_only, Image(np.zeros((4, 4), dtype=np.float32)))
    with pytest.raises(FormatterError, match=r"image_only.fits has only 2 HDUs"):
        read_exposure(image_only)
    swapped = tmp_path / "swapped.fits"
    with fitsio.FITS(str(swapped), "rw", clobber=True) as fits:
        fits.write(None)
        for name in ("IMAGE", "VARIANCE", "MASK"):
            fits.write(np.zeros((4, 4), dtype=np.float32), extname=name)
    with pytest.raises(FormatterError, match=r"HDU 2 has EXTNAME 'VARIANCE'; expected 'MASK'"):
        read_exposure(swapped)


def test_unwritable_metadata(tmp_path: Path) -> None:
    exposure = make_exposure(shape=(4, 4))
    exposure.metadata["BAD"] = float("nan")
    with pytest.raises(ImageError, match=r"'BAD'.*nan"):
        write_exposure(tmp_path / "nan.fits", exposure)
    exposure.metadata["BAD"] = [1, 2]
    with pytest.raises(ImageError, match=r"'BAD'.*list"):
        write_exposure(tmp_path / "list.fits", exposure)
