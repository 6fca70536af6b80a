"""RingsSkyMap numbering, geometry, regions, searches and hash against the Rubin figures."""

from __future__ import annotations

import hashlib
import itertools
import math
import struct

import lsst.sphgeom as sphgeom
import numpy as np
import pytest

from chamberlain.errors import SkyMapError
from chamberlain.skymap import PatchInfo, RingsSkyMap, RingsSkyMapConfig, SkyMapLookupError, TractInfo

HSC_RINGS_V1 = {
    "num_rings": 120,
    "projection": "TAN",
    "tract_overlap": 1.0 / 60.0,
    "pixel_scale": 0.168,
    "rotation": 0.0,
    "ra_start": 0.0,
    "patch_inner_dimensions": [4000, 4000],
    "patch_border": 100,
}
HSC_HASH = "e29fe9f1008e359f36a3677e7d69cc439376d1e6"


@pytest.fixture(scope="module")
def hsc() -> RingsSkyMap:
    return RingsSkyMap(HSC_RINGS_V1)


def _lonlat_deg(v: sphgeom.UnitVector3d) -> tuple[float, float]:
    ll = sphgeom.LonLat(v)
    return ll.getLon().asDegrees(), ll.getLat().asDegrees()


def _assert_vertices(region: sphgeom.ConvexPolygon, expected: list[tuple[float, float]]) -> None:
    got = [_lonlat_deg(v) for v in region.getVertices()]
    assert len(got) == len(expected)
    for (ra, dec), (era, edec) in zip(got, expected):
        assert ra == pytest.approx(era, abs=2e-8)
        assert dec == pytest.approx(edec, abs=2e-8)


# --- numbering ---------------------------------------------------------------------------


def test_ring_counts_and_total(hsc: RingsSkyMap) -> None:
    assert hsc.ring_counts[:5] == (10, 16, 22, 29, 35)
    assert hsc.ring_counts[-5:] == (35, 29, 22, 16, 10)
    assert hsc.ring_counts[59] == hsc.ring_counts[60] == 243 == max(hsc.ring_counts)
    assert hsc.ring_counts[61] == 242
    assert len(hsc) == 18938 == sum(hsc.ring_counts) + 2
    assert math.degrees(hsc.ring_size) == pytest.approx(1.48760331, abs=1e-8)


def test_ring_indices_and_ids(hsc: RingsSkyMap) -> None:
    assert hsc.ring_indices(0) == (-1, 0)
    assert hsc.ring_indices(1) == (0, 0)
    assert hsc.ring_indices(10) == (0, 9)
    assert hsc.ring_indices(11) == (1, 0)
    assert hsc.ring_indices(9469) == (60, 0)
    assert hsc.ring_indices(9711) == (60, 242)
    assert hsc.ring_indices(9712) == (61, 0)
    assert hsc.ring_indices(9953) == (61, 241)
    assert hsc.ring_indices(18937) == (120, 0)
    with pytest.raises(SkyMapLookupError, match="18938"):
        hsc.ring_indices(18938)


def test_tract_centres(hsc: RingsSkyMap) -> None:
    t = hsc[9615]
    assert math.degrees(t.ctr_ra) == pytest.approx(216.29629630, abs=1e-8)
    assert math.degrees(t.ctr_dec) == pytest.approx(0.74380165, abs=1e-8)
    t = hsc[9813]
    assert math.degrees(t.ctr_ra) == pytest.approx(150.24793388, abs=1e-8)
    assert math.degrees(t.ctr_dec) == pytest.approx(2.23140496, abs=1e-8)
    assert t.ctr_coord.dec.deg == pytest.approx(2.23140496, abs=1e-8)
    assert math.degrees(hsc[0].ctr_dec) == -90.0
    assert math.degrees(hsc[len(hsc) - 1].ctr_dec) == 90.0
    # ra_start shifts every ring's first tract.
    shifted = RingsSkyMap(HSC_RINGS_V1, ra_start=10.0)
    assert math.degrees(shifted[1].ctr_ra) == pytest.approx(10.0)
    assert math.degrees(shifted[10].ctr_ra) == pytest.approx(334.0)


def test_getitem_rejects_bad_ids(hsc: RingsSkyMap) -> None:
    with pytest.raises(SkyMapLookupError, match="-1"):
        hsc[-1]
    with pytest.raises(IndexError, match="18938"):
        hsc[18938]
    with pytest.raises(SkyMapLookupError, match="'7'"):
        hsc["7"]  # type: ignore[index]


# --- boxes and WCS --------------------------------------------------------------------------


def test_tract_box_and_wcs(hsc: RingsSkyMap) -> None:
    for tid in (0, 1, 9615, 18937):
        t = hsc[tid]
        assert t.num_patches == (9, 9)
        assert (t.bbox.min_x, t.bbox.min_y, t.bbox.max_x, t.bbox.max_y) == (0, 0, 35999, 35999)
        assert (t.projection.crpix_x, t.projection.crpix_y) == (17999.0, 17999.0)
    wcs = hsc[9615].wcs
    assert list(wcs.wcs.crpix) == [18000.0, 18000.0]
    assert list(wcs.wcs.ctype) == ["RA---TAN", "DEC--TAN"]
    s = 0.168 / 3600
    np.testing.assert_allclose(wcs.wcs.cd, [[-s, 0.0], [0.0, s]], atol=1e-18)
    # The astropy WCS and the vectorised projection agree.
    x = np.array([0.0, 17999.0, 35999.5, 123.4])
    y = np.array([-0.5, 17999.0, 35999.5, 30000.0])
    ra_a, dec_a = wcs.pixel_to_world_values(x, y)
    ra_p, dec_p = hsc[9615].pixel_to_sky(x, y)
    np.testing.assert_allclose(ra_p, ra_a, atol=1e-10)
    np.testing.assert_allclose(dec_p, dec_a, atol=1e-10)


def test_patch_boxes(hsc: RingsSkyMap) -> None:
    tract = hsc[9615]
    p = tract[14]
    assert p.index == (5, 1) and p.sequential_index == 14
    assert (p.inner_bbox.min_x, p.inner_bbox.max_x, p.inner_bbox.min_y, p.inner_bbox.max_y) == (
        20000,
        23999,
        4000,
        7999,
    )
    assert p.outer_bbox.float_bounds() == (19899.5, 3899.5, 24099.5, 8099.5)
    assert tract[(5, 1)] == p
    q = tract[72]
    assert q.index == (0, 8)
    assert q.outer_bbox.float_bounds() == (-0.5, 31899.5, 4099.5, 35999.5)
    assert [patch.sequential_index for patch in tract] == list(range(81))
    assert [patch.index for patch in itertools.islice(tract, 10)][8:] == [(8, 0), (0, 1)]
    with pytest.raises(SkyMapLookupError, match="81"):
        tract[81]
    with pytest.raises(SkyMapLookupError, match=r"\(9, 0\)"):
        tract[(9, 0)]


@pytest.mark.parametrize("tract_id", [0, 1, 9615, 18937])
def test_inner_boxes_tile_tract(hsc: RingsSkyMap, tract_id: int) -> None:
    tract = hsc[tract_id]
    boxes = [p.inner_bbox for p in tract]
    assert all(tract.bbox.contains(b) for b in boxes)
    assert sum(b.width * b.height for b in boxes) == tract.bbox.width * tract.bbox.height
    for a, b in itertools.combinations(boxes, 2):
        assert a.intersection(b).is_empty, (a, b)
    for p in tract:
        assert p.outer_bbox.contains(p.inner_bbox)
        assert tract.bbox.contains(p.outer_bbox)


# --- regions ------------------------------------------------------------------------------


def test_reference_regions(hsc: RingsSkyMap) -> None:
    _assert_vertices(
        hsc[9615].outer_region,
        [(215.45642220, -0.09610452), (217.13612374, -0.09610452), (217.13644345, 1.58359463),
         (215.45610247, 1.58359461)],
    )  # fmt: skip
    _assert_vertices(
        hsc[9813].outer_region,
        [(149.40781326, 1.39133894), (151.08800784, 1.39133896), (151.08896805, 3.07103786),
         (149.40685300, 3.07103782)],
    )  # fmt: skip
    _assert_vertices(
        hsc[9615][14].outer_region,
        [(216.01162709, 0.08585285), (216.20761212, 0.08585381), (216.20760818, 0.28183466),
         (216.01161445, 0.28183152)],
    )  # fmt: skip
    corner = hsc[9813][72].outer_region.getVertices()[2]
    assert corner == hsc[9813].outer_region.getVertices()[2]


def _shrunk_polygon(tract: TractInfo, patch: PatchInfo, eps: float) -> sphgeom.ConvexPolygon:
    x0, y0, x1, y1 = patch.inner_bbox.float_bounds()
    xs = np.array([x0 + eps, x1 - eps, x1 - eps, x0 + eps])
    ys = np.array([y0 + eps, y0 + eps, y1 - eps, y1 - eps])
    vectors = tract.projection.pixel_to_vectors(xs, ys)
    return sphgeom.ConvexPolygon([sphgeom.UnitVector3d(*v) for v in vectors.tolist()])


@pytest.mark.parametrize("tract_id", [0, 5, 9615, 18937])
def test_outer_polygons_contain_inner(hsc: RingsSkyMap, tract_id: int) -> None:
    tract = hsc[tract_id]
    nx, ny = tract.num_patches
    for patch in tract:
        x, y = patch.index
        if 0 < x < nx - 1 and 0 < y < ny - 1:
            assert patch.outer_region.contains(patch.inner_region)
        else:
            # Clipped edge patches share edges with their inner box; test a hair inside.
            assert patch.outer_region.contains(_shrunk_polygon(tract, patch, 1e-3))
        assert tract.outer_region.contains(_shrunk_polygon(tract, patch, 1e-3))
        assert not patch.outer_region.contains(tract.outer_region)
    assert tract.outer_region.contains(tract.ctr_vector)


def test_inner_region_is_lonlat_box(hsc: RingsSkyMap) -> None:
    inner = hsc[9615].inner_region
    assert isinstance(inner, sphgeom.Box)
    half = 180.0 / 243
    ra0 = 216.29629630
    assert inner.contains(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(ra0 + 0.99 * half, 0.01)))
    assert not inner.contains(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(ra0 + 1.01 * half, 0.7)))
    assert not inner.contains(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(ra0, -0.01)))
    # Tract 1 straddles RA 0: its box wraps.
    wrap = hsc[1].inner_region
    assert wrap.contains(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(359.0, -88.0)))
    assert wrap.contains(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(1.0, -88.0)))
    cap = hsc[0].inner_region
    assert cap.contains(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(123.0, -89.5)))
    assert not cap.contains(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(123.0, -88.0)))


# --- searches ------------------------------------------------------------------------------


def _random_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0.0, 360.0, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    return ra, dec


def test_find_tract_random_points(hsc: RingsSkyMap) -> None:
    ra, dec = _random_points(300, seed=42)
    ids = hsc.find_tract_id_array(ra, dec, degrees=True)
    assert ids.dtype == np.int32
    for r, d, tid in zip(ra, dec, ids):
        tract = hsc.find_tract((float(r), float(d)))
        assert tract.tract_id == tid
        v = sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(r, d))
        assert tract.inner_region.contains(v)
        assert tract.contains((float(r), float(d)))
        assert tract.tract_id in [t.tract_id for t in hsc.find_all_tracts(v)]


def test_find_tract_near_poles_and_seams(hsc: RingsSkyMap) -> None:
    assert hsc.find_tract((17.0, -89.9)).tract_id == 0
    assert hsc.find_tract((17.0, 89.9)).tract_id == 18937
    assert hsc.find_tract((359.99, -88.0)).tract_id == 1  # wraps back to in-ring index 0
    assert hsc.find_tract((216.3, 0.7)).tract_id == 9615
    # Between the last and first tract of ring 60, across RA 0: both contain it.
    all_ids = [t.tract_id for t in hsc.find_all_tracts((359.26, 0.3))]
    assert 9469 in all_ids and 9711 in all_ids
    assert [t.tract_id for t in hsc.find_all_tracts((216.3, 0.7))] == [9615]
    # A polar point near the ring edge is in the cap and in the first ring's tracts.
    edge_ids = [t.tract_id for t in hsc.find_all_tracts((5.0, -89.2))]
    assert 0 in edge_ids


def test_find_patch_and_patch_list(hsc: RingsSkyMap) -> None:
    tract = hsc[9615]
    centre = tract.pixel_to_sky(np.array([22000.0]), np.array([6000.0]))
    coord = (float(centre[0][0]), float(centre[1][0]))
    assert tract.find_patch(coord).index == (5, 1)
    with pytest.raises(SkyMapLookupError, match=r"\(30.0, 0.7\).*tract 9615"):
        tract.find_patch((30.0, 0.7))
    with pytest.raises(LookupError):
        tract.find_patch((216.3, -60.0))
    # A small square around pixel (22000, 6000): one patch, plus its neighbours once the
    # border reaches them.
    xs = np.array([21000.0, 23000.0, 23000.0, 21000.0])
    ys = np.array([5000.0, 5000.0, 7000.0, 7000.0])
    ra, dec = tract.pixel_to_sky(xs, ys)
    patches = tract.find_patch_list(np.column_stack([ra, dec]))
    assert [p.index for p in patches] == [(5, 1)]
    xs = np.array([23950.0, 24050.0])
    ys = np.array([6000.0, 6000.0])
    ra, dec = tract.pixel_to_sky(xs, ys)
    assert [p.index for p in tract.find_patch_list(np.column_stack([ra, dec]))] == [(5, 1), (6, 1)]
    assert tract.find_patch_list([(30.0, 0.7)]) == []
    result = hsc.find_tract_patch_list(np.column_stack([ra, dec]))
    assert [t.tract_id for t, _ in result] == [9615]
    assert all(isinstance(p, PatchInfo) for p in result[0][1])


# --- hash ------------------------------------------------------------------------------------


def test_hash_matches_rubin(hsc: RingsSkyMap) -> None:
    assert hsc.hash_hex == HSC_HASH
    assert isinstance(hsc.hash, bytes) and len(hsc.hash) == 20
    again = RingsSkyMap(RingsSkyMapConfig(**HSC_RINGS_V1))  # type: ignore[arg-type]
    assert again.hash == hsc.hash and again == hsc
    expected = hashlib.sha1(
        b"RingsSkyMap"
        + struct.pack("<iiidd3sd", 4000, 4000, 100, 1 / 60, 0.168, b"TAN", 0.0)
        + struct.pack("<id", 120, 0.0)
    ).hexdigest()
    assert expected == HSC_HASH


@pytest.mark.parametrize(
    ("key", "value"),
    [("num_rings", 121), ("ra_start", 1.0), ("pixel_scale", 0.2), ("patch_border", 99), ("rotation", 1.0)],
)
def test_hash_changes_with_config(hsc: RingsSkyMap, key: str, value: object) -> None:
    other = RingsSkyMap({**HSC_RINGS_V1, key: value})
    assert other.hash != hsc.hash
    assert other != hsc


def test_cells_builder_matches_lsst_cells_v1() -> None:
    sm = RingsSkyMap(
        num_rings=120, projection="TAN", tract_overlap=1 / 60, pixel_scale=0.2, tract_builder="cells"
    )
    tract = sm[9615]
    assert tract.num_patches == (10, 10)
    assert tract.bbox.width == 30000
    assert tract.projection.crpix_x == 14999.0
    edge = tract[0]
    assert edge.outer_bbox.min_x == -200  # cells builder does not clip
    assert edge.inner_bbox.width == 3000
    assert sm.hash != RingsSkyMap(num_rings=120, projection="TAN", tract_overlap=1 / 60, pixel_scale=0.2).hash


def test_tract_type_and_repr(hsc: RingsSkyMap) -> None:
    tract = hsc[9615]
    assert isinstance(tract, TractInfo)
    assert "9615" in repr(tract)
    assert len(tract) == 81
    assert HSC_HASH in repr(hsc)


def test_bad_coordinate_rejected(hsc: RingsSkyMap) -> None:
    with pytest.raises(SkyMapError, match="'north'"):
        hsc.find_tract("north")
    with pytest.raises(SkyMapError, match=r"95\.0"):
        hsc.find_tract((10.0, 95.0))
