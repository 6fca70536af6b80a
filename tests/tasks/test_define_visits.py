"""DefineVisitsTask on SimCam raws: grouping, regions, summary fields, idempotence, conflicts."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lsst.sphgeom as sg
import numpy as np
import pytest
import sqlalchemy as sa
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from chamberlain.butler import Butler
from chamberlain.dimensions import DataCoordinate
from chamberlain.errors import ConfigError, ConflictingDefinitionError, DataIdValueError, TaskError
from chamberlain.instrument import SimCam, simulate_headers, simulate_raws, star_catalog
from chamberlain.registry import Registry
from chamberlain.skymap import DiscreteSkyMap
from chamberlain.skymap.registration import register_skymap
from chamberlain.tasks import DefineVisitsConfig, DefineVisitsTask

N_EXPOSURES = 10  # one SimCam cycle: 3 singles, 2 snap pairs, bias, flat, dark
IMAGE_SIZE = 32
SIMCAM = SimCam()


class Raws:
    """Simulated raws: headers and files by (exposure, detector), plus translated exposure records."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths: dict[tuple[int, int], Path] = {}
        self.exposures: dict[int, dict[str, Any]] = {}
        for path in paths:
            info = SIMCAM.translate_raw_header(fits.getheader(path))
            self.paths[(info.exposure["id"], info.detector)] = path
            self.exposures[info.exposure["id"]] = info.exposure
        self.wcs_calls = 0

    def raw_wcs(self, instrument: str, exposure: int, detector: int) -> WCS:
        assert instrument == "SimCam"
        self.wcs_calls += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            return WCS(fits.getheader(self.paths[(exposure, detector)]))

    def on_sky(self) -> list[int]:
        return sorted(i for i, e in self.exposures.items() if e["can_see_sky"])


@pytest.fixture(scope="module")
def raws(tmp_path_factory: pytest.TempPathFactory) -> Raws:
    paths = simulate_raws(tmp_path_factory.mktemp("raws"), N_EXPOSURES, seed=3, image_size=IMAGE_SIZE)
    return Raws(paths)


def setup_registry(registry: Registry, exposures: list[dict[str, Any]]) -> None:
    """Register SimCam and insert exposure records (with their group and day_obs records)."""
    registry.insert_dimension_records("instrument", [SIMCAM.instrument_record()], skip_existing=True)
    registry.insert_dimension_records("detector", SIMCAM.detector_records(), skip_existing=True)
    registry.insert_dimension_records("physical_filter", SIMCAM.physical_filter_records(), skip_existing=True)
    registry.insert_dimension_records(
        "group", [SIMCAM.group_record(e["group"]) for e in exposures], skip_existing=True
    )
    registry.insert_dimension_records(
        "day_obs", [SIMCAM.day_obs_record(e["day_obs"]) for e in exposures], skip_existing=True
    )
    registry.insert_dimension_records("exposure", exposures)


@pytest.fixture
def butler(tmp_path: Path, raws: Raws) -> Iterator[Butler]:
    b = Butler.create(tmp_path / "repo")
    setup_registry(b.registry, list(raws.exposures.values()))
    yield b
    b.close()


def data_ids(ids: list[int]) -> list[dict[str, Any]]:
    return [{"instrument": "SimCam", "exposure": i} for i in ids]


def rows(registry: Registry, table: str) -> list[dict[str, Any]]:
    t = registry._tables[table]
    return [dict(r._mapping) for r in registry._db.execute(sa.select(t).order_by(*t.primary_key.columns))]


def visit_records(registry: Registry) -> dict[int, Any]:
    return {r.id: r for r in registry.fetch_dimension_records("visit")}


def make_task(
    butler: Butler,
    grouping: str = "one-to-one",
    regions: str = "by-camera-geometry",
    raw_wcs: Any = None,
) -> DefineVisitsTask:
    config = DefineVisitsConfig()
    config.group_exposures.name = grouping
    config.compute_visit_regions.name = regions
    task = DefineVisitsTask(config, butler=butler)
    if raw_wcs is not None:  # the simulated files' WCS, read without a datastore
        task.compute_visit_regions.raw_wcs = raw_wcs
    return task


# ---------------------------------------------------------------- grouping and records


def test_one_to_one_on_both_backends(database: Any, raws: Raws, tmp_path: Path) -> None:
    butler = Butler.create(tmp_path / "repo", database.url, database.namespace)
    registry = butler.registry
    try:
        setup_registry(registry, list(raws.exposures.values()))
        task = make_task(butler)
        result = task.run(data_ids(sorted(raws.exposures)))
        on_sky = raws.on_sky()
        assert len(on_sky) == 7
        assert (result.n_visits, result.n_new, result.n_skipped, result.n_not_on_sky) == (7, 7, 0, 3)
        visits = visit_records(registry)
        assert sorted(visits) == on_sky
        for exposure_id in on_sky:
            e, v = raws.exposures[exposure_id], visits[exposure_id]
            assert v.name == e["obs_id"]
            assert v.exposure_time == e["exposure_time"]
            assert v.timespan == e["timespan"]
            assert v.zenith_angle == pytest.approx(e["zenith_angle"])
            assert v.azimuth == pytest.approx(e["azimuth"])
            assert (v.physical_filter, v.day_obs, v.seq_num) == (
                e["physical_filter"],
                e["day_obs"],
                e["seq_num"],
            )
            assert v.observation_reason == e["observation_reason"] == "science"
            assert v.region.contains(
                sg.UnitVector3d(sg.LonLat.fromDegrees(e["tracking_ra"], e["tracking_dec"]))
            )
        assert [(r["visit"], r["exposure"]) for r in rows(registry, "visit_definition")] == [
            (i, i) for i in on_sky
        ]
        assert [(r["visit"], r["visit_system"]) for r in rows(registry, "visit_system_membership")] == [
            (i, 0) for i in on_sky
        ]
        regions = rows(registry, "visit_detector_region")
        assert sorted((r["visit"], r["detector"]) for r in regions) == [
            (i, d) for i in on_sky for d in range(9)
        ]
        assert [(r["id"], r["name"]) for r in rows(registry, "visit_system")] == [(0, "one-to-one")]

        # Re-running is a no-op.
        before = {t: rows(registry, t) for t in ("visit", "visit_definition", "visit_detector_region")}
        again = make_task(butler).run(data_ids(on_sky))
        assert (again.n_new, again.n_skipped, again.n_updated) == (0, 7, 0)
        assert {t: rows(registry, t) for t in before} == before

        # A different definition is refused, naming the visit and the field; nothing changes.
        config = DefineVisitsConfig()
        config.compute_visit_regions.padding = 100
        with pytest.raises(
            ConflictingDefinitionError, match=rf"visit {on_sky[0]} \('SC_O_\d+_000001'\) differs in region"
        ):
            DefineVisitsTask(config, butler=butler).run(data_ids(on_sky))
        assert {t: rows(registry, t) for t in before} == before
    finally:
        butler.close()


def test_conflict_names_fields_and_update_records(butler: Butler, raws: Raws) -> None:
    registry = butler.registry
    on_sky = raws.on_sky()
    make_task(butler).run(data_ids(on_sky))
    changed = dict(raws.exposures[on_sky[1]], zenith_angle=12.5, target_name="ELSEWHERE")
    registry.insert_dimension_records("exposure", [changed], replace=True)
    with pytest.raises(ConflictingDefinitionError) as info:
        make_task(butler).run(data_ids(on_sky))
    message = str(info.value)
    assert f"visit {on_sky[1]} " in message
    assert "target_name (stored 'FIELD_" in message and "new 'ELSEWHERE')" in message
    assert "zenith_angle (stored" in message and "new 12.5)" in message
    assert "update_records=True" in message
    assert visit_records(registry)[on_sky[1]].target_name != "ELSEWHERE"

    result = make_task(butler).run(data_ids(on_sky), update_records=True)
    assert (result.n_updated, result.n_skipped, result.n_new) == (1, 6, 0)
    v = visit_records(registry)[on_sky[1]]
    assert (v.target_name, v.zenith_angle) == ("ELSEWHERE", 12.5)
    assert len([r for r in rows(registry, "visit_detector_region") if r["visit"] == on_sky[1]]) == 9


def test_snaps_by_counter_and_exposure(butler: Butler, raws: Raws) -> None:
    registry = butler.registry
    result = make_task(butler, "by-counter-and-exposure").run(data_ids(sorted(raws.exposures)))
    exps = raws.exposures
    snaps = sorted({(e["seq_start"], e["seq_end"]) for e in exps.values() if e["seq_start"] != e["seq_end"]})
    assert len(snaps) == 2
    singles = [i for i in raws.on_sky() if exps[i]["seq_start"] == exps[i]["seq_end"]]
    assert len(singles) == 3
    assert result.n_visits == len(singles) + 3 * len(snaps) == 9
    visits = visit_records(registry)
    definitions = rows(registry, "visit_definition")
    members = {(r["visit"], r["visit_system"]) for r in rows(registry, "visit_system_membership")}
    for i in singles:
        assert visits[i].name == exps[i]["obs_id"]
        assert {(i, 0), (i, 2)} <= members
    by_seq = {e["seq_num"]: i for i, e in exps.items()}
    for seq_start, seq_end in snaps:
        first, second = by_seq[seq_start], by_seq[seq_end]
        multi = visits[first]
        assert multi.name == exps[first]["obs_id"]
        assert multi.exposure_time == exps[first]["exposure_time"] + exps[second]["exposure_time"] == 30.0
        assert multi.timespan.begin == exps[first]["timespan"].begin
        assert multi.timespan.end == exps[second]["timespan"].end
        assert multi.zenith_angle == pytest.approx(
            (exps[first]["zenith_angle"] + exps[second]["zenith_angle"]) / 2
        )
        assert sorted(r["exposure"] for r in definitions if r["visit"] == first) == [first, second]
        assert (first, 2) in members and (first, 0) not in members
        renamed = int("9" + str(first))
        assert visits[renamed].name == exps[first]["obs_id"] + "_first"
        assert [r["exposure"] for r in definitions if r["visit"] == renamed] == [first]
        assert (renamed, 0) in members and (renamed, 2) not in members
        assert visits[second].name == exps[second]["obs_id"]
        assert (second, 0) in members
    assert [(r["id"], r["name"]) for r in rows(registry, "visit_system")] == [
        (0, "one-to-one"),
        (2, "by-seq-start-end"),
    ]
    assert len(rows(registry, "visit_detector_region")) == 9 * 9


def test_by_group_metadata(butler: Butler, raws: Raws) -> None:
    registry = butler.registry
    result = make_task(butler, "by-group-metadata").run(data_ids(sorted(raws.exposures)))
    groups: dict[str, list[int]] = {}
    for i in raws.on_sky():
        groups.setdefault(raws.exposures[i]["group"], []).append(i)
    assert result.n_visits == len(groups) == 5
    visits = visit_records(registry)
    for name, members in groups.items():
        v = visits[min(members)]  # SimCam group names hold the first exposure's ID
        assert v.name == name
        assert v.exposure_time == sum(raws.exposures[i]["exposure_time"] for i in members)
    defs = rows(registry, "visit_definition")
    assert sorted(r["exposure"] for r in defs) == raws.on_sky()


def test_azimuth_circular_mean_and_various() -> None:
    from chamberlain.dimensions import DimensionUniverse
    from chamberlain.tasks._visits_grouping import VisitDefinition
    from chamberlain.tasks._visits_records import visit_record

    cls = DimensionUniverse.default()["exposure"].RecordClass
    a = cls(
        instrument="X",
        id=1,
        obs_id="a",
        azimuth=350.0,
        zenith_angle=10.0,
        observation_reason="science",
        target_name="T",
        exposure_time=1.0,
        day_obs=2,
        seq_num=5,
    )
    b = cls(
        instrument="X",
        id=2,
        obs_id="b",
        azimuth=20.0,
        zenith_angle=20.0,
        observation_reason="focus",
        target_name="U",
        exposure_time=2.0,
        day_obs=1,
        seq_num=6,
    )
    record = visit_record(VisitDefinition("X", 1, "a", (a, b), frozenset({2})), sg.Circle())
    assert record["azimuth"] == pytest.approx(5.0)
    assert record["zenith_angle"] == pytest.approx(15.0)
    assert record["observation_reason"] == "various"
    assert record["target_name"] is None
    assert (record["exposure_time"], record["day_obs"], record["seq_num"]) == (3.0, 1, 5)
    assert record["timespan"] is None  # any NULL input gives NULL


# ---------------------------------------------------------------- regions


def _separation_arcsec(a: sg.UnitVector3d, b: sg.UnitVector3d) -> float:
    return math.degrees(math.atan2(a.cross(b).getNorm(), a.dot(b))) * 3600.0


def test_regions_camera_geometry_and_raw_wcs_agree(tmp_path: Path, raws: Raws) -> None:
    on_sky = raws.on_sky()
    results = {}
    for algorithm in ("by-camera-geometry", "single-raw-wcs"):
        for padding in (0, 250):
            b = Butler.create(tmp_path / f"{algorithm}-{padding}")
            reg = b.registry
            setup_registry(reg, list(raws.exposures.values()))
            task = make_task(b, regions=algorithm, raw_wcs=raws.raw_wcs)
            task.compute_visit_regions.config.padding = padding
            task.run(data_ids(on_sky))
            results[(algorithm, padding)] = {
                (r["visit"], r["detector"]): sg.Region.decode(r["region"])
                for r in rows(reg, "visit_detector_region")
            }
            b.close()
    assert raws.wcs_calls == 2 * len(on_sky)  # one raw per exposure is enough
    cat = star_catalog()
    stars = [sg.UnitVector3d(sg.LonLat.fromDegrees(a, d)) for a, d in zip(cat.ra, cat.dec)]
    n_checked = 0
    for key, camera_region in results[("by-camera-geometry", 0)].items():
        wcs_region = results[("single-raw-wcs", 0)][key]
        # Same corners to well under a pixel (0.2 arcsec): the raws' WCS is the camera geometry.
        for u, v in zip(camera_region.getVertices(), wcs_region.getVertices()):
            assert _separation_arcsec(u, v) < 1e-3
        # Each padded region contains the other algorithm's unpadded one.
        for padded, plain in (
            (results[("by-camera-geometry", 250)][key], wcs_region),
            (results[("single-raw-wcs", 250)][key], camera_region),
        ):
            assert all(padded.contains(p) for p in plain.getVertices())
            assert not all(plain.contains(p) for p in padded.getVertices())
        # Every star that falls on this detector's raw lies in both regions.
        visit, detector = key
        wcs = raws.raw_wcs("SimCam", visit, detector)
        x, y = wcs.all_world2pix(cat.ra, cat.dec, 0)
        inside = np.flatnonzero((x > -0.5) & (x < IMAGE_SIZE - 0.5) & (y > -0.5) & (y < IMAGE_SIZE - 0.5))
        for i in inside:
            assert camera_region.contains(stars[i]) and wcs_region.contains(stars[i])
        n_checked += len(inside)
    assert n_checked > 1000


def test_patch_overlaps_stored_with_visits(butler: Butler, raws: Raws) -> None:
    registry = butler.registry
    skymap = DiscreteSkyMap(
        ra_list=[150.2],
        dec_list=[2.3],
        radius_list=[0.8],
        projection="TAN",
        pixel_scale=0.2,
        patch_inner_dimensions=[4000, 4000],
        patch_border=100,
        tract_overlap=0.0,
    )
    register_skymap(registry, "test_map", skymap)
    make_task(butler).run(data_ids(raws.on_sky()))
    overlaps = rows(registry, "visit_detector_region_patch_overlap")
    regions = {
        (r["visit"], r["detector"]): sg.Region.decode(r["region"])
        for r in rows(registry, "visit_detector_region")
    }
    patches = {(r["tract"], r["id"]): sg.Region.decode(r["region"]) for r in rows(registry, "patch")}
    found = {(r["visit"], r["detector"], r["tract"], r["patch"]) for r in overlaps}
    assert {(v, d) for v, d, _, _ in found} == set(regions)
    expected = {
        (v, d, t, p)
        for (v, d), region in regions.items()
        for (t, p), patch in patches.items()
        if region.overlaps(patch)
    }
    assert found == expected
    assert {r["visit"] for r in rows(registry, "visit_patch_overlap")} == set(raws.on_sky())


# ---------------------------------------------------------------- incremental and parallel


def test_incremental_adds_late_snap(raws: Raws, tmp_path: Path) -> None:
    exps = raws.exposures
    first = next(i for i, e in sorted(exps.items()) if e["seq_start"] != e["seq_end"])
    second = next(i for i, e in exps.items() if e["seq_num"] == exps[first]["seq_end"])
    late = Butler.create(tmp_path / "late")
    reg = late.registry
    try:
        setup_registry(reg, [exps[first]])
        make_task(late, "by-counter-and-exposure").run(data_ids([first]))
        assert visit_records(reg)[first].exposure_time == 15.0
        setup_registry(reg, [exps[second]])
        result = make_task(late, "by-counter-and-exposure").run(data_ids([second]), incremental=True)
        assert result.n_updated == 1 and result.n_new == 1
        v = visit_records(reg)[first]
        assert v.exposure_time == 30.0 and v.timespan.end == exps[second]["timespan"].end
        assert sorted(r["exposure"] for r in rows(reg, "visit_definition") if r["visit"] == first) == [
            first,
            second,
        ]
    finally:
        late.close()


def test_processes_two_matches_one(tmp_path: Path) -> None:
    headers = simulate_headers(80, seed=5, detectors=[4], calibrations=False)
    exposures = [SIMCAM.translate_raw_header(h).exposure for h in headers]
    tables = {}
    for processes in (1, 2):
        b = Butler.create(tmp_path / f"p{processes}")
        reg = b.registry
        setup_registry(reg, exposures)
        result = make_task(b).run(data_ids([e["id"] for e in exposures]), processes=processes)
        assert result.n_new == 80
        tables[processes] = {t: rows(reg, t) for t in ("visit", "visit_detector_region")}
        b.close()
    assert tables[1] == tables[2]


# ---------------------------------------------------------------- bad input


def test_bad_inputs(butler: Butler, raws: Raws) -> None:
    registry = butler.registry
    task = make_task(butler)
    with pytest.raises(TaskError, match="got 42"):
        task.run([42])  # type: ignore[list-item]
    with pytest.raises(TaskError, match="has no 'exposure' value"):
        task.run([{"instrument": "SimCam", "visit": 1}])
    with pytest.raises(DataIdValueError, match="exposure\\(s\\) 123"):
        task.run(data_ids([123]))
    with pytest.raises(TaskError, match="one instrument; got exposures of 'Other', 'SimCam'"):
        task.run([{"instrument": "SimCam", "exposure": 1}, {"instrument": "Other", "exposure": 1}])
    with pytest.raises(TaskError, match="processes must be a positive integer; got 0"):
        task.run(data_ids(raws.on_sky()), processes=0)
    detector = registry.get_dimension_record("detector", instrument="SimCam", detector=1)
    with pytest.raises(TaskError, match="exposure data IDs or exposure records; got a 'detector' record"):
        task.run([detector])  # type: ignore[list-item]
    bias = next(i for i, e in raws.exposures.items() if e["observation_type"] == "bias")
    config = DefineVisitsConfig()
    config.ignore_non_science_exposures = False
    with pytest.raises(
        TaskError, match=rf"Exposure {bias} \(SC_O_\d+_\d+, observation_type 'bias'\) cannot see the sky"
    ):
        DefineVisitsTask(config, butler=butler).run(data_ids([bias]))
    with pytest.raises(TaskError, match="pass collections="):
        make_task(butler, regions="single-raw-wcs").run(data_ids(raws.on_sky()))
    with pytest.raises(ConfigError, match="'by-camera-geometry'"):
        make_task(butler, regions="nope")
    assert rows(registry, "visit") == []
    # Exposure records work as input too, and an empty input is not an error.
    records = [r for r in registry.fetch_dimension_records("exposure") if r.id in raws.on_sky()[:2]]
    assert task.run(records).n_new == 2
    coordinate = DataCoordinate.standardize(
        {"instrument": "SimCam", "exposure": raws.on_sky()[2]}, universe=registry.universe
    )
    assert task.run([coordinate, coordinate]).n_new == 1  # duplicates are ignored
    assert task.run([]).n_visits == 0


def test_progress_callback_counts_written_visits(butler: Butler, raws: Raws) -> None:
    registry = butler.registry
    on_sky = raws.on_sky()
    calls: list[tuple[int, int]] = []
    written: list[int] = []

    class Watching(DefineVisitsTask):
        def _visit_written(self, visit_id: int) -> None:
            # Each call comes after that visit's transaction: its record is readable already.
            written.append(visit_id)
            assert visit_id in visit_records(registry)

    config = DefineVisitsConfig()
    config.compute_visit_regions.name = "by-camera-geometry"
    result = Watching(config, butler=butler).run(data_ids(on_sky), progress=lambda d, t: calls.append((d, t)))
    n = len(on_sky)
    assert result.n_new == n and calls == [(i, n) for i in range(n + 1)] and len(written) == n
    calls.clear()
    make_task(butler).run(data_ids(on_sky), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 0)]  # nothing left to write
