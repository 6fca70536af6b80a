"""A small populated repository for the query tests and the docs/sql.md tests.

Layout (all regions near RA 10-12 deg, Dec 0):

* instrument ``Cam`` with detectors 0-3, filters ``Cam-r`` (band r) and ``Cam-g`` (band g);
* nights 20240301 (exposures/visits 1-4) and 20240302 (5-6); odd IDs in r, even in g;
  visit N points at RA 10 + 0.3 N, Dec 0; its detectors are a 2 x 2 grid of 0.1-degree boxes;
* skymap ``sky``: tract 0 with 8 patches (4 x 2 boxes of 0.5 x 0.5 deg from RA 10, Dec -0.5);
* dataset types ``calexp`` (visit, detector), ``raw`` (exposure, detector), ``bias``
  (detector; calibration) and ``deepCoadd`` (tract, patch, band);
* runs ``run1`` (every calexp and raw), ``run2`` (calexps of visit 1), chain ``chain`` = [run2, run1];
  CALIBRATION collection ``calib`` with bias ``b1`` valid on the first night, ``b2`` on the second;
* datastore records with a path for every dataset of run1.
"""

from __future__ import annotations

import math

import lsst.sphgeom as sg
import sqlalchemy as sa

from chamberlain.datasets import DatasetType
from chamberlain.geometry import Timespan
from chamberlain.registry import Registry

DAY1, DAY2 = 20240301, 20240302
HOUR = 3_600 * 1_000_000_000


def box(ra: float, dec: float, half_w: float, half_h: float | None = None) -> sg.ConvexPolygon:
    """A box of half-widths (degrees) centred on (ra, dec)."""
    half_h = half_w if half_h is None else half_h
    scale = 1.0 / math.cos(math.radians(dec))
    corners = [(-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)]
    return sg.ConvexPolygon(
        [sg.UnitVector3d(sg.LonLat.fromDegrees(ra + dx * scale, dec + dy)) for dx, dy in corners]
    )


def visit_centre(visit: int) -> tuple[float, float]:
    """Pointing of a visit."""
    return 10.0 + 0.3 * visit, 0.0


def detector_centre(visit: int, detector: int) -> tuple[float, float]:
    """Centre of a detector's region in a visit."""
    ra, dec = visit_centre(visit)
    return ra + (detector % 2 - 0.5) * 0.1, dec + (detector // 2 - 0.5) * 0.1


def populate(registry: Registry) -> None:
    """Fill an empty registry with the layout in the module docstring."""
    reg = registry
    reg.insert_dimension_records("instrument", [{"name": "Cam", "detector_max": 100, "visit_max": 10**6}])
    reg.insert_dimension_records(
        "physical_filter",
        [
            {"instrument": "Cam", "name": "Cam-r", "band": "r"},
            {"instrument": "Cam", "name": "Cam-g", "band": "g"},
        ],
    )
    reg.insert_dimension_records(
        "detector",
        [{"instrument": "Cam", "id": i, "full_name": f"S{i:02d}", "purpose": "SCIENCE"} for i in range(4)],
    )
    days = {DAY1: Timespan.from_day_obs(DAY1), DAY2: Timespan.from_day_obs(DAY2)}
    reg.insert_dimension_records(
        "day_obs", [{"instrument": "Cam", "id": d, "timespan": t} for d, t in days.items()]
    )
    reg.insert_dimension_records("group", [{"instrument": "Cam", "name": "g1"}])
    reg.insert_dimension_records("visit_system", [{"instrument": "Cam", "id": 0, "name": "one-to-one"}])
    ids = [1, 2, 3, 4, 5, 6]
    exposures, visits = [], []
    for i in ids:
        day = DAY1 if i <= 4 else DAY2
        begin = days[day].begin
        assert begin is not None
        span = Timespan(begin + i * HOUR, begin + i * HOUR + 30 * 10**9)
        pf = "Cam-r" if i % 2 else "Cam-g"
        exposures.append(
            {"instrument": "Cam", "id": i, "obs_id": f"OBS{i}", "physical_filter": pf, "group": "g1",
             "day_obs": day, "exposure_time": 30.0, "observation_type": "science", "timespan": span}
        )  # fmt: skip
        visits.append(
            {"instrument": "Cam", "id": i, "name": f"v{i}", "physical_filter": pf, "day_obs": day,
             "exposure_time": 30.0, "timespan": span, "region": box(*visit_centre(i), 0.11)}
        )  # fmt: skip
    reg.insert_dimension_records("exposure", exposures)
    reg.insert_dimension_records("visit", visits)
    reg.insert_dimension_records(
        "visit_definition", [{"instrument": "Cam", "exposure": i, "visit": i} for i in ids]
    )
    reg.insert_dimension_records(
        "visit_system_membership", [{"instrument": "Cam", "visit": i, "visit_system": 0} for i in ids]
    )
    reg.insert_dimension_records(
        "visit_detector_region",
        [
            {"instrument": "Cam", "visit": v, "detector": d, "region": box(*detector_centre(v, d), 0.045)}
            for v in ids
            for d in range(4)
        ],
    )
    reg.insert_dimension_records("skymap", [{"name": "sky", "hash": b"\x01" * 20, "tract_max": 1}])
    reg.insert_dimension_records("tract", [{"skymap": "sky", "id": 0, "region": box(11.0, 0.0, 1.0, 0.5)}])
    reg.insert_dimension_records(
        "patch",
        [
            {"skymap": "sky", "tract": 0, "id": y * 4 + x, "cell_x": x, "cell_y": y,
             "region": box(10.25 + 0.5 * x, -0.25 + 0.5 * y, 0.25)}
            for y in range(2)
            for x in range(4)
        ],
    )  # fmt: skip
    u = reg.universe
    for dt in (
        DatasetType("calexp", ["instrument", "visit", "detector"], "ExposureF", universe=u),
        DatasetType("raw", ["instrument", "exposure", "detector"], "ExposureF", universe=u),
        DatasetType("bias", ["instrument", "detector"], "ExposureF", universe=u, is_calibration=True),
        DatasetType("deepCoadd", ["skymap", "tract", "patch", "band"], "ExposureF", universe=u),
    ):
        reg.register_dataset_type(dt)
    for run in ("run1", "run2", "calib/run"):
        reg.register_run(run)
    calexps = reg.insert_datasets(
        "calexp", [{"instrument": "Cam", "visit": v, "detector": d} for v in ids for d in range(4)], "run1"
    )
    raws = reg.insert_datasets(
        "raw", [{"instrument": "Cam", "exposure": v, "detector": d} for v in ids for d in range(4)], "run1"
    )
    reg.insert_datasets(
        "calexp", [{"instrument": "Cam", "visit": 1, "detector": d} for d in range(4)], "run2"
    )
    reg.register_collection("chain", "CHAINED")
    reg.set_collection_chain("chain", ["run2", "run1"])
    b1 = reg.insert_datasets("bias", [{"instrument": "Cam", "detector": d} for d in range(4)], "calib/run")
    reg.register_collection("calib", "CALIBRATION")
    reg.certify("calib", b1, days[DAY1])
    b2 = reg.insert_datasets(
        "bias", [{"instrument": "Cam", "detector": d} for d in range(4)], "run2"
    )  # second version of the bias, valid on night 2
    reg.certify("calib", b2, days[DAY2])
    reg.insert_datasets(
        "deepCoadd", [{"skymap": "sky", "tract": 0, "patch": p, "band": "r"} for p in range(8)], "run1"
    )
    records = reg._tables["datastore_record"]
    rows = [
        {"dataset_id": r.id, "component": "", "path": f"run1/{r.dataset_type.name}/{r.data_id['visit' if 'visit' in r.data_id else 'exposure']}_{r.data_id['detector']}.fits",
         "formatter": "fits", "storage_class": "ExposureF", "checksum": None, "file_size": 100}
        for r in calexps + raws
    ]  # fmt: skip
    with reg.transaction():
        reg._db.connection.execute(sa.insert(records), rows)
