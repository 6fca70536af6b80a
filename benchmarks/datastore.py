#!/usr/bin/env python
"""Datastore and Butler benchmark (SQLite).

Workloads, each timed on a fresh repository:

1. ``put`` of a small dict, one call per dataset (``--n-put`` calls), dimensions
   (instrument, visit, detector), default file template: ms per call;
2. ``get`` of those datasets by data ID, one call each: ms per call;
3. ``ingest`` of ``--n-ingest`` prepared JSON files with ``transfer="direct"`` in one
   call: files per second;
4. full ``get`` of a 4096x4096 float32 Exposure (image, mask, variance: 192 MiB)
   beside a plain ``fitsio`` read of the same three HDUs: GB/s;
5. a 100x100 ``bbox`` cutout through a deferred handle beside a plain ``fitsio``
   section read of the same pixels from the three HDUs: ms.

When ``lsst.daf.butler`` is importable, workloads 1-3 also run on the Rubin
butler (SQLite, same dimensions, same dict, ``transfer="direct"``) and the
ratios Rubin time / Chamberlain time are printed (above 1 = Chamberlain faster).

Usage::

    .venv/bin/python benchmarks/datastore.py [--n-put 2000] [--n-ingest 5000] [--quick] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any

import fitsio
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import fmt_number, log, machine_summary, median, package_versions, peer_available, print_table

N_DETECTORS = 10
DICT = {"a": 1, "b": [1.5, 2.5], "c": "text"}


# --- Chamberlain ---------------------------------------------------------------------------


def _chamberlain_repo(root: str, n_visits: int) -> Any:
    from chamberlain.butler import Butler
    from chamberlain.datasets import DatasetType

    butler = Butler.create(root, run="run1")
    reg = butler.registry
    reg.insert_dimension_records("instrument", [{"name": "Cam", "detector_max": 100, "visit_max": 10**7}])
    reg.insert_dimension_records("physical_filter", [{"instrument": "Cam", "name": "Cam-r", "band": "r"}])
    reg.insert_dimension_records(
        "detector", [{"instrument": "Cam", "id": i, "full_name": f"S{i:02d}"} for i in range(N_DETECTORS)]
    )
    reg.insert_dimension_records("day_obs", [{"instrument": "Cam", "id": 20240301}])
    reg.insert_dimension_records(
        "visit",
        [
            {"instrument": "Cam", "id": v, "name": f"v{v}", "physical_filter": "Cam-r", "day_obs": 20240301}
            for v in range(n_visits)
        ],
    )
    universe = reg.universe
    for name, sc in (("thing", "StructuredDataDict"), ("calexp", "Exposure")):
        reg.register_dataset_type(DatasetType(name, ["instrument", "visit", "detector"], sc, universe))
    return butler


def _data_ids(n: int) -> list[dict[str, Any]]:
    return [{"instrument": "Cam", "visit": i // N_DETECTORS, "detector": i % N_DETECTORS} for i in range(n)]


def chamberlain_small(workdir: str, n_put: int, n_ingest: int) -> dict[str, float]:
    from chamberlain.datasets import DatasetRef
    from chamberlain.datastore import FileDataset
    from chamberlain.dimensions import DataCoordinate

    out: dict[str, float] = {}
    n_visits = (max(n_put, n_ingest) + N_DETECTORS - 1) // N_DETECTORS
    butler = _chamberlain_repo(os.path.join(workdir, "ch_put"), n_visits)
    ids = _data_ids(n_put)
    t0 = time.perf_counter()
    for d in ids:
        butler.put(DICT, "thing", d)
    out["put_ms"] = (time.perf_counter() - t0) / n_put * 1e3
    t0 = time.perf_counter()
    for d in ids:
        butler.get("thing", d)
    out["get_ms"] = (time.perf_counter() - t0) / n_put * 1e3
    butler.close()

    butler = _chamberlain_repo(os.path.join(workdir, "ch_ingest"), n_visits)
    files = _prepare_files(os.path.join(workdir, "ch_files"), n_ingest)
    dt = butler.registry.get_dataset_type("thing")
    from uuid_utils.compat import uuid7

    datasets = [
        FileDataset(
            path, DatasetRef(dt, DataCoordinate.standardize(d, dimensions=dt.dimensions), "run1", uuid7())
        )
        for path, d in zip(files, _data_ids(n_ingest))
    ]
    t0 = time.perf_counter()
    butler.ingest(*datasets, transfer="direct")
    out["ingest_fps"] = n_ingest / (time.perf_counter() - t0)
    assert butler.get("thing", _data_ids(1)[0]) == DICT
    butler.close()
    return out


def _prepare_files(directory: str, n: int) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    paths = []
    text = json.dumps(DICT)
    for i in range(n):
        path = os.path.join(directory, f"f{i}.json")
        with open(path, "w") as stream:
            stream.write(text)
        paths.append(path)
    return paths


def chamberlain_images(workdir: str, size: int, reps: int) -> dict[str, float]:
    from chamberlain.image import Box, Exposure, MaskedImage

    rng = np.random.default_rng(1)
    masked = MaskedImage.from_arrays(
        rng.normal(0, 1, (size, size)).astype(np.float32),
        rng.integers(0, 256, (size, size)).astype(np.uint32),
        np.ones((size, size), np.float32),
    )
    butler = _chamberlain_repo(os.path.join(workdir, "ch_img"), 1)
    data_id = {"instrument": "Cam", "visit": 0, "detector": 0}
    ref = butler.put(Exposure(masked), "calexp", data_id)
    path = butler.get_uri(ref)
    nbytes = 3 * size * size * 4
    full, plain = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        exposure = butler.get("calexp", data_id)
        full.append(time.perf_counter() - t0)
        del exposure
        t0 = time.perf_counter()
        with fitsio.FITS(path) as fits:
            arrays = [fits[i].read() for i in (1, 2, 3)]
        plain.append(time.perf_counter() - t0)
        del arrays
    box = Box.from_size(size // 2, size // 3, 100, 100)
    cut, plain_cut = [], []
    for _ in range(reps * 20):
        t0 = time.perf_counter()
        handle = butler.get_deferred("calexp", data_id)
        cutout = handle.get(parameters={"bbox": box})
        cut.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with fitsio.FITS(path) as fits:
            pieces = [fits[i][box.slices()] for i in (1, 2, 3)]
        plain_cut.append(time.perf_counter() - t0)
    assert cutout.image.array.tobytes() == pieces[0].tobytes()
    butler.close()
    return {
        "full_gbps": nbytes / median(full) / 1e9,
        "plain_gbps": nbytes / median(plain) / 1e9,
        "cutout_ms": median(cut) * 1e3,
        "plain_cutout_ms": median(plain_cut) * 1e3,
    }


# --- Rubin ------------------------------------------------------------------------------------


def rubin_small(workdir: str, n_put: int, n_ingest: int) -> dict[str, float]:
    from lsst.daf.butler import Butler, DatasetRef, DatasetType, FileDataset

    def repo(name: str, n_visits: int) -> Any:
        root = os.path.join(workdir, name)
        Butler.makeRepo(root)
        butler = Butler.from_config(root, writeable=True, run="run1")
        reg = butler.registry
        reg.insertDimensionData("instrument", {"name": "Cam", "detector_max": 100, "visit_max": 10**7})
        reg.insertDimensionData("physical_filter", {"instrument": "Cam", "name": "Cam-r", "band": "r"})
        reg.insertDimensionData(
            "detector",
            *[{"instrument": "Cam", "id": i, "full_name": f"S{i:02d}"} for i in range(N_DETECTORS)],
        )
        reg.insertDimensionData("day_obs", {"instrument": "Cam", "id": 20240301})
        reg.insertDimensionData(
            "visit",
            *[
                {
                    "instrument": "Cam",
                    "id": v,
                    "name": f"v{v}",
                    "physical_filter": "Cam-r",
                    "day_obs": 20240301,
                }
                for v in range(n_visits)
            ],
        )
        dt = DatasetType(
            "thing", ["instrument", "visit", "detector"], "StructuredDataDict", universe=butler.dimensions
        )
        reg.registerDatasetType(dt)
        return butler, dt

    out: dict[str, float] = {}
    n_visits = (max(n_put, n_ingest) + N_DETECTORS - 1) // N_DETECTORS
    butler, dt = repo("rb_put", n_visits)
    ids = _data_ids(n_put)
    t0 = time.perf_counter()
    for d in ids:
        butler.put(DICT, "thing", d)
    out["put_ms"] = (time.perf_counter() - t0) / n_put * 1e3
    t0 = time.perf_counter()
    for d in ids:
        butler.get("thing", d)
    out["get_ms"] = (time.perf_counter() - t0) / n_put * 1e3
    butler.close()
    butler, dt = repo("rb_ingest", n_visits)
    files = _prepare_files(os.path.join(workdir, "rb_files"), n_ingest)
    datasets = [
        FileDataset(path=path, refs=[DatasetRef(dt, butler.registry.expandDataId(d), run="run1")])
        for path, d in zip(files, _data_ids(n_ingest))
    ]
    t0 = time.perf_counter()
    butler.ingest(*datasets, transfer="direct")
    out["ingest_fps"] = n_ingest / (time.perf_counter() - t0)
    butler.close()
    return out


# --- main -------------------------------------------------------------------------------------


def _file_floor(directory: str, n: int = 500) -> str:
    """The cost of the bare file operations every put needs (create, write, rename) in ``directory``."""
    floor_dir = os.path.join(directory, "_floor")
    os.mkdir(floor_dir)
    start = time.perf_counter()
    for i in range(n):
        tmp, final = os.path.join(floor_dir, f".t{i}"), os.path.join(floor_dir, f"f{i}.json")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        os.write(fd, b'{"a": 1}')
        os.close(fd)
        os.replace(tmp, final)
    per_file = (time.perf_counter() - start) / n * 1e3
    shutil.rmtree(floor_dir)
    return f"a bare create+write+rename of a small file costs {per_file:.3f} ms here"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-put", type=int, default=2000)
    ap.add_argument("--n-ingest", type=int, default=5000)
    ap.add_argument("--size", type=int, default=4096, help="exposure width and height")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--no-peer", action="store_true", help="do not run the Rubin butler")
    ap.add_argument(
        "--workdir",
        default=None,
        help="parent directory of the benchmark's repositories (default: the system temporary directory); "
        "put latency is bounded by this file system's file-creation cost, printed below",
    )
    args = ap.parse_args()
    if args.quick:
        args.n_put, args.n_ingest, args.size, args.reps = 200, 500, 512, 1
    print(f"Machine: {machine_summary()}")
    versions = package_versions(["sqlalchemy", "numpy", "fitsio", "lsst-daf-butler"])
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    if args.workdir is not None:
        os.makedirs(args.workdir, exist_ok=True)  # a missing --workdir is made, not a FileNotFoundError
    workdir = tempfile.mkdtemp(prefix="bench_datastore_", dir=args.workdir)
    print(f"Work directory: {workdir}; {_file_floor(workdir)}")
    try:
        log("Chamberlain: put/get/ingest")
        small = chamberlain_small(workdir, args.n_put, args.n_ingest)
        log("Chamberlain: exposure reads")
        images = chamberlain_images(workdir, args.size, args.reps)
        rubin: dict[str, float] | None = None
        if not args.no_peer and peer_available():
            log("Rubin butler: put/get/ingest")
            try:
                rubin = rubin_small(workdir, args.n_put, args.n_ingest)
            except Exception as err:  # report, do not hide the Chamberlain figures
                print(f"Rubin butler run failed: {type(err).__name__}: {err}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"SQLite; put/get: {args.n_put} single calls; ingest: {args.n_ingest} files, transfer=direct")
    rows = []

    def ratio(key: str, higher_is_better: bool) -> str:
        if rubin is None:
            return "—"
        value = small[key] / rubin[key] if higher_is_better else rubin[key] / small[key]
        return f"{value:.2f}x"

    rows.append(
        [
            "put small dict (ms/call)",
            f"{small['put_ms']:.3f}",
            "<= 0.36",
            "—" if rubin is None else f"{rubin['put_ms']:.3f}",
            ratio("put_ms", False),
        ]
    )
    rows.append(
        [
            "get by data ID (ms/call)",
            f"{small['get_ms']:.3f}",
            "<= 0.34",
            "—" if rubin is None else f"{rubin['get_ms']:.3f}",
            ratio("get_ms", False),
        ]
    )
    rows.append(
        [
            "ingest direct (files/s)",
            fmt_number(small["ingest_fps"]),
            ">= 26,000",
            "—" if rubin is None else fmt_number(rubin["ingest_fps"]),
            ratio("ingest_fps", True),
        ]
    )
    print_table(["workload", "Chamberlain", "goal", "Rubin", "speed-up vs Rubin"], rows)
    print()
    print(f"Exposure {args.size}x{args.size} float32 (image+mask+variance), median of {args.reps}")
    full_ratio = images["plain_gbps"] / images["full_gbps"]
    cut_ratio = images["cutout_ms"] / images["plain_cutout_ms"]
    print_table(
        ["read", "Chamberlain", "plain fitsio", "Chamberlain/plain time", "goal"],
        [
            [
                "full get (GB/s)",
                f"{images['full_gbps']:.2f}",
                f"{images['plain_gbps']:.2f}",
                f"{full_ratio:.2f}x",
                "<= 1.3x",
            ],
            [
                "100x100 cutout via deferred handle (ms)",
                f"{images['cutout_ms']:.3f}",
                f"{images['plain_cutout_ms']:.3f}",
                f"{cut_ratio:.2f}x",
                "<= 1.5x and <= 2 ms",
            ],
        ],
    )


if __name__ == "__main__":
    main()
