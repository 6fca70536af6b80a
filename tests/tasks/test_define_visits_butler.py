"""DefineVisitsTask's single-raw-wcs regions with raw WCSs read (header only) through a Butler."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetType
from chamberlain.errors import DatasetNotFoundError, TaskError
from chamberlain.image import Exposure, Image, MaskedImage
from chamberlain.instrument import SimCam, simulate_raws
from chamberlain.instrument.registration import register_instrument
from chamberlain.tasks import DefineVisitsConfig, DefineVisitsTask
from chamberlain.tasks._visits_wcs import ButlerRawWcs, raw_wcs_from_butler

SIMCAM = SimCam()
DETECTORS = [0, 4]
RUN = "SimCam/raw/all"


def raw_like_exposure(path: Path) -> Exposure:
    """What raw ingest stores: the pixels with the raw header's WCS (put by hand until ingest exists)."""
    header = fits.getheader(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(header)
    data = np.zeros((header["NAXIS2"], header["NAXIS1"]), dtype=np.float32)
    return Exposure(MaskedImage(Image(data)), wcs=wcs)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dvb")
    paths = simulate_raws(tmp / "raws", 4, seed=5, image_size=32, detectors=DETECTORS, calibrations=False)
    root = tmp / "repo"
    with Butler.create(root, run=RUN) as butler:
        registry = butler.registry
        register_instrument(registry, "SimCam")
        registry.register_dataset_type(
            DatasetType("raw", ["instrument", "exposure", "detector"], "Exposure", registry.universe)
        )
        for path in paths:
            info = SIMCAM.translate_raw_header(fits.getheader(path))
            exposure = info.exposure
            registry.sync_dimension_record("group", SIMCAM.group_record(exposure["group"]))
            registry.sync_dimension_record("day_obs", SIMCAM.day_obs_record(exposure["day_obs"]))
            registry.sync_dimension_record("exposure", exposure)
            butler.put(
                raw_like_exposure(path),
                "raw",
                instrument="SimCam",
                exposure=exposure["id"],
                detector=info.detector,
            )
    return root


def define(butler: Butler, regions: str, **kw: Any) -> tuple[Any, dict[int, Any]]:
    config = DefineVisitsConfig()
    config.compute_visit_regions.name = regions
    if regions == "single-raw-wcs":
        config.compute_visit_regions.detector_id = 0  # type: ignore[attr-defined]
    task = DefineVisitsTask(config, butler=butler)
    exposures = list(butler.query_dimension_records("exposure", instrument="SimCam"))
    result = task.run(exposures, **kw)
    visits = {r.id: r for r in butler.registry.fetch_dimension_records("visit")}
    return result, visits


def test_raw_wcs_reads_the_stored_raws_header(repo: Path) -> None:
    with Butler(repo) as butler:
        raw_wcs = raw_wcs_from_butler(butler, RUN)
        exposure = next(iter(butler.query_dimension_records("exposure", instrument="SimCam"))).id
        wcs = raw_wcs("SimCam", exposure, 4)
        stored = butler.get("raw", instrument="SimCam", exposure=exposure, detector=4, collections=RUN).wcs
        assert np.allclose(wcs.wcs.crval, stored.wcs.crval) and np.allclose(wcs.wcs.crpix, stored.wcs.crpix)
        with pytest.raises(DatasetNotFoundError, match="raw"):
            raw_wcs("SimCam", exposure, 1)  # no raw for detector 1
        copy = pickle.loads(pickle.dumps(raw_wcs))  # workers open their own butler
        assert isinstance(copy, ButlerRawWcs) and copy._butler is None
        assert np.allclose(copy("SimCam", exposure, 4).wcs.crval, wcs.wcs.crval)


def test_single_raw_wcs_through_butler_matches_camera_geometry(tmp_path: Path, repo: Path) -> None:
    import shutil

    copies = {}
    for regions in ("by-camera-geometry", "single-raw-wcs"):
        root = tmp_path / regions
        shutil.copytree(repo, root)
        with Butler(root, writeable=True) as butler:
            result, visits = define(
                butler, regions, collections=[RUN] if regions == "single-raw-wcs" else None
            )
            assert result.n_new == result.n_visits == 4
            copies[regions] = visits
    geometry, raws = copies["by-camera-geometry"], copies["single-raw-wcs"]
    assert sorted(geometry) == sorted(raws)
    for visit_id, record in geometry.items():
        a, b = record.region, raws[visit_id].region
        # The simulated WCS follows the camera geometry: the regions are nearly the same.
        assert a.getBoundingCircle().getCenter().dot(b.getBoundingCircle().getCenter()) > np.cos(
            np.radians(1 / 60)
        )
        assert a.overlaps(b)


def test_single_raw_wcs_without_the_raws_fails_naming_the_exposure(repo: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(repo, root)
    with Butler(root, writeable=True) as butler:
        butler.registry.register_run("empty")
        with pytest.raises(TaskError, match="exposure"):
            define(butler, "single-raw-wcs", collections="empty")
        assert list(butler.registry.fetch_dimension_records("visit")) == []


def test_single_raw_wcs_uses_the_butlers_default_collections(repo: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(repo, root)
    with Butler(root, writeable=True) as butler:
        assert butler.collections == []
        with pytest.raises(TaskError, match="pass collections="):
            define(butler, "single-raw-wcs")
        assert list(butler.registry.fetch_dimension_records("visit")) == []
    with Butler(root, writeable=True, collections=[RUN]) as butler:
        result, visits = define(butler, "single-raw-wcs")
        assert result.n_new == len(visits) == 4
