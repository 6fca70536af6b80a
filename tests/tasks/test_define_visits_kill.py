"""A DefineVisitsTask process killed with SIGKILL leaves every visit complete or absent."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from chamberlain.butler import Butler
from chamberlain.instrument import SimCam, simulate_headers
from chamberlain.registry import Registry
from chamberlain.tasks import DefineVisitsConfig, DefineVisitsTask

N_EXPOSURES = 120
SIMCAM = SimCam()


class SlowDefineVisitsTask(DefineVisitsTask):
    """Sleeps after each visit's commit, so the parent can kill it mid-run."""

    def _visit_written(self, visit_id: int) -> None:
        time.sleep(0.02)


def _child(root: str, ids: list[int]) -> None:
    butler = Butler(root, writeable=True)
    config = DefineVisitsConfig()
    config.group_exposures.name = "by-counter-and-exposure"  # multi-exposure visits too
    SlowDefineVisitsTask(config, butler=butler).run([{"instrument": "SimCam", "exposure": i} for i in ids])


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _check_complete(registry: Registry) -> set[int]:
    """Assert every stored visit has all its records; return the visit IDs."""

    def column(table: str, *names: str) -> list[Any]:
        t = registry._tables[table]
        return list(registry._db.execute(sa.select(*[t.c[n] for n in names])))

    visits = {r[0] for r in column("visit", "id")}
    definitions = Counter(r[0] for r in column("visit_definition", "visit"))
    memberships = Counter(r[0] for r in column("visit_system_membership", "visit"))
    regions = Counter(r[0] for r in column("visit_detector_region", "visit"))
    assert set(definitions) == set(memberships) == set(regions) == visits
    assert all(regions[v] == 9 for v in visits)
    multi = {v for v, n in definitions.items() if n > 1}
    assert all(definitions[v] == 2 for v in multi)  # snap pairs are never half-defined
    return visits


def test_sigkill_leaves_complete_visits_and_rerun_finishes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    headers = simulate_headers(N_EXPOSURES, seed=11, detectors=[0], calibrations=False)
    exposures = [SIMCAM.translate_raw_header(h).exposure for h in headers]
    ids = [e["id"] for e in exposures]
    with Butler.create(root) as butler:
        registry = butler.registry
        url = butler.config.url
        registry.insert_dimension_records("instrument", [SIMCAM.instrument_record()])
        registry.insert_dimension_records("detector", SIMCAM.detector_records())
        registry.insert_dimension_records("physical_filter", SIMCAM.physical_filter_records())
        registry.insert_dimension_records(
            "group", [SIMCAM.group_record(e["group"]) for e in exposures], skip_existing=True
        )
        registry.insert_dimension_records(
            "day_obs", [SIMCAM.day_obs_record(e["day_obs"]) for e in exposures], skip_existing=True
        )
        registry.insert_dimension_records("exposure", exposures)

    process = multiprocessing.get_context("spawn").Process(target=_child, args=(str(root), ids))
    process.start()
    try:
        deadline = time.monotonic() + 60
        while _count(url, "visit") < 20:
            assert process.is_alive(), f"child exited early with code {process.exitcode}"
            assert time.monotonic() < deadline, "child made no progress"
            time.sleep(0.01)
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.join(30)
    assert process.exitcode == -signal.SIGKILL

    with Butler(root, writeable=True) as butler:
        registry = butler.registry
        present = _check_complete(registry)
        config = DefineVisitsConfig()
        config.group_exposures.name = "by-counter-and-exposure"
        result = DefineVisitsTask(config, butler=butler).run(
            [{"instrument": "SimCam", "exposure": i} for i in ids]
        )
        assert 20 <= len(present) < result.n_visits
        assert result.n_skipped == len(present)
        assert result.n_new == result.n_visits - len(present)
        final = _check_complete(registry)
        assert present < final and len(final) == result.n_visits
