"""Exact detector/patch overlap in the tract plane, and the projection against astropy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chamberlain.skymap import (
    RingsSkyMap,
    detector_polygon_in_tract,
    patch_overlaps_detector_box,
    patches_overlapping,
)
from chamberlain.skymap._projection import ZenithalProjection


@pytest.fixture(scope="module")
def skymap() -> RingsSkyMap:
    return RingsSkyMap(num_rings=120, projection="TAN", tract_overlap=1 / 60, pixel_scale=0.168)


def _corners(tract, xs, ys):  # type: ignore[no-untyped-def]
    ra, dec = tract.pixel_to_sky(np.asarray(xs, float), np.asarray(ys, float))
    return np.column_stack([ra, dec])


def test_detector_inside_one_patch(skymap: RingsSkyMap) -> None:
    tract = skymap[9615]
    corners = _corners(tract, [21000, 23000, 23000, 21000], [5000, 5000, 7000, 7000])
    kept = patches_overlapping(tract, tract, corners)
    assert [p.index for p, _ in kept] == [(5, 1)]
    assert kept[0][1] == pytest.approx(2000 * 2000, rel=1e-6)
    assert patch_overlaps_detector_box(tract, tract[(5, 1)], corners)
    assert not patch_overlaps_detector_box(tract, tract[(6, 1)], corners)
    # Padding 950 px reaches the neighbour's outer box (starts at 23899.5).
    assert patch_overlaps_detector_box(tract, tract[(6, 1)], corners, padding=950)
    assert not patch_overlaps_detector_box(tract, tract[(6, 1)], corners, padding=850)


def test_rotated_detector_excludes_corner_patch(skymap: RingsSkyMap) -> None:
    tract = skymap[9615]
    # A diamond centred on the shared corner of four patches overlaps all four.
    cx, cy, r = 24000.0, 8000.0, 300.0
    xs = [cx - r, cx, cx + r, cx]
    ys = [cy, cy - r, cy, cy + r]
    kept = {p.index for p, _ in patches_overlapping(tract, tract, _corners(tract, xs, ys))}
    assert kept == {(5, 1), (6, 1), (5, 2), (6, 2)}
    # Moved away from the corner, its bounding box still reaches patch (6, 2) (the naive
    # find_patch_list keeps it) but the diamond itself does not.
    cx, cy, r = 23500.0, 7500.0, 700.0
    corners = _corners(tract, [cx - r, cx, cx + r, cx], [cy, cy - r, cy, cy + r])
    kept = {p.index for p, _ in patches_overlapping(tract, tract, corners)}
    assert kept == {(5, 1), (6, 1), (5, 2)}
    assert (6, 2) in {p.index for p in tract.find_patch_list(corners)}
    far = _corners(tract, [100, 300, 300, 100], [100, 100, 300, 300])
    assert {p.index for p, _ in patches_overlapping(tract, tract, far)} == {(0, 0)}


def test_unprojectable_detector(skymap: RingsSkyMap) -> None:
    tract = skymap[9615]
    opposite = [(36.3, -0.7), (36.4, -0.7), (36.4, -0.6)]
    assert detector_polygon_in_tract(tract, opposite) is None
    assert patches_overlapping(tract, tract, opposite) == []
    assert not patch_overlaps_detector_box(tract, tract[0], opposite)


@pytest.mark.parametrize("code", ["TAN", "STG", "SIN", "ARC", "ZEA"])
@pytest.mark.parametrize("dec", [-90.0, -40.0, 0.0, 17.0, 90.0])
def test_projection_matches_astropy(code: str, dec: float) -> None:
    proj = ZenithalProjection(math.radians(123.0), math.radians(dec), 100.0, -50.0, 1e-4, 25.0, code)
    wcs = proj.to_astropy()
    rng = np.random.default_rng(3)
    x = rng.uniform(-5000, 5000, 100)
    y = rng.uniform(-5000, 5000, 100)
    ra, dec_out = proj.pixel_to_sky(x, y)
    ra_a, dec_a = wcs.pixel_to_world_values(x, y)
    dra = (np.degrees(ra) - ra_a + 180.0) % 360.0 - 180.0
    assert np.abs(dra * np.cos(dec_out)).max() < 1e-11
    assert np.abs(np.degrees(dec_out) - dec_a).max() < 1e-11
    px, py = proj.sky_to_pixel(ra, dec_out)
    np.testing.assert_allclose(px, x, atol=1e-7)
    np.testing.assert_allclose(py, y, atol=1e-7)
