"""The demo: build a small repository from scratch and show what it holds.

Run it with ``chamberlain demo [DIR]`` or ``python -m chamberlain.demo [DIR]``.
It creates a SQLite repository, registers the simulated instrument's records,
adds exposures with their sky regions, a small skymap, and datasets, then
shows a find-first lookup and the exact overlaps the registry stored.
Later stages (raw ingest, visit definition, templates) extend it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lsst.sphgeom as sg
import sqlalchemy as sa

from .datasets import DatasetIdGenEnum, DatasetType
from .geometry import Timespan
from .registry import Registry


def _square(ra: float, dec: float, half: float) -> sg.ConvexPolygon:
    import math

    s = 1.0 / math.cos(math.radians(dec))
    corners = [(-half, -half), (half, -half), (half, half), (-half, half)]
    return sg.ConvexPolygon([sg.UnitVector3d(sg.LonLat.fromDegrees(ra + x * s, dec + y)) for x, y in corners])


def run(root: Path, *, echo: Callable[[str], None] = print) -> Registry:
    """Build the demo repository under ``root`` (which must not exist) and return its registry."""
    root.mkdir(parents=True)
    t0 = time.perf_counter()
    registry = Registry.create(f"sqlite:///{root / 'chamberlain.sqlite3'}")
    echo(f"Created repository {root} (SQLite, schema and universe recorded).")
    registry.insert_dimension_records(
        "instrument", [{"name": "SimCam", "detector_max": 9, "visit_max": 10**6}]
    )
    registry.insert_dimension_records(
        "physical_filter",
        [{"instrument": "SimCam", "name": f"SimCam-{b}", "band": b} for b in "griz"],
    )
    registry.insert_dimension_records(
        "detector",
        [
            {"instrument": "SimCam", "id": d, "full_name": f"R00_S{d // 3}{d % 3}", "purpose": "SCIENCE"}
            for d in range(9)
        ],
    )
    day = Timespan.from_day_obs(20261121)
    assert day.begin is not None
    registry.insert_dimension_records("day_obs", [{"instrument": "SimCam", "id": 20261121, "timespan": day}])
    registry.insert_dimension_records("group", [{"instrument": "SimCam", "name": f"g{i}"} for i in range(4)])
    registry.insert_dimension_records(
        "exposure",
        [
            {
                "instrument": "SimCam",
                "id": i,
                "obs_id": f"SC_{i:04d}",
                "physical_filter": "SimCam-r",
                "group": f"g{i}",
                "day_obs": 20261121,
                "exposure_time": 30.0,
                "observation_type": "science",
                "tracking_ra": 150.0 + 0.1 * i,
                "tracking_dec": 2.2,
                "can_see_sky": True,
                "timespan": Timespan(day.begin + i * 60 * 10**9, day.begin + (i * 60 + 30) * 10**9),
            }
            for i in range(4)
        ],
    )
    registry.insert_dimension_records(
        "visit",
        [
            {
                "instrument": "SimCam",
                "id": i,
                "name": f"v{i}",
                "physical_filter": "SimCam-r",
                "day_obs": 20261121,
                "region": _square(150.0 + 0.1 * i, 2.2, 0.2),
            }
            for i in range(4)
        ],
    )
    registry.insert_dimension_records(
        "visit_detector_region",
        [
            {
                "instrument": "SimCam",
                "visit": i,
                "detector": d,
                "region": _square(150.0 + 0.1 * i + 0.12 * (d % 3 - 1), 2.2 + 0.12 * (d // 3 - 1), 0.057),
            }
            for i in range(4)
            for d in range(9)
        ],
    )
    echo("Inserted SimCam: 9 detectors, 4 filters, 4 exposures and visits with 36 detector regions.")
    registry.insert_dimension_records("skymap", [{"name": "demo", "hash": b"\x00" * 20}])
    registry.insert_dimension_records(
        "tract", [{"skymap": "demo", "id": 0, "region": _square(150.2, 2.2, 0.6)}]
    )
    registry.insert_dimension_records(
        "patch",
        [
            {
                "skymap": "demo",
                "tract": 0,
                "id": 5 * y + x,
                "cell_x": x,
                "cell_y": y,
                "region": _square(149.8 + 0.2 * x, 1.8 + 0.2 * y, 0.105),
            }
            for y in range(5)
            for x in range(5)
        ],
    )
    overlaps = registry.db.execute(
        sa.select(sa.func.count()).select_from(registry.tables["visit_detector_region_patch_overlap"])
    ).scalar_one()
    echo(f"Registered skymap 'demo' (1 tract, 25 patches); {overlaps} exact detector-patch overlaps stored.")
    registry.register_run("SimCam/raw/all")
    registry.register_dataset_type(
        DatasetType("raw", ["instrument", "exposure", "detector"], "Exposure", registry.universe)
    )
    refs = registry.insert_datasets(
        "raw",
        [{"instrument": "SimCam", "exposure": i, "detector": d} for i in range(4) for d in range(9)],
        "SimCam/raw/all",
        DatasetIdGenEnum.DATAID_TYPE_RUN,
    )
    ref = registry.find_dataset(
        "raw", instrument="SimCam", exposure=2, detector=4, collections=["SimCam/raw/all"]
    )
    echo(
        f"Inserted {len(refs)} raw datasets; find_dataset(exposure=2, detector=4) -> {ref.id if ref else None}."
    )
    t = registry.tables["visit_detector_region_patch_overlap"]
    rows = registry.db.execute(
        sa.select(t.c.detector, t.c.patch).where(t.c.visit == 2).order_by(t.c.detector, t.c.patch)
    ).all()
    echo("Patches overlapping visit 2, by detector:")
    by_det: dict[int, list[int]] = {}
    for det, patch in rows:
        by_det.setdefault(det, []).append(patch)
    for det, patches in by_det.items():
        echo(f"  detector {det}: patches {patches}")
    echo(f"Done in {time.perf_counter() - t0:.2f} s.")
    return registry


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``python -m chamberlain.demo``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "root", nargs="?", default="demo-repo", help="directory to create (default: demo-repo)"
    )
    parser.add_argument("--replace", action="store_true", help="delete the directory first if it exists")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if root.exists():
        if not args.replace:
            print(
                f"error: {root} already exists; choose another directory or pass --replace.", file=sys.stderr
            )
            return 1
        shutil.rmtree(root)
    run(root).close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
