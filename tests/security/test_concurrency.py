"""Concurrent writers: registrations raced by 8 processes, and two ingests of the same files.

Every worker process is started with ``spawn`` (no inherited connection) and
waits behind a barrier, so the calls really overlap. Idempotent registrations
must all succeed with one row each; a conflicting definition raced against
the winning one must fail in the losers only, with a message naming both.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _security import RAW_RUN, Repo, run_cli

from chamberlain.registry import Registry

WORKERS = 8
ROUNDS = 9
#: Dataset types registered by every worker (the calibration one uses a dimension group no
#: other dataset type has, so its ``dimension_group`` row and tables are raced too).
TYPES: dict[str, tuple[list[str], str, bool]] = {
    "calexp": (["instrument", "visit", "detector"], "Exposure", False),
    "src": (["instrument", "visit", "detector"], "StructuredDataDict", False),
    "flat": (["instrument", "detector", "physical_filter"], "Exposure", True),
    "deep": (["skymap", "tract", "patch"], "StructuredDataDict", False),
}
RUNS = ["race/run1", "race/run2"]
TAGGED = ["race/tagged1", "race/tagged2"]
CONTESTED = "contested"
CONTESTED_DIMENSIONS = ["instrument", "exposure"]


def _register_many(url: str, namespace: str | None, index: int, barrier: Any, out: Any) -> None:
    """Worker: after the barrier, register every name ROUNDS times, then race one conflicting type."""
    from chamberlain.datasets import DatasetType
    from chamberlain.errors import ChamberlainError

    results: list[tuple[str, str, str]] = []  # (what, outcome, message)
    registry = Registry.open(url, namespace=namespace)
    try:
        universe = registry.universe
        types = [DatasetType(n, d, sc, universe, is_calibration=c) for n, (d, sc, c) in TYPES.items()]
        contested = DatasetType(
            CONTESTED, CONTESTED_DIMENSIONS, "Exposure" if index % 2 else "StructuredDataDict", universe
        )
        barrier.wait(timeout=120)
        for _ in range(ROUNDS):
            calls = [(f"run {r}", lambda r=r: registry.register_run(r)) for r in RUNS]
            calls += [(f"tagged {t}", lambda t=t: registry.register_collection(t, "TAGGED")) for t in TAGGED]
            calls += [(f"type {t.name}", lambda t=t: registry.register_dataset_type(t)) for t in types]
            for what, call in calls:
                try:
                    results.append((what, "new" if call() else "known", ""))
                except Exception as err:  # reported to the test, which fails on it
                    results.append((what, type(err).__name__, str(err)))
        barrier.wait(timeout=120)
        try:
            new = registry.register_dataset_type(contested)
            results.append((CONTESTED, "new" if new else "known", contested.storage_class))
        except ChamberlainError as err:
            results.append((CONTESTED, type(err).__name__, f"{contested.storage_class}|{err}"))
        except Exception as err:
            results.append((CONTESTED, type(err).__name__, str(err)))
    finally:
        registry.close()
        out.put((index, results))


def _column(url: str, namespace: str | None, table: str, column: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            t = sa.Table(table, sa.MetaData(), schema=namespace, autoload_with=conn)
            return list(conn.execute(sa.select(t.c[column])).scalars())
    finally:
        engine.dispose()


def _count(url: str, namespace: str | None, table: str, column: str, value: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            t = sa.Table(table, sa.MetaData(), schema=namespace, autoload_with=conn)
            return conn.execute(sa.select(sa.func.count()).where(t.c[column] == value)).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.slow  # 8 spawned interpreters, each importing chamberlain
def test_registration_race_is_idempotent_and_conflicts_fail_in_losers_only(database: Any) -> None:
    Registry.create(database.url, namespace=database.namespace).close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    out = context.Queue()
    workers = [
        context.Process(target=_register_many, args=(database.url, database.namespace, i, barrier, out))
        for i in range(WORKERS)
    ]
    for w in workers:
        w.start()
    reports: dict[int, list[tuple[str, str, str]]] = {}
    deadline = time.monotonic() + 300
    try:
        while len(reports) < WORKERS:
            try:
                index, results = out.get(timeout=0.5)
                reports[index] = results
            except queue.Empty:
                dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                assert not dead, f"a worker died (exit codes {dead}); see its traceback above"
                assert time.monotonic() < deadline, f"only {len(reports)} of {WORKERS} workers reported"
    finally:
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():
                w.kill()
    assert sorted(reports) == list(range(WORKERS))
    outcomes: dict[str, list[str]] = {}
    contested: list[tuple[int, str, str]] = []
    for index, results in reports.items():
        for what, outcome, message in results:
            if what == CONTESTED:
                contested.append((index, outcome, message))
            else:
                outcomes.setdefault(what, []).append(outcome)
                assert outcome in ("new", "known"), f"worker {index}: {what}: {outcome}: {message}"
    # Every name was registered once: one "new" and WORKERS * ROUNDS - 1 "known" answers.
    names = [f"run {r}" for r in RUNS] + [f"tagged {t}" for t in TAGGED] + [f"type {t}" for t in TYPES]
    assert sorted(outcomes) == sorted(names)
    for what in names:
        assert outcomes[what].count("new") == 1, (what, outcomes[what])
        assert len(outcomes[what]) == WORKERS * ROUNDS
    url, ns = database.url, database.namespace
    for name in RUNS + TAGGED:
        assert _count(url, ns, "collection", "name", name) == 1
    for name in TYPES:
        assert _count(url, ns, "dataset_type", "name", name) == 1
    # One dimension_group row per distinct group (the contested type's group included).
    groups = _column(url, ns, "dimension_group", "names")
    expected = {frozenset(d) for d, _, _ in TYPES.values()} | {frozenset(CONTESTED_DIMENSIONS)}
    assert sorted(map(frozenset, (g.split() for g in groups)), key=sorted) == sorted(expected, key=sorted)
    registry = Registry.open(url, namespace=ns)
    try:
        for name in RUNS:
            assert registry.get_collection_type(name).name == "RUN"
        for name in TAGGED:
            assert registry.get_collection_type(name).name == "TAGGED"
        stored = registry.get_dataset_type(CONTESTED).storage_class
        assert registry.get_dataset_type("flat").is_calibration
    finally:
        registry.close()
    # The contested type: one winner; workers that asked for the stored definition succeed,
    # the others (and only they) get ConflictingDefinitionError naming both definitions.
    assert [o for _, o, _ in contested].count("new") == 1
    for index, outcome, message in contested:
        asked = message.split("|")[0]
        if asked == stored:
            assert outcome in ("new", "known"), (index, outcome, message)
        else:
            assert outcome == "ConflictingDefinitionError", (index, outcome, message)
            assert f"storage class {asked}" in message and f"storage class {stored}" in message, message
    assert {m.split("|")[0] for _, _, m in contested} == {"Exposure", "StructuredDataDict"}


def _ingest(root: Path, raws: Path, start: Path) -> subprocess.Popen[str]:
    """An ``ingest-raws`` process that imports everything, says it is ready, then waits for ``start``."""
    code = (
        "import os, sys, time\n"
        "import chamberlain.butler, chamberlain.tasks.ingest_raws\n"
        "from chamberlain.cli import cli\n"
        "open(f'{sys.argv[1]}.ready-{os.getpid()}', 'w').close()\n"
        "while not os.path.exists(sys.argv[1]):\n"
        "    time.sleep(0.002)\n"
        "cli.main(sys.argv[2:], prog_name='chamberlain')\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(start), "ingest-raws", str(root), str(raws), "--transfer", "copy"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=start.parent,
    )


def _start_together(procs: list[subprocess.Popen[str]], start: Path) -> None:
    """Wait until every process is ready, then let them all go at once."""
    deadline = time.monotonic() + 120
    while len(list(start.parent.glob(f"{start.name}.ready-*"))) < len(procs):
        assert all(p.poll() is None for p in procs), "an ingest process ended before the start"
        assert time.monotonic() < deadline, "the ingest processes did not get ready"
        time.sleep(0.01)
    start.touch()


def _raw_paths(repo: Repo) -> list[str | None]:
    """The file path of every raw dataset in the raw run (None for a dataset without a record)."""
    engine = sa.create_engine(repo.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            meta = sa.MetaData(schema=repo.database.namespace)
            dataset, dtype, coll, rec = (
                sa.Table(name, meta, autoload_with=conn)
                for name in ("dataset", "dataset_type", "collection", "datastore_record")
            )
            query = (
                sa.select(rec.c.path)
                .select_from(
                    dataset.join(dtype, dataset.c.dataset_type_id == dtype.c.id)
                    .join(coll, dataset.c.run_id == coll.c.collection_id)
                    .outerjoin(rec, rec.c.dataset_id == dataset.c.id)
                )
                .where(dtype.c.name == "raw", coll.c.name == RAW_RUN)
            )
            return list(conn.execute(query).scalars())
    finally:
        engine.dispose()


@pytest.mark.slow  # two CLI processes
def test_two_ingests_of_the_same_files_both_succeed(database: Any, tmp_path: Path) -> None:
    # Two processes started together on a new repository: both register the instrument and the
    # raw dataset type, then screen the same files before either has committed them.
    from chamberlain.instrument import simulate_raws

    root = tmp_path / "repo"
    args: list[Any] = ["create", root]
    if database.backend == "postgresql":
        args += ["--db", database.url, "--namespace", database.namespace]
    assert run_cli(*args).exit_code == 0
    repo = Repo(root, database, tmp_path / "raws", tmp_path / "outside")
    simulate_raws(repo.raws, 20, seed=11, image_size=16)
    files = sorted(p for p in repo.raws.rglob("*.fits"))
    assert len(files) == 180
    start = tmp_path / "start"
    procs = [_ingest(repo.root, repo.raws, start) for _ in range(2)]
    _start_together(procs, start)
    outputs = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            raise
        outputs.append((p.returncode, stdout, stderr))
    for code, stdout, stderr in outputs:
        assert code == 0, (stdout, stderr[-3000:])
        assert "failed:" not in stderr and "error:" not in stderr, stderr[-3000:]
    counts = []
    for _, stdout, _ in outputs:
        line = [ln for ln in stdout.splitlines() if ln.startswith("Ingested ")][-1]
        ingested = int(line.split()[1])
        present = int(line.split("; ")[1].split()[0])
        assert ingested + present == len(files), line
        counts.append(ingested)
    assert sum(counts) == len(files), outputs  # each file ingested by exactly one of them
    paths = _raw_paths(repo)
    assert len(paths) == len(files)  # each raw exactly once
    assert None not in paths and len(set(paths)) == len(paths)
    for path in paths:
        assert (repo.root / str(path)).is_file(), path
    stray = [p for p in repo.root.rglob("*.fits") if str(p.relative_to(repo.root)) not in paths]
    assert not stray and not list(repo.root.rglob("*.tmp-*"))


# --- the loser's view, made deterministic in one process --------------------------------------
#
# The race above depends on timing. Here a second butler screens its batch with a stale view (as if
# it had looked before the first one committed), so its insert meets the first butler's rows.


@pytest.fixture
def new_exposure(tmp_path: Path) -> Path:
    """One SimCam exposure (detectors 1 and 2) that the `repo` fixture does not hold."""
    from chamberlain.instrument import simulate_raws

    out = tmp_path / "new_exposure"
    simulate_raws(out, 1, seed=21, image_size=16, detectors=[1, 2], first_seq_num=400)
    return out


def _stale_once(monkeypatch: pytest.MonkeyPatch, cls: Any, name: str, stale: Any) -> None:
    """Make the first call of ``cls.name`` answer ``stale`` (what it saw before the other commit)."""
    real = getattr(cls, name)
    calls = {"n": 0}

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return stale if calls["n"] == 1 else real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, wrapper)


def test_stale_screen_counts_the_winners_raws_as_present(
    repo: Repo, new_exposure: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chamberlain.butler import Butler
    from chamberlain.registry import Registry as RegistryClass
    from chamberlain.tasks.ingest_raws import ingest_raws

    with Butler(str(repo.root), writeable=True) as winner:
        assert ingest_raws(winner, [new_exposure], transfer="copy").ingested == 2
    tables, files = repo.snapshot()
    with Butler(str(repo.root), writeable=True) as loser:
        _stale_once(monkeypatch, RegistryClass, "get_datasets", [])
        summary = ingest_raws(loser, [new_exposure], transfer="copy")
    assert (summary.ingested, summary.already_present, summary.failed) == (0, 2, [])
    assert repo.snapshot() == (tables, files)  # nothing written, no file replaced or removed


def test_stale_screen_still_fails_an_exposure_stored_differently(
    repo: Repo, new_exposure: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from astropy.io import fits

    from chamberlain.butler import Butler
    from chamberlain.tasks._ingest_batch import BatchWriter
    from chamberlain.tasks.ingest_raws import ingest_raws

    first, second = sorted(new_exposure.glob("*.fits"))
    with Butler(str(repo.root), writeable=True) as winner:
        assert ingest_raws(winner, [first], transfer="copy").ingested == 1
    with fits.open(second, mode="update") as hdus:
        hdus[0].header["EXPTIME"] = hdus[0].header["EXPTIME"] + 7.0
    tables, files = repo.snapshot()
    with Butler(str(repo.root), writeable=True) as loser:
        _stale_once(monkeypatch, BatchWriter, "_stored_exposures", {})  # the exposure looked new
        summary = ingest_raws(loser, [second], transfer="copy")
    assert summary.ingested == 0 and summary.already_present == 0
    assert [path for path, _ in summary.failed] == [str(second)]
    assert "exposure_time" in summary.failed[0][1] and "different values" in summary.failed[0][1]
    assert repo.snapshot() == (tables, files)
