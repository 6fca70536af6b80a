"""Test objects for every storage class, comparisons, and a counter of bytes read (datastore/butler tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import astropy.time
import numpy as np
from astropy.table import Table
from astropy.wcs import WCS

from chamberlain.image import (
    Exposure,
    FilterLabel,
    GaussianPsf,
    Image,
    MaskedImage,
    PhotoCalib,
    RotType,
    VisitInfo,
)

XY0 = (100, 200)


def make_wcs() -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.123456789012345, 2.20987654321098765]
    wcs.wcs.crpix = [164.3333333333333, 248.7777777777777]
    wcs.wcs.cd = np.array([[-5.123456789012345e-5, 1.1e-6], [1.3e-6, 5.000000000001e-5]])
    return wcs


def make_masked_image(shape: tuple[int, int] = (64, 48), seed: int = 1) -> MaskedImage:
    rng = np.random.default_rng(seed)
    masked = MaskedImage.from_arrays(
        rng.normal(100.0, 10.0, shape).astype(np.float32),
        rng.integers(0, 2**16, shape).astype(np.uint32),
        rng.uniform(1.0, 2.0, shape).astype(np.float32),
        xy0=XY0,
    )
    masked.mask.add_plane("STREAK")
    return masked


def make_exposure(shape: tuple[int, int] = (64, 48), seed: int = 1) -> Exposure:
    info = VisitInfo(
        id=123,
        exposure_time=30.0,
        date=astropy.time.Time("2025-03-04T05:06:07.123456789", scale="tai"),
        boresight_ra=150.1,
        boresight_dec=2.2,
        rot_type=RotType.SKY,
    )
    return Exposure(
        make_masked_image(shape, seed),
        wcs=make_wcs(),
        photo_calib=PhotoCalib(0.3, 0.01),
        psf=GaussianPsf(1.7, 15, 15),
        visit_info=info,
        filter=FilterLabel("r", "SIM-R"),
        metadata={"BUNIT": "adu", "NCOMBINE": 3},
    )


def make_table() -> Table:
    table = Table(
        {
            "id": np.arange(5, dtype=np.int64),
            "flux": np.linspace(0.1, 0.5, 5),
            "name": np.array(["a", "bb", "ccc", "d", "e"]),
        }
    )
    table["flux"].unit = "nJy"
    table.meta["SURVEY"] = "sim"
    return table


def assert_same_wcs(a: WCS, b: WCS) -> None:
    x, y = np.meshgrid(np.linspace(0, 500, 6), np.linspace(0, 500, 6))
    np.testing.assert_array_equal(a.all_pix2world(x, y, 0), b.all_pix2world(x, y, 0))


def assert_same_masked(a: MaskedImage, b: MaskedImage) -> None:
    assert a.bbox == b.bbox
    for name in ("image", "mask", "variance"):
        left, right = getattr(a, name).array, getattr(b, name).array
        assert left.dtype == right.dtype
        assert left.tobytes() == right.tobytes()
    assert a.mask.planes == b.mask.planes


def assert_same_exposure(a: Exposure, b: Exposure) -> None:
    assert_same_masked(a.masked_image, b.masked_image)
    assert a.wcs is not None and b.wcs is not None
    assert_same_wcs(a.wcs, b.wcs)
    assert a.photo_calib == b.photo_calib
    assert a.psf == b.psf
    assert a.visit_info == b.visit_info
    assert a.filter == b.filter
    assert a.metadata == b.metadata


def assert_same(kind: str, a: Any, b: Any) -> None:
    """Bit-for-bit comparison for each storage class."""
    if kind == "Exposure":
        assert_same_exposure(a, b)
    elif kind == "MaskedImage":
        assert_same_masked(a, b)
    elif kind == "Image":
        assert isinstance(b, Image) and a.xy0 == b.xy0 and a.array.tobytes() == b.array.tobytes()
    elif kind == "AstropyTable":
        assert a.colnames == b.colnames
        for name in a.colnames:
            assert list(a[name]) == list(b[name])
            assert a[name].dtype.kind == b[name].dtype.kind
            assert a[name].unit == b[name].unit
        assert b.meta["SURVEY"] == a.meta["SURVEY"]
    elif kind == "NumpyArray":
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    else:
        assert a == b and type(a) is type(b)


SAMPLES: dict[str, Callable[[], Any]] = {
    "Exposure": make_exposure,
    "MaskedImage": make_masked_image,
    "Image": lambda: Image(np.arange(12.0, dtype=np.float64).reshape(3, 4) / 7.0, (5, 6)),
    "AstropyTable": make_table,
    "NumpyArray": lambda: np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    "StructuredDataDict": lambda: {"a": 1, "b": [1.5, "x", None], "c": {"d": True}},
    "StructuredDataList": lambda: [1, 2.25, "three", {"four": 4}],
}


def bytes_read(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes this process read through read() system calls while ``fn`` ran (Linux /proc/self/io)."""

    def rchar() -> int:
        with open("/proc/self/io") as stream:
            for line in stream:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
        raise RuntimeError("no rchar in /proc/self/io")

    before = rchar()
    result = fn()
    return rchar() - before, result
