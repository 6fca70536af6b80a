#!/usr/bin/env python
"""Query benchmark: spatial join, region-literal query and query_datasets.

Builds the same synthetic repository in Chamberlain and (when
``lsst.daf.butler`` is importable) in the Rubin butler: 2,000 visits x 50
detectors with regions (the workload of ``benchmarks/registry.py``), and a
skymap of 2 x 2 degree tracts with 10 x 10 patches covering the pointings.
Then times:

1. the spatial join ``query_data_ids([visit, detector, tract, patch])``
   (every row, converted to data IDs);
2. ``query_data_ids([visit, detector], where="visit_detector_region.region
   OVERLAPS POINT(ra, dec)")`` at a visit centre (median of ``--reps``);

Repeated figures are medians of ``--reps`` calls after one untimed warm-up
call, for both systems; the first spatial join after the load ("fresh") is
timed on its own, cold.
3. ``query_datasets`` returning 5,000 datasets (median of ``--reps``), and the
   same again reading every ref's ID, run and full data ID (Chamberlain's refs
   hold their result row and build those on access; the Rubin butler builds
   them up front), so both the cost of getting the refs and the cost of
   using all of them are shown.

Beside each Chamberlain figure the table prints its floor ("raw driver"): the
SQL statements the call sent (captured from its untimed warm-up call by
``benchmarks/_floor.py``), replayed with their parameters through ``sqlite3``
/ ``psycopg`` on the same database, rows fetched as tuples, timed the same
way (median of ``--reps`` after one untimed replay, each replay right after
a timed Chamberlain call; the fresh spatial join: one replay), and ``x floor`` = Chamberlain time / raw time. For
query_datasets the time is also split into SQL (the floor) and Python
conversion (the rest), and one more call is traced to show how much of it
is spent inside the driver's execute and fetch calls.

On PostgreSQL the spatial join runs twice: immediately after the bulk load
("fresh") and again after the other queries ("later"); the ratio of the two
shows whether the planner statistics were fresh after the load (Chamberlain
ANALYZEs a table after a commit once 1,000 rows, and at least 20 % of the
rows it last analysed, were bulk-loaded into it). The Rubin butler
runs under a PostgreSQL ``statement_timeout`` of ``--pg-timeout`` seconds.

Usage::

    .venv/bin/python benchmarks/queries.py [--backends sqlite,postgresql] [--no-peer] [--quick]
        [--workdir DIR]
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import lsst.sphgeom as sg

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
    package_versions,
    peer_available,
    pg_reachable,
    print_table,
    time_call,
)
from _floor import RawDriver, Statement, capture, ratio


def _load_registry_bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_bench_registry", os.path.join(os.path.dirname(os.path.abspath(__file__)), "registry.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_bench_registry"] = module
    spec.loader.exec_module(module)
    return module


RB = _load_registry_bench()
#: Chamberlain figures printed with the time of their SQL through the raw driver beside them,
#: and the result key holding the rows each returned.
ROWS_KEYS = {
    "spatial join fresh": "spatial rows",
    "spatial join later": "spatial rows",
    "region OVERLAPS POINT": "region rows",
    "query_datasets 5000": "datasets rows",
    "query_datasets 5000, all fields read": "datasets rows",
}
FLOOR_LABELS = tuple(ROWS_KEYS)
SKYMAP = "bench_sky"
TRACT_DEG = 2.0
PATCHES = 10
GOALS = {"spatial join": 20.0, "region OVERLAPS POINT": 10.0, "query_datasets 5000": 5.0}


def _box(ra0: float, dec0: float, ra1: float, dec1: float) -> sg.ConvexPolygon:
    pts = [(ra0, dec0), (ra1, dec0), (ra1, dec1), (ra0, dec1)]
    return sg.ConvexPolygon([sg.UnitVector3d(sg.LonLat.fromDegrees(a, d)) for a, d in pts])


def skymap_records(
    ra_range: tuple[float, float], dec_range: tuple[float, float]
) -> dict[str, list[dict[str, Any]]]:
    """Tracts (boxes of TRACT_DEG) and PATCHES x PATCHES patches covering the ranges."""
    nra = math.ceil((ra_range[1] - ra_range[0]) / TRACT_DEG)
    ndec = math.ceil((dec_range[1] - dec_range[0]) / TRACT_DEG)
    tracts, patches = [], []
    step = TRACT_DEG / PATCHES
    for j in range(ndec):
        for i in range(nra):
            tid = j * nra + i
            ra0, dec0 = ra_range[0] + i * TRACT_DEG, dec_range[0] + j * TRACT_DEG
            tracts.append(
                {"skymap": SKYMAP, "id": tid, "region": _box(ra0, dec0, ra0 + TRACT_DEG, dec0 + TRACT_DEG)}
            )
            for y in range(PATCHES):
                for x in range(PATCHES):
                    a, d = ra0 + x * step, dec0 + y * step
                    patches.append(
                        {"skymap": SKYMAP, "tract": tid, "id": y * PATCHES + x, "cell_x": x, "cell_y": y,
                         "region": _box(a, d, a + step, d + step)}
                    )  # fmt: skip
    skymap = {"name": SKYMAP, "hash": b"\x02" * 20, "tract_max": len(tracts), "patch_nx_max": PATCHES,
              "patch_ny_max": PATCHES}  # fmt: skip
    return {"skymap": [skymap], "tract": tracts, "patch": patches}


def summarize_sql(statements: Sequence[Statement]) -> str:
    """How many statements a call sent, e.g. ``"2 statements"``.

    Parameters
    ----------
    statements
        Captured statements (transaction boundaries are not counted).
    """
    n = sum(1 for s in statements if not s.is_transaction)
    return f"{n} statement{'s' if n != 1 else ''}"


def _timed_reps(fn: Callable[[], Any], reps: int, floor: _Floor | None = None) -> tuple[float, int]:
    """Median time of ``reps`` calls after one untimed warm-up call (same for both systems).

    Parameters
    ----------
    fn
        The call to time.
    reps
        Timed calls.
    floor
        If given, the statements of the warm-up call are captured into it, and
        replayed through its raw driver the same way: one untimed replay, then
        one timed replay after each timed call (interleaved, so that a change
        in the machine's load affects both figures alike).
    """
    if floor is None:
        fn()
    else:
        floor.capture_call(fn)
        floor.raw.run_call(floor.statements)
    times, raw_times, n = [], [], 0
    for _ in range(reps):
        t, out = time_call(fn)
        times.append(t)
        n = len(out)
        if floor is not None:
            t, floor.rows = time_call(functools.partial(floor.raw.run_call, floor.statements))
            raw_times.append(t)
    if floor is not None:
        floor.seconds = median(raw_times)
    return median(times), n


class _Floor:
    """The statements of one Chamberlain query call, and their time through the raw driver.

    Parameters
    ----------
    registry
        The Chamberlain registry the query runs on.
    raw
        A raw-driver connection to the same database.
    """

    def __init__(self, registry: Any, raw: RawDriver) -> None:
        self.registry = registry
        self.raw = raw
        self.statements: list[Statement] = []
        self.seconds = float("nan")
        #: Rows the replay fetched (at least as many as the query returned: SQL finds candidates).
        self.rows = 0

    def capture_call(self, fn: Callable[[], Any]) -> tuple[float, Any]:
        """Call ``fn`` once, recording the statements it sends; return (seconds, result).

        Parameters
        ----------
        fn
            The query call.
        """
        with capture(self.registry) as cap:
            result = time_call(fn)
        if not any(not s.is_transaction for s in cap.statements):
            raise RuntimeError("No SQL statement was captured from a query call.")
        self.statements = cap.statements
        return result


def chamberlain_run(
    backend: str, wl: Any, sky: dict[str, Any], args: argparse.Namespace, workdir: str
) -> dict[str, Any]:
    """Load the repository in Chamberlain and time the queries."""
    from chamberlain.datasets import DatasetType
    from chamberlain.geometry import Timespan
    from chamberlain.registry import Registry

    def with_ts(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**{k: v for k, v in r.items() if k != "timespan_ns"}, "timespan": Timespan(*r["timespan_ns"])}
            for r in recs
        ]

    namespace = new_namespace("benchq") if backend == "postgresql" else None
    url = args.pg_url if backend == "postgresql" else f"sqlite:///{workdir}/chamberlain_q.sqlite3"
    reg = Registry.create(url, namespace=namespace)
    raw: RawDriver | None = None
    out: dict[str, Any] = {}
    try:
        log(f"chamberlain/{backend}: loading")
        reg.insert_dimension_records("instrument", [wl.instrument])
        reg.insert_dimension_records("physical_filter", wl.physical_filters)
        reg.insert_dimension_records("detector", wl.detectors)
        reg.insert_dimension_records("day_obs", with_ts(wl.day_obs))
        reg.insert_dimension_records("visit", with_ts(wl.visits))
        reg.insert_dimension_records("visit_detector_region", wl.vdr)
        for element in ("skymap", "tract", "patch"):
            reg.insert_dimension_records(element, sky[element])
        dt = DatasetType(
            RB.DATASET_TYPE, ["instrument", "visit", "detector"], "StructuredDataDict", universe=reg.universe
        )
        reg.register_dataset_type(dt)
        reg.register_run(RB.RUNS[0])
        reg.insert_datasets(
            RB.DATASET_TYPE,
            [{"instrument": RB.INSTRUMENT, "visit": v, "detector": d} for v, d in wl.dataset_ids],
            RB.RUNS[0],
        )
        log(f"chamberlain/{backend}: queries, each beside the same SQL through the raw driver")
        raw = RawDriver(reg)
        floors = {label: _Floor(reg, raw) for label in FLOOR_LABELS}

        def spatial() -> list[Any]:
            return list(
                reg.query_data_ids(
                    ["visit", "detector", "tract", "patch"], instrument=RB.INSTRUMENT, skymap=SKYMAP
                )
            )

        # The fresh call is captured too (the recorder costs microseconds per statement, not per
        # row), and its statements replayed once right after it, as the fresh figure is one call.
        fresh = floors["spatial join fresh"]
        t, rows = fresh.capture_call(spatial)
        fresh.seconds, fresh.rows = time_call(functools.partial(raw.run_call, fresh.statements))
        out["spatial join fresh"], out["spatial rows"] = t, len(rows)
        lonlat = sg.LonLat(wl.vdr[len(wl.vdr) // 2]["region"].getCentroid())  # inside a detector region
        where = f"visit_detector_region.region OVERLAPS POINT({lonlat.getLon().asDegrees():.6f}, {lonlat.getLat().asDegrees():.6f})"
        out["region OVERLAPS POINT"], out["region rows"] = _timed_reps(
            lambda: list(reg.query_data_ids(["visit", "detector"], where=where, instrument=RB.INSTRUMENT)),
            args.reps,
            floors["region OVERLAPS POINT"],
        )

        def datasets() -> list[Any]:
            return list(reg.query_datasets(RB.DATASET_TYPE, RB.RUNS[0]))

        def datasets_read() -> list[Any]:
            # The same, then every ref's ID, run and full data ID read (refs build those on access).
            return [(r.id, r.run, dict(r.data_id)) for r in reg.query_datasets(RB.DATASET_TYPE, RB.RUNS[0])]

        for label, fn in (
            ("query_datasets 5000", datasets),
            ("query_datasets 5000, all fields read", datasets_read),
        ):
            out[label], out["datasets rows"] = _timed_reps(fn, args.reps, floors[label])
            # One more, traced call: how much of it is spent inside the driver (execute + fetch).
            with capture(reg) as traced:
                t, _ = time_call(fn)
            out[f"traced {label}"] = (t, traced.driver_s)
        out["spatial join"], _ = _timed_reps(spatial, args.reps, floors["spatial join later"])
        out["spatial join later"] = out["spatial join"]
        for label, floor in floors.items():
            out[f"raw {label}"] = floor.seconds
            out[f"sql {label}"] = summarize_sql(floor.statements)
            returned = out[ROWS_KEYS[label]]
            if floor.rows < returned:
                raise RuntimeError(
                    f"{label}: the replay fetched {floor.rows} rows, the query returned {returned}."
                )
    finally:
        if raw is not None:
            raw.close()
        reg.close()
        if namespace is not None:
            drop_schema(args.pg_url, namespace)
    return out


def rubin_run(
    backend: str, wl: Any, sky: dict[str, Any], args: argparse.Namespace, workdir: str
) -> dict[str, Any]:
    """Load the repository in the Rubin butler and time the same queries."""
    import astropy.time
    from lsst.daf.butler import Butler, Config, DatasetType, Timespan

    day_ns = 86_400 * 1_000_000_000

    def ts(be: tuple[int, int]) -> Timespan:
        return Timespan(
            *[
                astropy.time.Time(40587.0 + ns // day_ns, (ns % day_ns) / day_ns, format="mjd", scale="tai")
                for ns in be
            ]
        )

    def with_ts(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**{k: v for k, v in r.items() if k != "timespan_ns"}, "timespan": ts(r["timespan_ns"])}
            for r in recs
        ]

    root = os.path.join(workdir, f"rubin_q_{backend}")
    seed = Config({})
    namespace = None
    if backend == "postgresql":
        namespace = new_namespace("benchq_rubin")
        seed["registry", "db"] = args.pg_url
        seed["registry", "namespace"] = namespace
        os.environ["PGOPTIONS"] = f"-c statement_timeout={int(args.pg_timeout * 1000)}"
    out: dict[str, Any] = {}
    try:
        Butler.makeRepo(root, config=seed)
        butler = Butler.from_config(root, writeable=True)
        try:
            log(f"rubin/{backend}: loading")
            reg = butler.registry
            reg.insertDimensionData("instrument", wl.instrument)
            reg.insertDimensionData("physical_filter", *wl.physical_filters)
            reg.insertDimensionData("detector", *wl.detectors)
            reg.insertDimensionData("day_obs", *with_ts(wl.day_obs))
            reg.insertDimensionData("visit", *with_ts(wl.visits))
            reg.insertDimensionData("visit_detector_region", *wl.vdr)
            for element in ("skymap", "tract", "patch"):
                reg.insertDimensionData(element, *sky[element])
            dt = DatasetType(
                RB.DATASET_TYPE,
                ["instrument", "visit", "detector"],
                "StructuredDataDict",
                universe=butler.dimensions,
            )
            reg.registerDatasetType(dt)
            reg.registerRun(RB.RUNS[0])
            reg.insertDatasets(
                dt,
                [{"instrument": RB.INSTRUMENT, "visit": v, "detector": d} for v, d in wl.dataset_ids],
                run=RB.RUNS[0],
            )
            log(f"rubin/{backend}: queries")

            def spatial() -> list[Any]:
                return butler.query_data_ids(["visit", "detector", "tract", "patch"], instrument=RB.INSTRUMENT,
                                             skymap=SKYMAP, limit=None, explain=False)  # fmt: skip

            try:
                t, rows = time_call(spatial)
                out["spatial join fresh"], out["spatial rows"] = t, len(rows)
            except Exception as err:  # statement_timeout on PostgreSQL
                log(f"rubin/{backend}: fresh spatial join failed: {str(err).splitlines()[0][:200]}")
                out["spatial join fresh"] = float("nan")
            lonlat = sg.LonLat(wl.vdr[len(wl.vdr) // 2]["region"].getCentroid())  # inside a detector region
            where = f"visit_detector_region.region OVERLAPS POINT({lonlat.getLon().asDegrees():.6f}, {lonlat.getLat().asDegrees():.6f})"
            out["region OVERLAPS POINT"], out["region rows"] = _timed_reps(
                lambda: butler.query_data_ids(["visit", "detector"], where=where, instrument=RB.INSTRUMENT,
                                              limit=None, explain=False), args.reps)  # fmt: skip
            out["query_datasets 5000"], out["datasets rows"] = _timed_reps(
                lambda: butler.query_datasets(
                    RB.DATASET_TYPE, collections=RB.RUNS[0], limit=None, explain=False
                ),
                args.reps,
            )
            out["query_datasets 5000, all fields read"], _ = _timed_reps(
                lambda: [
                    (r.id, r.run, dict(r.dataId.mapping))
                    for r in butler.query_datasets(
                        RB.DATASET_TYPE, collections=RB.RUNS[0], limit=None, explain=False
                    )
                ],
                args.reps,
            )
            try:
                out["spatial join"], _ = _timed_reps(spatial, args.reps)
            except Exception as err:
                log(f"rubin/{backend}: later spatial join failed: {str(err).splitlines()[0][:200]}")
                out["spatial join"] = float("nan")
            out["spatial join later"] = out["spatial join"]
        finally:
            butler.close()
    finally:
        os.environ.pop("PGOPTIONS", None)
        if namespace is not None:
            drop_schema(args.pg_url, namespace)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--n-visits", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="200 visits, 1 repetition")
    ap.add_argument("--no-peer", action="store_true", help="skip the Rubin butler")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL)
    ap.add_argument(
        "--pg-timeout", type=float, default=300.0, help="Rubin statement_timeout on PostgreSQL (s)"
    )
    ap.add_argument(
        "--workdir", default=None, help="directory for the temporary repositories (created if missing)"
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.n_visits, args.reps = 200, 1
    n_vdr = args.n_visits * RB.N_DETECTORS
    wl = RB.build_workload(n_vdr, min(5000, n_vdr), 1)
    sky = skymap_records((8.0, 42.0), (-10.0, 10.0))
    peer = not args.no_peer and peer_available()
    backends = [b for b in args.backends.split(",") if b]
    if "postgresql" in backends and pg_reachable(args.pg_url) is None:
        log(f"PostgreSQL at {args.pg_url} not reachable; skipping it")
        backends.remove("postgresql")
    print(f"# Query benchmark: {args.n_visits} visits x {RB.N_DETECTORS} detectors, {len(sky['tract'])} tracts, "
          f"{len(sky['patch'])} patches, {len(wl.dataset_ids)} datasets")  # fmt: skip
    print(f"# {machine_summary()}")
    print(f"# {package_versions(['sqlalchemy', 'lsst-daf-butler', 'lsst-sphgeom', 'psycopg'])}")
    results: dict[tuple[str, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_queries_", dir=ensure_workdir(args.workdir)) as workdir:
        for backend in backends:
            results[("chamberlain", backend)] = chamberlain_run(backend, wl, sky, args, workdir)
            if peer:
                results[("rubin", backend)] = rubin_run(backend, wl, sky, args, workdir)
    rows = []
    splits = []
    for backend in backends:
        ch = results[("chamberlain", backend)]
        rb = results.get(("rubin", backend), {})
        for label, rows_key in ROWS_KEYS.items():
            c, r, f = ch.get(label), rb.get(label), ch.get(f"raw {label}")
            speed_up = r / c if c and r and r == r else float("nan")
            goal = GOALS.get(label.replace(" fresh", "").replace(" later", ""), float("nan"))
            if rb.get(rows_key) is not None and rb.get(rows_key) != ch.get(rows_key):
                print(
                    f"# WARNING {backend} {label}: Chamberlain returned {ch.get(rows_key)} rows, Rubin {rb.get(rows_key)}"
                )
            rows.append([
                backend, label, fmt_number(ch.get(rows_key)), fmt_number(rb.get(rows_key)),
                fmt_number(c * 1000 if c else None, 2), fmt_number(f * 1000 if f else None, 2), ratio(c, f),
                ch.get(f"sql {label}", ""),
                fmt_number(r * 1000 if r else None, 2), fmt_number(speed_up, 1) + "x",
                fmt_number(goal, 0) + "x",
            ])  # fmt: skip
            if label.startswith("query_datasets") and c and f:
                total, in_driver = ch[f"traced {label}"]
                splits.append(
                    f"# {backend}: {label}: {c * 1000:.2f} ms = SQL {f * 1000:.2f} ms (raw driver floor) + "
                    f"Python conversion {(c - f) * 1000:.2f} ms; one traced call: {in_driver * 1000:.2f} ms of "
                    f"{total * 1000:.2f} ms inside the driver, {(total - in_driver) * 1000:.2f} ms in Python"
                )
        fresh, later = ch["spatial join fresh"], ch["spatial join later"]
        print(f"# {backend}: Chamberlain spatial join fresh/later = {fresh / later:.2f} (goal < 2)")
        if rb:
            print(
                f"# {backend}: Rubin spatial join fresh/later = {rb['spatial join fresh'] / rb['spatial join later']:.2f}"
            )
    print(
        "# raw driver = the statements Chamberlain sent for the query, replayed with their parameters through "
        "sqlite3 / psycopg on the same database, rows fetched as tuples; x floor = Chamberlain / raw driver"
    )
    print_table(
        ["backend", "query", "rows", "rubin rows", "chamberlain ms", "raw driver ms", "x floor", "SQL sent",
         "rubin ms", "speed-up", "goal"],
        rows,
        align="llrrrrrlrrr",
    )  # fmt: skip
    for line in splits:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
