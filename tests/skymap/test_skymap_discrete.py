"""DiscreteSkyMap: tracts at listed centres, nearest-centre search, hash packing."""

from __future__ import annotations

import hashlib
import math
import struct

import lsst.sphgeom as sphgeom
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from chamberlain.skymap import DiscreteSkyMap

CONFIG = {
    "ra_list": [10.0, 150.0, 359.5],
    "dec_list": [0.0, 2.0, -89.0],
    "radius_list": [0.5, 1.0, 0.25],
    "projection": "TAN",
    "tract_overlap": 0.05,
    "pixel_scale": 0.2,
    "patch_inner_dimensions": [4000, 3000],
    "patch_border": 50,
}


@pytest.fixture(scope="module")
def skymap() -> DiscreteSkyMap:
    return DiscreteSkyMap(CONFIG)


def test_tracts(skymap: DiscreteSkyMap) -> None:
    assert len(skymap) == 3
    assert [t.tract_id for t in skymap] == [0, 1, 2]
    t = skymap[1]
    assert math.degrees(t.ctr_ra) == pytest.approx(150.0)
    assert math.degrees(t.ctr_dec) == pytest.approx(2.0)
    # Half-width tan(R)/s pixels with R = radius + overlap, then whole patches.
    half = math.tan(math.radians(1.05)) / math.radians(0.2 / 3600)
    n_int = 2 * math.floor(half + 0.5) + 1
    assert t.num_patches == (math.ceil(n_int / 4000), math.ceil(n_int / 3000))
    assert t.bbox.width == 4000 * t.num_patches[0] and t.bbox.height == 3000 * t.num_patches[1]
    assert skymap[0].num_patches[0] < t.num_patches[0]


def test_inner_region_is_shrunk_box_polygon(skymap: DiscreteSkyMap) -> None:
    t = skymap[0]
    assert isinstance(t.inner_region, sphgeom.ConvexPolygon)
    assert len(t.vertex_list) == 4
    assert t.outer_region.contains(t.inner_region)
    assert t.inner_region.contains(t.ctr_vector)


def test_find_tract_nearest_centre(skymap: DiscreteSkyMap) -> None:
    assert skymap.find_tract((10.2, 0.1)).tract_id == 0
    assert skymap.find_tract(SkyCoord(ra=149.0, dec=1.0, unit="deg")).tract_id == 1
    assert skymap.find_tract((0.0, -90.0)).tract_id == 2
    # Nearest centre even when far from every tract.
    far = skymap.find_tract((80.0, 0.0))
    assert far.tract_id == 0 and not far.contains((80.0, 0.0))
    assert [t.tract_id for t in skymap.find_all_tracts((10.2, 0.1))] == [0]
    assert skymap.find_all_tracts((80.0, 0.0)) == []


def test_find_tract_patch_list(skymap: DiscreteSkyMap) -> None:
    result = skymap.find_tract_patch_list([(149.9, 1.9), (150.1, 2.1)])
    assert [t.tract_id for t, _ in result] == [1]
    assert len(result[0][1]) >= 1
    closest = skymap.find_closest_tract_patch_list([(149.9, 1.9), (10.0, 0.0)])
    assert [t.tract_id for t, _ in closest] == [1, 0]


def test_hash(skymap: DiscreteSkyMap) -> None:
    expected = hashlib.sha1(
        b"DiscreteSkyMap"
        + struct.pack("<iiidd3sd", 4000, 3000, 50, 0.05, 0.2, b"TAN", 0.0)
        + struct.pack("<3d", 10.0, 150.0, 359.5)
        + struct.pack("<3d", 0.0, 2.0, -89.0)
        + struct.pack("<3d", 0.5, 1.0, 0.25)
    ).digest()
    assert skymap.hash == expected
    moved = DiscreteSkyMap({**CONFIG, "dec_list": [0.0, 2.5, -89.0]})
    assert moved.hash != skymap.hash


def test_records(skymap: DiscreteSkyMap) -> None:
    rec = skymap.skymap_record("mine")
    assert rec["tract_max"] == 3
    assert rec["patch_nx_max"] == max(t.num_patches[0] for t in skymap)
    assert rec["patch_ny_max"] == max(t.num_patches[1] for t in skymap)
    patches = list(skymap.patch_records("mine"))
    assert len(patches) == sum(len(t) for t in skymap)
    polar = [p for p in patches if p["tract"] == 2]
    assert all(p["region"] == skymap[2][p["id"]].outer_region for p in polar)
    ra, dec = np.radians(359.5), np.radians(-89.0)
    v = sphgeom.UnitVector3d(sphgeom.LonLat.fromRadians(ra, dec))
    assert any(p["region"].contains(v) for p in polar)
