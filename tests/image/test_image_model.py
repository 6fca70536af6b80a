"""Tests for the in-memory image model: Image, Mask, MaskedImage, Exposure and components."""

from __future__ import annotations

import math

import astropy.time
import numpy as np
import pytest
from astropy.wcs import WCS

from chamberlain.errors import FormatterError, ImageError
from chamberlain.image import (
    STANDARD_MASK_PLANES,
    Box,
    Exposure,
    FilterLabel,
    GaussianPsf,
    Image,
    Mask,
    MaskedImage,
    Observatory,
    PhotoCalib,
    RotType,
    VisitInfo,
    get_psf_type,
)


def make_wcs() -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.1, 2.2]
    wcs.wcs.crpix = [60.5, 40.5]
    wcs.wcs.cd = np.array([[-5.0e-5, 1.0e-6], [1.2e-6, 5.0e-5]])
    return wcs


# --- Image and Mask ---------------------------------------------------------------------


def test_image_subset_shares_memory_and_keeps_xy0() -> None:
    image = Image(np.arange(200, dtype=np.float32).reshape(10, 20), xy0=(100, 50))
    assert image.bbox == Box(100, 50, 119, 59)
    sub = image[Box(105, 52, 109, 55)]
    assert sub.xy0 == (105, 52)
    assert sub.array.shape == (4, 5)
    assert sub.array[0, 0] == image.array[2, 5]
    sub.array[0, 0] = -1.0
    assert image.array[2, 5] == -1.0
    assert np.shares_memory(sub.array, image.array)
    copy = image.copy()
    copy.array[0, 0] = 99.0
    assert image.array[0, 0] == 0.0


def test_image_bad_input() -> None:
    with pytest.raises(ImageError, match=r"int64"):
        Image(np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(ImageError, match=r"\(3,\)"):
        Image(np.zeros(3, dtype=np.float32))
    with pytest.raises(ImageError, match=r"xy0"):
        Image(np.zeros((3, 3), dtype=np.float32), xy0=(0.5, 0))  # type: ignore[arg-type]
    image = Image(np.zeros((10, 10), dtype=np.float32))
    with pytest.raises(
        ImageError, match=r"Box\(min=\(5, 5\), max=\(10, 10\)\).*Box\(min=\(0, 0\), max=\(9, 9\)\)"
    ):
        image[Box(5, 5, 10, 10)]
    with pytest.raises(ImageError, match=r"slice"):
        image[1:3]  # type: ignore[index]


def test_mask_planes() -> None:
    mask = Mask.zeros(Box(0, 0, 4, 3))
    assert dict(mask.planes) == dict(STANDARD_MASK_PLANES)
    assert mask.get_plane_bitmask(["BAD", "NO_DATA"]) == (1 << 0) | (1 << 8)
    assert mask.add_plane("HIGH_VARIANCE") == 9
    assert mask.add_plane("HIGH_VARIANCE") == 9
    where = np.zeros((4, 5), dtype=bool)
    where[1, 2] = True
    mask.set_plane("SAT", where)
    mask.set_plane("HIGH_VARIANCE", where)
    assert mask.array[1, 2] == (1 << 1) | (1 << 9)
    assert mask.interpret(int(mask.array[1, 2])) == ["SAT", "HIGH_VARIANCE"]
    assert mask.get_plane("SAT").sum() == 1
    mask.clear_plane("SAT")
    assert mask.array[1, 2] == 1 << 9
    with pytest.raises(ImageError, match=r"'STREAK'.*'BAD'.*'HIGH_VARIANCE'"):
        mask.get_plane_bitmask("STREAK")


def test_mask_subset_shares_planes_and_pixels() -> None:
    mask = Mask.zeros(Box(10, 10, 19, 19))
    sub = mask[Box(12, 12, 13, 13)]
    bit = sub.add_plane("SPIKE")
    assert mask.get_plane_bit("SPIKE") == bit
    sub.set_plane("SPIKE")
    assert mask.array[2, 2] == 1 << bit
    assert mask.array[0, 0] == 0
    own = mask.copy()
    own.add_plane("OTHER")
    assert "OTHER" not in mask.planes


def test_mask_bad_input() -> None:
    with pytest.raises(ImageError, match=r"float32"):
        Mask(np.zeros((2, 2), dtype=np.float32))
    assert Mask(np.zeros((2, 2), dtype=np.int32)).array.dtype == np.uint32
    with pytest.raises(ImageError, match=r"bit 40"):
        Mask(np.zeros((2, 2), dtype=np.uint32), planes={"X": 40})
    with pytest.raises(ImageError, match=r"'A' and 'B' both use bit 3"):
        Mask(np.zeros((2, 2), dtype=np.uint32), planes={"A": 3, "B": 3})
    full = Mask(np.zeros((2, 2), dtype=np.uint32), planes={f"P{i}": i for i in range(32)})
    with pytest.raises(ImageError, match=r"'ONE_MORE'.*32 bits"):
        full.add_plane("ONE_MORE")


# --- MaskedImage ---------------------------------------------------------------------------


def test_masked_image_defaults_and_subset() -> None:
    image = Image(np.ones((6, 8), dtype=np.float64), xy0=(3, 4))
    masked = MaskedImage(image)
    assert masked.mask.array.shape == (6, 8) and masked.mask.xy0 == (3, 4)
    assert masked.variance.dtype == np.float64
    sub = masked[Box(5, 5, 7, 6)]
    assert sub.bbox == Box(5, 5, 7, 6)
    for part, whole in ((sub.image, masked.image), (sub.mask, masked.mask), (sub.variance, masked.variance)):
        assert np.shares_memory(part.array, whole.array)
        assert part.xy0 == (5, 5)


def test_masked_image_bad_parts() -> None:
    image = Image(np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(ImageError, match=r"mask covers .*\(3, 4\).*\(4, 4\)"):
        MaskedImage(image, Mask(np.zeros((3, 4), dtype=np.uint32)))
    with pytest.raises(ImageError, match=r"variance covers .*xy0|variance covers Box\(min=\(1, 0\)"):
        MaskedImage(image, variance=Image(np.zeros((4, 4), dtype=np.float32), xy0=(1, 0)))
    with pytest.raises(ImageError, match=r"ndarray"):
        MaskedImage(np.zeros((4, 4), dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(ImageError, match=r"int16"):
        MaskedImage.from_arrays(np.zeros((4, 4), dtype=np.float32), variance=np.zeros((4, 4), dtype=np.int16))
    with pytest.raises(ImageError, match=r"float16"):
        MaskedImage.zeros(Box(0, 0, 3, 3), dtype=np.float16)


# --- Exposure ------------------------------------------------------------------------------


def test_exposure_subset_shares_memory_and_keeps_wcs() -> None:
    masked = MaskedImage.zeros(Box.from_size(100, 200, 120, 80))
    wcs = make_wcs()
    exposure = Exposure(masked, wcs=wcs, photo_calib=PhotoCalib(2.0), metadata={"BUNIT": "adu"})
    box = Box.from_size(130, 220, 30, 20)
    sub = exposure[box]
    assert sub.xy0 == (130, 220) and sub.bbox == box
    sub.image.array[3, 4] = 7.0
    assert exposure.image.array[box.min_y - 200 + 3, box.min_x - 100 + 4] == 7.0
    assert sub.wcs is wcs  # WCS is in parent pixel coordinates: the same object serves both.
    assert sub.photo_calib == PhotoCalib(2.0)
    assert sub.metadata is exposure.metadata
    # The array WCS of the sub-image maps array index (i, j) to the parent pixel (i + x0, j + y0).
    local = sub.array_wcs()
    assert local is not None
    i, j = np.array([0.0, 5.0, 29.0]), np.array([0.0, 7.0, 19.0])
    ra_l, dec_l = local.all_pix2world(i, j, 0)
    ra_p, dec_p = wcs.all_pix2world(i + 130, j + 220, 0)
    np.testing.assert_allclose(ra_l, ra_p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dec_l, dec_p, rtol=0, atol=1e-12)
    assert tuple(wcs.wcs.crpix) == (60.5, 40.5)  # the parent WCS is untouched


def test_exposure_component_types_checked() -> None:
    masked = MaskedImage.zeros(Box(0, 0, 3, 3))
    with pytest.raises(ImageError, match=r"photo_calib must be a PhotoCalib.*float"):
        Exposure(masked, photo_calib=1.0)  # type: ignore[arg-type]
    exposure = Exposure(masked)
    assert exposure.wcs is None and exposure.metadata == {}
    with pytest.raises(ImageError, match=r"wcs must be a WCS.*str"):
        exposure.wcs = "TAN"  # type: ignore[assignment]
    with pytest.raises(ImageError, match=r"MaskedImage"):
        Exposure(Image(np.zeros((2, 2), dtype=np.float32)))  # type: ignore[arg-type]


# --- components ------------------------------------------------------------------------------


def test_photo_calib() -> None:
    calib = PhotoCalib(0.5, 0.01)
    assert calib.instflux_to_nanojansky(10.0) == 5.0
    assert calib.instflux_to_magnitude(2.0) == pytest.approx(31.4)
    assert calib.instflux_err_to_nanojansky(10.0, 2.0) == pytest.approx(math.hypot(1.0, 0.1))
    assert PhotoCalib.from_zero_point(calib.zero_point).calibration_mean == pytest.approx(0.5)
    assert calib.zero_point == pytest.approx(calib.instflux_to_magnitude(1.0))
    masked = MaskedImage.from_arrays(
        np.full((2, 2), 4.0, np.float32), variance=np.full((2, 2), 4.0, np.float32)
    )
    calibrated = calib.calibrate_image(masked)
    assert calibrated.image.array[0, 0] == 2.0 and calibrated.variance.array[0, 0] == 1.0
    assert masked.image.array[0, 0] == 4.0
    with pytest.raises(ImageError, match=r"-1.0"):
        PhotoCalib(-1.0)
    with pytest.raises(ImageError, match=r"nan"):
        PhotoCalib(1.0, float("nan"))


def test_gaussian_psf() -> None:
    psf = GaussianPsf(2.0)
    assert (psf.width, psf.height) == (21, 21)
    kernel = psf.compute_kernel_image()
    assert kernel.xy0 == (-10, -10) and kernel.array.sum() == pytest.approx(1.0)
    assert np.unravel_index(kernel.array.argmax(), kernel.array.shape) == (10, 10)
    _, xs = np.mgrid[-10:11, -10:11]
    assert (kernel.array * xs**2).sum() == pytest.approx(4.0, rel=1e-3)
    star = psf.compute_image((100.3, 50.0))
    assert star.bbox.contains((100, 50)) and star.xy0 == (90, 40)
    centroid_x = (star.array * (np.arange(21) + 90)[None, :]).sum()
    assert centroid_x == pytest.approx(100.3, abs=1e-4)
    assert psf.compute_shape().determinant_radius == pytest.approx(2.0)
    assert psf.fwhm == pytest.approx(4.7096, abs=1e-4)
    assert get_psf_type("GaussianPsf") is GaussianPsf
    assert GaussianPsf.from_header(dict((k, v) for k, v, _ in psf.to_header_cards())) == psf
    with pytest.raises(ImageError, match=r"-1"):
        GaussianPsf(-1.0)
    with pytest.raises(ImageError, match=r"width.*20"):
        GaussianPsf(1.0, 20, 21)
    with pytest.raises(FormatterError, match=r"'Nope'.*'GaussianPsf'"):
        get_psf_type("Nope")


def test_visit_info_and_filter() -> None:
    date = astropy.time.Time("2025-03-04T05:06:07.123456789", scale="tai")
    info = VisitInfo(
        id=5,
        exposure_time=30.0,
        date=date,
        boresight_ra=150.0,
        boresight_dec=2.0,
        observatory=Observatory(-70.75, -30.24, 2650.0),
        rot_type="SKY",  # type: ignore[arg-type]
    )
    assert info.rot_type is RotType.SKY
    assert info == VisitInfo(
        id=5,
        exposure_time=30.0,
        date=date.utc,  # same instant, another scale
        boresight_ra=150.0,
        boresight_dec=2.0,
        observatory=Observatory(-70.75, -30.24, 2650.0),
        rot_type=RotType.SKY,
    )
    assert info != VisitInfo(id=6)
    with pytest.raises(ImageError, match=r"'SIDEWAYS'"):
        VisitInfo(rot_type="SIDEWAYS")  # type: ignore[arg-type]
    with pytest.raises(ImageError, match=r"-1"):
        VisitInfo(exposure_time=-1.0)
    label = FilterLabel(band="r", physical_filter="HSC-R2")
    assert label.physical_label == "HSC-R2"
    with pytest.raises(ImageError, match=r"neither"):
        FilterLabel()
    with pytest.raises(ImageError, match=r"band.*''"):
        FilterLabel(band="")
