"""The `where` examples of docs/queries.md are in the page and run, with the counts they should give."""

from __future__ import annotations

from pathlib import Path

import lsst.sphgeom as sg
import pytest

from chamberlain.errors import InvalidQueryError
from chamberlain.registry import Registry

DOC = (Path(__file__).parents[2] / "docs" / "queries.md").read_text()

#: (dimensions, where as printed in the doc, expected row count on the test repository:
#: visits/exposures 1-6, odd ones r-band, 1-4 on 2024-03-01 and 5-6 on 2024-03-02, detectors 0-3).
DATA_ID_EXAMPLES = [
    (["visit"], "band = 'r'", 3),
    (["visit"], "visit.exposure_time > 30", 0),
    (["exposure"], "exposure.observation_type = 'science'", 6),
    (["visit"], "visit.exposure_time * 2 > 60", 0),
    (["detector"], "detector % 2 = 0", 2),
    (["detector"], "detector IN (1, 2, 5..9, 20..40:5)", 2),
    (["detector"], "detector NOT IN (0..9)", 0),
    (["exposure"], "exposure.target_name IS NOT NULL", 0),
    (["visit"], "visit.timespan OVERLAPS (T'2024-03-01', T'2024-03-02')", 4),
    (["visit"], "visit_detector_region.region OVERLAPS POINT(150.1, 2.2)", 0),
]


@pytest.fixture
def registry(populated_registry: Registry) -> Registry:
    return populated_registry


def test_examples_are_in_the_doc() -> None:
    for _, where, _ in DATA_ID_EXAMPLES:
        assert f"`{where}`" in DOC or where in DOC, where
    assert "CIRCLE(ra, dec, radius)" in DOC and "radius" in DOC


def test_examples_run(registry: Registry) -> None:
    for dims, where, expected in DATA_ID_EXAMPLES:
        assert registry.query_data_ids(dims, where=where).count() == expected, where
    assert (
        registry.query_data_ids(["visit"], where="visit IN :visits", bind={"visits": [1, 2, 3]}).count() == 3
    )
    point = sg.LonLat.fromDegrees(10.6, 0.0)
    assert (
        registry.query_data_ids(["visit"], where="visit.region OVERLAPS :r", bind={"r": point}).count() == 1
    )
    assert registry.query_data_ids(["exposure"], where="GLOB(exposure.obs_id, 'OBS*')").count() == 6
    for where in ("ingest_date > T'2024-01-01'", "run = 'run1'"):
        assert registry.query_datasets("calexp", "run1", where=where).count() == 24
    for literal in ("T'2024-03-01T12:00:00'", "T'mjd/60370.5/tai'", "T'iso/2024-03-01 00:00:00/utc'"):
        assert literal in DOC

    # MJD 60370.5 TAI is 2024-03-01T12:00:00 TAI: both spellings select the same visits.
    def after(literal: str) -> set[int]:
        return {
            d["visit"] for d in registry.query_data_ids(["visit"], where=f"visit.timespan.begin > {literal}")
        }

    assert after("T'mjd/60370.5/tai'") == after("T'isot/2024-03-01T12:00:00/tai'")
    assert after("T'iso/2024-03-01 00:00:00/utc'") == set(range(1, 7))
    ordered = registry.query_data_ids(["visit"]).order_by("visit.timespan.begin", "-visit")
    assert [d["visit"] for d in ordered] == [1, 2, 3, 4, 5, 6]


def test_error_example_matches_the_doc(registry: Registry) -> None:
    with pytest.raises(InvalidQueryError) as info:
        registry.query_data_ids(["visit"], where="vist = 3").count()
    assert str(info.value).splitlines()[0] in DOC
    assert "  vist = 3\n  ^^^^" in DOC and str(info.value).endswith("vist = 3\n  ^^^^")
