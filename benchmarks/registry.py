#!/usr/bin/env python
"""Registry benchmark: region inserts, dataset inserts and find_dataset lookups.

For each backend (SQLite, PostgreSQL) and each of ``--reps`` fresh
repositories this measures three workloads:

1. one ``insert_dimension_records`` call with ``--n-vdr`` visit_detector_region
   records, each with a detector-sized (~0.11 deg) convex polygon region; no
   skymap is registered, so there are no overlaps to compute;
2. one ``insert_datasets`` call with ``--n-datasets`` datasets of a type with
   dimensions (instrument, visit, detector);
3. ``find_dataset`` called once per data ID for ``--find-n`` data IDs, searching
   a CHAINED collection of three runs (empty, a 5% subset, the full run).

Only the calls named above are timed; records, regions and data IDs are built
beforehand. The instrument has 50 detectors; the visits (with the
physical_filter and day_obs records they imply) are as many as needed to hold
the records, 2,000 at default sizes. Pointings are random (seeded) over
RA 10-40 deg, Dec -8..+8 deg (about 480 square degrees).

When ``lsst.daf.butler`` is importable (or ``--peer-python`` names an
interpreter where it is), the same three workloads run on the Rubin butler
(``Butler.makeRepo``, ``registry.insertDimensionData``,
``registry.insertDatasets``, ``registry.findDataset``) in the same run, and
the ratios Chamberlain speed / Rubin speed are printed. The Rubin half runs
``--peer-reps`` fresh repositories (default 1: one repetition on both backends
takes about 2.5 minutes on a 2-core machine, so three would not fit the
five-minute budget of a default run).

Beside each Chamberlain figure the report prints its floor: the SQL
statements that call sent to the driver (captured by ``benchmarks/_floor.py``,
including the ``executemany``/``COPY`` and lookups Chamberlain sends to the
driver itself), replayed with the same parameters through the raw driver
(``sqlite3``, ``psycopg``) with rows fetched as tuples, and ``x floor``, the
ratio Chamberlain time / raw time. The inserts are replayed in one
transaction on a twin repository brought to the same state (so they insert
the same rows into the same tables); the untimed warm-up there reads a row
of each target table. The find_dataset statements are recorded in a second,
untimed pass over the same data IDs and replayed one call at a time.

``--profile`` prints a cProfile of each timed Chamberlain call to stderr.
``--workdir`` puts the temporary repositories under a directory of your
choice (created if missing).

Usage::

    .venv/bin/python benchmarks/registry.py [--backends sqlite,postgresql] [--reps 3] [--quick]
        [--workdir DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import lsst.sphgeom as sg
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    DEFAULT_PG_URL,
    drop_schema,
    ensure_workdir,
    fmt_number,
    log,
    machine_summary,
    mean,
    median,
    new_namespace,
    package_versions,
    peer_available,
    pg_reachable,
    print_table,
    run_peer_worker,
    time_call,
)
from _floor import RawDriver, Statement, capture, ratio

INSTRUMENT = "BenchCam"
N_DETECTORS = 50
GRID_X = 8  # detectors sit on an 8 x 7 grid (50 of its 56 cells are used)
PITCH_DEG = 0.12  # detector spacing on the sky
DET_HALF_DEG = 0.055  # half the side of a detector's square region (~0.11 deg detectors)
VISITS_PER_NIGHT = 200
FILTERS = [("BC-g", "g"), ("BC-r", "r"), ("BC-i", "i"), ("BC-z", "z")]
#: 2026-01-01T00:00:00 TAI in TAI nanoseconds since 1970-01-01 (20454 days; TAI has no leap seconds).
BASE_NS = 20_454 * 86_400 * 1_000_000_000
DATASET_TYPE = "bench_calexp"
RUNS = ("bench/run1", "bench/run2", "bench/run3")  # full, 5% subset, empty
CHAIN = "bench/chain"
SUBSET_STRIDE = 20  # every 20th data ID also goes into run2

GOAL_VDR_PER_S = 90_000.0
GOAL_FIND_US = 90.0


# --- workload ----------------------------------------------------------------------------


@dataclass
class Workload:
    """Backend-neutral records: plain values, sphgeom regions, TAI-ns timespans."""

    detectors: list[dict[str, Any]]
    day_obs: list[dict[str, Any]]  # "timespan_ns": (begin, end)
    visits: list[dict[str, Any]]  # "timespan_ns": (begin, end), "region": ConvexPolygon
    vdr: list[dict[str, Any]]
    dataset_ids: list[tuple[int, int]]  # (visit, detector)
    find_idx: list[int]  # indices into dataset_ids
    instrument: dict[str, Any] = field(default_factory=dict)
    physical_filters: list[dict[str, Any]] = field(default_factory=list)


def _box(ra: float, dec: float, half: float) -> sg.ConvexPolygon:
    """A ``2 half`` x ``2 half`` degree box centred on (ra, dec)."""
    dra = half / max(math.cos(math.radians(dec)), 1e-3)
    corners = [(ra - dra, dec - half), (ra + dra, dec - half), (ra + dra, dec + half), (ra - dra, dec + half)]
    return sg.ConvexPolygon.convexHull([sg.UnitVector3d(sg.LonLat.fromDegrees(a, d)) for a, d in corners])


def build_workload(n_vdr: int, n_datasets: int, find_n: int, seed: int = 20260101) -> Workload:
    """Build the records and data IDs (deterministic for a given seed)."""
    if find_n > n_datasets:
        raise SystemExit(f"--find-n ({find_n}) cannot exceed --n-datasets ({n_datasets}).")
    rng = np.random.default_rng(seed)
    n_visits = math.ceil(max(n_vdr, n_datasets) / N_DETECTORS)
    n_nights = math.ceil(n_visits / VISITS_PER_NIGHT)
    instrument = {
        "name": INSTRUMENT,
        "visit_max": 10_000_000,
        "visit_system": 0,
        "exposure_max": 10_000_000,
        "detector_max": N_DETECTORS,
        "class_name": "bench.BenchCam",
    }
    filters = [{"instrument": INSTRUMENT, "name": pf, "band": b} for pf, b in FILTERS]
    detectors = [
        {
            "instrument": INSTRUMENT,
            "id": d,
            "full_name": f"R{d // 9:02d}_S{d % 9:02d}",
            "name_in_raft": f"S{d % 9:02d}",
            "raft": f"R{d // 9:02d}",
            "purpose": "SCIENCE",
        }
        for d in range(N_DETECTORS)
    ]
    day_ns = 86_400 * 1_000_000_000
    day_obs: list[dict[str, Any]] = [
        {
            "instrument": INSTRUMENT,
            "id": 20260101 + n if n < 31 else 20260201 + (n - 31),
            "timespan_ns": (BASE_NS + n * day_ns + day_ns // 2, BASE_NS + (n + 1) * day_ns + day_ns // 2),
        }
        for n in range(n_nights)
    ]
    if n_nights > 59:
        raise SystemExit("Too many visits for the synthetic calendar (max 59 nights of 200 visits).")
    ras = rng.uniform(10.0, 40.0, n_visits)
    decs = rng.uniform(-8.0, 8.0, n_visits)
    offsets = [((d % GRID_X) - (GRID_X - 1) / 2, (d // GRID_X) - 3.0) for d in range(N_DETECTORS)]
    visits: list[dict[str, Any]] = []
    vdr: list[dict[str, Any]] = []
    for i in range(n_visits):
        visit_id = i + 1
        night, seq = divmod(i, VISITS_PER_NIGHT)
        begin = day_obs[night]["timespan_ns"][0] + day_ns // 4 + seq * 40 * 1_000_000_000
        ra, dec = float(ras[i]), float(decs[i])
        visits.append(
            {
                "instrument": INSTRUMENT,
                "id": visit_id,
                "name": f"BC_{day_obs[night]['id']}_{seq:06d}",
                "physical_filter": FILTERS[i % len(FILTERS)][0],
                "day_obs": day_obs[night]["id"],
                "seq_num": seq,
                "exposure_time": 30.0,
                "target_name": "WIDE",
                "observation_reason": "survey",
                "science_program": "BENCH-2026",
                "azimuth": float(rng.uniform(0, 360)),
                "zenith_angle": float(rng.uniform(5, 60)),
                "region": _box(ra, dec, 0.5),
                "timespan_ns": (begin, begin + 30 * 1_000_000_000),
            }
        )
        cosd = max(math.cos(math.radians(dec)), 1e-3)
        for d, (ox, oy) in enumerate(offsets):
            if len(vdr) >= n_vdr:
                break
            cra, cdec = ra + ox * PITCH_DEG / cosd, dec + oy * PITCH_DEG
            vdr.append(
                {
                    "instrument": INSTRUMENT,
                    "visit": visit_id,
                    "detector": d,
                    "region": _box(cra, cdec, DET_HALF_DEG),
                }
            )
    dataset_ids = [(v, d) for v in range(1, n_visits + 1) for d in range(N_DETECTORS)][:n_datasets]
    find_idx = sorted(int(x) for x in rng.choice(n_datasets, size=find_n, replace=False))
    rng.shuffle(find_idx)  # look up in random order
    return Workload(
        detectors, day_obs, visits, vdr, dataset_ids, [int(x) for x in find_idx], instrument, filters
    )


def expected_run(index: int) -> str:
    """The run a find_dataset on ``dataset_ids[index]`` through the chain must return."""
    return RUNS[1] if index % SUBSET_STRIDE == 0 else RUNS[0]


# --- one repetition, either system --------------------------------------------------------


@dataclass
class RepResult:
    """Timings of one fresh repository."""

    vdr_s: float
    datasets_s: float
    find_median_us: float
    find_mean_us: float
    # The same SQL through the raw driver (Chamberlain only; see benchmarks/_floor.py).
    vdr_floor_s: float = float("nan")
    datasets_floor_s: float = float("nan")
    find_floor_median_us: float = float("nan")
    find_floor_mean_us: float = float("nan")

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def _find_loop(find: Callable[[dict[str, Any]], Any], wl: Workload) -> tuple[list[float], list[Any]]:
    data_ids = [
        {"instrument": INSTRUMENT, "visit": wl.dataset_ids[i][0], "detector": wl.dataset_ids[i][1]}
        for i in wl.find_idx
    ]
    per_call: list[float] = []
    found: list[Any] = []
    clock = time.perf_counter
    for did in data_ids:
        t0 = clock()
        ref = find(did)
        per_call.append(clock() - t0)
        found.append(ref)
    return per_call, found


def _check_found(found: Sequence[Any], wl: Workload, who: str) -> None:
    for i, ref in zip(wl.find_idx, found):
        if ref is None or ref.run != expected_run(i):
            raise RuntimeError(f"{who}: find_dataset for {wl.dataset_ids[i]} returned {ref!r}.")


class _Profiler:
    """Optional cProfile around the timed calls of one system, one profile per workload."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.profiles: dict[str, cProfile.Profile] = {}

    def call(self, label: str, fn: Callable[[], Any]) -> tuple[float, Any]:
        if not self.enabled:
            return time_call(fn)
        profile = self.profiles.setdefault(label, cProfile.Profile())
        profile.enable()
        try:
            return time_call(fn)
        finally:
            profile.disable()

    def report(self, title: str, top: int = 20) -> None:
        for label, profile in self.profiles.items():
            log(f"cProfile of {title}: {label} (top {top} by internal time; profiling inflates timings)")
            pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(top)


def _insert_floor(reg: Any, twin: Any, statements: list[Statement]) -> float:
    """Time the captured insert statements on the twin; check it then holds what ``reg`` holds."""
    with RawDriver(twin) as raw:
        seconds = raw.time_insert(statements)
        replayed = raw.count_rows(statements)
    with RawDriver(reg) as raw:
        held = raw.count_rows(statements)
    if replayed != held:
        raise RuntimeError(f"The raw-driver replay left rows {replayed}; the Chamberlain insert left {held}.")
    return seconds


def chamberlain_rep(
    backend: str, wl: Workload, pg_url: str, workdir: str, rep: int, prof: _Profiler
) -> RepResult:
    """Run the three workloads on a fresh Chamberlain repository, and their floors.

    The statements each timed call sends are captured (`_floor.capture`) and
    replayed through the raw driver: the inserts on a twin repository that was
    brought to the same state before each insert (so they insert the same rows
    into the same tables), the lookups on the repository itself.
    """
    from chamberlain.datasets import DatasetType
    from chamberlain.geometry import Timespan
    from chamberlain.registry import Registry

    def with_timespan(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in recs:
            r = dict(r)
            r["timespan"] = Timespan(*r.pop("timespan_ns"))
            out.append(r)
        return out

    def load_base(reg: Registry) -> None:
        reg.insert_dimension_records("instrument", [wl.instrument])
        reg.insert_dimension_records("physical_filter", wl.physical_filters)
        reg.insert_dimension_records("detector", wl.detectors)
        reg.insert_dimension_records("day_obs", with_timespan(wl.day_obs))
        reg.insert_dimension_records("visit", with_timespan(wl.visits))

    def register(reg: Registry) -> None:
        dt = DatasetType(
            DATASET_TYPE, ["instrument", "visit", "detector"], "StructuredDataDict", universe=reg.universe
        )
        reg.register_dataset_type(dt)
        for run in RUNS:
            reg.register_run(run)

    namespaces = [new_namespace("bench"), new_namespace("bench_floor")] if backend == "postgresql" else []
    url = pg_url if backend == "postgresql" else f"sqlite:///{workdir}/chamberlain_{rep}.sqlite3"
    twin_url = pg_url if backend == "postgresql" else f"sqlite:///{workdir}/floor_twin_{rep}.sqlite3"
    reg = twin = None
    try:
        reg = Registry.create(url, namespace=namespaces[0] if namespaces else None)
        twin = Registry.create(twin_url, namespace=namespaces[1] if namespaces else None)
        load_base(reg)
        load_base(twin)
        # The recorder costs a little per statement (and per COPY row) inside these timed calls.
        with capture(reg) as vdr_sql:
            vdr_s, _ = prof.call(
                "vdr insert", lambda: reg.insert_dimension_records("visit_detector_region", wl.vdr)
            )
        vdr_floor_s = _insert_floor(reg, twin, vdr_sql.statements)

        register(reg)
        register(twin)
        data_ids = [{"instrument": INSTRUMENT, "visit": v, "detector": d} for v, d in wl.dataset_ids]
        with capture(reg) as datasets_sql:
            datasets_s, _ = prof.call(
                "dataset insert", lambda: reg.insert_datasets(DATASET_TYPE, data_ids, RUNS[0])
            )
        datasets_floor_s = _insert_floor(reg, twin, datasets_sql.statements)
        twin.close()
        reg.insert_datasets(DATASET_TYPE, data_ids[::SUBSET_STRIDE], RUNS[1])
        reg.register_collection(CHAIN, "CHAINED")
        reg.set_collection_chain(CHAIN, [RUNS[2], RUNS[1], RUNS[0]])

        def find(did: dict[str, Any]) -> Any:
            return reg.find_dataset(DATASET_TYPE, did, collections=CHAIN)

        _, (per_call, found) = prof.call("find_dataset loop", lambda: _find_loop(find, wl))
        _check_found(found, wl, "chamberlain")
        # A second, untimed pass records each call's statements for the floor.
        with capture(reg) as find_sql:

            def find_recorded(did: dict[str, Any]) -> Any:
                find_sql.split()  # one group of statements per call
                return find(did)

            _find_loop(find_recorded, wl)
        with RawDriver(reg) as raw:
            floor_per_call = raw.time_calls(find_sql.groups)
    finally:
        for r in (reg, twin):
            if r is not None:
                r.close()
        for namespace in namespaces:
            drop_schema(pg_url, namespace)
    return RepResult(
        vdr_s,
        datasets_s,
        median(per_call) * 1e6,
        mean(per_call) * 1e6,
        vdr_floor_s,
        datasets_floor_s,
        median(floor_per_call) * 1e6,
        mean(floor_per_call) * 1e6,
    )


def rubin_rep(backend: str, wl: Workload, pg_url: str, workdir: str, rep: int, prof: _Profiler) -> RepResult:
    """Run the three workloads on a fresh Rubin butler repository."""
    import astropy.time
    from lsst.daf.butler import Butler, CollectionType, Config, DatasetType, Timespan

    day_ns = 86_400 * 1_000_000_000

    def ts(begin_end: tuple[int, int]) -> Timespan:
        times = [
            astropy.time.Time(40587.0 + ns // day_ns, (ns % day_ns) / day_ns, format="mjd", scale="tai")
            for ns in begin_end
        ]
        return Timespan(*times)

    def with_timespan(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in recs:
            r = dict(r)
            r["timespan"] = ts(r.pop("timespan_ns"))
            out.append(r)
        return out

    root = os.path.join(workdir, f"rubin_{backend}_{rep}")
    seed = Config({})
    namespace = None
    if backend == "postgresql":
        namespace = new_namespace("bench_rubin")
        seed["registry", "db"] = pg_url
        seed["registry", "namespace"] = namespace
    try:
        Butler.makeRepo(root, config=seed)
        butler = Butler.from_config(root, writeable=True)
        try:
            reg = butler.registry
            reg.insertDimensionData("instrument", wl.instrument)
            reg.insertDimensionData("physical_filter", *wl.physical_filters)
            reg.insertDimensionData("detector", *wl.detectors)
            reg.insertDimensionData("day_obs", *with_timespan(wl.day_obs))
            reg.insertDimensionData("visit", *with_timespan(wl.visits))
            vdr_s, _ = prof.call(
                "vdr insert", lambda: reg.insertDimensionData("visit_detector_region", *wl.vdr)
            )

            dt = DatasetType(
                DATASET_TYPE,
                ["instrument", "visit", "detector"],
                "StructuredDataDict",
                universe=butler.dimensions,
            )
            reg.registerDatasetType(dt)
            for run in RUNS:
                reg.registerRun(run)
            data_ids = [{"instrument": INSTRUMENT, "visit": v, "detector": d} for v, d in wl.dataset_ids]
            datasets_s, _ = prof.call("dataset insert", lambda: reg.insertDatasets(dt, data_ids, run=RUNS[0]))
            reg.insertDatasets(dt, data_ids[::SUBSET_STRIDE], run=RUNS[1])
            reg.registerCollection(CHAIN, CollectionType.CHAINED)
            reg.setCollectionChain(CHAIN, [RUNS[2], RUNS[1], RUNS[0]])

            _, (per_call, found) = prof.call(
                "find_dataset loop",
                lambda: _find_loop(lambda did: reg.findDataset(DATASET_TYPE, did, collections=CHAIN), wl),
            )
            _check_found(found, wl, "rubin")
        finally:
            butler.close()
    finally:
        if namespace is not None:
            drop_schema(pg_url, namespace)
    return RepResult(vdr_s, datasets_s, median(per_call) * 1e6, mean(per_call) * 1e6)


def run_system(
    system: str,
    backend: str,
    wl: Workload,
    reps: int,
    pg_url: str,
    profile: bool,
    workdir: str | None = None,
) -> list[dict[str, float]]:
    """All repetitions of one system on one backend, each in a fresh repository.

    Parameters
    ----------
    system
        ``"chamberlain"`` or ``"rubin"``.
    backend
        ``"sqlite"`` or ``"postgresql"``.
    wl
        The records and data IDs.
    reps
        Fresh repositories.
    pg_url
        PostgreSQL server.
    profile
        Whether to cProfile the timed calls.
    workdir
        Directory under which the temporary repositories are made (created if
        missing); the system's temporary directory if None.
    """
    rep_fn = chamberlain_rep if system == "chamberlain" else rubin_rep
    out = []
    prof = _Profiler(profile)
    with tempfile.TemporaryDirectory(prefix=f"bench_{system}_", dir=ensure_workdir(workdir)) as tmp:
        for rep in range(reps):
            r = rep_fn(backend, wl, pg_url, tmp, rep, prof)
            log(
                f"  {system:11s} {backend:10s} rep {rep + 1}/{reps}: vdr {r.vdr_s:.2f}s, "
                f"datasets {r.datasets_s:.2f}s, "
                f"find median {r.find_median_us:.0f}us mean {r.find_mean_us:.0f}us"
                + (
                    f"; raw driver: vdr {r.vdr_floor_s:.2f}s, datasets {r.datasets_floor_s:.2f}s, "
                    f"find median {r.find_floor_median_us:.0f}us"
                    if system == "chamberlain"
                    else ""
                )
            )
            out.append(r.to_dict())
    prof.report(f"{system} on {backend}")
    return out


# --- report ------------------------------------------------------------------------------


def summarize(reps: list[dict[str, float]], wl_sizes: dict[str, int]) -> dict[str, float]:
    """Medians over repetitions, as the printed figures (``floor_<key>``: the raw-driver replay)."""
    nan = float("nan")

    def med(key: str) -> float:
        return median([r.get(key, nan) for r in reps])

    return {
        "vdr_per_s": wl_sizes["n_vdr"] / med("vdr_s"),
        "datasets_per_s": wl_sizes["n_datasets"] / med("datasets_s"),
        "find_median_us": med("find_median_us"),
        "find_mean_us": med("find_mean_us"),
        "floor_vdr_per_s": wl_sizes["n_vdr"] / med("vdr_floor_s"),
        "floor_datasets_per_s": wl_sizes["n_datasets"] / med("datasets_floor_s"),
        "floor_find_median_us": med("find_floor_median_us"),
        "floor_find_mean_us": med("find_floor_mean_us"),
    }


FIGURES = [
    # key, label, higher is better, sqlite goal
    ("vdr_per_s", "visit_detector_region insert (records/s)", True, GOAL_VDR_PER_S),
    ("datasets_per_s", "insert_datasets (datasets/s)", True, None),
    ("find_median_us", "find_dataset, median per call (µs)", False, GOAL_FIND_US),
    ("find_mean_us", "find_dataset, mean per call (µs)", False, GOAL_FIND_US),
]


def print_report(results: dict[str, dict[str, Any]], args: argparse.Namespace, sizes: dict[str, int]) -> None:
    """The final table: per backend and figure, both systems, ratio, goal, PASS/MISS."""
    print()
    print(
        f"Registry benchmark  (medians over {args.reps} fresh repositories per backend"
        + (f"; Rubin: {args.peer_reps}" if args.peer_reps != args.reps else "")
        + ")"
    )
    print(
        f"workload: {sizes['n_vdr']:,} visit_detector_region records with regions "
        f"({sizes['n_visits']:,} visits x {N_DETECTORS} detectors, no skymap), "
        f"{sizes['n_datasets']:,} datasets, find_dataset x {sizes['find_n']:,} data IDs "
        "through a chain of 3 runs"
    )
    print("ratio = Chamberlain speed / Rubin speed (>1: Chamberlain faster)")
    print(
        "raw driver = the SQL statements Chamberlain sent, replayed with their parameters through "
        "sqlite3 / psycopg\n(rows fetched as tuples; inserts as the same executemany/COPY in one "
        "transaction); x floor = Chamberlain time / raw time"
    )
    print()
    headers = [
        "backend",
        "figure",
        "Chamberlain",
        "raw driver",
        "x floor",
        "Rubin",
        "ratio",
        "goal",
        "result",
    ]
    rows = []
    for backend, res in results.items():
        ch, rb = res.get("chamberlain"), res.get("rubin")
        for key, label, higher, goal in FIGURES:
            cv = ch[key] if ch else None
            fv = ch[f"floor_{key}"] if ch else None
            rv = rb[key] if rb else None
            digits = 0 if higher else 1
            ratio_txt = "—"
            if cv and rv:
                ratio_txt = f"{(cv / rv) if higher else (rv / cv):.1f}x"
            goal_txt, verdict = "—", "—"
            if goal is not None and backend == "sqlite":
                goal_txt = f"{'>=' if higher else '<='} {fmt_number(goal)}"
                if cv is not None:
                    verdict = "PASS" if (cv >= goal if higher else cv <= goal) else "MISS"
            # Times: Chamberlain / raw; rates: raw / Chamberlain (the same ratio of times).
            floor_ratio = ratio(fv, cv) if higher else ratio(cv, fv)
            rows.append(
                [backend, label, fmt_number(cv, digits), fmt_number(fv, digits), floor_ratio,
                 fmt_number(rv, digits), ratio_txt, goal_txt, verdict]
            )  # fmt: skip
        for note in res.get("notes", []):
            rows.append([backend, f"note: {note}", "", "", "", "", "", "", ""])
    print_table(headers, rows, align="llrrrrrrl")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument(
        "--n-vdr", type=int, default=100_000, help="visit_detector_region records (default 100000)"
    )
    ap.add_argument("--n-datasets", type=int, default=100_000, help="datasets inserted (default 100000)")
    ap.add_argument(
        "--find-n", type=int, default=5_000, help="find_dataset calls per repetition (default 5000)"
    )
    ap.add_argument("--reps", type=int, default=3, help="fresh repositories per backend (default 3)")
    ap.add_argument(
        "--peer-reps",
        type=int,
        default=1,
        help="fresh repositories for the Rubin butler (default 1: each takes ~2.5 min for both backends)",
    )
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL)
    ap.add_argument("--no-peer", action="store_true", help="skip the Rubin butler even if importable")
    ap.add_argument("--peer-python", default=None, help="interpreter with lsst.daf.butler for the Rubin half")
    ap.add_argument("--profile", action="store_true", help="cProfile the timed Chamberlain calls (to stderr)")
    ap.add_argument("--json", default=None, help="also write all raw timings to this JSON file")
    ap.add_argument(
        "--workdir", default=None, help="directory for the temporary repositories (created if missing)"
    )
    ap.add_argument("--rubin-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.n_vdr, args.n_datasets, args.find_n, args.reps = 5_000, 5_000, 500, 1
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgresql"):
            raise SystemExit(f"Unknown backend {b!r}; valid: sqlite, postgresql.")

    t_start = time.perf_counter()
    log(f"building workload: {args.n_vdr} vdr records, {args.n_datasets} datasets, {args.find_n} lookups")
    build_s, wl = time_call(lambda: build_workload(args.n_vdr, args.n_datasets, args.find_n))
    sizes = {
        "n_vdr": len(wl.vdr),
        "n_datasets": len(wl.dataset_ids),
        "find_n": len(wl.find_idx),
        "n_visits": len(wl.visits),
    }
    log(f"  built in {build_s:.1f}s ({sizes['n_visits']} visits)")

    if args.rubin_worker:  # Rubin half only, in a separate interpreter: print JSON
        out = {
            b: run_system("rubin", b, wl, args.peer_reps, args.pg_url, False, args.workdir) for b in backends
        }
        print(json.dumps(out))
        return 0

    peer_mode = None
    if not args.no_peer:
        if args.peer_python:
            peer_mode = "subprocess" if peer_available(args.peer_python) else None
        elif peer_available():
            peer_mode = "in-process"
    results: dict[str, dict[str, Any]] = {}
    raw: dict[str, Any] = {}
    for backend in backends:
        results[backend] = {"notes": []}
        if backend == "postgresql":
            server = pg_reachable(args.pg_url)
            if server is None:
                results[backend]["notes"].append(f"PostgreSQL at {args.pg_url} unreachable; skipped")
                continue
            results[backend]["notes"].append(f"server {server}")
        log(f"== {backend}: Chamberlain ==")
        reps = run_system("chamberlain", backend, wl, args.reps, args.pg_url, args.profile, args.workdir)
        raw[f"chamberlain/{backend}"] = reps
        results[backend]["chamberlain"] = summarize(reps, sizes)
        if peer_mode == "in-process":
            log(f"== {backend}: Rubin butler ==")
            reps = run_system("rubin", backend, wl, args.peer_reps, args.pg_url, False, args.workdir)
            raw[f"rubin/{backend}"] = reps
            results[backend]["rubin"] = summarize(reps, sizes)
    if peer_mode == "subprocess":
        log(f"== Rubin butler in {args.peer_python} ==")
        worker_args = [
            "--rubin-worker", "--backends", ",".join(b for b in backends if "chamberlain" in results[b]),
            "--n-vdr", str(args.n_vdr), "--n-datasets", str(args.n_datasets), "--find-n", str(args.find_n),
            "--peer-reps", str(args.peer_reps), "--pg-url", args.pg_url,
        ] + (["--workdir", args.workdir] if args.workdir else [])  # fmt: skip
        for backend, reps in run_peer_worker(
            args.peer_python, os.path.abspath(__file__), worker_args
        ).items():
            raw[f"rubin/{backend}"] = reps
            results[backend]["rubin"] = summarize(reps, sizes)

    print_report(results, args, sizes)
    print()
    print(f"machine: {machine_summary()}")
    versions = package_versions(["lsst-sphgeom", "sqlalchemy", "psycopg", "numpy"])
    print(
        "versions: chamberlain (this checkout), " + ", ".join(f"{k} {v}" for k, v in versions.items()), end=""
    )
    import sqlite3

    print(f", sqlite {sqlite3.sqlite_version}")
    if peer_mode == "in-process":
        print(
            f"Rubin butler: lsst-daf-butler {package_versions(['lsst-daf-butler'])['lsst-daf-butler']}, "
            "run in this interpreter"
        )
    elif peer_mode == "subprocess":
        print(f"Rubin butler: run by {args.peer_python}")
    else:
        print("Rubin butler: not run (lsst.daf.butler not importable, or --no-peer)")
    print(f"total runtime {time.perf_counter() - t_start:.0f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sizes": sizes, "raw": raw, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
