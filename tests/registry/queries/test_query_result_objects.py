"""Row-backed refs and data IDs from query results behave like eagerly built ones (both backends)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import uuid

import pytest

from chamberlain.datasets import DatasetRef, uuid_from_hex
from chamberlain.dimensions import DataCoordinate
from chamberlain.errors import DimensionNameError
from chamberlain.registry import Registry


@pytest.fixture
def registry(populated_registry: Registry) -> Registry:
    return populated_registry


def _eager(registry: Registry, ref: DatasetRef) -> DatasetRef:
    """The same dataset, found through find_dataset (an eagerly built ref)."""
    found = registry.find_dataset(ref.dataset_type.name, ref.data_id.required, collections=ref.run)
    assert found is not None
    return found


def test_refs_from_queries_match_find_dataset(registry: Registry) -> None:
    refs = list(registry.query_datasets("calexp", ["run1", "run2"], find_first=False))
    assert len(refs) == 6 * 4 + 4
    for ref in refs:
        eager = _eager(registry, ref)
        assert ref == eager and eager == ref and hash(ref) == hash(eager)
        assert isinstance(ref, DatasetRef)
        assert type(ref.id) is uuid.UUID and ref.id == eager.id and str(ref.id) == str(eager.id)
        assert ref.run == eager.run and ref.run in ("run1", "run2")
        assert ref.dataset_type == eager.dataset_type
        assert ref.data_id == eager.data_id and hash(ref.data_id) == hash(eager.data_id)
        expanded = registry.expand_data_id(ref.data_id.required, dimensions=ref.dataset_type.dimensions)
        assert ref.data_id.has_full() and dict(ref.data_id) == expanded.to_simple()
        assert repr(ref) == repr(eager.replace(data_id=expanded))
    # Set semantics: the query's refs and the eager ones are the same set.
    assert {*refs} == {_eager(registry, r) for r in refs}


def test_run_names_come_from_the_dataset_not_the_collection(registry: Registry) -> None:
    """Through a TAGGED collection the ref's run is still the dataset's RUN."""
    run1 = list(registry.query_datasets("calexp", "run1", where="visit = 2"))
    registry.register_collection("tagged", "TAGGED")
    registry.associate("tagged", run1)
    tagged = list(registry.query_datasets("calexp", "tagged"))
    assert {r.run for r in tagged} == {"run1"}
    assert set(tagged) == set(run1)
    # Mixed: a chain of the TAGGED collection and a RUN.
    registry.register_collection("mixed", "CHAINED")
    registry.set_collection_chain("mixed", ["run2", "tagged"])
    mixed = list(registry.query_datasets("calexp", "mixed", find_first=False))
    assert {(r.data_id["visit"], r.run) for r in mixed} == {(1, "run2")} | {(2, "run1")}


def test_dataset_fields_still_work_for_run_searches(registry: Registry) -> None:
    """A RUN-only search skips the dataset table unless ingest_date/run are used."""
    every = list(registry.query_datasets("calexp", "run1"))
    by_run = list(registry.query_datasets("calexp", "run1", where="run = 'run1'"))
    assert set(by_run) == set(every) and len(every) == 24
    assert list(registry.query_datasets("calexp", "run1", where="run = 'run2'")) == []
    recent = list(registry.query_datasets("calexp", "run1", where="ingest_date > T'2000-01-01T00:00:00'"))
    assert set(recent) == set(every)
    ordered = list(registry.query_datasets("calexp", "run1").order_by("-ingest_date", "visit", "detector"))
    assert set(ordered) == set(every)


def test_ref_copies_pickles_and_replace(registry: Registry) -> None:
    ref = next(iter(registry.query_datasets("calexp", "run1", where="visit = 3 AND detector = 1")))
    for clone in (pickle.loads(pickle.dumps(ref)), copy.copy(ref), copy.deepcopy(ref)):
        assert type(clone) is DatasetRef
        assert clone == ref and clone.run == ref.run and clone.id == ref.id
        assert clone.data_id.to_simple() == ref.data_id.to_simple()
    other = uuid.uuid4()
    moved = ref.replace(run="run2", id=other)
    assert (
        type(moved) is DatasetRef
        and moved.run == "run2"
        and moved.id == other
        and moved.data_id == ref.data_id
    )
    assert ref.run == "run1"  # unchanged
    via_dataclasses = dataclasses.replace(ref, run="run2")
    assert (
        type(via_dataclasses) is DatasetRef and via_dataclasses.run == "run2" and via_dataclasses.id == ref.id
    )
    assert dataclasses.asdict(ref)["run"] == "run1" and dataclasses.astuple(ref)[2] == "run1"
    with pytest.raises(TypeError, match="no field"):
        ref.replace(colour="red")
    with pytest.raises(AttributeError):
        ref.run = "run2"  # type: ignore[misc]


def test_row_data_ids_behave_like_standardized_ones(registry: Registry) -> None:
    ids = list(registry.query_data_ids(["visit", "detector"], where="visit = 4 AND detector = 2"))
    assert len(ids) == 1
    row_id = ids[0]
    full = registry.expand_data_id({"instrument": "Cam", "visit": 4, "detector": 2})
    plain = DataCoordinate.standardize(full.to_simple(), universe=registry.universe)
    for other in (full, plain):
        assert row_id == other and other == row_id and hash(row_id) == hash(other)
    assert row_id == {"instrument": "Cam", "visit": 4, "detector": 2}
    assert list(row_id) == list(row_id.dimensions.names) and len(row_id) == len(row_id.dimensions.names)
    assert row_id["physical_filter"] == full["physical_filter"] and "band" in row_id and "tract" not in row_id
    assert row_id.required == {"instrument": "Cam", "detector": 2, "visit": 4}
    assert row_id.has_full() and not row_id.has_records()
    with pytest.raises(DimensionNameError, match="tract"):
        row_id["tract"]
    with pytest.raises(AttributeError):
        row_id.records  # noqa: B018
    sub = row_id.subset(registry.universe.conform(["visit"]))
    assert sub == {"instrument": "Cam", "visit": 4} and sub["physical_filter"] == full["physical_filter"]
    expanded = row_id.expanded(full.records)
    assert expanded.has_records() and expanded == row_id
    clone = pickle.loads(pickle.dumps(row_id))
    assert clone == row_id and clone.to_simple() == row_id.to_simple() and clone.has_full()
    assert {row_id: 1}[plain] == 1
    assert not row_id < plain and not plain < row_id  # equal required values order neither way
    lower = DataCoordinate.standardize(
        {"instrument": "Cam", "visit": 3, "detector": 2}, universe=registry.universe
    )
    assert lower < row_id and not row_id < lower


def test_uuid_from_hex_matches_uuid() -> None:
    samples = [uuid.uuid4() for _ in range(200)] + [
        uuid.UUID(int=0),
        uuid.UUID(int=1),
        uuid.UUID(int=2**128 - 1),
    ]
    for u in samples:
        made = uuid_from_hex(u.hex)
        assert made == u and hash(made) == hash(u) and str(made) == str(u) and made.bytes == u.bytes
        assert made.version == u.version and made.hex == u.hex and {made: 1}[u] == 1
        assert pickle.loads(pickle.dumps(made)) == u


def _sql(results) -> str:
    return str(results._statement(0).statement.compile()).lower()


def test_band_comes_from_cached_filters_without_a_join(registry: Registry) -> None:
    """On SQLite band is read from the cached physical_filter records unless the query itself needs
    the table; PostgreSQL (no cheap way to tell the cache is current) always joins it."""
    sqlite = registry._db.dialect == "sqlite"
    results = registry.query_data_ids(["visit"])
    assert ("join physical_filter" not in _sql(results)) == sqlite
    got = {(d["visit"], d["physical_filter"], d["band"]) for d in results}
    assert got == {(v, "Cam-r" if v % 2 else "Cam-g", "r" if v % 2 else "g") for v in range(1, 7)}
    assert all(d.to_simple()["band"] in ("r", "g") for d in results)
    refs = registry.query_datasets("calexp", "run1", where="detector = 0")
    assert ("join physical_filter" not in _sql(refs)) == sqlite
    assert {(r.data_id["visit"], r.data_id["band"]) for r in refs} == {
        (v, "r" if v % 2 else "g") for v in range(1, 7)
    }
    with_records = list(
        registry.query_datasets("calexp", "run1", where="detector = 0").with_dimension_records()
    )
    assert {r.data_id["band"] for r in with_records} == {"r", "g"}
    assert all(r.data_id.records["physical_filter"].band == r.data_id["band"] for r in with_records)
    # Constraining or sorting on band joins the table as before.
    for constrained in (
        registry.query_data_ids(["visit"], where="band = 'g'"),
        registry.query_data_ids(["visit"]).order_by("band", "visit"),
        registry.query_data_ids(["visit"], data_id={"band": "g"}),
        registry.query_data_ids(["visit"], where="physical_filter.band = 'g'"),
    ):
        assert "physical_filter" in _sql(constrained).split("from", 1)[1]
    assert [d["visit"] for d in registry.query_data_ids(["visit"]).order_by("band", "visit")] == [
        2,
        4,
        6,
        1,
        3,
        5,
    ]
    assert {d["visit"] for d in registry.query_data_ids(["visit"], where="band = 'g'")} == {2, 4, 6}


def test_band_lookup_sees_filters_added_by_another_connection(registry: Registry, database) -> None:
    assert {d["band"] for d in registry.query_data_ids(["visit"])} == {"r", "g"}  # cache filled
    other = Registry.open(database.url, namespace=database.namespace)
    try:
        other.insert_dimension_records(
            "physical_filter", [{"instrument": "Cam", "name": "Cam-i", "band": "i"}]
        )
        other.insert_dimension_records(
            "visit",
            [{"instrument": "Cam", "id": 7, "name": "v7", "physical_filter": "Cam-i", "day_obs": 20240301}],
        )
    finally:
        other.close()
    got = {d["visit"]: d["band"] for d in registry.query_data_ids(["visit"])}
    assert got[7] == "i" and got[1] == "r" and got[2] == "g"


def test_band_is_current_after_another_connection_or_a_rollback_changes_it(
    registry: Registry, database
) -> None:
    def bands() -> dict[int, str]:
        return {d["visit"]: d["band"] for d in registry.query_data_ids(["visit"])}

    assert bands()[1] == "r"  # cache filled
    other = Registry.open(database.url, namespace=database.namespace)
    try:
        other.sync_dimension_record(
            "physical_filter", {"instrument": "Cam", "name": "Cam-r", "band": "i"}, update=True
        )
    finally:
        other.close()
    assert bands() == {1: "i", 2: "g", 3: "i", 4: "g", 5: "i", 6: "g"}
    assert {r.data_id["band"] for r in registry.query_datasets("calexp", "run1", where="visit = 1")} == {"i"}
    assert {d["visit"] for d in registry.query_data_ids(["visit"], where="band = 'i'")} == {1, 3, 5}
    # A change made and seen inside a transaction that then rolls back is forgotten.
    with pytest.raises(RuntimeError), registry.transaction():
        registry.sync_dimension_record(
            "physical_filter", {"instrument": "Cam", "name": "Cam-r", "band": "z"}, update=True
        )
        assert bands()[1] == "z"
        raise RuntimeError("roll back")
    assert bands()[1] == "i"
    assert registry.expand_data_id({"instrument": "Cam", "physical_filter": "Cam-r"})["band"] == "i"


def test_abandoned_and_interleaved_iteration(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several pages: stopping early, or running other queries between rows, leaves the connection usable."""
    import gc

    from chamberlain.registry.queries import results as results_module

    monkeypatch.setattr(results_module, "PAGE_ROWS", 2)
    every = {(d["visit"], d["detector"]) for d in registry.query_data_ids(["visit", "detector"])}
    assert len(every) == 24
    partial = iter(registry.query_data_ids(["visit", "detector"]))
    first, second = next(partial), next(partial)
    assert {(first["visit"], first["detector"]), (second["visit"], second["detector"])} <= every
    del partial
    gc.collect()
    assert registry.query_data_ids(["visit"]).count() == 6
    seen = set()
    for d in registry.query_data_ids(["visit", "detector"]):
        seen.add((d["visit"], d["detector"]))
        assert (
            registry.query_data_ids(["detector"], where=f"visit = {d['visit']}").count() == 4
        )  # nested query
    assert seen == every
    limited = registry.query_datasets("calexp", "run1").limit(3)
    assert len(list(limited)) == 3 and limited.truncated
    assert len(list(registry.query_datasets("calexp", "run1"))) == 24
