"""Registry behaviour, run on SQLite and on PostgreSQL (the `database` fixture)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from _populate import DAY, DAY_SPAN, HOUR, add_exposures, add_instrument

from chamberlain.datasets import DatasetIdGenEnum, DatasetType
from chamberlain.errors import (
    CalibrationLookupError,
    CollectionCycleError,
    CollectionTypeError,
    ConflictingDefinitionError,
    ConflictingRecordError,
    DataIdValueError,
    DatasetTypeError,
    DimensionNameError,
    DimensionRecordError,
    InconsistentDataIdError,
    InvalidNameError,
    MissingCollectionError,
    MissingDatasetTypeError,
    OrphanedRecordError,
)
from chamberlain.geometry import Timespan
from chamberlain.registry import CollectionType, Registry


@pytest.fixture
def registry(database) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    try:
        yield reg
    finally:
        reg.close()


@pytest.fixture
def populated(registry: Registry) -> Registry:
    add_instrument(registry)
    add_exposures(registry, [100, 101, 102])
    registry.register_run("run/a")
    registry.register_run("run/b")
    registry.register_dataset_type(
        DatasetType("raw", ["instrument", "exposure", "detector"], "Exposure", registry.universe)
    )
    return registry


def count(registry: Registry, table: str) -> int:
    return registry._db.execute(sa.select(sa.func.count()).select_from(registry._tables[table])).scalar_one()


# --- repository lifecycle -------------------------------------------------------------------


def test_create_records_schema_and_universe_and_reopens(database) -> None:
    reg = Registry.create(database.url, namespace=database.namespace)
    add_instrument(reg)
    reg.close()
    with Registry.open(database.url, namespace=database.namespace) as reopened:
        assert reopened.universe == reopened.universe.default()
        assert {r.id for r in reopened.fetch_dimension_records("detector")} == {0, 1, 2, 3}
        version = reopened._db.execute(
            sa.text("SELECT value FROM repository_attribute WHERE name='universe_version'")
        )
        assert version.scalar_one() == "chamberlain:1"
    with pytest.raises(Exception, match="already holds a Chamberlain repository"):
        Registry.create(database.url, namespace=database.namespace)


# --- dimension records ----------------------------------------------------------------------


def test_insert_and_fetch_records_round_trip(populated: Registry) -> None:
    rec = populated.get_dimension_record("exposure", instrument="Cam", exposure=101)
    assert rec is not None
    assert rec.obs_id == "OBS101" and rec.physical_filter == "Cam-r" and rec.exposure_time == 30.0
    assert DAY_SPAN.begin is not None
    assert rec.timespan == Timespan(DAY_SPAN.begin + HOUR, DAY_SPAN.begin + HOUR + 30 * 10**9)
    assert populated.get_dimension_record("exposure", instrument="Cam", exposure=999) is None


def test_bad_records_write_nothing(populated: Registry) -> None:
    before = count(populated, "exposure")
    good = {
        "instrument": "Cam",
        "id": 200,
        "obs_id": "a",
        "physical_filter": "Cam-r",
        "group": "g1",
        "day_obs": DAY,
    }
    with pytest.raises(DimensionRecordError, match="'exposure_time'.*'slow'"):
        populated.insert_dimension_records(
            "exposure", [good, {**good, "id": 201, "obs_id": "b", "exposure_time": "slow"}]
        )
    with pytest.raises(DimensionRecordError, match="'colour'"):
        populated.insert_dimension_records("exposure", [{**good, "colour": "red"}])
    with pytest.raises(DimensionRecordError, match="limit is 64"):
        populated.insert_dimension_records("exposure", [{**good, "obs_id": "x" * 65}])
    with pytest.raises(DimensionRecordError, match="required field 'physical_filter'"):
        populated.insert_dimension_records("exposure", [{**good, "physical_filter": None}])
    # A reference to a filter with no record: the whole batch is refused and named.
    with pytest.raises(DataIdValueError, match="Cam-z"):
        populated.insert_dimension_records(
            "exposure", [good, {**good, "id": 202, "obs_id": "c", "physical_filter": "Cam-z"}]
        )
    # A duplicate of an existing record fails the whole batch.
    with pytest.raises(ConflictingRecordError, match="skip_existing"):
        populated.insert_dimension_records("exposure", [good, {**good, "id": 100, "obs_id": "d"}])
    with pytest.raises(ConflictingRecordError, match="appears twice"):
        populated.insert_dimension_records("exposure", [good, good])
    assert count(populated, "exposure") == before
    populated.insert_dimension_records(
        "exposure", [good, {**good, "id": 100, "obs_id": "OBS100"}], skip_existing=True
    )
    assert count(populated, "exposure") == before + 1


def test_replace_and_sync(populated: Registry) -> None:
    rec = {"instrument": "Cam", "id": 3, "full_name": "S03", "purpose": "SCIENCE"}
    assert populated.sync_dimension_record("detector", rec) is False
    assert populated.sync_dimension_record("detector", {**rec, "id": 9, "full_name": "S09"}) is True
    with pytest.raises(ConflictingRecordError, match=r"purpose.*stored 'SCIENCE', given 'GUIDER'"):
        populated.sync_dimension_record("detector", {**rec, "purpose": "GUIDER"})
    old = populated.sync_dimension_record("detector", {**rec, "purpose": "GUIDER"}, update=True)
    assert old == {"purpose": "SCIENCE"}
    assert populated.get_dimension_record("detector", instrument="Cam", detector=3).purpose == "GUIDER"
    populated.insert_dimension_records("detector", [{**rec, "purpose": "WAVEFRONT"}], replace=True)
    assert populated.get_dimension_record("detector", instrument="Cam", detector=3).purpose == "WAVEFRONT"


def test_expand_data_id_and_its_three_error_kinds(populated: Registry) -> None:
    data_id = populated.expand_data_id(instrument="Cam", exposure=101, detector=2)
    assert data_id.has_records() and data_id.has_full()
    assert data_id["physical_filter"] == "Cam-r" and data_id["band"] == "r" and data_id["day_obs"] == DAY
    assert data_id.records["detector"].full_name == "S02"
    assert data_id.exposure.obs_id == "OBS101"
    assert data_id.timespan is not None
    # 1. A required key is missing.
    with pytest.raises(DimensionNameError, match="required dimension 'instrument'"):
        populated.expand_data_id(exposure=101, detector=2)
    # 2. A value has no record; the message names it and the known values.
    with pytest.raises(DataIdValueError, match=r"'detector'.*detector=99.*Known values: 0, 1, 2, 3"):
        populated.expand_data_id(instrument="Cam", exposure=101, detector=99)
    with pytest.raises(DataIdValueError, match="'instrument'.*'Nope'.*Known values: 'Cam'"):
        populated.expand_data_id(instrument="Nope", detector=1)
    # 3. Values contradict each other: a wrong implied value, or no relationship record.
    with pytest.raises(
        InconsistentDataIdError, match="physical_filter='Cam-g'.*implies physical_filter='Cam-r'"
    ):
        populated.expand_data_id(instrument="Cam", exposure=101, physical_filter="Cam-g")
    with pytest.raises(InconsistentDataIdError, match="visit_definition"):
        populated.expand_data_id(instrument="Cam", exposure=101, visit=102)
    assert populated.expand_data_id(instrument="Cam", exposure=101, visit=101)["band"] == "r"


# --- collections ----------------------------------------------------------------------------


def test_collection_registration_rules(registry: Registry) -> None:
    assert registry.register_run("r1", doc="first") is True
    assert registry.register_run("r1") is False
    assert registry.get_collection_doc("r1") == "first"
    with pytest.raises(CollectionTypeError, match="already exists as RUN, not TAGGED"):
        registry.register_collection("r1", CollectionType.TAGGED)
    for t in ("TAGGED", "CHAINED", "CALIBRATION"):
        registry.register_collection(f"c_{t.lower()}", t)
        assert registry.get_collection_type(f"c_{t.lower()}") is CollectionType[t]
    with pytest.raises(CollectionTypeError, match="'special'.*RUN, TAGGED, CHAINED, CALIBRATION"):
        registry.register_collection("x", "special")
    with pytest.raises(InvalidNameError, match="glob"):
        registry.register_run("bad*name")
    with pytest.raises(MissingCollectionError, match="'nope'.*existing collections"):
        registry.get_collection_type("nope")
    assert registry.query_collections("c_*") == ["c_calibration", "c_chained", "c_tagged"]
    assert registry.query_collections(collection_types=["RUN"]) == ["r1"]


def test_chains(registry: Registry) -> None:
    for n in ("a", "b", "c"):
        registry.register_run(n)
    registry.register_collection("inner", "CHAINED")
    registry.register_collection("outer", "CHAINED")
    registry.set_collection_chain("inner", ["b", "c"])
    registry.set_collection_chain("outer", ["a", "inner", "c"])
    assert registry.get_collection_chain("outer") == ["a", "inner", "c"]
    assert registry.query_collections("outer", flatten_chains=True) == ["a", "b", "c"]
    registry.extend_collection_chain("inner", ["a"])
    assert registry.get_collection_chain("inner") == ["b", "c", "a"]
    registry.prepend_collection_chain("inner", "a")
    assert registry.get_collection_chain("inner") == ["a", "b", "c"]
    registry.remove_from_collection_chain("inner", ["b"])
    assert registry.get_collection_chain("inner") == ["a", "c"]
    with pytest.raises(MissingCollectionError, match=r"\['zzz'\] are not in chain 'inner'"):
        registry.remove_from_collection_chain("inner", ["zzz"])
    with pytest.raises(CollectionCycleError, match="cannot contain itself"):
        registry.set_collection_chain("inner", ["inner"])
    with pytest.raises(CollectionCycleError, match="cycle"):
        registry.set_collection_chain("inner", ["a", "outer"])
    assert registry.get_collection_chain("inner") == ["a", "c"]  # unchanged by the refused edit
    with pytest.raises(CollectionTypeError, match="only CHAINED"):
        registry.set_collection_chain("a", ["b"])
    registry.set_collection_chain("outer", ["inner"], flatten=True)
    assert registry.get_collection_chain("outer") == ["a", "c"]
    # Removal: a chain member cannot go; a chain can, leaving its children.
    assert registry.get_collection_parent_chains("c") == ["inner", "outer"]
    with pytest.raises(OrphanedRecordError, match=r"child of chain\(s\) \['inner', 'outer'\]"):
        registry.remove_collection("c")
    registry.remove_collection("outer")
    registry.remove_collection("inner")
    registry.remove_collection("c")
    assert registry.query_collections() == ["a", "b"]


# --- dataset types and datasets --------------------------------------------------------------


def test_dataset_type_registration(registry: Registry) -> None:
    u = registry.universe
    dt = DatasetType("calexp", ["instrument", "visit", "detector"], "Exposure", u)
    assert registry.register_dataset_type(dt) is True
    assert registry.register_dataset_type(dt) is False
    assert registry.get_dataset_type("calexp") == dt
    other = DatasetType("calexp", ["instrument", "visit", "detector"], "ExposureF", u)
    with pytest.raises(ConflictingDefinitionError, match=r"ExposureF.*conflicts.*storage class Exposure\)"):
        registry.register_dataset_type(other)
    with pytest.raises(DatasetTypeError, match="Component"):
        registry.register_dataset_type(DatasetType("calexp.wcs", ["instrument"], "Wcs", u))
    with pytest.raises(InvalidNameError, match="invalid"):
        DatasetType("9lives", ["instrument"], "X", u)
    with pytest.raises(DatasetTypeError, match="governor"):
        DatasetType("instrument", ["instrument"], "X", u)
    with pytest.raises(MissingDatasetTypeError, match="Did you mean 'calexp'"):
        registry.get_dataset_type("calexq")
    assert [d.name for d in registry.query_dataset_types("cal*")] == ["calexp"]


def test_deterministic_ids_match_the_rubin_recipe(registry: Registry) -> None:
    add_instrument(registry, "HSC", n_detectors=0)
    registry.insert_dimension_records("detector", [{"instrument": "HSC", "id": 10, "full_name": "1_43"}])
    registry.insert_dimension_records(
        "exposure",
        [
            {
                "instrument": "HSC",
                "id": 903342,
                "obs_id": "HSCA90334200",
                "physical_filter": "HSC-r",
                "group": "g1",
                "day_obs": DAY,
            }
        ],
    )
    registry.register_run("HSC/raw/all")
    registry.register_dataset_type(
        DatasetType("raw", ["instrument", "exposure", "detector"], "Exposure", registry.universe)
    )
    data_id = {"instrument": "HSC", "exposure": 903342, "detector": 10}
    (per_run,) = registry.insert_datasets("raw", [data_id], "HSC/raw/all", DatasetIdGenEnum.DATAID_TYPE_RUN)
    assert per_run.id == uuid.UUID("0a48762a-8446-51b0-b34d-37f891b5295b")
    registry.register_run("other")
    (run_free,) = registry.insert_datasets("raw", [data_id], "other", DatasetIdGenEnum.DATAID_TYPE)
    assert run_free.id == uuid.UUID("d56bfd9c-360a-5273-a0f0-d3def6e91bff")
    # Deterministic per-run IDs make a re-insert of the same raw a conflict, not a duplicate.
    with pytest.raises(ConflictingDefinitionError, match="already exists"):
        registry.insert_datasets("raw", [data_id], "HSC/raw/all", DatasetIdGenEnum.DATAID_TYPE_RUN)


def test_unique_ids_are_time_ordered_uuid7(populated: Registry) -> None:
    refs = populated.insert_datasets(
        "raw", [{"instrument": "Cam", "exposure": 100, "detector": d} for d in range(4)], "run/a"
    )
    assert all(r.id.version == 7 for r in refs)
    assert [r.id for r in refs] == sorted(r.id for r in refs)


def test_one_dataset_per_type_data_id_and_run(populated: Registry) -> None:
    ids = [{"instrument": "Cam", "exposure": 100, "detector": d} for d in range(3)]
    populated.insert_datasets("raw", ids, "run/a")
    before = count(populated, "dataset")
    with pytest.raises(ConflictingDefinitionError, match=r"'detector': 1.*already exists in run 'run/a'"):
        populated.insert_datasets(
            "raw", [{"instrument": "Cam", "exposure": 101, "detector": 0}, ids[1]], "run/a"
        )
    with pytest.raises(ConflictingDefinitionError, match="more than once"):
        populated.insert_datasets("raw", [ids[0], ids[0]], "run/b")
    with pytest.raises(DataIdValueError, match="detector=42"):
        populated.insert_datasets("raw", [{"instrument": "Cam", "exposure": 101, "detector": 42}], "run/b")
    with pytest.raises(DimensionNameError, match="'detector'"):
        populated.insert_datasets("raw", [{"instrument": "Cam", "exposure": 101}], "run/b")
    with pytest.raises(MissingCollectionError, match="'run/zzz'"):
        populated.insert_datasets("raw", ids, "run/zzz")
    assert count(populated, "dataset") == before  # every failed batch wrote nothing
    populated.insert_datasets("raw", ids, "run/b")  # the same data IDs in another run are fine
    assert count(populated, "dataset") == before + 3
    populated.register_collection("tag", "TAGGED")
    with pytest.raises(CollectionTypeError, match="only be inserted into RUN"):
        populated.insert_datasets("raw", ids, "tag")


def test_find_first_through_chains(populated: Registry) -> None:
    d0 = {"instrument": "Cam", "exposure": 100, "detector": 0}
    d1 = {"instrument": "Cam", "exposure": 100, "detector": 1}
    (a0, a1) = populated.insert_datasets("raw", [d0, d1], "run/a")
    (b0,) = populated.insert_datasets("raw", [d0], "run/b")
    populated.register_collection("chain", "CHAINED")
    populated.register_collection("outer", "CHAINED")
    populated.set_collection_chain("chain", ["run/b", "run/a"])
    populated.set_collection_chain("outer", ["chain"])
    assert populated.find_dataset("raw", d0, collections=["run/a"]) == a0
    assert populated.find_dataset("raw", d0, collections=["chain"]) == b0
    assert populated.find_dataset("raw", d0, collections=["outer"]).run == "run/b"
    assert populated.find_dataset("raw", d1, collections="outer") == a1  # falls through to run/a
    assert populated.find_dataset("raw", d0, collections=["run/a", "chain"]) == a0
    assert populated.find_dataset("raw", {**d0, "detector": 3}, collections=["chain"]) is None
    populated.set_collection_chain("chain", ["run/a", "run/b"])  # order change takes effect
    assert populated.find_dataset("raw", d0, collections=["outer"]) == a0
    # Extra keys are ignored; resolve IDs back to refs.
    assert populated.find_dataset("raw", {**d0, "visit": 5}, collections=["run/b"]) == b0
    assert populated.get_datasets([a1.id, uuid.uuid4()]) == [a1]


def test_tagged_collections(populated: Registry) -> None:
    d0 = {"instrument": "Cam", "exposure": 100, "detector": 0}
    (a0,) = populated.insert_datasets("raw", [d0], "run/a")
    (b0,) = populated.insert_datasets("raw", [d0], "run/b")
    populated.register_collection("tag", "TAGGED")
    populated.associate("tag", [a0])
    populated.associate("tag", [a0])  # idempotent
    assert populated.find_dataset("raw", d0, collections="tag") == a0
    with pytest.raises(ConflictingDefinitionError, match="different 'raw' dataset"):
        populated.associate("tag", [b0])
    with pytest.raises(CollectionTypeError, match="associate needs TAGGED"):
        populated.associate("run/b", [a0])
    populated.disassociate("tag", [a0])
    assert populated.find_dataset("raw", d0, collections="tag") is None
    populated.associate("tag", [b0])
    assert populated.find_dataset("raw", d0, collections="tag") == b0


def test_remove_datasets_and_runs(populated: Registry) -> None:
    refs = populated.insert_datasets(
        "raw", [{"instrument": "Cam", "exposure": 100, "detector": d} for d in range(3)], "run/a"
    )
    populated.register_collection("tag", "TAGGED")
    populated.associate("tag", refs)
    populated.remove_datasets(refs[:1])
    assert populated.find_dataset("raw", refs[0].data_id, collections="tag") is None
    assert populated.find_dataset("raw", refs[1].data_id, collections="tag") == refs[1]
    populated.remove_collection("run/a")  # cascades to the run's datasets and their tags
    assert populated.find_dataset("raw", refs[1].data_id, collections="tag") is None
    assert count(populated, "dataset") == 0


def test_certify_and_decertify(populated: Registry) -> None:
    u = populated.universe
    populated.register_dataset_type(
        DatasetType("bias", ["instrument", "detector"], "Exposure", u, is_calibration=True)
    )
    refs = populated.insert_datasets(
        "bias", [{"instrument": "Cam", "detector": d} for d in range(2)], "run/a"
    )
    later = populated.insert_datasets("bias", [{"instrument": "Cam", "detector": 0}], "run/b")
    populated.register_collection("calib", "CALIBRATION")
    t0 = DAY_SPAN.begin
    assert t0 is not None
    first = Timespan(t0, t0 + 10 * HOUR)
    populated.certify("calib", refs, first)
    populated.certify("calib", later, Timespan(t0 + 10 * HOUR, None))  # adjacent: no overlap
    # Certifying the same datasets over exactly the same range again changes nothing.
    populated.certify("calib", refs, first)
    assert populated.query_datasets("bias", "calib", find_first=False).count() == 3
    with pytest.raises(ConflictingDefinitionError, match="already certified"):  # same dataset, other range
        populated.certify("calib", refs[:1], Timespan(t0 + HOUR, t0 + 11 * HOUR))
    # Overlapping validity for the same data ID is refused, naming the data ID, on both backends.
    with pytest.raises(ConflictingDefinitionError, match=r"'detector': 0.*already certified"):
        populated.certify("calib", later, Timespan(t0 + 5 * HOUR, t0 + 6 * HOUR))
    with pytest.raises(ConflictingDefinitionError, match="conflict"):
        populated.certify("calib", refs[:1], Timespan(None, t0 + HOUR))
    with pytest.raises(CollectionTypeError, match="not CALIBRATION"):
        populated.certify("run/a", refs, first)
    raw = populated.insert_datasets("raw", [{"instrument": "Cam", "exposure": 100, "detector": 0}], "run/a")
    with pytest.raises(DatasetTypeError, match="not a calibration type"):
        populated.certify("calib", raw, first)
    d0 = {"instrument": "Cam", "detector": 0}
    at = Timespan(t0 + 2 * HOUR, t0 + 2 * HOUR + 1)
    assert populated.find_dataset("bias", d0, collections="calib", timespan=at) == refs[0]
    assert (
        populated.find_dataset(
            "bias", d0, collections="calib", timespan=Timespan(t0 + 11 * HOUR, t0 + 12 * HOUR)
        )
        == later[0]
    )
    assert (
        populated.find_dataset("bias", d0, collections="calib") is None
    )  # no time: calibration collections skipped
    with pytest.raises(CalibrationLookupError, match="Ambiguous"):
        populated.find_dataset("bias", d0, collections="calib", timespan=Timespan(t0, t0 + 20 * HOUR))
    # Punch a hole in detector 0's first range: two pieces remain.
    populated.decertify("calib", "bias", Timespan(t0 + 2 * HOUR, t0 + 3 * HOUR), data_ids=[d0])
    assert populated.find_dataset("bias", d0, collections="calib", timespan=at) is None
    assert (
        populated.find_dataset(
            "bias", d0, collections="calib", timespan=Timespan(t0 + 4 * HOUR, t0 + 5 * HOUR)
        )
        == refs[0]
    )
    assert (
        populated.find_dataset("bias", d0, collections="calib", timespan=Timespan(t0, t0 + HOUR)) == refs[0]
    )
    # Detector 1 was not named, so it is untouched; now certify into the hole.
    assert populated.find_dataset("bias", {**d0, "detector": 1}, collections="calib", timespan=at) == refs[1]
    populated.certify("calib", later, Timespan(t0 + 2 * HOUR, t0 + 3 * HOUR))
    assert populated.find_dataset("bias", d0, collections="calib", timespan=at) == later[0]


def test_cached_records_follow_other_connections(database) -> None:
    """Records added elsewhere are found; on SQLite changed ones are seen too (PostgreSQL: after refresh())."""
    from _populate import add_instrument

    a = Registry.create(database.url, namespace=database.namespace)
    b = Registry.open(database.url, namespace=database.namespace)
    try:
        add_instrument(a)
        assert a.expand_data_id(instrument="Cam", physical_filter="Cam-r")["band"] == "r"  # caches filled
        assert a.expand_data_id(instrument="Cam", detector=0).records["detector"] is not None
        b.insert_dimension_records(
            "detector", [{"instrument": "Cam", "id": 50, "full_name": "S50", "purpose": "SCIENCE"}]
        )
        assert a.expand_data_id(instrument="Cam", detector=50).records["detector"].full_name == "S50"
        b.sync_dimension_record(
            "physical_filter", {"instrument": "Cam", "name": "Cam-r", "band": "i"}, update=True
        )
        if database.backend == "sqlite":
            assert a.expand_data_id(instrument="Cam", physical_filter="Cam-r")["band"] == "i"
        a.refresh()
        assert a.expand_data_id(instrument="Cam", physical_filter="Cam-r")["band"] == "i"
        with pytest.raises(DataIdValueError, match="detector=99"):
            a.expand_data_id(instrument="Cam", detector=99)
    finally:
        b.close()
        a.close()
