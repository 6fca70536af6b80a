"""Stored exact overlaps between observation and skymap regions, against brute force."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import lsst.sphgeom as sg
import pytest
import sqlalchemy as sa
from _populate import DAY, add_instrument
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chamberlain.registry import Registry


@pytest.fixture
def registry(database) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    add_instrument(reg, n_detectors=6)
    reg.insert_dimension_records("skymap", [{"name": "sky", "hash": b"\x01" * 20}])
    try:
        yield reg
    finally:
        reg.close()


def polygon(ra: float, dec: float, offsets: list[tuple[float, float]]) -> sg.ConvexPolygon:
    """Convex hull of points offset (degrees, tangent-plane-ish) from a centre."""
    points = []
    for dx, dy in offsets:
        d = min(max(dec + dy, -89.999), 89.999)
        scale = 1.0 / max(math.cos(math.radians(d)), 0.02)
        points.append(sg.UnitVector3d(sg.LonLat.fromDegrees((ra + dx * scale) % 360.0, d)))
    return sg.ConvexPolygon.convexHull(points)


centres = st.one_of(
    st.tuples(st.floats(0, 360, exclude_max=True), st.floats(-80, 80)),  # anywhere
    st.tuples(st.floats(-1.0, 1.0).map(lambda x: x % 360.0), st.floats(-60, 60)),  # straddling RA = 0
    st.tuples(st.floats(0, 360, exclude_max=True), st.floats(86.0, 89.8)),  # next to the north pole
    st.tuples(st.floats(0, 360, exclude_max=True), st.floats(-89.8, -86.0)),  # next to the south pole
)


@st.composite
def offsets(draw: st.DrawFn) -> list[tuple[float, float]]:
    """3-6 vertices at jittered, evenly spread angles: never a degenerate polygon."""
    n = draw(st.integers(3, 6))
    turn = draw(st.floats(0, 2 * math.pi))
    out = []
    for k in range(n):
        angle = turn + 2 * math.pi * (k + draw(st.floats(-0.3, 0.3))) / n
        r = draw(st.floats(0.05, 0.6))
        out.append((r * math.cos(angle), r * math.sin(angle)))
    return out


shape_lists = st.lists(
    st.tuples(st.floats(-0.8, 0.8), st.floats(-0.8, 0.8), offsets()), min_size=1, max_size=6
)

_counter = itertools.count(1)


def brute_force(a: dict, b: dict) -> set:
    return {(ka, kb) for ka, ra in a.items() for kb, rb in b.items() if ra.overlaps(rb)}


def stored(registry: Registry, table: str, a_cols: list[str], b_cols: list[str], where: dict) -> set:
    t = registry._tables[table]
    stmt = sa.select(*[t.c[c] for c in a_cols + b_cols]).where(*[t.c[k] == v for k, v in where.items()])
    rows = registry._db.execute(stmt).all()
    na = len(a_cols)
    return {(tuple(r[:na]) if na > 1 else r[0], tuple(r[na:]) if len(b_cols) > 1 else r[na]) for r in rows}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(centre=centres, detector_shapes=shape_lists, patch_shapes=shape_lists, skymap_first=st.booleans())
def test_stored_overlaps_equal_brute_force(
    registry: Registry, centre, detector_shapes, patch_shapes, skymap_first
):
    ra0, dec0 = centre
    visit = next(_counter)
    tract = visit
    vdr = {d: polygon(ra0 + dx, dec0 + dy, offs) for d, (dx, dy, offs) in enumerate(detector_shapes)}
    patches = {p: polygon(ra0 + dx, dec0 + dy, offs) for p, (dx, dy, offs) in enumerate(patch_shapes)}
    visit_region = sg.ConvexPolygon.convexHull([v for r in vdr.values() for v in r.getVertices()])
    tract_region = sg.ConvexPolygon.convexHull([v for r in patches.values() for v in r.getVertices()])

    def insert_observations() -> None:
        registry.insert_dimension_records(
            "visit",
            [
                {
                    "instrument": "Cam",
                    "id": visit,
                    "name": f"v{visit}",
                    "physical_filter": "Cam-r",
                    "day_obs": DAY,
                    "region": visit_region,
                }
            ],
        )
        registry.insert_dimension_records(
            "visit_detector_region",
            [{"instrument": "Cam", "visit": visit, "detector": d, "region": r} for d, r in vdr.items()],
        )

    def insert_skymap() -> None:
        registry.insert_dimension_records("tract", [{"skymap": "sky", "id": tract, "region": tract_region}])
        registry.insert_dimension_records(
            "patch",
            [
                {"skymap": "sky", "tract": tract, "id": p, "cell_x": p, "cell_y": 0, "region": r}
                for p, r in patches.items()
            ],
        )

    if skymap_first:
        insert_skymap()
        insert_observations()
    else:
        insert_observations()
        insert_skymap()

    expected_vdr_patch = brute_force(vdr, patches)
    got = stored(
        registry,
        "visit_detector_region_patch_overlap",
        ["detector"],
        ["patch"],
        {"visit": visit, "tract": tract},
    )
    assert got == expected_vdr_patch
    got = stored(registry, "visit_tract_overlap", ["visit"], ["tract"], {"visit": visit, "tract": tract})
    assert got == ({(visit, tract)} if visit_region.overlaps(tract_region) else set())
    got = stored(registry, "visit_patch_overlap", ["visit"], ["patch"], {"visit": visit, "tract": tract})
    assert got == brute_force({visit: visit_region}, patches)
    got = stored(
        registry,
        "visit_detector_region_tract_overlap",
        ["detector"],
        ["tract"],
        {"visit": visit, "tract": tract},
    )
    assert got == brute_force(vdr, {tract: tract_region})


def test_replacing_a_region_recomputes_its_overlaps(registry: Registry) -> None:
    near = polygon(10.0, 10.0, [(-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1)])
    far = polygon(50.0, -30.0, [(-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1)])
    registry.insert_dimension_records("tract", [{"skymap": "sky", "id": 1, "region": near}])
    registry.insert_dimension_records(
        "patch", [{"skymap": "sky", "tract": 1, "id": 0, "cell_x": 0, "cell_y": 0, "region": near}]
    )
    registry.insert_dimension_records(
        "visit",
        [
            {
                "instrument": "Cam",
                "id": 1,
                "name": "v1",
                "physical_filter": "Cam-r",
                "day_obs": DAY,
                "region": near,
            }
        ],
    )
    assert stored(registry, "visit_patch_overlap", ["visit"], ["patch"], {}) == {(1, 0)}
    registry.insert_dimension_records(
        "visit",
        [
            {
                "instrument": "Cam",
                "id": 1,
                "name": "v1",
                "physical_filter": "Cam-r",
                "day_obs": DAY,
                "region": far,
            }
        ],
        replace=True,
    )
    assert stored(registry, "visit_patch_overlap", ["visit"], ["patch"], {}) == set()
    skypix = registry._db.execute(sa.text("SELECT skypix FROM visit_skypix")).scalars().all()
    assert skypix and all(
        registry.universe.common_skypix.pixelization.index(far.getCentroid()) in skypix for _ in [0]
    )


def test_sky_pixel_index_covers_every_region_point(registry: Registry) -> None:
    """Every pixel containing a point of a region is indexed for it (the index never loses candidates)."""
    region = polygon(359.9, 0.0, [(-0.3, -0.2), (0.3, -0.2), (0.3, 0.25), (-0.3, 0.2)])
    registry.insert_dimension_records(
        "visit",
        [
            {
                "instrument": "Cam",
                "id": 7,
                "name": "v7",
                "physical_filter": "Cam-r",
                "day_obs": DAY,
                "region": region,
            }
        ],
    )
    indexed = set(registry._db.execute(sa.text("SELECT skypix FROM visit_skypix WHERE visit = 7")).scalars())
    pix = registry.universe.common_skypix.pixelization
    for v in region.getVertices():
        assert pix.index(v) in indexed
    assert pix.index(region.getCentroid()) in indexed


def test_records_whose_key_order_differs_from_the_group_order(registry: Registry) -> None:
    """visit_detector_region is keyed (instrument, visit, detector); its group is ordered differently."""
    region = polygon(20.0, 5.0, [(-0.1, -0.1), (0.1, -0.1), (0.1, 0.1), (-0.1, 0.1)])
    registry.insert_dimension_records(
        "visit", [{"instrument": "Cam", "id": 9, "name": "v9", "physical_filter": "Cam-r", "day_obs": DAY}]
    )
    registry.insert_dimension_records(
        "visit_detector_region", [{"instrument": "Cam", "visit": 9, "detector": 2, "region": region}]
    )
    rec = registry.get_dimension_record("visit_detector_region", instrument="Cam", visit=9, detector=2)
    assert rec is not None and rec.visit == 9 and rec.detector == 2
    assert rec.data_id == {"instrument": "Cam", "visit": 9, "detector": 2}
    assert (
        registry.get_dimension_record("visit_detector_region", instrument="Cam", visit=2, detector=9) is None
    )
    expanded = registry.expand_data_id(instrument="Cam", visit=9, detector=2)
    assert expanded.records["visit_detector_region"] == rec


def _index_rows(registry: Registry, visit: int, detector: int) -> set[int]:
    t = registry._tables["visit_detector_region_skypix"]
    stmt = sa.select(t.c.skypix).where(t.c.visit == visit, t.c.detector == detector)
    return {r[0] for r in registry._db.execute(stmt)}


def test_replacing_regions_leaves_no_stale_index_rows(registry: Registry) -> None:
    """Batch inserts (>= BATCH_MIN regions) and small ones may index a region under slightly
    different near-miss pixels; replacing a region either way must remove the old rows."""
    import numpy as np
    from _populate import add_exposures, random_quad

    from chamberlain.geometry import htm

    level = registry.universe.common_skypix.level
    rng = np.random.default_rng(8)
    pool = [random_quad(rng, float(rng.uniform(9, 13)), float(rng.uniform(-1, 1)), 0.12) for _ in range(3000)]
    by_batch = htm.pixel_lists(len(pool), *htm.region_pixels(level, pool, method="batch"))
    by_sphgeom = htm.pixel_lists(len(pool), *htm.region_pixels(level, pool, method="sphgeom"))
    differ = [i for i in range(len(pool)) if set(by_batch[i]) != set(by_sphgeom[i])]
    assert differ, "the sample should hold regions whose two covers differ"
    same = [i for i in range(len(pool)) if i not in differ]
    chosen = differ[:6] + same[: 120 - len(differ[:6])]  # 20 visits x 6 detectors
    add_exposures(registry, list(range(1, 21)))
    keys = [(v, d) for v in range(1, 21) for d in range(6)]
    records = [
        {"instrument": "Cam", "visit": v, "detector": d, "region": pool[i]} for (v, d), i in zip(keys, chosen)
    ]
    assert len(records) >= htm.BATCH_MIN
    registry.insert_dimension_records("visit_detector_region", records)  # batch path
    v, d = keys[0]
    assert _index_rows(registry, v, d) == set(by_batch[chosen[0]]) != set(by_sphgeom[chosen[0]])
    # Replace that one record (small call: sphgeom path) with the same and with a grown region.
    grown = random_quad(rng, 11.0, 0.0, 0.15)
    for region in (pool[chosen[0]], grown):
        registry.insert_dimension_records(
            "visit_detector_region",
            [{"instrument": "Cam", "visit": v, "detector": d, "region": region}],
            replace=True,
        )
        assert _index_rows(registry, v, d) == set(htm.region_pixels(level, [region], method="sphgeom")[1])
    # And back through a batch replace of everything.
    registry.insert_dimension_records("visit_detector_region", records, replace=True)
    for k, i in enumerate(chosen):
        assert _index_rows(registry, *keys[k]) == set(by_batch[i])
