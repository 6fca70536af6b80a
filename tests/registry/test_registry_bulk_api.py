"""The registry's bulk read API used outside registry/ (records by keys, counts, associations, overlaps, migrate).

Each test runs on SQLite and PostgreSQL (the `database` fixture) and checks the
results against the data it inserted or against an independent SQL count.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _populate import DAY, DAY_SPAN, HOUR, add_exposures, add_instrument

from chamberlain.datasets import DatasetType
from chamberlain.errors import (
    CollectionTypeError,
    DimensionRecordError,
    MissingCollectionError,
    SchemaVersionError,
)
from chamberlain.geometry import Timespan
from chamberlain.registry import CollectionType, DatasetAssociation, Registry, migrate, redact_url
from chamberlain.schema import versioning


@pytest.fixture
def registry(database) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    try:
        add_instrument(reg)
        add_exposures(reg, [100, 101, 102, 103])
        yield reg
    finally:
        reg.close()


def _raw(registry: Registry) -> DatasetType:
    dt = DatasetType("raw", ["instrument", "exposure", "detector"], "Exposure", registry.universe)
    registry.register_dataset_type(dt)
    return dt


# --- fetch_dimension_records -------------------------------------------------------------------


def test_records_by_key_leave_out_unknown_and_repeated_keys(registry: Registry) -> None:
    records = registry.fetch_dimension_records(
        "exposure", [("Cam", 102), ("Cam", 100), ("Cam", 999), ("Other", 101), ("Cam", 100)]
    )
    assert sorted((r.instrument, r.id, r.obs_id) for r in records) == [
        ("Cam", 100, "OBS100"),
        ("Cam", 102, "OBS102"),
    ]
    assert registry.fetch_dimension_records("exposure", []) == []


def test_records_by_other_fields_and_bare_values(registry: Registry) -> None:
    by_obs = registry.fetch_dimension_records("exposure", ["OBS101", "OBS103", "nope"], fields=["obs_id"])
    assert sorted(r.id for r in by_obs) == [101, 103]
    # The k-th exposure starts k hours into the day (tests/_populate.py).
    assert {r.id: r.timespan.begin for r in by_obs} == {
        101: DAY_SPAN.begin + 1 * HOUR,
        103: DAY_SPAN.begin + 3 * HOUR,
    }
    by_group = registry.fetch_dimension_records(
        "exposure", [("Cam", "g1", DAY)], fields=["instrument", "group", "day_obs"]
    )
    assert sorted(r.id for r in by_group) == [100, 101, 102, 103]
    visits = registry.fetch_dimension_records("visit", [("Cam", 103)])
    assert [(v.id, v.name) for v in visits] == [(103, "v103")]


def test_records_by_many_keys_span_several_statements(registry: Registry) -> None:
    # 2 fields x 40,000 keys is more bound parameters than either backend takes in one statement.
    keys = [("Cam", i) for i in range(40_000)]
    records = registry.fetch_dimension_records("exposure", keys)
    assert sorted(r.id for r in records) == [100, 101, 102, 103]
    # 3,000 distinct (obs_id, day_obs) prefixes: their groups are split over several statements.
    keys = [(f"OBS{i}", DAY, "Cam") for i in range(3_000)]
    records = registry.fetch_dimension_records("exposure", keys, fields=["obs_id", "day_obs", "instrument"])
    assert sorted(r.id for r in records) == [100, 101, 102, 103]


def test_records_all_without_values(registry: Registry) -> None:
    assert sorted(r.id for r in registry.fetch_dimension_records("exposure")) == [100, 101, 102, 103]


@pytest.mark.parametrize(
    ("values", "fields", "message"),
    [
        ([("Cam",)], None, r"Value \('Cam',\) does not match the fields \['instrument', 'id'\]"),
        ([b"x"], ["region"], r"Cannot match 'exposure' records on field\(s\) \['region'\]"),
        (["x"], ["nope"], r"field\(s\) \['nope'\]; fields that can be matched: instrument, id"),
        (None, ["obs_id"], r"fields=\['obs_id'\] needs values"),
    ],
)
def test_records_bad_fields_and_values_are_one_line_errors(
    registry: Registry, values: list | None, fields: list | None, message: str
) -> None:
    with pytest.raises(DimensionRecordError, match=message):
        registry.fetch_dimension_records("exposure", values, fields=fields)


# --- count_datasets -----------------------------------------------------------------------------


def test_count_datasets_per_run_and_type(registry: Registry) -> None:
    raw = _raw(registry)
    calexp = DatasetType("calexp", ["instrument", "exposure", "detector"], "ExposureF", registry.universe)
    registry.register_dataset_type(calexp)
    for run in ("run/a", "run/b", "run/empty"):
        registry.register_run(run)
    registry.insert_datasets(
        raw, [{"instrument": "Cam", "exposure": e, "detector": 0} for e in (100, 101, 102)], "run/a"
    )
    registry.insert_datasets(calexp, [{"instrument": "Cam", "exposure": 100, "detector": 1}], "run/a")
    registry.insert_datasets(raw, [{"instrument": "Cam", "exposure": 103, "detector": 2}], "run/b")
    counts = registry.count_datasets(["run/a", "run/b", "run/empty", "run/a"])
    assert counts == {"run/a": {"raw": 3, "calexp": 1}, "run/b": {"raw": 1}, "run/empty": {}}
    assert registry.count_datasets([]) == {}


def test_count_datasets_refuses_other_collections(registry: Registry) -> None:
    registry.register_collection("tagged", CollectionType.TAGGED)
    with pytest.raises(CollectionTypeError, match=r"'tagged' is TAGGED, not a RUN"):
        registry.count_datasets(["tagged"])
    with pytest.raises(MissingCollectionError, match="nope"):
        registry.count_datasets(["nope"])


# --- query_dataset_associations -----------------------------------------------------------------


def test_dataset_associations_of_tagged_and_calibration_collections(registry: Registry) -> None:
    raw = _raw(registry)
    bias = DatasetType(
        "bias", ["instrument", "detector"], "ExposureF", registry.universe, is_calibration=True
    )
    registry.register_dataset_type(bias)
    registry.register_run("run")
    refs = registry.insert_datasets(
        raw, [{"instrument": "Cam", "exposure": e, "detector": 0} for e in (100, 101, 102)], "run"
    )
    biases = registry.insert_datasets(bias, [{"instrument": "Cam", "detector": d} for d in (0, 1)], "run")
    registry.register_collection("tagged", CollectionType.TAGGED)
    registry.register_collection("other", CollectionType.TAGGED)
    registry.register_collection("calib", CollectionType.CALIBRATION)
    registry.associate("tagged", refs[:2])
    registry.associate("other", refs[2:])
    early, late = Timespan(0, DAY_SPAN.begin), Timespan(DAY_SPAN.begin, None)
    registry.certify("calib", biases[:1], early)
    registry.certify("calib", biases, late)

    got = registry.query_dataset_associations(["tagged", "calib"])
    assert all(isinstance(a, DatasetAssociation) for a in got)
    assert sorted(got, key=repr) == sorted(
        [
            DatasetAssociation("tagged", refs[0].id, None),
            DatasetAssociation("tagged", refs[1].id, None),
            DatasetAssociation("calib", biases[0].id, early),
            DatasetAssociation("calib", biases[0].id, late),
            DatasetAssociation("calib", biases[1].id, late),
        ],
        key=repr,
    )
    assert registry.query_dataset_associations([]) == []
    with pytest.raises(CollectionTypeError, match=r"'run' is RUN; dataset associations are read from TAGGED"):
        registry.query_dataset_associations(["run"])


# --- count_overlaps -----------------------------------------------------------------------------


def test_count_overlaps_matches_the_overlap_table(populated_registry: Registry) -> None:
    registry = populated_registry
    table = registry._tables["visit_detector_region_patch_overlap"]
    expected = registry._db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    assert expected > 0  # the query repository's detectors overlap some patches
    assert registry.count_overlaps("visit_detector_region", "patch") == expected
    assert registry.count_overlaps("patch", "visit_detector_region") == expected
    with pytest.raises(DimensionRecordError, match=r"No overlaps are stored between 'exposure' and 'patch'"):
        registry.count_overlaps("exposure", "patch")


# --- migrate ------------------------------------------------------------------------------------


def test_migrate_a_repository_at_head_applies_nothing(database) -> None:
    Registry.create(database.url, namespace=database.namespace).close()
    result = migrate(database.url, namespace=database.namespace)
    head = versioning.head_revision()
    assert (result.current, result.head, result.applied, result.reached) == (head, head, (), head)


def test_migrate_refuses_a_database_that_is_not_a_repository(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    sqlite3.connect(path).close()
    with pytest.raises(
        SchemaVersionError, match=r"Cannot migrate 'mine': its database has no schema revision"
    ):
        migrate(f"sqlite:///{path}", label="mine")


def test_redact_url_hides_the_password() -> None:
    assert redact_url("postgresql://me:secret@127.0.0.1:5432/db") == "postgresql://me:***@127.0.0.1:5432/db"
