"""Region literals and spatial joins in queries equal brute-force sphgeom answers.

Visits sit across RA = 0, next to the north pole and at an ordinary place;
literal regions of every kind are generated around them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import lsst.sphgeom as sg
import pytest
from _populate import DAY, add_instrument
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chamberlain.registry import Registry
from chamberlain.registry.overlaps import regions_overlap
from chamberlain.registry.queries.expressions import Literal, parse_where, walk

CENTRES = [(0.0, 10.0), (120.0, 88.7), (45.0, -30.0)]


def _square(ra: float, dec: float, half: float) -> sg.ConvexPolygon:
    scale = 1.0 / max(math.cos(math.radians(dec)), 0.05)
    pts = [(-half, -half), (half, -half), (half, half), (-half, half)]
    return sg.ConvexPolygon(
        [sg.UnitVector3d(sg.LonLat.fromDegrees((ra + x * scale) % 360, dec + y)) for x, y in pts]
    )


def _layout() -> tuple[dict[tuple[int, int], sg.ConvexPolygon], dict[int, sg.ConvexPolygon]]:
    vdr, patches = {}, {}
    for v, (ra, dec) in enumerate(CENTRES):
        for d in range(4):
            vdr[(v, d)] = _square(ra + (d % 2 - 0.5) * 0.3, dec + (d // 2 - 0.5) * 0.3, 0.14)
        for p in range(4):
            patches[4 * v + p] = _square(ra + (p % 2 - 0.5) * 0.5, dec + (p // 2 - 0.5) * 0.5, 0.26)
    return vdr, patches


@pytest.fixture
def registry(database) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    add_instrument(reg)
    vdr, patches = _layout()
    reg.insert_dimension_records(
        "visit",
        [
            {"instrument": "Cam", "id": v, "name": f"v{v}", "physical_filter": "Cam-r", "day_obs": DAY}
            for v in range(3)
        ],
    )
    reg.insert_dimension_records(
        "visit_detector_region",
        [{"instrument": "Cam", "visit": v, "detector": d, "region": r} for (v, d), r in vdr.items()],
    )
    reg.insert_dimension_records("skymap", [{"name": "sky", "hash": b"\x02" * 20}])
    reg.insert_dimension_records("tract", [{"skymap": "sky", "id": 0}])
    reg.insert_dimension_records(
        "patch",
        [
            {"skymap": "sky", "tract": 0, "id": p, "cell_x": p, "cell_y": 0, "region": r}
            for p, r in patches.items()
        ],
    )
    try:
        yield reg
    finally:
        reg.close()


@st.composite
def literals(draw: st.DrawFn) -> str:
    ra0, dec0 = draw(st.sampled_from(CENTRES))
    ra = (ra0 + draw(st.floats(-0.5, 0.5)) / max(math.cos(math.radians(dec0)), 0.05)) % 360
    dec = max(min(dec0 + draw(st.floats(-0.5, 0.5)), 89.9), -89.9)
    kind = draw(st.sampled_from(["POINT", "CIRCLE", "BOX", "POLYGON"]))
    if kind == "POINT":
        return f"POINT({ra:.6f}, {dec:.6f})"
    if kind == "CIRCLE":
        return f"CIRCLE({ra:.6f}, {dec:.6f}, {draw(st.floats(0.01, 0.4)):.4f})"
    if kind == "BOX":
        return f"BOX({ra:.6f}, {dec:.6f}, {draw(st.floats(0.02, 0.6)):.4f}, {draw(st.floats(0.02, 0.6)):.4f})"
    half = draw(st.floats(0.02, 0.3))
    poly = _square(ra, dec, half)
    coords = []
    for v in poly.getVertices():
        ll = sg.LonLat(v)
        coords += [f"{ll.getLon().asDegrees():.6f}", f"{ll.getLat().asDegrees():.6f}"]
    return f"POLYGON({', '.join(coords)})"


def _literal_region(text: str) -> sg.Region | sg.LonLat:
    for node in walk(parse_where(f"visit_detector_region.region OVERLAPS {text}")):
        if isinstance(node, Literal) and node.kind in ("region", "point"):
            return node.value
    raise AssertionError(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(literal=literals(), negate=st.booleans())
def test_region_literals_match_brute_force(registry: Registry, literal: str, negate: bool) -> None:
    vdr, _ = _layout()
    region = _literal_region(literal)
    if isinstance(region, sg.LonLat):
        point = sg.UnitVector3d(region)
        hits = {k for k, r in vdr.items() if r.contains(point)}
    else:
        hits = {k for k, r in vdr.items() if regions_overlap(r, region)}
    expected = set(vdr) - hits if negate else hits
    where = f"{'NOT ' if negate else ''}visit_detector_region.region OVERLAPS {literal}"
    got = {
        (d["visit"], d["detector"])
        for d in registry.query_data_ids(["visit", "detector"], where=where, instrument="Cam")
    }
    assert got == expected, where


def test_spatial_join_matches_brute_force(registry: Registry) -> None:
    vdr, patches = _layout()
    expected = {(v, d, p) for (v, d), r in vdr.items() for p, pr in patches.items() if regions_overlap(r, pr)}
    rows = registry.query_data_ids(["visit", "detector", "tract", "patch"], instrument="Cam", skymap="sky")
    assert {(r["visit"], r["detector"], r["patch"]) for r in rows} == expected
    assert any(v == 0 for v, _, _ in expected) and any(
        v == 1 for v, _, _ in expected
    )  # RA = 0 and pole cases
