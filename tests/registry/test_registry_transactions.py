"""Transactions, concurrent writers and schema-version checks."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _populate import add_instrument

from chamberlain.errors import ReadOnlyError, SchemaVersionError
from chamberlain.registry import Registry


@pytest.fixture
def registry(database) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    add_instrument(reg)
    try:
        yield reg
    finally:
        reg.close()


def detectors(registry: Registry) -> set[int]:
    return {r.id for r in registry.fetch_dimension_records("detector")}


def det(i: int) -> dict:
    return {"instrument": "Cam", "id": i, "full_name": f"X{i}"}


def test_exception_rolls_back_everything_without_savepoints(registry: Registry) -> None:
    with pytest.raises(RuntimeError, match="boom"), registry.transaction():
        registry.insert_dimension_records("detector", [det(10)])
        with registry.transaction():
            registry.insert_dimension_records("detector", [det(11)])
        raise RuntimeError("boom")
    assert detectors(registry) == {0, 1, 2, 3}


def test_inner_exception_without_savepoint_rolls_back_the_outer_block(registry: Registry) -> None:
    with pytest.raises(RuntimeError), registry.transaction():
        registry.insert_dimension_records("detector", [det(10)])
        with registry.transaction():
            registry.insert_dimension_records("detector", [det(11)])
            raise RuntimeError("inner")
    assert detectors(registry) == {0, 1, 2, 3}


def test_savepoint_rolls_back_only_the_inner_block(registry: Registry) -> None:
    with registry.transaction():
        registry.insert_dimension_records("detector", [det(10)])
        try:
            with registry.transaction(savepoint=True):
                registry.insert_dimension_records("detector", [det(11)])
                raise RuntimeError("inner")
        except RuntimeError:
            pass
        registry.insert_dimension_records("detector", [det(12)])
    assert detectors(registry) == {0, 1, 2, 3, 10, 12}


def test_failed_statement_inside_savepoint_keeps_the_outer_transaction_usable(registry: Registry) -> None:
    from chamberlain.errors import ConflictingRecordError

    with registry.transaction():
        registry.insert_dimension_records("detector", [det(10)])
        with pytest.raises(ConflictingRecordError), registry.transaction(savepoint=True):
            registry.insert_dimension_records("detector", [det(0)])  # duplicate key
        registry.insert_dimension_records("detector", [det(12)])
    assert detectors(registry) == {0, 1, 2, 3, 10, 12}


def test_read_only_registry_refuses_writes(database) -> None:
    reg = Registry.create(database.url, namespace=database.namespace)
    add_instrument(reg)
    reg.close()
    with Registry.open(database.url, namespace=database.namespace, writeable=False) as ro:
        assert len(detectors(ro)) == 4
        with pytest.raises(ReadOnlyError, match="read-only"):
            ro.insert_dimension_records("detector", [det(20)])


def _set_revision(registry: Registry, revision: str) -> None:
    with registry._db.transaction() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_schema_version_mismatch_is_one_clear_line(database, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = Registry.create(database.url, namespace=database.namespace)
    _set_revision(reg, "9999_from_the_future")
    reg.close()
    with pytest.raises(SchemaVersionError, match="9999_from_the_future.*newer Chamberlain") as info:
        Registry.open(database.url, namespace=database.namespace)
    assert "\n" not in str(info.value)
    # An older revision (one this code knows, but not the head) asks for `chamberlain migrate`.
    from chamberlain.schema import versioning

    monkeypatch.setattr(versioning, "head_revision", lambda: "0002_pretend_head")
    monkeypatch.setattr(versioning, "known_revisions", lambda: ["0001_baseline", "0002_pretend_head"])
    with pytest.raises(
        SchemaVersionError, match=r"older than this Chamberlain's 0002_pretend_head; run `chamberlain migrate"
    ):
        _open_with_revision(database, "0001_baseline")


def _open_with_revision(database, revision: str) -> None:
    import sqlalchemy as sa

    from chamberlain.registry._database import Database

    db = Database(database.url, namespace=database.namespace)
    with db.transaction() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.close()
    Registry.open(database.url, namespace=database.namespace)


def test_opening_a_non_repository(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE x (a INTEGER)"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="not a Chamberlain repository"):
        Registry.open(url)


def _writer(url: str, start: int, n: int, barrier) -> None:  # runs in a child process
    reg = Registry.open(url)
    barrier.wait()
    for i in range(start, start + n, 5):
        reg.insert_dimension_records("detector", [det(j) for j in range(i, i + 5)])
    reg.close()


def test_two_processes_writing_one_sqlite_repository_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    reg = Registry.create(url)
    add_instrument(reg, n_detectors=0)
    reg.close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(url, start, 200, barrier)) for start in (1000, 2000)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    with Registry.open(url) as check:
        assert detectors(check) == set(range(1000, 1200)) | set(range(2000, 2200))


def test_failed_batch_inside_a_caught_block_leaves_nothing(registry: Registry) -> None:
    """A failing bulk insert vanishes whole even if the caller catches the error and commits."""
    from chamberlain.errors import ConflictingRecordError, DataIdValueError

    with registry.transaction():
        with pytest.raises(ConflictingRecordError):
            registry.insert_dimension_records("detector", [det(30), det(31), det(0)])  # det 0 exists
        with pytest.raises(DataIdValueError, match="detector=77"):
            from chamberlain.datasets import DatasetType

            registry.register_run("r")
            registry.register_dataset_type(
                DatasetType("thing", ["instrument", "detector"], "X", registry.universe)
            )
            registry.insert_datasets(
                "thing", [{"instrument": "Cam", "detector": 1}, {"instrument": "Cam", "detector": 77}], "r"
            )
        registry.insert_dimension_records("detector", [det(40)])
    assert detectors(registry) == {0, 1, 2, 3, 40}
    assert registry.find_dataset("thing", instrument="Cam", detector=1, collections="r") is None
