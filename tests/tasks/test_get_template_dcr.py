"""GetDcrTemplateTask and the DCR model: sub-filter checks, refraction, shifts, matched coadds."""

from __future__ import annotations

from typing import Any

import astropy.time
import numpy as np
import pytest

from chamberlain.errors import TaskError
from chamberlain.image import Box, Observatory, VisitInfo, Weather
from chamberlain.tasks import dcr
from chamberlain.tasks._template_sim import (
    FileCoaddHandle,
    TruthSky,
    make_dcr_coadds,
    make_patch_coadds,
    tan_wcs,
)
from chamberlain.tasks.get_template import GetDcrTemplateConfig, GetDcrTemplateTask, GetTemplateTask

RA0, DEC0 = 150.0, 2.0
SITE = Observatory(-70.7494, -30.2444, 2663.0)
WEIGHTS = [0.2, 0.3, 0.5]
DATE = astropy.time.Time("2025-01-01T05:00:00", scale="tai")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("dcr")
    tract_wcs = tan_wcs(RA0, DEC0, (299.5, 299.5), 0.2)
    sky = TruthSky.random(RA0, DEC0, 0.03, 30, seed=5)
    coadds = make_patch_coadds(sky, tract_wcs)
    plain = [FileCoaddHandle.write(directory, e, d) for e, d in coadds]
    sub = [FileCoaddHandle.write(directory, e, d) for e, d in make_dcr_coadds(coadds, WEIGHTS)]
    return {"tract_wcs": tract_wcs, "plain": plain, "dcr": sub, "coadds": coadds}


def _task(num_subfilters: int = 3) -> GetDcrTemplateTask:
    config = GetDcrTemplateConfig()
    config.effective_wavelength = 620.0
    config.bandwidth = 140.0
    config.num_subfilters = num_subfilters
    return GetDcrTemplateTask(config=config)


def _visit(alt: float, rot: float = 0.0) -> VisitInfo:
    return VisitInfo(
        date=DATE,
        boresight_ra=RA0,
        boresight_dec=DEC0,
        boresight_alt=alt,
        boresight_rot_angle=rot,
        observatory=SITE,
    )


DET_WCS = tan_wcs(RA0 + 0.002, DEC0 - 0.001, (90.0, 100.0), 0.2, rotation=30.0)
DET_BOX = Box.from_size(0, 0, 180, 200)


def test_zero_refraction_equals_plain_template(sim: dict[str, Any]) -> None:
    result = _task().run(sim["dcr"], DET_BOX, DET_WCS, _visit(alt=90.0))
    plain = GetTemplateTask().run(sim["plain"], DET_BOX, DET_WCS).template
    template = result.template
    assert template.bbox == plain.bbox
    np.testing.assert_allclose(template.image.array, plain.image.array, atol=1e-3)
    np.testing.assert_allclose(template.variance.array, plain.variance.array, rtol=1e-5)
    assert template.visit_info is None
    assert sorted(d["patch"] for d in result.coadd_inputs) == [0, 1, 2, 3]
    assert all("subfilter" not in d for d in result.coadd_inputs)


def test_refraction_changes_the_template(sim: dict[str, Any]) -> None:
    plain = GetTemplateTask().run(sim["plain"], DET_BOX, DET_WCS).template
    shifted = _task().run(sim["dcr"], DET_BOX, DET_WCS, _visit(alt=35.0)).template
    assert np.abs(shifted.image.array - plain.image.array).max() > 1.0


def test_wrong_number_of_subfilters_raises(sim: dict[str, Any]) -> None:
    handles = [h for h in sim["dcr"] if not (h.data_id["patch"] == 1 and h.data_id["subfilter"] == 2)]
    with pytest.raises(TaskError, match=r"patch 1 has 2 DCR sub-filter coadd\(s\).*num_subfilters is 3"):
        _task().run(handles, DET_BOX, DET_WCS, _visit(alt=60.0))
    with pytest.raises(TaskError, match=r"patch 0 has 3 DCR sub-filter coadd\(s\).*num_subfilters is 4"):
        _task(num_subfilters=4).run(sim["dcr"], DET_BOX, DET_WCS, _visit(alt=60.0))


def test_duplicate_subfilter_ids_raise(sim: dict[str, Any]) -> None:
    handles = list(sim["dcr"])
    data_ids = [dict(h.data_id) for h in handles]
    data_ids[1]["subfilter"] = 0  # patch 0 now has sub-filters 0, 0, 2
    with pytest.raises(TaskError, match=r"patch 0 has DCR sub-filters \[0, 0, 2\]"):
        _task().run(handles, DET_BOX, DET_WCS, _visit(alt=60.0), data_ids=data_ids)


def test_refraction_values_and_range() -> None:
    blue = dcr.refraction(400.0, 45.0, SITE)
    red = dcr.refraction(800.0, 45.0, SITE)
    assert 30.0 < red < blue < 60.0  # arcsec at 45 degrees from a 2.7 km site
    assert dcr.refraction(500.0, 90.0, SITE) == pytest.approx(0.0, abs=1e-9)
    assert dcr.refraction(500.0, 30.0, SITE) > dcr.refraction(500.0, 60.0, SITE)
    dense = Weather(air_temperature=0.0, air_pressure=80000.0, humidity=10.0)
    thin = Weather(air_temperature=20.0, air_pressure=70000.0, humidity=10.0)
    assert dcr.refraction(500.0, 45.0, SITE, dense) > dcr.refraction(500.0, 45.0, SITE, thin)
    with pytest.raises(TaskError, match=r"wavelength 100\.0 nm is outside.*230\.2"):
        dcr.refraction(100.0, 45.0, SITE)


def test_wavelength_bands() -> None:
    assert dcr.wavelength_bands(620.0, 140.0, 2) == [(550.0, 620.0), (620.0, 690.0)]
    with pytest.raises(TaskError, match="bandwidth must be positive"):
        dcr.wavelength_bands(620.0, 0.0, 2)
    with pytest.raises(TaskError, match="num_subfilters must be at least 1, got 0"):
        dcr.wavelength_bands(620.0, 100.0, 0)


def test_shift_directions_and_scaling() -> None:
    visit = _visit(alt=40.0)
    par = visit.boresight_par_angle
    assert par is not None
    along_y = _visit(alt=40.0, rot=par)  # theta = 0: shifts along numpy axis 0 only
    fine = dcr.calculate_dcr(along_y, tan_wcs(RA0, DEC0, (0.0, 0.0), 0.2), 620.0, 140.0, 3)
    coarse = dcr.calculate_dcr(along_y, tan_wcs(RA0, DEC0, (0.0, 0.0), 0.4), 620.0, 140.0, 3)
    assert [len(s) for s in fine] == [2, 2, 2]
    for sub_fine, sub_coarse in zip(fine, coarse):
        for (dy, dx), (cy, cx) in zip(sub_fine, sub_coarse):
            assert dx == pytest.approx(0.0, abs=1e-9) and cx == pytest.approx(0.0, abs=1e-9)
            assert dy == pytest.approx(2.0 * cy, rel=1e-6)
    # Blue sub-filter refracts more than the effective wavelength: shifts of opposite signs.
    assert fine[0][0][0] * fine[2][1][0] < 0
    single = dcr.calculate_dcr(
        along_y, tan_wcs(RA0, DEC0, (0.0, 0.0), 0.2), 620.0, 140.0, 3, split_subfilters=False
    )
    assert single[0][0][0] == pytest.approx((fine[0][0][0] + fine[0][1][0]) / 2.0)
    with pytest.raises(TaskError, match="lacks boresight_alt"):
        dcr.calculate_dcr(
            VisitInfo(boresight_rot_angle=0.0, observatory=SITE), tan_wcs(0, 0, (0, 0), 0.2), 620, 140, 3
        )


def test_matched_coadd_moves_a_star_by_the_weighted_shift(tmp_path: Any) -> None:
    tract_wcs = tan_wcs(RA0, DEC0, (99.5, 99.5), 0.2)
    star = TruthSky(
        np.array([RA0]), np.array([DEC0]), np.array([1000.0]), sigma=0.6, background=0.0, ripple=0.0
    )
    star.centre = (RA0, DEC0)
    coadds = make_patch_coadds(star, tract_wcs, n_patches=(1, 1), inner=200, border=0)
    weights = [1.0, 0.0, 0.0]  # all the flux in the bluest sub-filter: the largest net shift
    handles = [FileCoaddHandle.write(tmp_path, e, d) for e, d in make_dcr_coadds(coadds, weights)]
    visit = _visit(alt=30.0, rot=17.0)
    matched = dcr.DcrMatchedHandle(handles, visit, 620.0, 140.0, {"tract": 0, "patch": 0})
    shifts = matched.shifts()
    expected_y = sum(w * np.mean([s[0] for s in sub]) for w, sub in zip(weights, shifts))
    expected_x = sum(w * np.mean([s[1] for s in sub]) for w, sub in zip(weights, shifts))
    cut = Box.from_size(70, 70, 60, 60)
    exposure = matched.get(parameters={"bbox": cut})
    assert exposure.bbox == cut
    image = exposure.image.array.astype(np.float64)
    ys, xs = np.mgrid[cut.min_y : cut.max_y + 1, cut.min_x : cut.max_x + 1]
    cx, cy = (image * xs).sum() / image.sum(), (image * ys).sum() / image.sum()
    assert abs(expected_x) + abs(expected_y) > 0.3  # the test needs a real shift
    assert cx - 99.5 == pytest.approx(expected_x, abs=0.02)
    assert cy - 99.5 == pytest.approx(expected_y, abs=0.02)
    assert np.allclose(exposure.variance.array, 1.0)  # (1 / 3) * 3 sub-filters
    assert matched.get(component="bbox") == Box.from_size(0, 0, 200, 200)
