"""Registry record generation for a small rings skymap."""

from __future__ import annotations

import itertools

import lsst.sphgeom as sphgeom
import numpy as np
import pytest

from chamberlain.skymap import RingsSkyMap


@pytest.fixture(scope="module")
def small() -> RingsSkyMap:
    return RingsSkyMap(num_rings=10, projection="TAN", tract_overlap=0.2, pixel_scale=2.0)


def test_skymap_record(small: RingsSkyMap) -> None:
    rec = small.skymap_record("small")
    assert rec["name"] == "small"
    assert rec["hash"] == small.hash and len(rec["hash"]) == 20
    assert rec["tract_max"] == len(small) == sum(small.ring_counts) + 2
    assert rec["patch_nx_max"] == max(t.num_patches[0] for t in small)
    assert rec["patch_ny_max"] == max(t.num_patches[1] for t in small)


def test_tract_records(small: RingsSkyMap) -> None:
    records = list(small.tract_records("small"))
    assert [r["id"] for r in records] == list(range(len(small)))
    assert all(r["skymap"] == "small" for r in records)
    assert all(isinstance(r["region"], sphgeom.ConvexPolygon) for r in records)
    assert records[7]["region"] == small[7].outer_region


def test_patch_records_consistent(small: RingsSkyMap) -> None:
    records = list(small.patch_records("small"))
    assert len(records) == sum(t.num_patches[0] * t.num_patches[1] for t in small)
    keys = {(r["tract"], r["id"]) for r in records}
    assert len(keys) == len(records)
    for tract_id, group in itertools.groupby(records, key=lambda r: r["tract"]):
        tract = small[tract_id]
        rows = list(group)
        nx, ny = tract.num_patches
        assert [r["id"] for r in rows] == list(range(nx * ny))
        assert all(r["id"] == nx * r["cell_y"] + r["cell_x"] for r in rows)
        assert max(r["cell_x"] for r in rows) == nx - 1
        assert max(r["cell_y"] for r in rows) == ny - 1
    # Regions equal the lazily built PatchInfo outer regions, vertex for vertex.
    for r in records[:: max(1, len(records) // 50)]:
        assert r["region"] == small[r["tract"]][r["id"]].outer_region


def test_patch_records_cover_sky(small: RingsSkyMap) -> None:
    rng = np.random.default_rng(7)
    ra = rng.uniform(0, 360, 40)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 40)))
    regions = {(r["tract"], r["id"]): r["region"] for r in small.patch_records("small")}
    for a, d in zip(ra, dec):
        v = sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(a, d))
        tract = small.find_tract(v)
        patch = tract.find_patch(v)
        assert regions[(tract.tract_id, patch.sequential_index)].contains(v)


def test_patch_records_subset(small: RingsSkyMap) -> None:
    records = list(small.patch_records("small", tract_ids=[3]))
    assert {r["tract"] for r in records} == {3}
    assert len(records) == len(small[3])
