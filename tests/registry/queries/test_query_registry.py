"""Registry queries on SQLite and PostgreSQL: joins, spatial terms, datasets, limits, explain."""

from __future__ import annotations

import lsst.sphgeom as sg
import pytest
from _query_repo import DAY1, box, detector_centre

from chamberlain.errors import CalibrationLookupError, InvalidQueryError
from chamberlain.registry import Registry


@pytest.fixture
def registry(populated_registry: Registry) -> Registry:
    return populated_registry


def _keys(results, *names: str) -> set[tuple]:
    return {tuple(d[n] for n in names) for d in results}


def test_simple_constraints_and_implied_values(registry: Registry) -> None:
    ids = list(registry.query_data_ids(["visit"], where="band = 'r' AND day_obs = 20240301"))
    assert _keys(ids, "visit") == {(1,), (3,)}
    assert all(d["physical_filter"] == "Cam-r" for d in ids)
    ids = registry.query_data_ids(["exposure", "visit"], where="exposure IN (1..5:2)")
    assert _keys(ids, "exposure", "visit") == {(1, 1), (3, 3), (5, 5)}
    ids = registry.query_data_ids(["detector"], where="visit = 2", data_id={"instrument": "Cam"})
    assert _keys(ids, "detector") == {(0,), (1,), (2,), (3,)}  # visit joined, de-duplicated
    assert registry.query_data_ids(["detector"], where="visit = 2").count() == 4


def test_spatial_join_matches_brute_force(registry: Registry) -> None:
    got = _keys(
        registry.query_data_ids(["visit", "detector", "tract", "patch"]), "visit", "detector", "patch"
    )
    patches = {r.id: r.region for r in registry.fetch_dimension_records("patch")}
    expected = set()
    for v in range(1, 7):
        for d in range(4):
            region = box(*detector_centre(v, d), 0.045)
            expected |= {(v, d, p) for p, pr in patches.items() if not (region.relate(pr) & sg.DISJOINT)}
    assert got == expected and got


def test_region_literals_under_or_and_not(registry: Registry) -> None:
    ra, dec = detector_centre(3, 2)
    point = f"POINT({ra}, {dec})"
    hit = registry.query_data_ids(
        ["visit", "detector"], where=f"visit_detector_region.region OVERLAPS {point}"
    )
    assert _keys(hit, "visit", "detector") == {(3, 2)}
    either = registry.query_data_ids(
        ["visit", "detector"], where=f"visit_detector_region.region OVERLAPS {point} OR visit = 6"
    )
    assert _keys(either, "visit", "detector") == {(3, 2)} | {(6, d) for d in range(4)}
    negated = registry.query_data_ids(
        ["visit", "detector"], where=f"NOT visit_detector_region.region OVERLAPS {point} AND visit = 3"
    )
    assert _keys(negated, "visit", "detector") == {(3, 0), (3, 1), (3, 3)}
    # CIRCLE radius is in degrees, centre to edge: 0.2 deg around visit 2 reaches visits 2 only.
    circle = registry.query_data_ids(["visit"], where="visit.region OVERLAPS CIRCLE(10.6, 0, 0.15)")
    assert _keys(circle, "visit") == {(2,)}
    wide = registry.query_data_ids(["visit"], where="visit.region OVERLAPS CIRCLE(10.6, 0, 0.25)")
    assert _keys(wide, "visit") == {(1,), (2,), (3,)}
    bound = registry.query_data_ids(
        ["visit"], where="visit.region OVERLAPS :r", bind={"r": sg.LonLat.fromDegrees(10.6, 0.0)}
    )
    assert _keys(bound, "visit") == {(2,)}


def test_datasets_find_first_chain_and_calibrations(registry: Registry) -> None:
    refs = list(registry.query_datasets("calexp", "chain"))
    assert len(refs) == 24
    assert {r.run for r in refs if r.data_id["visit"] == 1} == {"run2"}
    assert {r.run for r in refs if r.data_id["visit"] != 1} == {"run1"}
    assert len(list(registry.query_datasets("calexp", "chain", find_first=False))) == 28
    night2 = list(registry.query_datasets("bias", "calib", where="exposure = 5"))
    night1 = list(registry.query_datasets("bias", "calib", where="exposure = 1"))
    assert {r.run for r in night2} == {"run2"} and {r.run for r in night1} == {"calib/run"}
    with pytest.raises(CalibrationLookupError, match="find_first"):
        list(registry.query_datasets("bias", "calib"))
    assert len(list(registry.query_datasets("bias", "calib", find_first=False))) == 8
    ids = registry.query_data_ids(
        ["exposure", "detector"], datasets="bias", collections="calib", where="exposure < 3"
    )
    assert len(list(ids)) == 8
    coadds = list(registry.query_datasets("deepCoadd", "run1", where="visit = 1 AND detector = 0"))
    assert {r.data_id["patch"] for r in coadds} == {0}
    expanded = list(registry.query_datasets("calexp", "run2", with_dimension_records=True))
    assert expanded[0].data_id.records["visit"].name == "v1"


def test_records_order_by_limit_and_truncation(registry: Registry) -> None:
    recs = list(
        registry.query_dimension_records("visit", where="day_obs = :d", bind={"d": DAY1}, order_by="-visit")
    )
    assert [r.id for r in recs] == [4, 3, 2, 1]
    assert recs[0].timespan is not None and recs[0].region is not None
    res = registry.query_data_ids(["visit"], order_by=["visit"], limit=2)
    assert [d["visit"] for d in res] == [1, 2]
    assert res.truncated is True
    assert registry.query_data_ids(["visit"], limit=6).truncated is False
    assert res.count() == 2 and registry.query_data_ids(["visit"]).count() == 6
    with pytest.raises(InvalidQueryError, match="limit=0"):
        registry.query_data_ids(["visit"], limit=0)


def test_timespan_terms(registry: Registry) -> None:
    span = registry.get_dimension_record("exposure", instrument="Cam", exposure=2).timespan
    ids = registry.query_data_ids(["exposure"], where="exposure.timespan OVERLAPS :t", bind={"t": span})
    assert _keys(ids, "exposure") == {(2,)}
    ids = registry.query_data_ids(["visit"], where="visit.timespan.begin >= :t", bind={"t": span.begin})
    assert _keys(ids, "visit") == {(2,), (3,), (4,), (5,), (6,)}
    ids = registry.query_data_ids(["visit"], where="visit.timespan OVERLAPS (T'2000-01-01', NULL)")
    assert len(_keys(ids, "visit")) == 6


def test_name_errors_point_at_the_name(registry: Registry) -> None:
    with pytest.raises(InvalidQueryError) as err:
        registry.query_data_ids(["visit"], where="visit = 1 AND detektor = 2").any()
    message = str(err.value)
    assert "'detektor'" in message and "did you mean 'detector'" in message
    assert message.splitlines()[-1].strip() == "^^^^^^^^"
    with pytest.raises(InvalidQueryError, match="exposure_time"):
        registry.query_data_ids(["exposure", "visit"], where="exposure_time > 1").any()
    with pytest.raises(InvalidQueryError, match="not in the bind map"):
        registry.query_data_ids(["visit"], where="visit = :v").any()


def test_explain_no_results(registry: Registry) -> None:
    res = registry.query_data_ids(["visit"], where="visit = 99")
    assert not res.any() and "visit=99" in res.explain_no_results()[0]
    res = registry.query_datasets("deepCoadd", "run2")
    assert res.explain_no_results() == ["Collection 'run2' has no datasets of type 'deepCoadd'."]
    res = registry.query_data_ids(["visit"], where="visit.exposure_time > 100 AND band = 'r'")
    (reason,) = res.explain_no_results()
    assert "visit.exposure_time > 100" in reason and "on its own" in reason
    res = registry.query_data_ids(["visit"], where="visit = 1 AND band = 'g'")
    assert "together" in res.explain_no_results()[0]
    assert registry.query_data_ids(["visit"]).explain_no_results() == []
