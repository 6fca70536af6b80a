"""Importing Rubin butler YAML exports written by hand (format 1.0.2 and the older version 0)."""

from __future__ import annotations

import base64
import sys
import uuid
from pathlib import Path

import astropy.time
import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))

from _populate import box

from chamberlain.butler import Butler
from chamberlain.errors import IngestError
from chamberlain.geometry import Timespan, time_to_ns
from chamberlain.transfers import ExportFormatError, read_export

VISIT_REGION = box(45.0, -30.0, 0.3)
VDR_REGIONS = {0: box(44.9, -30.0, 0.1), 1: box(45.1, -30.0, 0.1)}
TRACT_REGION = box(45.0, -30.0, 1.0)
PATCH_REGION = box(45.0, -30.0, 0.5)
HASH = b"not-really-a-skymap-hash-of-40-bytes!!!!"
CALEXP = uuid.UUID("0f5c2e46-8c1b-4b6e-9d9a-1d2b3c4d5e6f")
FLAT = uuid.UUID("7d4a1e22-3f2b-4c1d-8e9f-0a1b2c3d4e5f")


def tai(text: str) -> int:
    return time_to_ns(astropy.time.Time(text, format="iso", scale="tai"))


def polygon(region: object) -> str:
    return f"!<lsst.sphgeom.ConvexPolygon>\n      encoded: {region.encode().hex()}"  # type: ignore[attr-defined]


RUBIN_V8 = f"""\
description: Butler Data Repository Export
version: 1.0.2
universe_version: 7
universe_namespace: daf_butler
data:
- type: dimension
  element: instrument
  records:
  - {{name: HSC, visit_max: 21474800, visit_system: 0, exposure_max: 21474800, detector_max: 200,
      class_name: lsst.obs.subaru.HyperSuprimeCam}}
- type: dimension
  element: physical_filter
  records:
  - {{instrument: HSC, name: HSC-R, band: r}}
- type: dimension
  element: detector
  records:
  - {{instrument: HSC, id: 0, full_name: '1_53', name_in_raft: '53', raft: '1', purpose: SCIENCE}}
  - {{instrument: HSC, id: 1, full_name: '1_54', name_in_raft: '54', raft: '1', purpose: SCIENCE}}
- type: dimension
  element: day_obs
  records:
  - instrument: HSC
    id: 20160307
    datetime_begin: !butler_time/tai/iso '2016-03-07 00:00:00.000000000'
    datetime_end: !butler_time/tai/iso '2016-03-08 00:00:00.000000000'
- type: dimension
  element: group
  records:
  - {{instrument: HSC, name: '1228'}}
- type: dimension
  element: exposure
  records:
  - instrument: HSC
    id: 1228
    obs_id: HSCA01228000
    physical_filter: HSC-R
    group: '1228'
    day_obs: 20160307
    exposure_time: 30.0
    observation_type: science
    can_see_sky: true
    datetime_begin: !butler_time/tai/iso '2016-03-07 10:17:30.123456789'
    datetime_end: !butler_time/tai/iso '2016-03-07 10:18:00.123456789'
- type: dimension
  element: visit
  records:
  - instrument: HSC
    id: 1228
    name: HSCA01228000
    physical_filter: HSC-R
    day_obs: 20160307
    exposure_time: 30.0
    datetime_begin: !butler_time/tai/iso '2016-03-07 10:17:30.123456789'
    datetime_end: !butler_time/tai/iso '2016-03-07 10:18:00.123456789'
    region: {polygon(VISIT_REGION)}
- type: dimension
  element: visit_system
  records:
  - {{instrument: HSC, id: 0, name: one-to-one}}
- type: dimension
  element: visit_definition
  records:
  - {{instrument: HSC, exposure: 1228, visit: 1228}}
- type: dimension
  element: visit_system_membership
  records:
  - {{instrument: HSC, visit: 1228, visit_system: 0}}
- type: dimension
  element: visit_detector_region
  records:
  - instrument: HSC
    visit: 1228
    detector: 0
    region: {polygon(VDR_REGIONS[0])}
  - instrument: HSC
    visit: 1228
    detector: 1
    region: {polygon(VDR_REGIONS[1])}
- type: dimension
  element: skymap
  records:
  - name: hsc_rings_v1
    hash: !!binary |
      {base64.b64encode(HASH).decode()}
    tract_max: 18938
    patch_nx_max: 9
    patch_ny_max: 9
- type: dimension
  element: tract
  records:
  - skymap: hsc_rings_v1
    id: 9813
    region: {polygon(TRACT_REGION)}
- type: dimension
  element: patch
  records:
  - skymap: hsc_rings_v1
    tract: 9813
    id: 40
    cell_x: 4
    cell_y: 4
    region: {polygon(PATCH_REGION)}
- type: dimension
  element: ssp_hypothesis_table
  records:
  - {{name: ignored}}
- type: collection
  collection_type: RUN
  name: HSC/runs/RC2
  host: null
  timespan_begin: null
  timespan_end: null
- type: collection
  collection_type: RUN
  name: HSC/calib/run
  host: null
  timespan_begin: null
  timespan_end: null
- type: collection
  collection_type: TAGGED
  name: HSC/tagged
- type: collection
  collection_type: CALIBRATION
  name: HSC/calib
  doc: certified flats
- type: collection
  collection_type: CHAINED
  name: HSC/defaults
  children: [HSC/tagged, HSC/runs/RC2, HSC/calib]
- type: dataset_type
  name: calexp
  dimensions: [instrument, visit, detector]
  storage_class: ExposureF
  is_calibration: false
- type: dataset_type
  name: flat
  dimensions: [instrument, detector, physical_filter]
  storage_class: ExposureF
  is_calibration: true
- type: dataset
  dataset_type: calexp
  run: HSC/runs/RC2
  records:
  - dataset_id: [!uuid '{CALEXP}']
    data_id: [{{instrument: HSC, visit: 1228, detector: 0, band: r, physical_filter: HSC-R}}]
    path: HSC/runs/RC2/calexp/calexp_HSC_1228_0.fits
    formatter: lsst.obs.base.formatters.fitsExposure.FitsExposureFormatter
- type: dataset
  dataset_type: flat
  run: HSC/calib/run
  records:
  - dataset_id: [!uuid '{FLAT}']
    data_id: [{{instrument: HSC, detector: 1, physical_filter: HSC-R}}]
    path: HSC/calib/flat_1.fits
    formatter: lsst.obs.base.formatters.fitsExposure.FitsExposureFormatter
- type: associations
  collection: HSC/tagged
  collection_type: TAGGED
  dataset_ids: [!uuid '{CALEXP}']
- type: associations
  collection: HSC/calib
  collection_type: CALIBRATION
  validity_ranges:
  - timespan: !lsst.daf.butler.Timespan
      begin: !butler_time/tai/iso '2016-01-01 00:00:00.000000000'
      end: null
    dataset_ids: [!uuid '{FLAT}']
"""


def test_rubin_export_imports_with_equal_regions_and_timespans(tmp_path: Path) -> None:
    path = tmp_path / "export.yaml"
    path.write_text(RUBIN_V8)
    with Butler.create(tmp_path / "repo") as butler:
        summary = butler.import_(path, without_datastore=True)
        reg = butler.registry
        visit = reg.get_dimension_record("visit", instrument="HSC", visit=1228)
        assert visit is not None
        assert visit.region == VISIT_REGION
        assert visit.timespan == Timespan(
            tai("2016-03-07 10:17:30.123456789"), tai("2016-03-07 10:18:00.123456789")
        )
        vdr = {r.detector: r.region for r in reg.fetch_dimension_records("visit_detector_region")}
        assert vdr == VDR_REGIONS
        exposure = reg.get_dimension_record("exposure", instrument="HSC", exposure=1228)
        assert exposure is not None and exposure.timespan == visit.timespan and exposure.can_see_sky is True
        day = reg.get_dimension_record("day_obs", instrument="HSC", day_obs=20160307)
        assert day is not None and day.timespan == Timespan(
            tai("2016-03-07 00:00:00"), tai("2016-03-08 00:00:00")
        )
        skymap = reg.get_dimension_record("skymap", skymap="hsc_rings_v1")
        assert skymap is not None and skymap.hash == HASH
        patch = reg.get_dimension_record("patch", skymap="hsc_rings_v1", tract=9813, patch=40)
        assert patch is not None and patch.region == PATCH_REGION
        tract = reg.get_dimension_record("tract", skymap="hsc_rings_v1", tract=9813)
        assert tract is not None and tract.region == TRACT_REGION
        # Collections, dataset types (storage classes mapped), datasets with their IDs, memberships, validity.
        assert reg.get_collection_chain("HSC/defaults") == ["HSC/tagged", "HSC/runs/RC2", "HSC/calib"]
        assert reg.get_collection_doc("HSC/calib") == "certified flats"
        assert reg.get_dataset_type("calexp").storage_class == "Exposure"
        calexp = reg.find_dataset(
            "calexp", instrument="HSC", visit=1228, detector=0, collections=["HSC/tagged"]
        )
        assert calexp is not None and calexp.id == CALEXP
        when = Timespan(tai("2016-03-07 10:17:30"), tai("2016-03-07 10:18:00"))
        flat = reg.find_dataset(
            "flat",
            instrument="HSC",
            detector=1,
            physical_filter="HSC-R",
            collections=["HSC/calib"],
            timespan=when,
        )
        assert flat is not None and flat.id == FLAT
        early = Timespan(tai("2015-06-01 00:00:00"), tai("2015-06-02 00:00:00"))
        assert (
            reg.find_dataset(
                "flat",
                instrument="HSC",
                detector=1,
                physical_filter="HSC-R",
                collections=["HSC/calib"],
                timespan=early,
            )
            is None
        )
        assert not butler.exists(calexp)
        assert summary.datasets == 2 and summary.files == 0
        assert any("ssp_hypothesis_table" in n for n in summary.notes)
        assert any("ExposureF -> Exposure" in n for n in summary.notes)


def test_rubin_files_are_transferred_when_present(tmp_path: Path) -> None:
    path = tmp_path / "export.yaml"
    path.write_text(RUBIN_V8)
    with Butler.create(tmp_path / "repo") as butler:
        with pytest.raises(IngestError) as info:
            butler.import_(path)
        assert "calexp_HSC_1228_0.fits" in str(info.value) and "without_datastore" in str(info.value)
        assert butler.registry.query_collections() == []  # nothing written
        files = {
            "HSC/runs/RC2/calexp/calexp_HSC_1228_0.fits": b"calexp bytes",
            "HSC/calib/flat_1.fits": b"flat bytes",
        }
        for rel, content in files.items():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_bytes(content)
        summary = butler.import_(path)
        assert summary.files == 2
        ref = butler.registry.get_datasets([CALEXP])[0]
        copied = Path(butler.get_uri(ref))
        assert copied.read_bytes() == b"calexp bytes" and str(copied).startswith(str(butler.config.root))


OLD_EXPORT = f"""\
description: Butler Data Repository Export
version: 0
data:
- type: dimension
  element: instrument
  records:
  - {{name: HSC, visit_max: 100, exposure_max: 100, detector_max: 200}}
- type: dimension
  element: physical_filter
  records:
  - {{instrument: HSC, name: HSC-G, band: g}}
- type: dimension
  element: visit_system
  records:
  - {{instrument: HSC, id: 0, name: one-to-one}}
- type: dimension
  element: exposure
  records:
  - instrument: HSC
    id: 7
    obs_id: HSCA0007
    physical_filter: HSC-G
    day_obs: 20210909
    group_name: grp-7
    group_id: 7
    datetime_begin: !butler_time/tai/iso '2021-09-09 03:00:00.000000000'
    datetime_end: !butler_time/tai/iso '2021-09-09 03:01:00.000000000'
- type: dimension
  element: visit
  records:
  - instrument: HSC
    id: 7
    name: '7'
    physical_filter: HSC-G
    visit_system: 0
    datetime_begin: !butler_time/tai/iso '2021-09-09 03:00:00.000000000'
    datetime_end: !butler_time/tai/iso '2021-09-09 03:01:00.000000000'
    region: {polygon(VISIT_REGION)}
- type: run
  name: old/run
- type: dataset_type
  name: visit_summary
  dimensions: [instrument, visit, visit_system]
  storage_class: StructuredDataDict
- type: dataset
  dataset_type: visit_summary
  run: old/run
  records:
  - dataset_id: [42]
    data_id: [{{instrument: HSC, visit: 7, visit_system: 0}}]
    path: visit_summary_7.json
"""


def test_older_universe_records_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(OLD_EXPORT)
    with Butler.create(tmp_path / "repo") as butler:
        summary = butler.import_(path, without_datastore=True)
        reg = butler.registry
        membership = reg.fetch_dimension_records("visit_system_membership")
        assert [(m.visit, m.visit_system) for m in membership] == [(7, 0)]
        exposure = reg.get_dimension_record("exposure", instrument="HSC", exposure=7)
        assert exposure is not None and exposure.group == "grp-7" and exposure.day_obs == 20210909
        visit = reg.get_dimension_record("visit", instrument="HSC", visit=7)
        assert visit is not None and visit.day_obs == 20210909 and visit.region == VISIT_REGION
        day = reg.get_dimension_record("day_obs", instrument="HSC", day_obs=20210909)
        assert day is not None and day.timespan == Timespan.from_day_obs(20210909)
        assert [g.name for g in reg.fetch_dimension_records("group")] == ["grp-7"]
        assert list(reg.get_dataset_type("visit_summary").dimensions.required) == ["instrument", "visit"]
        (ref,) = reg.query_datasets("visit_summary", ["old/run"], find_first=False)
        assert ref.id.version == 3
        assert any("visit_system_membership" in n for n in summary.notes)
        assert any("group_id" in n for n in summary.notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("description: something else\nversion: 1\n", "'something else'"),
        ("description: Butler Data Repository Export\nversion: 2.0.0\ndata: []\n", "'2.0.0'"),
        ("description: Butler Data Repository Export\nversion: 1.0.2\ndata:\n- type: bogus\n", "'bogus'"),
        (
            "description: Chamberlain export\nversion: 1.0.0\nuniverse: {namespace: other, version: 3}\n",
            "other:3",
        ),
        ("description: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_export_files_are_refused_with_a_clear_message(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    from chamberlain.dimensions import DimensionUniverse

    with pytest.raises(ExportFormatError) as info:
        read_export(path, DimensionUniverse.default())
    assert expected in str(info.value) and str(path) in str(info.value)
