"""The batch HTM cover against lsst.sphgeom, one region at a time."""

from __future__ import annotations

import math

import lsst.sphgeom as sg
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chamberlain.geometry import htm

LEVEL = 7
PIX = sg.HtmPixelization(LEVEL)


@pytest.fixture(scope="module")
def table() -> htm.HtmCover:
    return htm.cover(LEVEL)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _exact(region: sg.Region) -> set[int]:
    """Trixels that truly overlap ``region``, by sphgeom (anything it cannot rule out)."""
    env: set[int] = set()
    for begin, end in PIX.envelope(region).ranges():
        env.update(range(begin, end))
    return {p for p in env if PIX.triangle(p).overlaps(region) is not False}


def _sphgeom_circle(center: np.ndarray, radius: float) -> sg.Circle:
    return sg.Circle(sg.UnitVector3d(*center), sg.Angle(radius))


def _groups(count: int, owner: list[int], pixel: list[int]) -> list[set[int]]:
    assert owner == sorted(owner), "pairs must come ordered by region"
    out: list[set[int]] = [set() for _ in range(count)]
    for o, p in zip(owner, pixel):
        assert p not in out[o], f"pixel {p} repeated for region {o}"
        out[o].add(p)
    return out


def test_trixels_match_sphgeom(table: htm.HtmCover) -> None:
    rng = np.random.default_rng(5)
    for i in [0, 1, 2, 3, 4096, 65535, 131071, *rng.integers(0, 8 * 4**LEVEL, 200).tolist()]:
        theirs = [(v.x(), v.y(), v.z()) for v in PIX.triangle(i + 8 * 4**LEVEL).getVertices()]
        np.testing.assert_allclose(table._tri[i], theirs, atol=1e-14, err_msg=f"trixel {i}")


def test_locate_matches_sphgeom_index(table: htm.HtmCover) -> None:
    rng = np.random.default_rng(11)
    points = _unit(rng.normal(size=(20_000, 3)))
    # The poles, the equator, RA = 0 and the octant boundaries.
    special = []
    for ra in [0.0, 45.0, 90.0, 180.0, 270.0, 359.9999999, 1e-9]:
        for dec in [-90.0, -89.99999, -30.0, 0.0, 1e-9, 45.0, 89.99999, 90.0]:
            lonlat = sg.LonLat.fromDegrees(ra, dec)
            v = sg.UnitVector3d(lonlat)
            special.append((v.x(), v.y(), v.z()))
    points = np.concatenate([points, np.array(special)])
    ours = table.locate(points) + 8 * 4**LEVEL
    theirs = np.array([PIX.index(sg.UnitVector3d(*p)) for p in points])
    mismatched = np.flatnonzero(ours != theirs)
    # A point on a trixel edge may fairly be given to either side: any
    # disagreement must be such a point, within rounding of our trixel's edge.
    for i in mismatched:
        normals = table._edge_normals[int(ours[i]) - 8 * 4**LEVEL]
        assert np.abs(normals @ points[i]).min() < 1e-12, (
            f"point {points[i]} put in trixel {ours[i]}, sphgeom says {theirs[i]}"
        )
    assert len(mismatched) <= len(special)


def _check_circles(table: htm.HtmCover, centers: np.ndarray, radii: np.ndarray) -> None:
    owner, pixel = table.cover_circles(centers, radii)
    got = _groups(len(radii), owner.tolist(), pixel.tolist())
    for i, (c, r) in enumerate(zip(centers, radii)):
        circle = _sphgeom_circle(c, float(r))
        exact = _exact(circle)
        assert exact <= got[i], f"circle {c} r={r}: missing trixels {sorted(exact - got[i])}"
        # No looser than sphgeom's own envelope of the same circle grown by the allowance
        # (trixels within SLACK of the circle may be added on purpose).
        grown = _sphgeom_circle(c, float(r) + 2 * htm.SLACK)
        env = {p for b, e in PIX.envelope(grown).ranges() for p in range(b, e)}
        assert got[i] <= env | _exact(grown), f"circle {c} r={r}: extra trixels {sorted(got[i] - env)}"


def test_circles_anywhere(table: htm.HtmCover) -> None:
    rng = np.random.default_rng(23)
    n = 3000
    centers = _unit(rng.normal(size=(n, 3)))
    radii = rng.uniform(0.0, table.max_radius, n)
    _check_circles(table, centers, radii)


def test_circles_near_trixel_corners(table: htm.HtmCover) -> None:
    """The hardest case: centres within a fraction of a trixel of a vertex, radii up to the limit."""
    rng = np.random.default_rng(29)
    n = 3000
    corners = table._tri[rng.integers(0, len(table._tri), n), rng.integers(0, 3, n)]
    centers = _unit(corners + rng.normal(scale=0.003, size=(n, 3)))
    radii = rng.uniform(0.5, 1.0, n) * table.max_radius
    _check_circles(table, centers, radii)


@settings(max_examples=60, deadline=None)
@given(
    ra=st.one_of(st.floats(0.0, 360.0), st.sampled_from([0.0, 359.999999, 90.0, 180.0])),
    dec=st.one_of(st.floats(-90.0, 90.0), st.sampled_from([-90.0, 90.0, 89.9999, 0.0, -89.9999])),
    fraction=st.floats(0.0, 1.0),
)
def test_circle_property(table: htm.HtmCover, ra: float, dec: float, fraction: float) -> None:
    v = sg.UnitVector3d(sg.LonLat.fromDegrees(ra, dec))
    _check_circles(table, np.array([[v.x(), v.y(), v.z()]]), np.array([fraction * table.max_radius]))


def test_radius_limit_is_enforced_and_fits_large_detectors(table: htm.HtmCover) -> None:
    # An LSST-sized detector (0.23 deg square) has a bounding radius of ~0.16 deg.
    assert math.degrees(table.max_radius) > 0.2
    with pytest.raises(ValueError, match="exceeds the batch cover limit"):
        table.cover_circles(np.array([[1.0, 0.0, 0.0]]), np.array([table.max_radius * 1.01]))


def _box(ra: float, dec: float, half: float) -> sg.ConvexPolygon:
    dra = half / max(math.cos(math.radians(dec)), 1e-3)
    corners = [(ra - dra, dec - half), (ra + dra, dec - half), (ra + dra, dec + half), (ra - dra, dec + half)]
    return sg.ConvexPolygon([sg.UnitVector3d(sg.LonLat.fromDegrees(a, d)) for a, d in corners])


def test_region_pixels_mixed_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small polygons (batch path), a visit-sized polygon, other region types and None, in one call."""
    rng = np.random.default_rng(31)
    regions: list[sg.Region | None] = []
    for _ in range(300):
        ra, dec = float(rng.uniform(0, 360)), float(rng.uniform(-89, 89))
        regions.append(_box(ra, dec, float(rng.uniform(0.001, 0.12))))
    triangle = sg.ConvexPolygon(
        [sg.UnitVector3d(sg.LonLat.fromDegrees(a, d)) for a, d in [(359.95, 0.0), (0.05, 0.0), (0.0, 0.08)]]
    )
    regions += [
        None,
        _box(0.0, 0.0, 1.0),  # too wide for the batch cover: sphgeom path
        triangle,  # three vertices, across RA = 0
        sg.Circle(sg.UnitVector3d(sg.LonLat.fromDegrees(10.0, 89.95)), sg.Angle.fromDegrees(0.1)),
        sg.Box.fromDegrees(359.9, -0.1, 0.1, 0.1),
        None,
    ]
    slow: list[sg.Region] = []
    original = htm.envelope_pixels

    def counting(pixelization: sg.HtmPixelization, region: sg.Region) -> list[int]:
        slow.append(region)
        return original(pixelization, region)

    monkeypatch.setattr(htm, "envelope_pixels", counting)
    owner, pixel = htm.region_pixels(LEVEL, regions)
    monkeypatch.undo()
    # Only the wide box, the circle and the sphgeom Box take the one-at-a-time path.
    assert [type(r).__name__ for r in slow] == ["ConvexPolygon", "Circle", "Box"]
    got = _groups(len(regions), owner, pixel)
    for i, region in enumerate(regions):
        if region is None:
            assert got[i] == set()
        elif isinstance(region, sg.ConvexPolygon):
            assert _exact(region) <= got[i], f"region {i}: missing {sorted(_exact(region) - got[i])}"
            assert got[i] <= set(htm.envelope_pixels(PIX, region)) | _exact(region.getBoundingCircle())
        else:  # sphgeom's envelope of the bounding circle, unchanged
            assert got[i] == set(htm.envelope_pixels(PIX, region)), f"region {i}"
    # The batch path is no looser than sphgeom's envelopes over the whole batch.
    batch = sum(len(got[i]) for i in range(300))
    assert batch <= sum(len(htm.envelope_pixels(PIX, regions[i])) for i in range(300))  # type: ignore[arg-type]


def test_polygon_circles_bound_their_polygons() -> None:
    rng = np.random.default_rng(37)
    polygons = [
        _box(float(rng.uniform(0, 360)), float(rng.uniform(-80, 80)), float(rng.uniform(0.01, 2)))
        for _ in range(200)
    ]
    encoded: list[bytes | None] = [p.encode() for p in polygons]
    encoded.insert(7, None)
    encoded.insert(9, sg.Box.fromDegrees(0, 0, 1, 1).encode())
    rows, centers, radii = htm.polygon_circles(encoded)
    assert rows.tolist() == [i for i, e in enumerate(encoded) if e is not None and e[:1] == b"p"]
    for row, c, r in zip(rows.tolist(), centers, radii):
        polygon = sg.Region.decode(encoded[row])  # type: ignore[arg-type]
        circle = _sphgeom_circle(c, float(r) + htm.SLACK)
        assert circle.contains(polygon), f"circle does not contain polygon {row}"
        # Not much wider than sphgeom's own bounding circle.
        assert r <= polygon.getBoundingCircle().getOpeningAngle().asRadians() * 1.05


def test_small_batches_use_sphgeom_and_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below BATCH_MIN regions the fixed cost of the array path is not worth it."""
    rng = np.random.default_rng(41)
    regions: list[sg.Region | None] = [
        _box(float(rng.uniform(0, 360)), float(rng.uniform(-89, 89)), 0.05) for _ in range(htm.BATCH_MIN)
    ]
    big = htm.region_pixels(LEVEL, regions)
    calls = []
    original = htm.envelope_pixels
    monkeypatch.setattr(
        htm, "envelope_pixels", lambda pix, region: calls.append(region) or original(pix, region)
    )
    small = htm.region_pixels(LEVEL, regions[:-1])
    assert len(calls) == htm.BATCH_MIN - 1
    n = sum(1 for o in big[0] if o < htm.BATCH_MIN - 1)
    assert sorted(zip(*small)) == sorted(zip(big[0][:n], big[1][:n]))


def test_cover_methods() -> None:
    rng = np.random.default_rng(43)
    regions: list[sg.Region | None] = [_box(float(rng.uniform(0, 360)), 10.0, 0.05) for _ in range(5)]
    forced = htm.region_pixels(LEVEL, regions, method="batch")
    plain = htm.region_pixels(LEVEL, regions, method="sphgeom")
    for i, region in enumerate(regions):
        assert region is not None
        exact = _exact(region)
        assert exact <= {p for o, p in zip(*forced) if o == i} and exact <= {
            p for o, p in zip(*plain) if o == i
        }
    with pytest.raises(ValueError, match="Unknown cover method 'fast'"):
        htm.region_pixels(LEVEL, regions, method="fast")
