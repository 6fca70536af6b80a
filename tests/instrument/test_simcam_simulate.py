"""Simulated SimCam raws: pixels, WCS, regions, determinism and argument checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fitsio
import numpy as np
import pytest
from astropy.wcs import WCS
from lsst.sphgeom import LonLat, UnitVector3d

from chamberlain.errors import InstrumentError
from chamberlain.instrument import SimCam, simulate_headers, simulate_raws, star_catalog

SIZE = 256  # binning 8: 1.6 arcsec pixels, same footprint as the full detector


@pytest.fixture(scope="module")
def raws(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return simulate_raws(tmp_path_factory.mktemp("raws"), 10, seed=11, image_size=SIZE)


def _read(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    image, header = fitsio.read(str(path), header=True)
    return image, {rec["name"]: rec["value"] for rec in header.records()}


def _wcs(header: dict[str, Any]) -> WCS:
    keys = ("CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2", "CD1_1", "CD1_2", "CD2_1", "CD2_2")
    return WCS({k: header[k] for k in keys})


def test_files_and_names(raws: list[Path]) -> None:
    assert len(raws) == 10 * 9
    assert all(p.exists() for p in raws)
    assert raws[0].name == "SC_O_20250314_000001_R00_S00.fits"
    image, header = _read(raws[0])
    assert image.shape == (SIZE, SIZE) and image.dtype == np.float32
    for key in ("INSTRUME", "TELESCOP", "DATE-OBS", "MJD-OBS", "EXPTIME", "DARKTIME", "FILTER", "OBSTYPE",
                "RA", "DEC", "ROTPA", "AIRMASS", "AZ", "ALT", "OBSID", "GROUPID", "SEQNUM", "DETECTOR",
                "DET-ID", "EXPID", "DAYOBS"):  # fmt: skip
        assert key in header, key
    assert len({_read(p)[1]["OBSID"] for p in raws[::9]}) == 10


def test_stars_where_wcs_says(raws: list[Path]) -> None:
    cat = star_catalog()
    checked = 0
    for path in raws:
        image, header = _read(path)
        if header["OBSTYPE"] != "science":
            continue
        x, y = _wcs(header).all_world2pix(cat.ra, cat.dec, 0)
        inside = (x > 2) & (x < SIZE - 3) & (y > 2) & (y < SIZE - 3)
        bright = inside & (cat.flux > 3000)
        sky = float(np.median(image))
        noise = 1.4826 * float(np.median(np.abs(image - sky)))
        for xs, ys in zip(x[bright], y[bright], strict=True):
            peak = image[round(ys), round(xs)]
            assert peak > sky + 20 * noise, (path.name, xs, ys)
            checked += 1
        # Where the catalogue has no star within 10 pixels, the image is just sky.
        empty = [(xx, yy) for xx in range(8, SIZE, 16) for yy in range(8, SIZE, 16)
                 if np.min(np.hypot(x - xx, y - yy)) > 10]  # fmt: skip
        values = np.array([image[yy, xx] for xx, yy in empty])
        assert np.all(values < sky + 6 * noise)
    assert checked > 20


def test_same_star_in_overlapping_exposures(raws: list[Path]) -> None:
    cat = star_catalog()
    seen: dict[int, set[str]] = {}
    for path in raws:
        _, header = _read(path)
        if header["OBSTYPE"] != "science":
            continue
        x, y = _wcs(header).all_world2pix(cat.ra, cat.dec, 0)
        for i in np.nonzero((x > 0) & (x < SIZE - 1) & (y > 0) & (y < SIZE - 1))[0]:
            seen.setdefault(int(i), set()).add(header["GROUPID"])
    assert max(len(groups) for groups in seen.values()) >= 2


def test_region_contains_wcs_footprint(raws: list[Path]) -> None:
    simcam = SimCam()
    for path in raws[::4]:
        _, header = _read(path)
        corners = np.array([[-0.5, -0.5], [SIZE - 0.5, -0.5], [SIZE - 0.5, SIZE - 0.5], [-0.5, SIZE - 0.5]])
        ra, dec = _wcs(header).all_pix2world(corners[:, 0], corners[:, 1], 0)
        points = [UnitVector3d(LonLat.fromDegrees(a, d)) for a, d in zip(ra, dec, strict=True)]
        det = header["DET-ID"]
        args = (header["RA"], header["DEC"], header["ROTPA"])
        padded = simcam.detector_region(det, *args, padding_pixels=2)
        fast = simcam.detector_regions(*args, padding=2)
        assert all(padded.contains(p) for p in points)
        assert all(fast[det].contains(p) for p in points)
        # ... and is tight: shrunk by 2 pixels it no longer contains the corners.
        shrunk = simcam.detector_region(det, *args, padding_pixels=-2)
        assert not any(shrunk.contains(p) for p in points)
        other = (det + 1) % 9
        assert not any(fast[other].contains(p) for p in points)


def test_calibration_frames(raws: list[Path]) -> None:
    by_type: dict[str, np.ndarray] = {}
    for path in raws:
        image, header = _read(path)
        by_type.setdefault(header["OBSTYPE"], image)
    assert set(by_type) == {"science", "bias", "flat", "dark"}
    bias = by_type["bias"]
    assert abs(float(np.mean(bias))) < 1.0
    assert float(np.std(bias)) == pytest.approx(5.0 * 8, rel=0.05)  # read noise x binning
    flat = by_type["flat"]
    assert float(np.mean(flat)) == pytest.approx(10_000 * 64, rel=0.01)
    assert float(np.max(flat)) < float(np.mean(flat)) + 6 * float(np.std(flat))


def test_deterministic_and_detector_subset(tmp_path: Path) -> None:
    a = simulate_raws(tmp_path / "a", 2, seed=5, image_size=32, detectors=[3])
    b = simulate_raws(tmp_path / "b", 2, seed=5, image_size=32)
    c = simulate_raws(tmp_path / "c", 2, seed=6, image_size=32, detectors=[3])
    assert [p.name for p in a] == [p.name for p in b if "_S10" in p.name]
    for pa, pb, pc in zip(a, [p for p in b if "_S10" in p.name], c, strict=True):
        ia, ha = _read(pa)
        ib, hb = _read(pb)
        ic, hc = _read(pc)
        assert np.array_equal(ia, ib) and ha == hb
        assert not np.array_equal(ia, ic) and ha["RA"] != hc["RA"]


def test_headers_without_pixels(raws: list[Path]) -> None:
    headers = simulate_headers(10, seed=11, image_size=SIZE)
    assert len(headers) == 90
    for path, expected in zip(raws[:18], headers[:18], strict=True):
        _, header = _read(path)
        assert set(expected) <= set(header)
        for key, value in expected.items():
            if isinstance(value, float):  # FITS cards keep 15 significant digits
                assert header[key] == pytest.approx(value, rel=1e-13, abs=1e-12), key
            else:
                assert header[key] == value, key


def test_options() -> None:
    headers = simulate_headers(10, seed=1, detectors=[0], calibrations=False, first_seq_num=500)
    assert {h["OBSTYPE"] for h in headers} == {"science"}
    assert [h["SEQNUM"] for h in headers] == list(range(500, 510))
    assert headers[0]["EXPID"] == 20250314 * 100_000 + 500
    assert headers[0]["BINNING"] == 1.0


def test_day_obs_boundary_restarts_sequence() -> None:
    # 11:58 UTC is 11:58:37 TAI: the observing day changes at 12:00 TAI.
    headers = simulate_headers(8, seed=2, detectors=[0], start_time="2025-03-15T11:58:00")
    days = [h["DAYOBS"] for h in headers]
    assert days[0] == 20250314 and days[-1] == 20250315
    first_new = days.index(20250315)
    assert headers[first_new]["SEQNUM"] == 1
    assert headers[first_new]["EXPID"] == 20250315 * 100_000 + 1
    groups: dict[str, set[int]] = {}
    for h in headers:
        groups.setdefault(h["GROUPID"], set()).add(h["DAYOBS"])
    assert all(len(d) == 1 for d in groups.values())  # no group straddles the boundary


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"n_exposures": -1}, "-1"),
        ({"image_size": 4}, "image_size.*4"),
        ({"detectors": [99]}, "99"),
        ({"start_time": "not a time"}, "'not a time'"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], pattern: str) -> None:
    args: dict[str, Any] = {"n_exposures": 1, "image_size": 16, **kwargs}
    with pytest.raises(InstrumentError, match=pattern):
        simulate_raws(tmp_path, **args)
    assert not list(tmp_path.iterdir())


def test_zero_exposures(tmp_path: Path) -> None:
    assert simulate_raws(tmp_path / "none", 0) == []


def test_star_catalog_is_fixed() -> None:
    a, b = star_catalog(), star_catalog()
    assert a.ra is b.ra
    assert len(a.ra) > 1000
    assert a.ra.min() >= 149.5 and a.ra.max() <= 150.9
    assert a.dec.min() >= 1.7 and a.dec.max() <= 3.0
    with pytest.raises(ValueError):
        a.ra[0] = 0.0
