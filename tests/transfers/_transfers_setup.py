"""A small but complete source repository for export/import tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parents[1] / "datastore"))

from _datastore_data import make_exposure
from _populate import box

from chamberlain.butler import Butler
from chamberlain.datasets import DatasetType
from chamberlain.geometry import Timespan
from chamberlain.instrument.registration import register_instrument
from chamberlain.registry import CollectionType, Registry
from chamberlain.skymap import DiscreteSkyMap
from chamberlain.skymap.registration import register_skymap

DAY = 20240301
DAY_SPAN = Timespan.from_day_obs(DAY)
HOUR = 3_600 * 1_000_000_000
VISITS = (1, 2, 3)
DETECTORS = (0, 1)


def populate_records(registry: Registry) -> str:
    """SimCam, a day, a group, exposures and visits with regions, a visit system and a skymap."""
    register_instrument(registry, "SimCam")
    band_filter = sorted(r.name for r in registry.fetch_dimension_records("physical_filter"))[0]
    assert DAY_SPAN.begin is not None
    registry.insert_dimension_records("day_obs", [{"instrument": "SimCam", "id": DAY, "timespan": DAY_SPAN}])
    registry.insert_dimension_records("group", [{"instrument": "SimCam", "name": "grp1"}])
    registry.insert_dimension_records(
        "visit_system", [{"instrument": "SimCam", "id": 0, "name": "one-to-one"}]
    )
    spans = {v: Timespan(DAY_SPAN.begin + v * HOUR, DAY_SPAN.begin + v * HOUR + 30 * 10**9) for v in VISITS}
    registry.insert_dimension_records(
        "exposure",
        [
            {
                "instrument": "SimCam",
                "id": v,
                "obs_id": f"SC_{v}",
                "physical_filter": band_filter,
                "group": "grp1",
                "day_obs": DAY,
                "exposure_time": 30.0,
                "observation_type": "science",
                "has_simulated": True,
                "timespan": spans[v],
            }
            for v in VISITS
        ],
    )
    registry.insert_dimension_records(
        "visit",
        [
            {
                "instrument": "SimCam",
                "id": v,
                "name": f"visit{v}",
                "physical_filter": band_filter,
                "day_obs": DAY,
                "exposure_time": 30.0,
                "region": box(150.0 + 0.1 * v, 2.3, 0.2),
                "timespan": spans[v],
            }
            for v in VISITS
        ],
    )
    registry.insert_dimension_records(
        "visit_definition", [{"instrument": "SimCam", "exposure": v, "visit": v} for v in VISITS]
    )
    registry.insert_dimension_records(
        "visit_system_membership", [{"instrument": "SimCam", "visit": v, "visit_system": 0} for v in VISITS]
    )
    registry.insert_dimension_records(
        "visit_detector_region",
        [
            {
                "instrument": "SimCam",
                "visit": v,
                "detector": d,
                "region": box(150.0 + 0.1 * v + 0.05 * d, 2.3, 0.04),
            }
            for v in VISITS
            for d in DETECTORS
        ],
    )
    skymap = DiscreteSkyMap(
        ra_list=[150.2],
        dec_list=[2.3],
        radius_list=[0.3],
        projection="TAN",
        pixel_scale=2.0,
        patch_inner_dimensions=[300, 300],
        patch_border=20,
        tract_overlap=0.0,
    )
    register_skymap(registry, "disc", skymap)
    return band_filter


def make_source(root: Path) -> tuple[Butler, dict[str, Any]]:
    """A SQLite repository with records, datasets in two runs, a TAGGED, a CALIBRATION and a chain."""
    butler = Butler.create(root, run="run1")
    registry = butler.registry
    populate_records(registry)
    u = registry.universe
    registry.register_dataset_type(
        DatasetType("meta", ["instrument", "visit", "detector"], "StructuredDataDict", u)
    )
    registry.register_dataset_type(DatasetType("calexp", ["instrument", "visit", "detector"], "Exposure", u))
    registry.register_dataset_type(
        DatasetType("bias", ["instrument", "detector"], "StructuredDataDict", u, is_calibration=True)
    )
    registry.register_dataset_type(DatasetType("deep", ["skymap", "tract", "patch"], "StructuredDataDict", u))
    refs: dict[str, Any] = {"meta": [], "bias": []}
    for v in VISITS:
        for d in DETECTORS:
            refs["meta"].append(
                butler.put({"visit": v, "detector": d}, "meta", instrument="SimCam", visit=v, detector=d)
            )
    registry.register_run("run2")
    refs["run2"] = butler.put({"second": True}, "meta", instrument="SimCam", visit=1, detector=0, run="run2")
    refs["calexp"] = butler.put(make_exposure(), "calexp", instrument="SimCam", visit=2, detector=1)
    refs["deep"] = butler.put({"coadd": 1}, "deep", skymap="disc", tract=0, patch=0)
    registry.register_run("calib/run", doc="calibration products")
    for d in DETECTORS:
        refs["bias"].append(butler.put({"bias": d}, "bias", instrument="SimCam", detector=d, run="calib/run"))
    registry.register_collection("calib", CollectionType.CALIBRATION, doc="certified biases")
    assert DAY_SPAN.begin is not None
    first = Timespan(None, DAY_SPAN.begin + 2 * HOUR)
    second = Timespan(DAY_SPAN.begin + 2 * HOUR, None)
    registry.certify("calib", [refs["bias"][0]], first)
    registry.certify("calib", [refs["bias"][1]], first)
    registry.certify("calib", [refs["bias"][0]], second)
    refs["validity"] = (first, second)
    registry.register_collection("tagged", CollectionType.TAGGED)
    registry.associate("tagged", [refs["meta"][0], refs["meta"][3], refs["calexp"]])
    registry.register_collection("chain", CollectionType.CHAINED, doc="everything")
    registry.set_collection_chain("chain", ["tagged", "run1", "calib"])
    return butler, refs
