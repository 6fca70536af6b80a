"""Export -> import round trips (SQLite -> SQLite and SQLite -> PostgreSQL), and refused conflicts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _transfers_setup import DAY_SPAN, HOUR, make_source

from chamberlain.butler import Butler
from chamberlain.errors import ConflictingRecordError, ReadOnlyError
from chamberlain.geometry import Timespan
from chamberlain.registry import CollectionType


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("source")
    butler, refs = make_source(root / "repo")
    export_file = root / "export.yaml"
    summary = butler.export(export_file)
    yield butler, refs, export_file, summary
    butler.close()


def _target(tmp_path: Path, database: Any) -> Butler:
    if database.backend == "sqlite":
        return Butler.create(tmp_path / "target")
    return Butler.create(tmp_path / "target", db=database.url, namespace=database.namespace)


def _document(butler: Butler, path: Path) -> dict[str, Any]:
    butler.export(path)
    doc = yaml.safe_load(path.read_text())
    doc.pop("root")
    return doc


def test_export_file_layout(source: Any) -> None:
    butler, refs, export_file, summary = source
    doc = yaml.safe_load(export_file.read_text())
    assert doc["description"] == "Chamberlain export"
    assert doc["universe"] == {"namespace": "chamberlain", "version": 1}
    elements = [d["element"] for d in doc["dimensions"]]
    universe_order = list(butler.registry.universe.element_names)
    assert elements == sorted(elements, key=universe_order.index)
    for name in (
        "instrument",
        "detector",
        "exposure",
        "visit",
        "visit_definition",
        "visit_system_membership",
        "visit_detector_region",
        "skymap",
        "tract",
        "patch",
        "day_obs",
        "group",
        "visit_system",
    ):
        assert name in elements, name
    visits = next(d for d in doc["dimensions"] if d["element"] == "visit")["records"]
    assert isinstance(visits[0]["region"], str) and isinstance(visits[0]["timespan"], list)
    calib = next(a for a in doc["associations"] if a["collection"] == "calib")
    first, second = refs["validity"]
    assert {tuple(v["timespan"]) for v in calib["validity_ranges"]} == {
        (first.begin, first.end),
        (second.begin, None),
    }
    assert summary.datasets == 11 and summary.files == 11
    assert summary.records == sum(len(d["records"]) for d in doc["dimensions"])


def test_round_trip_reproduces_everything(source: Any, tmp_path: Path, database: Any) -> None:
    src, refs, export_file, _ = source
    with _target(tmp_path, database) as target:
        summary = target.import_(export_file)
        assert summary.datasets == 11 and summary.files == 11 and summary.records_skipped == 0
        reg = target.registry
        # Every record, dataset, collection, membership and validity range: the export of the copy is the same.
        assert _document(target, tmp_path / "again.yaml") == _document(src, tmp_path / "orig.yaml")
        # Spot checks through the normal API.
        for element in ("visit", "visit_detector_region", "patch", "exposure", "skymap"):
            assert sorted(reg.fetch_dimension_records(element), key=repr) == sorted(
                src.registry.fetch_dimension_records(element), key=repr
            )
        assert reg.get_collection_type("calib") is CollectionType.CALIBRATION
        assert reg.get_collection_chain("chain") == ["tagged", "run1", "calib"]
        assert reg.get_collection_doc("calib/run") == "calibration products"
        assert DAY_SPAN.begin is not None
        late = Timespan(DAY_SPAN.begin + 5 * HOUR, DAY_SPAN.begin + 6 * HOUR)
        found = reg.find_dataset(
            "bias", instrument="SimCam", detector=0, collections=["calib"], timespan=late
        )
        assert found is not None and found.id == refs["bias"][0].id
        assert (
            reg.find_dataset("bias", instrument="SimCam", detector=1, collections=["calib"], timespan=late)
            is None
        )
        tagged = {r.id for r in reg.query_datasets("*", ["tagged"], find_first=False)}
        assert tagged == {refs["meta"][0].id, refs["meta"][3].id, refs["calexp"].id}
        # Files: same bytes, now inside the target repository.
        all_refs = [*refs["meta"], refs["run2"], refs["calexp"], refs["deep"], *refs["bias"]]
        for ref in all_refs:
            copied = target.get_uri(ref)
            assert copied.startswith(str(target.config.root))
            assert Path(copied).read_bytes() == Path(src.get_uri(ref)).read_bytes()
        assert target.get(refs["meta"][2]) == {"visit": 2, "detector": 0}
        assert target.get("meta", instrument="SimCam", visit=1, detector=0, collections="run2") == {
            "second": True
        }


def test_import_twice_is_idempotent(source: Any, tmp_path: Path) -> None:
    _, _, export_file, _ = source
    with Butler.create(tmp_path / "target") as target:
        first = target.import_(export_file)
        calib_rows = target.registry.query_datasets("bias", ["calib"], find_first=False).count()
        collections = list(target.registry.query_collections("*"))
        everything = {r.id for r in target.registry.query_datasets("*", collections, find_first=False)}
        again = target.import_(export_file)  # the same calibration ranges certify to nothing new
        assert first.datasets > 0 and again.datasets == 0 and again.datasets_skipped == first.datasets
        assert again.files == 0
        assert target.registry.query_datasets("bias", ["calib"], find_first=False).count() == calib_rows == 3
        assert {
            r.id for r in target.registry.query_datasets("*", collections, find_first=False)
        } == everything


def test_conflicting_records_are_refused_and_nothing_is_written(
    source: Any, tmp_path: Path, database: Any
) -> None:
    _, _, export_file, _ = source
    with _target(tmp_path, database) as target:
        from chamberlain.instrument.registration import register_instrument

        register_instrument(target.registry, "SimCam")
        target.registry.sync_dimension_record(
            "detector",
            {
                **target.registry.get_dimension_record("detector", instrument="SimCam", detector=1).to_dict(),
                "purpose": "WAVEFRONT",
            },
            update=True,
        )
        target.registry.insert_dimension_records("group", [{"instrument": "SimCam", "name": "grp1"}])
        before = sorted(target.registry.query_collections())
        with pytest.raises(ConflictingRecordError) as info:
            target.import_(export_file)
        message = str(info.value)
        assert "detector" in message and "'id': 1" in message and "purpose" in message
        assert "'WAVEFRONT'" in message and "'SCIENCE'" in message
        assert sorted(target.registry.query_collections()) == before
        assert target.registry.query_dataset_types() == []
        assert target.registry.fetch_dimension_records("exposure") == []
        files = [
            p for p in target.config.root.rglob("*") if p.is_file() and not p.name.startswith("chamberlain")
        ]
        assert files == []


def test_selection_exports_only_what_is_asked(source: Any, tmp_path: Path) -> None:
    src, refs, _, _ = source
    out = tmp_path / "tagged.yaml"
    summary = src.export(out, collections="tagged", dataset_types=["meta"], where="visit = 1")
    doc = yaml.safe_load(out.read_text())
    ids = [r["id"] for block in doc["datasets"] for r in block["records"]]
    assert ids == [str(refs["meta"][0].id)]
    assert {c["name"] for c in doc["collections"]} == {"tagged", "run1"}
    visits = next(d for d in doc["dimensions"] if d["element"] == "visit")["records"]
    assert [v["id"] for v in visits] == [1]
    assert "patch" not in {d["element"] for d in doc["dimensions"]}
    assert summary.datasets == 1
    with Butler.create(tmp_path / "small") as target:
        target.import_(out)
        assert [r.id for r in target.registry.query_datasets("meta", ["tagged"], find_first=False)] == [
            refs["meta"][0].id
        ]


def test_without_files_and_read_only(source: Any, tmp_path: Path) -> None:
    src, refs, _, _ = source
    out = tmp_path / "meta.yaml"
    src.export(out, collections="run1", dataset_types="deep", with_files=False)
    with Butler.create(tmp_path / "target") as target:
        summary = target.import_(out)
        assert summary.files == 0 and summary.datasets == 1
        assert not target.exists(refs["deep"])
        assert target.registry.get_datasets([refs["deep"].id])[0].data_id == refs["deep"].data_id
    with Butler(tmp_path / "target") as reader, pytest.raises(ReadOnlyError, match="read-only"):
        reader.import_(out)
