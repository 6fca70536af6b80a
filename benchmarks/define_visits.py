#!/usr/bin/env python
"""DefineVisitsTask benchmark: SimCam exposures -> one-to-one visits with 9 detector regions each.

For each backend and each ``--processes`` value, ``--reps`` fresh repositories are
made holding ``--n`` SimCam exposure records (from `simulate_headers`, science
exposures only, so every exposure becomes a visit). Then one
``DefineVisitsTask.run`` call (grouping ``one-to-one``, regions
``by-camera-geometry``, one write transaction per visit) is timed, and a second,
no-op re-run of the same call. Only the ``run`` calls are timed.

The report gives visits per second (median over repetitions) and the time split
between the task's phases: exposure selection (one query), the stored-visit
lookup (one query), region computation, the per-visit write transactions, and
the rest (grouping, building and comparing records).

Usage::

    .venv/bin/python benchmarks/define_visits.py [--n 2000] [--reps 3] [--processes 1,2]
        [--backends sqlite,postgresql] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    DEFAULT_PG_URL,
    drop_schema,
    ensure_workdir,
    fmt_number,
    log,
    machine_summary,
    median,
    new_namespace,
    print_table,
)

from chamberlain.butler import Butler
from chamberlain.instrument import SimCam, simulate_headers
from chamberlain.registry import Registry
from chamberlain.tasks import DefineVisitsConfig, DefineVisitsTask

GOAL_VISITS_PER_S = 1_000.0
PHASES = ("_select", "_existing_visits", "_compute_regions", "_write")


def make_exposures(n: int) -> list[dict[str, Any]]:
    """``n`` SimCam science exposure records (headers only, no pixels)."""
    camera = SimCam()
    headers = simulate_headers(n, seed=2026, detectors=[4], calibrations=False)
    return [camera.translate_raw_header(h).exposure for h in headers]


def fill(registry: Registry, exposures: list[dict[str, Any]]) -> None:
    """Instrument, detector, filter, group, day_obs and exposure records."""
    camera = SimCam()
    registry.insert_dimension_records("instrument", [camera.instrument_record()])
    registry.insert_dimension_records("detector", camera.detector_records())
    registry.insert_dimension_records("physical_filter", camera.physical_filter_records())
    registry.insert_dimension_records(
        "group", [camera.group_record(e["group"]) for e in exposures], skip_existing=True
    )
    registry.insert_dimension_records(
        "day_obs", [camera.day_obs_record(e["day_obs"]) for e in exposures], skip_existing=True
    )
    registry.insert_dimension_records("exposure", exposures)


def instrument_phases(task: DefineVisitsTask, totals: dict[str, float]) -> None:
    """Wrap the task's phase methods so their wall-clock time is summed into ``totals``."""
    for name in PHASES:
        original: Callable[..., Any] = getattr(task, name)

        def wrapper(
            *args: Any, _original: Callable[..., Any] = original, _name: str = name, **kw: Any
        ) -> Any:
            t0 = time.perf_counter()
            try:
                return _original(*args, **kw)
            finally:
                totals[_name] += time.perf_counter() - t0

        setattr(task, name, wrapper)


def run_once(
    root: str, url: str | None, namespace: str | None, exposures: list[dict[str, Any]], processes: int
) -> dict[str, float]:
    """One fresh repository in ``root`` (its database at ``url``, or SQLite in ``root``): time the first run and the no-op re-run."""
    butler = Butler.create(root, url, namespace)
    try:
        fill(butler.registry, exposures)
        data_ids = [{"instrument": "SimCam", "exposure": e["id"]} for e in exposures]
        config = DefineVisitsConfig()
        config.compute_visit_regions.name = "by-camera-geometry"
        task = DefineVisitsTask(config, butler=butler)
        totals: dict[str, float] = defaultdict(float)
        instrument_phases(task, totals)
        t0 = time.perf_counter()
        result = task.run(data_ids, processes=processes)
        first = time.perf_counter() - t0
        assert result.n_new == len(exposures), result
        t0 = time.perf_counter()
        again = DefineVisitsTask(config, butler=butler).run(data_ids, processes=processes)
        rerun = time.perf_counter() - t0
        assert again.n_skipped == len(exposures), again
        out = {"first": first, "rerun": rerun, **totals}
        out["other"] = first - sum(totals[p] for p in PHASES)
        return out
    finally:
        butler.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="exposures (= visits)")
    parser.add_argument("--reps", type=int, default=3, help="fresh repositories per configuration")
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts")
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument(
        "--workdir", default=None, help="directory for the temporary SQLite repositories (created if missing)"
    )
    args = parser.parse_args(argv)
    process_counts = [int(p) for p in args.processes.split(",")]
    backends = args.backends.split(",")

    log(f"Simulating {args.n} SimCam exposure headers ...")
    exposures = make_exposures(args.n)
    print(f"DefineVisitsTask benchmark: {args.n} SimCam exposures -> {args.n} visits x 9 detector regions")
    print(f"machine: {machine_summary()}")
    print()
    rows = []
    phase_rows = []
    for backend in backends:
        for processes in process_counts:
            samples: list[dict[str, float]] = []
            for rep in range(args.reps):
                log(f"{backend}, processes={processes}, rep {rep + 1}/{args.reps}")
                if backend == "sqlite":
                    with tempfile.TemporaryDirectory(
                        prefix="bench_dv_", dir=ensure_workdir(args.workdir)
                    ) as tmp:
                        samples.append(run_once(f"{tmp}/repo", None, None, exposures, processes))
                else:
                    namespace = new_namespace("bench_dv")
                    try:
                        with tempfile.TemporaryDirectory(
                            prefix="bench_dv_", dir=ensure_workdir(args.workdir)
                        ) as tmp:
                            samples.append(
                                run_once(f"{tmp}/repo", args.pg_url, namespace, exposures, processes)
                            )
                    finally:
                        drop_schema(args.pg_url, namespace)
            first = median([s["first"] for s in samples])
            rerun = median([s["rerun"] for s in samples])
            rows.append(
                [
                    backend,
                    str(processes),
                    fmt_number(args.n / first),
                    fmt_number(args.n / rerun),
                    "yes" if args.n / first >= GOAL_VISITS_PER_S else "no",
                ]
            )
            phase_rows.append(
                [
                    backend,
                    str(processes),
                    *[fmt_number(1e6 * median([s[p] for s in samples]) / args.n) for p in (*PHASES, "other")],
                ]
            )
    print_table(
        ["backend", "processes", "visits/s", "re-run visits/s", f"goal >= {GOAL_VISITS_PER_S:,.0f}"], rows
    )
    print()
    print("Time per visit (microseconds, median) by phase of the first run:")
    print_table(["backend", "processes", "select", "stored", "regions", "write", "other"], phase_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
