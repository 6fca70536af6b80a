#!/usr/bin/env python
"""Template benchmark: finding overlapping patches, and building one 2048 x 2048 template.

1. **Overlap search**: for N random detector regions (4k x 4k pixels at 0.2"/px, random
   pointing in RA 10-40 deg, Dec -8..+8 deg, random rotation) on an lsst_cells_v1-like
   rings skymap, find the tracts and candidate patches (`RingsSkyMap.find_tract_patch_list`)
   and keep those whose outer box overlaps the detector exactly in the tract plane with
   the code `GetTemplateTask` runs (`GetTemplateTask.select_overlapping` over header-only
   handles giving each patch's tract WCS and outer box; it calls
   `chamberlain.skymap.overlap.wcs_polygon` and `box_overlap_area`).
2. **Template**: 4 noiseless simulated patch coadds (2 x 2 patches of 1700 px inner + 100 px
   border, FITS files) around a 2048 x 2048 detector rotated by 10 degrees; times
   `GetTemplateTask.run` and prints the bytes it read against the coadds' total size (only
   the needed cutouts are read) and the residual against the true sky.

Usage::

    .venv/bin/python benchmarks/templates.py [--regions 10000] [--size 2048] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import contextlib

from _common import fmt_number, log, machine_summary, print_table

from chamberlain.errors import NoWorkFound
from chamberlain.image import Box
from chamberlain.skymap import RingsSkyMap
from chamberlain.tasks._template_sim import FileCoaddHandle, TruthSky, make_patch_coadds, tan_wcs
from chamberlain.tasks.get_template import GetTemplateTask

LSST_CELLS_V1 = {
    "num_rings": 120,
    "projection": "TAN",
    "tract_overlap": 1.0 / 60.0,
    "pixel_scale": 0.2,
    "rotation": 0.0,
    "ra_start": 0.0,
    "tract_builder": "cells",
}


class _HeaderHandle:
    """A coadd handle answering only the header components the overlap selection reads."""

    def __init__(self, wcs: object, bbox: Box) -> None:
        self._components = {"wcs": wcs, "bbox": bbox}

    def get(self, *, parameters: object = None, component: str | None = None) -> object:
        assert component is not None
        return self._components[component]


def overlap_search(n_regions: int, seed: int) -> tuple[float, float, float]:
    """Seconds for the search, mean candidate patches and mean kept patches per region."""
    skymap = RingsSkyMap(LSST_CELLS_V1)
    rng = np.random.default_rng(seed)
    ras = rng.uniform(10.0, 40.0, n_regions)
    decs = rng.uniform(-8.0, 8.0, n_regions)
    rots = rng.uniform(0.0, 360.0, n_regions)
    bbox = Box.from_size(0, 0, 4096, 4096)
    corners = []
    wcses = []
    for ra, dec, rot in zip(ras, decs, rots):
        wcs = tan_wcs(float(ra), float(dec), (2047.5, 2047.5), 0.2, float(rot))
        x0, y0, x1, y1 = bbox.float_bounds()
        cra, cdec = wcs.pixel_to_world_values(np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1]))
        corners.append(np.column_stack([cra, cdec]))
        wcses.append(wcs)
    task = GetTemplateTask()
    candidates = kept = 0
    t0 = time.perf_counter()
    for points, wcs in zip(corners, wcses):
        for tract, patches in skymap.find_tract_patch_list(points):
            candidates += len(patches)
            handles = [
                (
                    _HeaderHandle(tract.wcs, p.outer_bbox),
                    {"tract": tract.tract_id, "patch": p.sequential_index},
                )
                for p in patches
            ]
            with contextlib.suppress(NoWorkFound):
                kept += len(task.select_overlapping(handles, bbox, wcs))
    elapsed = time.perf_counter() - t0
    return elapsed, candidates / n_regions, kept / n_regions


def build_template(size: int, seed: int) -> dict[str, float]:
    """Build one template from 4 patches; return timings, I/O and residual figures."""
    ra0, dec0 = 30.0, -5.0
    inner, border = 1700, 100
    tract_wcs = tan_wcs(ra0, dec0, (inner - 0.5, inner - 0.5), 0.2)
    sky = TruthSky.random(ra0, dec0, 0.12, 60, seed=seed)
    with tempfile.TemporaryDirectory() as directory:
        t0 = time.perf_counter()
        coadds = make_patch_coadds(sky, tract_wcs, inner=inner, border=border)
        handles = [FileCoaddHandle.write(directory, e, d) for e, d in coadds]
        make_seconds = time.perf_counter() - t0
        det_wcs = tan_wcs(ra0, dec0, ((size - 1) / 2.0, (size - 1) / 2.0), 0.2, rotation=10.0)
        bbox = Box.from_size(0, 0, size, size)
        task = GetTemplateTask()
        t0 = time.perf_counter()
        template = task.run(handles, bbox, det_wcs).template
        run_seconds = time.perf_counter() - t0
        read = sum(h.bytes_read for h in handles)
        total = sum(h.file_size for h in handles)
    truth = sky.render(template.bbox, det_wcs)
    good = ~template.mask.get_plane("NO_DATA")
    good[:30, :] = good[-30:, :] = good[:, :30] = good[:, -30:] = False
    rms = float(np.sqrt(np.mean((template.image.array - truth)[good] ** 2)))
    return {
        "make": make_seconds,
        "run": run_seconds,
        "read": read,
        "total": total,
        "rms": rms,
        "coverage": float(good.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--regions", type=int, default=10000, help="detector regions for the overlap search")
    parser.add_argument("--size", type=int, default=2048, help="template detector size (pixels)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(machine_summary())
    log(f"Overlap search over {args.regions} detector regions ...")
    seconds, candidates, kept = overlap_search(args.regions, args.seed)
    log(f"Building one {args.size} x {args.size} template from 4 patches ...")
    figures = build_template(args.size, args.seed)
    print_table(
        ["measurement", "value"],
        [
            [f"overlap search, {args.regions} regions (s)", fmt_number(seconds, 2)],
            ["  per region (ms)", fmt_number(1000.0 * seconds / max(args.regions, 1), 3)],
            ["  candidate patches per region", fmt_number(candidates, 2)],
            ["  overlapping patches per region (exact)", fmt_number(kept, 2)],
            [f"template {args.size}x{args.size} from 4 patches (s)", fmt_number(figures["run"], 2)],
            ["  bytes read (MB)", fmt_number(figures["read"] / 1e6, 1)],
            ["  coadds' total size (MB)", fmt_number(figures["total"] / 1e6, 1)],
            ["  read / total", fmt_number(figures["read"] / figures["total"], 3)],
            ["  residual RMS vs truth (noise sigma = 1)", f"{figures['rms']:.2e}"],
            ["simulating + writing the 4 coadds (s)", fmt_number(figures["make"], 2)],
        ],
    )
    if not math.isfinite(figures["rms"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
