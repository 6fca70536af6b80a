"""overlapping_patches (registry level) and the tract-plane exact filter (task level), against brute force."""

from __future__ import annotations

import math
from collections.abc import Iterator

import lsst.sphgeom as sg
import numpy as np
import pytest
import shapely
from _populate import TINY_SKYMAP as TINY
from _populate import random_quad
from shapely.geometry import box as planar_box

from chamberlain.errors import DataIdValueError, DimensionNameError, InvalidQueryError
from chamberlain.registry import Registry
from chamberlain.registry.queries.spatial import overlapping_patches
from chamberlain.skymap import DiscreteSkyMap, detector_polygon_in_tract, patches_overlapping
from chamberlain.skymap.registration import register_skymap

#: A second skymap over the same area (rotated STG tracts) plus a tract on the north pole,
#: registered after the visits.
ROTATED = {
    "ra_list": [10.4, 359.9, 120.0],
    "dec_list": [5.2, -30.1, 89.6],
    "radius_list": [0.7, 0.5, 0.5],
    "projection": "STG",
    "rotation": 30.0,
    "tract_overlap": 0.05,
    "pixel_scale": 3.0,
    "patch_inner_dimensions": [200, 200],
    "patch_border": 15,
}
N_VISITS = 6
N_DETECTORS = 4


def near_tiny(rng: np.random.Generator, spread: float = 0.7) -> tuple[float, float]:
    k = int(rng.integers(3))
    return TINY["ra_list"][k] + rng.uniform(-spread, spread), TINY["dec_list"][k] + rng.uniform(
        -spread, spread
    )


@pytest.fixture(scope="module")
def tiny() -> DiscreteSkyMap:
    return DiscreteSkyMap(TINY)


@pytest.fixture(scope="module")
def rotated() -> DiscreteSkyMap:
    return DiscreteSkyMap(ROTATED)


@pytest.fixture(scope="module")
def patch_regions(tiny: DiscreteSkyMap, rotated: DiscreteSkyMap) -> dict[tuple[str, int, int], sg.Region]:
    out = {("tiny", r["tract"], r["id"]): r["region"] for r in tiny.patch_records("tiny")}
    out.update({("rotated", r["tract"], r["id"]): r["region"] for r in rotated.patch_records("rotated")})
    return out


@pytest.fixture
def observations() -> dict[tuple[int, int], sg.ConvexPolygon]:
    rng = np.random.default_rng(3)
    out = {}
    for v in range(N_VISITS):
        ra, dec = near_tiny(rng, 0.5)
        for d in range(N_DETECTORS):
            out[(v, d)] = random_quad(rng, ra + 0.2 * (d - 1.5), dec, rng.uniform(0.05, 0.2))
    return out


@pytest.fixture
def registry(
    database,
    tiny: DiscreteSkyMap,
    rotated: DiscreteSkyMap,
    observations: dict[tuple[int, int], sg.ConvexPolygon],
) -> Iterator[Registry]:
    reg = Registry.create(database.url, namespace=database.namespace)
    try:
        reg.insert_dimension_records("instrument", [{"name": "Cam", "detector_max": 10, "visit_max": 100}])
        reg.insert_dimension_records("physical_filter", [{"instrument": "Cam", "name": "Cam-r", "band": "r"}])
        reg.insert_dimension_records(
            "detector",
            [
                {"instrument": "Cam", "id": d, "full_name": f"D{d}", "purpose": "SCIENCE"}
                for d in range(N_DETECTORS)
            ],
        )
        reg.insert_dimension_records("day_obs", [{"instrument": "Cam", "id": 20240101}])
        register_skymap(reg, "tiny", tiny)  # before the visits: overlaps computed on visit insert
        reg.insert_dimension_records(
            "visit",
            [
                {
                    "instrument": "Cam",
                    "id": v,
                    "name": f"v{v}",
                    "physical_filter": "Cam-r",
                    "day_obs": 20240101,
                    "region": visit_region(observations, v),
                }
                for v in range(N_VISITS)
            ],
        )
        reg.insert_dimension_records(
            "visit_detector_region",
            [
                {"instrument": "Cam", "visit": v, "detector": d, "region": r}
                for (v, d), r in observations.items()
            ],
        )
        register_skymap(reg, "rotated", rotated)  # after the visits: overlaps computed on registration
        yield reg
    finally:
        reg.close()


def visit_region(observations: dict[tuple[int, int], sg.ConvexPolygon], v: int) -> sg.ConvexPolygon:
    return sg.ConvexPolygon.convexHull(
        [p for d in range(N_DETECTORS) for p in observations[(v, d)].getVertices()]
    )


def keys(data_ids: list) -> list[tuple[str, int, int]]:
    return [(str(d["skymap"]), int(d["tract"]), int(d["patch"])) for d in data_ids]


def overlaps(a: sg.Region, b: sg.Region) -> bool:
    """sphgeom's overlap test; when it cannot decide (a Box against a polygon: None), not provably disjoint."""
    result = a.overlaps(b)
    return bool(result) if result is not None else not (a.relate(b) & sg.DISJOINT)


def brute_force(
    region: sg.Region, patch_regions: dict, skymap: str | None = None
) -> list[tuple[str, int, int]]:
    return sorted(
        k for k, r in patch_regions.items() if (skymap is None or k[0] == skymap) and overlaps(region, r)
    )


# --- registry level -------------------------------------------------------------------------


def test_random_regions_equal_brute_force(registry: Registry, patch_regions: dict) -> None:
    rng = np.random.default_rng(17)
    false_positives = 0
    for trial in range(30):
        ra, dec = near_tiny(rng)
        if trial % 5 == 0:
            ra, dec = rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))  # anywhere on the sky
        region = random_quad(rng, ra, dec, rng.uniform(0.03, 0.4))
        got = overlapping_patches(registry, region=region)
        assert keys(got) == brute_force(region, patch_regions)
        assert all(set(d.dimensions.names) == {"skymap", "tract", "patch"} for d in got)
        assert keys(overlapping_patches(registry, region=region, skymap="tiny")) == brute_force(
            region, patch_regions, "tiny"
        )
        candidates = set(keys(overlapping_patches(registry, region=region, exact=False)))
        assert candidates >= set(keys(got))
        false_positives += len(candidates) - len(got)
    assert false_positives > 0  # the index alone would have been wrong


OTHER_REGIONS = [
    sg.Circle(sg.UnitVector3d(sg.LonLat.fromDegrees(10.4, 5.1)), sg.Angle.fromDegrees(0.6)),
    sg.Circle(sg.UnitVector3d(sg.LonLat.fromDegrees(5.0, -10.0)), sg.Angle.fromDegrees(40.0)),  # coarsened
    sg.Box(sg.LonLat.fromDegrees(359.0, -31.0), sg.LonLat.fromDegrees(0.5, -29.5)),  # across RA = 0
    sg.Circle(sg.UnitVector3d(0.0, 0.0, 1.0), sg.Angle.fromDegrees(5.0)),  # the north pole
]


def test_other_region_types(registry: Registry, patch_regions: dict) -> None:
    for region in OTHER_REGIONS:
        got = keys(overlapping_patches(registry, region=region))
        assert got == brute_force(region, patch_regions), region
        assert got, region  # every case overlaps something
    # The 40-degree circle needs more pixel ranges than the query allows: still every patch.
    assert len(keys(overlapping_patches(registry, region=OTHER_REGIONS[1]))) == len(patch_regions) - 36


def test_region_overlapping_nothing(registry: Registry) -> None:
    region = random_quad(np.random.default_rng(1), 100.0, 5.0, 0.1)
    assert overlapping_patches(registry, region=region, skymap="tiny") == []


def test_visit_detector_equals_brute_force(
    registry: Registry, patch_regions: dict, observations: dict[tuple[int, int], sg.ConvexPolygon]
) -> None:
    total = 0
    for (v, d), region in observations.items():
        got = keys(overlapping_patches(registry, instrument="Cam", visit=v, detector=d))
        assert got == brute_force(region, patch_regions)
        assert keys(
            overlapping_patches(registry, instrument="Cam", visit=v, detector=d, skymap="rotated")
        ) == (brute_force(region, patch_regions, "rotated"))
        # The stored answer equals the region answer.
        assert got == keys(overlapping_patches(registry, region=region))
        total += len(got)
    assert total > len(observations)


def test_visit_equals_brute_force(
    registry: Registry, patch_regions: dict, observations: dict[tuple[int, int], sg.ConvexPolygon]
) -> None:
    for v in range(N_VISITS):
        got = keys(overlapping_patches(registry, instrument="Cam", visit=v))
        assert got == brute_force(visit_region(observations, v), patch_regions)


def test_observation_without_region(registry: Registry) -> None:
    registry.insert_dimension_records(
        "visit",
        [{"instrument": "Cam", "id": 99, "name": "v99", "physical_filter": "Cam-r", "day_obs": 20240101}],
    )
    registry.insert_dimension_records(
        "visit_detector_region", [{"instrument": "Cam", "visit": 99, "detector": 0}]
    )
    assert overlapping_patches(registry, instrument="Cam", visit=99, detector=0) == []
    assert overlapping_patches(registry, instrument="Cam", visit=99) == []


BAD_ARGUMENTS = [
    ({}, InvalidQueryError, ["region=", "neither"]),
    ({"region": sg.Circle(), "visit": 1, "instrument": "Cam"}, InvalidQueryError, ["both"]),
    ({"detector": 2}, InvalidQueryError, ["detector=2", "visit="]),
    ({"visit": 1}, DimensionNameError, ["visit=1", "instrument="]),
    ({"region": "not a region"}, InvalidQueryError, ["str"]),
    ({"region": sg.Circle(), "skymap": "nope"}, DataIdValueError, ["'nope'", "'rotated'", "'tiny'"]),
    ({"instrument": "Cam", "visit": 1234}, DataIdValueError, ["visit=1234", "visit record"]),
    (
        {"instrument": "Cam", "visit": 0, "detector": 9},
        DataIdValueError,
        ["detector=9", "visit_detector_region"],
    ),
    ({"instrument": "Nope", "visit": 0}, DataIdValueError, ["instrument='Nope'"]),
]


def test_bad_arguments(registry: Registry) -> None:
    for kwargs, error, fragments in BAD_ARGUMENTS:
        with pytest.raises(error) as info:
            overlapping_patches(registry, **kwargs)
        for fragment in fragments:
            assert fragment in str(info.value), (kwargs, fragment, str(info.value))


# --- task level: the exact filter in the tract's pixel plane ---------------------------------


def test_tract_plane_filter_removes_index_false_positives(registry: Registry, tiny: DiscreteSkyMap) -> None:
    """Candidates from the sky-pixel index, filtered in the tract plane, equal the brute-force set.

    The detector is a quadrilateral on the sky; the filter projects its corners into each
    candidate tract's pixel plane, pads it, and keeps patches whose outer box it overlaps.
    Brute force applies the same planar test to every patch of every tract; because the
    tracts use TAN (great circles are straight lines), it also equals the sphgeom test of the
    patch outer polygons against the padded polygon mapped back to the sky.
    """
    rng = np.random.default_rng(29)
    removed = 0
    for trial in range(25):
        ra, dec = near_tiny(rng, 0.6)
        corners = list(random_quad(rng, ra, dec, rng.uniform(0.03, 0.15)).getVertices())
        padding = 0.0 if trial % 2 else float(rng.uniform(5, 60))  # tract pixels
        # A sky region holding the padded footprint in every tract plane it projects onto.
        hull_points = []
        for tract in tiny:
            polygon = detector_polygon_in_tract(tract, corners, padding)
            if polygon is None:
                continue
            xs, ys = (np.asarray(a) for a in polygon.exterior.coords.xy)
            hull_points += [sg.UnitVector3d(*v) for v in tract.projection.pixel_to_vectors(xs, ys).tolist()]
        search = sg.ConvexPolygon.convexHull(hull_points)
        candidates = keys(overlapping_patches(registry, region=search, skymap="tiny", exact=False))
        by_tract: dict[int, list[int]] = {}
        for _, t, p in candidates:
            by_tract.setdefault(t, []).append(p)
        kept = set()
        for t, patch_ids in by_tract.items():
            tract = tiny[t]
            kept |= {
                (t, patch.sequential_index)
                for patch, _ in patches_overlapping(tract, [tract[p] for p in patch_ids], corners, padding)
            }
        expected = set()
        for tract in tiny:
            polygon = detector_polygon_in_tract(tract, corners, padding)
            for patch in tract:
                if (
                    polygon is not None
                    and planar_box(*patch.outer_bbox.float_bounds()).intersection(polygon).area > 0
                ):
                    expected.add((tract.tract_id, patch.sequential_index))
        assert kept == expected
        # The same set from sphgeom on the sky (TAN: the planar test is the spherical test).
        for tract in tiny:
            polygon = detector_polygon_in_tract(tract, corners, padding)
            if polygon is None:
                continue
            xs, ys = (np.asarray(a) for a in shapely.get_coordinates(polygon.exterior).T)
            sky = sg.ConvexPolygon.convexHull(
                [sg.UnitVector3d(*v) for v in tract.projection.pixel_to_vectors(xs, ys).tolist()]
            )
            on_sky = {(tract.tract_id, p.sequential_index) for p in tract if sky.overlaps(p.outer_region)}
            assert on_sky == {k for k in expected if k[0] == tract.tract_id}
        assert set((t, p) for _, t, p in candidates) >= expected
        removed += len(candidates) - len(kept)
    assert removed > 0
