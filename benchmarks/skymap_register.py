#!/usr/bin/env python
"""Skymap registration benchmark: a full hsc_rings_v1-like skymap into a fresh registry.

Registers a rings skymap (default: the hsc_rings_v1 geometry, 120 rings, 18,938 tracts,
1,534,057 patches) with `register_skymap` into a fresh SQLite repository (and/or a
PostgreSQL schema) and prints the wall-clock time, the records per second, and, with
``--generation``, the time spent only building the records (no database). With
``--visits N`` it first inserts N visits of 50 detector regions each (random
pointings, RA 10-40 deg, Dec -8..+8 deg), so registration also computes and stores the
exact overlaps with them. ``--profile`` prints the cProfile hotspots to stderr.

The goal is registration in under 5 minutes on SQLite.

Usage::

    .venv/bin/python benchmarks/skymap_register.py [--backends sqlite] [--num-rings 120]
        [--visits 0] [--generation] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import lsst.sphgeom as sg
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    DEFAULT_PG_URL,
    drop_schema,
    fmt_number,
    log,
    machine_summary,
    new_namespace,
    pg_reachable,
    print_table,
)

from chamberlain.registry import Registry
from chamberlain.skymap import RingsSkyMap
from chamberlain.skymap.registration import register_skymap

HSC_RINGS_V1: dict[str, Any] = {
    "num_rings": 120,
    "projection": "TAN",
    "tract_overlap": 1.0 / 60.0,
    "pixel_scale": 0.168,
    "rotation": 0.0,
    "ra_start": 0.0,
    "patch_inner_dimensions": [4000, 4000],
    "patch_border": 100,
}
GOAL_SECONDS = 300.0
INSTRUMENT = "BenchCam"
N_DETECTORS = 50


def _box(ra: float, dec: float, half: float) -> sg.ConvexPolygon:
    dra = half / max(math.cos(math.radians(dec)), 1e-3)
    corners = [(ra - dra, dec - half), (ra + dra, dec - half), (ra + dra, dec + half), (ra - dra, dec + half)]
    return sg.ConvexPolygon.convexHull([sg.UnitVector3d(sg.LonLat.fromDegrees(a, d)) for a, d in corners])


def insert_visits(registry: Registry, n_visits: int, seed: int = 7) -> int:
    """Insert ``n_visits`` visits with 50 detector regions each; returns the number of regions."""
    rng = np.random.default_rng(seed)
    registry.insert_dimension_records(
        "instrument", [{"name": INSTRUMENT, "detector_max": N_DETECTORS, "visit_max": 10**7}]
    )
    registry.insert_dimension_records(
        "physical_filter", [{"instrument": INSTRUMENT, "name": "BC-r", "band": "r"}]
    )
    registry.insert_dimension_records(
        "detector",
        [
            {"instrument": INSTRUMENT, "id": d, "full_name": f"D{d:02d}", "purpose": "SCIENCE"}
            for d in range(N_DETECTORS)
        ],
    )
    registry.insert_dimension_records("day_obs", [{"instrument": INSTRUMENT, "id": 20260101}])
    visits, vdrs = [], []
    for v in range(n_visits):
        ra, dec = rng.uniform(10, 40), rng.uniform(-8, 8)
        visits.append(
            {
                "instrument": INSTRUMENT,
                "id": v,
                "name": f"v{v}",
                "physical_filter": "BC-r",
                "day_obs": 20260101,
                "region": _box(ra, dec, 0.45),
            }
        )
        for d in range(N_DETECTORS):
            dx, dy = (d % 8 - 3.5) * 0.12, (d // 8 - 3) * 0.12
            vdrs.append(
                {
                    "instrument": INSTRUMENT,
                    "visit": v,
                    "detector": d,
                    "region": _box(ra + dx / max(math.cos(math.radians(dec)), 1e-3), dec + dy, 0.055),
                }
            )
    registry.insert_dimension_records("visit", visits)
    registry.insert_dimension_records("visit_detector_region", vdrs)
    return len(vdrs)


def count_rows(registry: Registry, table: str) -> int:
    import sqlalchemy as sa

    return int(
        registry._db.execute(sa.select(sa.func.count()).select_from(registry._tables[table])).scalar_one()
    )


def run_backend(backend: str, args: argparse.Namespace, skymap: RingsSkyMap) -> dict[str, Any]:
    """Register the skymap into a fresh repository on one backend; return the figures."""
    tmp = tempfile.TemporaryDirectory(prefix="chamberlain-bench-")
    namespace = None
    if backend == "sqlite":
        url = f"sqlite:///{os.path.join(tmp.name, 'registry.sqlite3')}"
    else:
        url, namespace = args.pg_url, new_namespace("bench_skymap")
    registry = Registry.create(url, namespace=namespace)
    try:
        n_vdr = insert_visits(registry, args.visits) if args.visits else 0
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 10 or done == total:
                last[0] = now
                log(f"{backend}: {done:,}/{total:,} records ({100 * done / max(total, 1):.0f}%)")

        profiler = cProfile.Profile() if args.profile else None
        t0 = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        written = register_skymap(registry, args.name, skymap, progress=progress, batch_size=args.batch_size)
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - t0
        assert written
        n_tracts = count_rows(registry, "tract")
        n_patches = count_rows(registry, "patch")
        overlaps = count_rows(registry, "visit_detector_region_patch_overlap") if args.visits else 0
        if profiler is not None:
            print(
                f"\n--- cProfile, {backend}: top {args.profile_lines} by cumulative time ---", file=sys.stderr
            )
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(args.profile_lines)
            print(f"--- cProfile, {backend}: top {args.profile_lines} by own time ---", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(args.profile_lines)
        return {
            "backend": backend,
            "seconds": seconds,
            "tracts": n_tracts,
            "patches": n_patches,
            "vdr": n_vdr,
            "overlaps": overlaps,
        }
    finally:
        registry.close()
        if namespace is not None:
            drop_schema(args.pg_url, namespace)
        tmp.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--backends", default="sqlite", help="comma-separated: sqlite, postgresql (default sqlite)"
    )
    ap.add_argument("--num-rings", type=int, default=120, help="rings of the skymap (default 120)")
    ap.add_argument("--name", default="hsc_rings_v1")
    ap.add_argument(
        "--visits", type=int, default=0, help="visits (50 detectors each) inserted first (default 0)"
    )
    ap.add_argument("--batch-size", type=int, default=50_000, help="patch records per insert call")
    ap.add_argument("--generation", action="store_true", help="also time building the records alone")
    ap.add_argument("--profile", action="store_true", help="cProfile the registration (to stderr)")
    ap.add_argument("--profile-lines", type=int, default=25)
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = ap.parse_args(argv)

    skymap = RingsSkyMap({**HSC_RINGS_V1, "num_rings": args.num_rings})
    print("Chamberlain skymap registration benchmark")
    print(machine_summary())
    print(f"skymap: RingsSkyMap num_rings={args.num_rings} (hsc_rings_v1 geometry), hash {skymap.hash_hex}")
    print(f"visits present: {args.visits} ({args.visits * N_DETECTORS} detector regions)\n")

    rows = []
    if args.generation:
        t0 = time.perf_counter()
        n_tr = sum(1 for _ in skymap.tract_records(args.name))
        n_pa = sum(1 for _ in skymap.patch_records(args.name))
        gen = time.perf_counter() - t0
        rows.append(
            [
                "records only",
                fmt_number(n_tr),
                fmt_number(n_pa),
                "—",
                f"{gen:.1f}",
                fmt_number((n_tr + n_pa) / gen),
                "—",
            ]
        )
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend == "postgresql" and pg_reachable(args.pg_url) is None:
            log(f"PostgreSQL at {args.pg_url} is not reachable; skipping it.")
            continue
        log(f"{backend}: registering...")
        r = run_backend(backend, args, skymap)
        n = r["tracts"] + r["patches"]
        verdict = "yes" if backend != "sqlite" or r["seconds"] < GOAL_SECONDS else "NO"
        rows.append(
            [
                backend,
                fmt_number(r["tracts"]),
                fmt_number(r["patches"]),
                fmt_number(r["overlaps"]),
                f"{r['seconds']:.1f}",
                fmt_number(n / r["seconds"]),
                verdict if backend == "sqlite" else "—",
            ]
        )
    print_table(
        ["run", "tracts", "patches", "vdr-patch overlaps", "seconds", "records/s", f"< {GOAL_SECONDS:.0f} s"],
        rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
